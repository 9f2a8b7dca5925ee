"""Turn a composed configuration into the objects of a run. Every app builds through here.

Each group of the config is instantiated with Hydra (`_target_`). Whatever is saved in a checkpoint
is converted to plain containers first, so checkpoints load with torch's safe `weights_only=True`.
"""

import warnings
from importlib.resources import files
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from .config_checks import check_loss_fits_task
from .data.datamodule import TabularDataModule
from .errors import UserError
from .model.module import TabularModule

# The tables live in memory as tensors, so worker processes would only add start-up time.
warnings.filterwarnings("ignore", ".*does not have many workers.*")
# Raised inside Lightning's own code on current torch; nothing a user can act on.
warnings.filterwarnings("ignore", ".*isinstance\\(treespec, LeafSpec\\)` is deprecated.*")


def plain(node: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(node, resolve=True)


def loss_for_task(loss: DictConfig, task: str) -> DictConfig:
    """`loss=auto` becomes the config file its `by_task` names for this task; any other is kept.

    Resolved after the data is read, because the task may be inferred from the target.
    """
    if "by_task" not in loss:
        return loss
    name = loss.by_task.get(task)
    file = files(__package__) / "configs" / "loss" / f"{name}.yaml"
    if name is None or not file.is_file():
        raise UserError(f"loss.by_task.{task}={name!r} names no file of configs/loss/")
    return OmegaConf.create(file.read_text())


def build_datamodule(data: DictConfig | dict[str, Any]) -> TabularDataModule:
    return instantiate(data, _convert_="all")


def build_module(cfg: DictConfig, datamodule: TabularDataModule) -> TabularModule:
    """The LightningModule sized for the data: its input width, task and classes."""
    check_loss_fits_task(cfg.loss._target_, datamodule.task)
    return TabularModule(
        input_size=datamodule.input_size,
        task=datamodule.task,
        num_classes=datamodule.num_classes,
        model=plain(cfg.model),
        loss=plain(cfg.loss),
        optimizer=plain(cfg.optimizer),
    )


def build_callbacks(callbacks: DictConfig) -> list[L.Callback]:
    """Every callback in the `callbacks` group; set one to null to switch it off."""
    return [instantiate(c) for c in callbacks.values() if c is not None]


def build_loggers(loggers: DictConfig) -> list[Logger]:
    return [instantiate(logger) for logger in loggers.values() if logger is not None]


def build_trainer(trainer: DictConfig, callbacks: list, loggers: list) -> L.Trainer:
    return instantiate(trainer, callbacks=callbacks, logger=loggers)
