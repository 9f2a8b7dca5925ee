"""Callbacks the tests add to a run from the command line, to bring it to a chosen state.

    +callbacks.hold={_target_: training_hooks.HoldAtEpoch, epoch: 2, signal_file: ...}

The tests put this folder on the run's PYTHONPATH (pytest already has it on sys.path).
"""

import time
from pathlib import Path

import lightning as L
import torch


class HoldAtEpoch(L.Callback):
    """At the start of `epoch`, write `signal_file` and wait to be killed.

    The epochs before it are then complete: trained, validated, checkpointed and logged. Waiting
    here, rather than racing a timer, makes the kill land at the same point on a slow machine.
    """

    def __init__(self, epoch: int, signal_file: str, wait_s: float = 300) -> None:
        self.epoch = epoch
        self.signal_file = Path(signal_file)
        self.wait_s = wait_s

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            self.signal_file.write_text(str(trainer.global_step))
            time.sleep(self.wait_s)
            raise RuntimeError("HoldAtEpoch was never killed")


class BreakWeightsAtStep(L.Callback):
    """Fill the first layer's weights with NaN before optimizer step `step`, as a diverging run."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.parameters()).fill_(float("nan"))


class BreakWeightsBeforeValidation(L.Callback):
    """Fill the first layer's weights with NaN as epoch `epoch`'s validation starts: the training
    losses were all finite, only the validation loss shows it."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and not trainer.sanity_checking:
            with torch.no_grad():
                next(pl_module.parameters()).fill_(float("nan"))
