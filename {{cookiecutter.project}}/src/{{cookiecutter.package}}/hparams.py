"""Hyperparameters for TensorBoard's HParams dashboard: flat names, plain values, real metrics."""

from typing import Any

from lightning.pytorch.loggers import Logger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

GROUPS = ("model", "optimizer", "scheduler", "loss", "dropout_schedule", "trainer")


def flat_hparams(cfg: DictConfig) -> dict[str, Any]:
    """E.g. `optimizer: Adam`, `optimizer.lr: 0.001`, `model.hidden_sizes: "[16]"`,
    `scheduler: none`."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    flat: dict[str, Any] = {"seed": plain["seed"]}
    for group in GROUPS:
        settings = plain.get(group) or {}
        if not settings:  # an empty choice: scheduler=none, dropout_schedule=none
            flat[group] = "none"
        for key, value in settings.items():
            if key == "_target_":
                flat[group] = str(value).rsplit(".", 1)[-1]
            elif not key.startswith("_"):
                flat[f"{group}.{key}"] = value
    for key, value in plain["data"].items():
        if not key.startswith("_") and not isinstance(value, list | dict):
            flat[f"data.{key}"] = value
    return {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in flat.items()}


def log_hparams(loggers: list[Logger], params: dict[str, Any], metric_names: list[str]) -> None:
    """Register the run in each TensorBoard's HParams table, against metrics it has already logged.

    Written straight to the event file: Lightning's `log_hyperparams(params, metrics)` would
    also log each metric again at step 0, a point the curves never had.
    """
    summaries = hparams(params, {name: 0.0 for name in metric_names})
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            with SummaryWriter(log_dir=logger.log_dir) as writer:
                for summary in summaries:
                    writer.file_writer.add_summary(summary)
