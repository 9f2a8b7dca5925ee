"""The TensorBoard writers of a trainer, for the pictures Lightning's `self.log` cannot draw."""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter


def summary_writers(trainer: L.Trainer) -> list[SummaryWriter]:
    """The SummaryWriter of each TensorBoardLogger, in the main process only (the others would draw
    the same picture for nothing); empty without one, e.g. under `trainer.fast_dev_run`."""
    if not trainer.is_global_zero:
        return []
    return [log.experiment for log in trainer.loggers if isinstance(log, TensorBoardLogger)]
