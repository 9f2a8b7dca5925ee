"""Turn a composed configuration into the objects of a run. Every app builds through here.

Each group of the config is instantiated with Hydra (`_target_`). Whatever is saved in a checkpoint
is converted to plain containers first, so checkpoints load with torch's safe `weights_only=True`.
"""

import inspect
import logging
import warnings
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class, instantiate
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from ..callbacks.idle_hooks import silence_idle_hooks
from ..configs import load_choice
from ..data.datamodule import TabularDataModule
from ..model.class_weights import BALANCED, WEIGHT_SETTINGS, balanced_value
from ..model.metrics import AUTO, resolved_monitor
from ..model.module import MODULE_SETTINGS, TabularModule
from .checkpoints import AtomicCheckpointIO
from .config_checks import MONITORS, check_class_weights, check_loss_fits_task
from .errors import UserError

# The tables live in memory as tensors, so worker processes would only add start-up time.
warnings.filterwarnings("ignore", ".*does not have many workers.*")
# Every logged value is already a torchmetrics result, synchronised over DDP processes on compute.
warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")
# Raised inside Lightning's own code on current torch; nothing a user can act on.
warnings.filterwarnings("ignore", ".*isinstance\\(treespec, LeafSpec\\)` is deprecated.*")
# A run's checkpoint folder is reused on purpose: `ckpt_path=last` resumes into it.
warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty")
# Resuming mid-epoch is exact here: the training sampler leaves out the batches the stopped run had
# already trained on (data/datamodule.batches_done_this_epoch), which Lightning cannot see.
warnings.filterwarnings("ignore", "You're resuming from a checkpoint that ended before the epoch")


class _WithoutAdvertisements(logging.Filter):
    """Lightning prints a tip to install its cloud logger at every start: not news of the run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_WithoutAdvertisements())


def plain(node: DictConfig) -> dict[str, Any] | None:
    """A plain dict, or None for an empty group choice such as `scheduler=none`."""
    return OmegaConf.to_container(node, resolve=True) or None


def set_torch_threads(count: int | None) -> None:
    """Use `count` CPU threads per process for tensor maths; None keeps PyTorch's default.

    PyTorch starts one thread per core. A small MLP's matrices are too small to share out, so extra
    threads mostly wait on each other, and on a busy machine (or with several DDP processes) they
    fight for the cores: one thread made a 29-128-64-1 step over ten times faster on a loaded
    2-core machine. Raise it for wide networks on an idle many-core machine.
    """
    if count is not None:
        import torch

        torch.set_num_threads(count)


def loss_for_task(loss: DictConfig, task: str) -> DictConfig:
    """`loss=auto` becomes the config file its `by_task` names for this task; any other is kept.

    Resolved after the data is read, because the task may be inferred from the target.
    """
    if "by_task" not in loss:
        return loss
    name = loss.by_task.get(task)
    chosen = load_choice("loss", name) if name is not None else None
    if chosen is None:
        raise UserError(f"loss.by_task.{task}={name!r} names no file of configs/loss/")
    return chosen


def with_task_monitors(cfg: DictConfig, task: str, resumed: dict[str, Any] | None = None) -> None:
    """Replace `auto` in each monitor and mode (early stopping, the best checkpoint,
    reduce_on_plateau) with the task's metric and its direction (model/metrics.py), in place:
    the run's record and its callbacks hold what was watched. Resolved once the task is known.

    A resumed run (`resumed`: its checkpoint) keeps the metric its best checkpoint watched, so
    that its best score carries on: a run begun before `auto` watched val/loss whatever its task.
    """
    for prefix in MONITORS:
        node = OmegaConf.select(cfg, prefix)
        if node is not None and "monitor" in node:
            given = node.monitor
            if prefix == "callbacks.model_checkpoint" and given == AUTO and resumed is not None:
                given = best_checkpoint_monitor(resumed) or given
            monitor, mode = resolved_monitor(given, node.get("mode"), task)
            node.monitor = monitor
            if "mode" in node:
                node.mode = mode


def best_checkpoint_monitor(checkpoint: dict[str, Any]) -> str | None:
    """The metric the checkpoint's one monitoring ModelCheckpoint watched; None if not one."""
    watched = {
        state["monitor"]
        for key, state in checkpoint.get("callbacks", {}).items()
        if key.startswith("ModelCheckpoint") and state.get("monitor") is not None
    }
    return watched.pop() if len(watched) == 1 else None


