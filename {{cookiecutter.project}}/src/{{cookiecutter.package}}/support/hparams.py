"""Hyperparameters for TensorBoard's HParams dashboard and MLflow's params (support/mlflow_runs.py):
readable flat names, plain values, real metrics.

The settings runs are usually compared by get short names: `optimizer` (the class), `lr`,
`momentum`, `weight_decay`, `hidden_sizes`, `activation`, `dropout`, `batch_size`, `max_epochs`,
`seed`. The model's and the optimizer's keys never collide, so both go without their group. Every
other setting keeps its group as a prefix, where a bare name would be ambiguous
(`scheduler.gamma`, `dropout_schedule.gamma`; `loss.pos_weight`, `trainer.precision`).
"""

from typing import Any

from lightning.pytorch.loggers import Logger, TensorBoardLogger
from omegaconf import DictConfig, OmegaConf
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from ..callbacks.best_validation import PREFIX as BEST_VALIDATION

GROUPS = ("model", "optimizer", "scheduler", "loss", "dropout_schedule")
SHORT_GROUPS = ("model", "optimizer")
SHORT_NAMES = {"data.batch_size": "batch_size", "trainer.max_epochs": "max_epochs"}
# How and where a run executes, not what it learns: columns that would only clutter the table.
LEFT_OUT = (
    "trainer.default_root_dir",
    "trainer.accelerator",
    "trainer.strategy",
    "trainer.use_distributed_sampler",
    "trainer.log_every_n_steps",
    "trainer.enable_model_summary",
    "trainer.fast_dev_run",
    "trainer.deterministic",
)


def flat_hparams(cfg: DictConfig) -> dict[str, Any]:
    """E.g. `optimizer: Adam`, `lr: 0.001`, `hidden_sizes: "[16]"`, `batch_size: 32`,
    `scheduler: none`, `loss: BCEWithLogitsLoss`, `loss.pos_weight: 2.0`."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    flat: dict[str, Any] = {"seed": plain["seed"]}
    for group in GROUPS:
        settings = plain.get(group) or {}
        # The class a group builds, or "none" for an empty choice: scheduler=none.
        flat[group] = str(settings.get("_target_", "none")).rsplit(".", 1)[-1]
        for key, value in settings.items():
            if not key.startswith("_"):
                flat[key if group in SHORT_GROUPS else f"{group}.{key}"] = value
    for group in ("data", "trainer"):
        for key, value in plain[group].items():
            name = f"{group}.{key}"
            if key.startswith("_") or name in LEFT_OUT or isinstance(value, list | dict):
                continue
            flat[SHORT_NAMES.get(name, name)] = value
    return {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in flat.items()}


def metric_names(test_metrics: dict[str, float]) -> list[str]:
    """The HParams table's metric columns: the validation metrics of the best epoch (`best_val/...`,
    logged by the BestValidationMetrics callback) and the test metrics of its checkpoint."""
    tested = sorted(test_metrics)
    return [BEST_VALIDATION + name.split("/", 1)[1] for name in tested] + tested


def keep_hparams(loggers: list[Logger], params: dict[str, Any]) -> None:
    """Give each TensorBoard logger the run's settings for the hparams.yaml it writes beside its
    events at its first save; it would write `{}`, as `log_hparams` bypasses it (below)."""
    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.hparams.update(params)


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