def with_balanced_weights(loss: DictConfig, datamodule: TabularDataModule) -> DictConfig:
    """`loss.pos_weight=balanced` / `loss.weight=balanced` become the numbers that balance the
    classes of the training rows (model/class_weights.py); any other loss is kept as it is.

    Resolved once the data is set up, like `loss=auto`, and put in the run's config, so the
    record and the checkpoint hold the numbers the loss used.
    """
    balanced = [key for key in WEIGHT_SETTINGS if _is_balanced(loss.get(key))]
    if not balanced:
        return loss
    check_loss_fits_task(loss, datamodule.task)  # a regression loss has no classes to count
    classes = datamodule.classes
    training = datamodule.table("train").targets
    counts = torch.bincount(training.cpu(), minlength=len(classes)).tolist()
    absent = [str(label) for label, count in zip(classes, counts, strict=True) if count == 0]
    resolved = loss.copy()
    for key in balanced:
        if absent:
            raise UserError(
                f"loss.{key}={BALANCED}: the training rows hold no {', '.join(absent)} "
                f"(classes {', '.join(map(str, classes))}), so there is nothing to balance "
                f"against: give loss.{key} as numbers, or change data.seed or the split"
            )
        resolved[key] = balanced_value(key, counts)
    return resolved


def _is_balanced(value: Any) -> bool:
    return isinstance(value, str) and value == BALANCED


def build_datamodule(data: DictConfig | dict[str, Any]) -> TabularDataModule:
    return instantiate(data, _convert_="all")


def check_network(model: DictConfig) -> None:
    """Refuse, in one line, a network file whose class cannot be imported or would not take the
    contract's call (model/__init__.py): `input_size` and `output_size` as keywords, then the file's
    settings. Checked before the data is read; a fault inside the class's own code keeps its
    traceback."""
    target = model.get("_target_")
    try:
        network_class = get_class(target)
    except Exception as error:  # Hydra says why in several lines: the first names the cause
        reason = str(error).strip().splitlines()[0]
        raise UserError(f"model._target_={target!r} cannot be imported: {reason}") from None
    settings = {
        key: value
        for key, value in (plain(model) or {}).items()
        if key not in MODULE_SETTINGS and not key.startswith("_")
    }
    try:
        inspect.signature(network_class).bind(input_size=1, output_size=1, **settings)
    except TypeError as error:
        raise UserError(
            f"model._target_={target!r} does not take input_size and output_size as keywords "
            f"and the settings of its file ({', '.join(settings) or 'none'}): {error}. A network "
            "is built as the contract in model/__init__.py says"
        ) from None


def build_module(cfg: DictConfig, datamodule: TabularDataModule) -> TabularModule:
    """The LightningModule sized for the data: its input width, task and classes, and for
    regression its linear base (model/linear_base.py) fitted on the training rows."""
    check_loss_fits_task(cfg.loss, datamodule.task)
    check_class_weights(cfg.loss.get("weight"), datamodule.classes)
    module = TabularModule(
        input_size=datamodule.input_size,
        embedding_rows=datamodule.embedding_rows,
        numbers=len(datamodule.preprocessor.number_names),
        task=datamodule.task,
        num_classes=datamodule.num_classes,
        prediction_range=datamodule.prediction_range,
        target_scale=datamodule.target_scale,
        model=plain(cfg.model),
        loss=plain(cfg.loss),
        optimizer=plain(cfg.optimizer),
        scheduler=plain(cfg.scheduler),
    )
    if module.linear_base is not None:  # fitted on the rows the network trains on
        training = datamodule.table("train")
        module.linear_base.fit(training.features, training.targets, training.parts)
    return module


def build_callbacks(
    callbacks: DictConfig, dropout_schedule: DictConfig | None = None
) -> list[L.Callback]:
    """Every callback in the `callbacks` group (set one to null to switch it off), then the
    dropout scheduler unless `dropout_schedule=none`."""
    built = [instantiate(c, _convert_="all") for c in callbacks.values() if c is not None]
    if dropout_schedule:
        built.append(instantiate(dropout_schedule, _convert_="all"))
    return built


def build_loggers(loggers: DictConfig) -> list[Logger]:
    return [
        instantiate(logger, _convert_="all") for logger in loggers.values() if logger is not None
    ]


def build_trainer(
    trainer: DictConfig, callbacks: list, loggers: list, **settings: Any
) -> L.Trainer:
    """The Trainer, writing checkpoints atomically and loading them only with weights_only=True;
    the per-batch hooks its callbacks leave idle are not called (callbacks/idle_hooks.py).
    `settings`: Trainer arguments an app fixes, e.g. evaluate's enable_checkpointing=False."""
    plugins = [AtomicCheckpointIO()]
    built = instantiate(trainer, callbacks=callbacks, logger=loggers, plugins=plugins, **settings)
    silence_idle_hooks(built)
    return built
