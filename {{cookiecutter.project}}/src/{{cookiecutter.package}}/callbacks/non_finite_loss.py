"""Stop at the first NaN or infinite loss, before a checkpoint can save the broken weights.

Lightning no longer has a switch for this (`terminate_on_nan` went in 2.0; `detect_anomaly` is a
slow debugging aid), and its EarlyStopping notices a non-finite validation loss only after the
weights are broken, while the checkpoint callbacks of that same epoch still save them as last.ckpt.

On the CPU the training loss is checked before each backward pass, which costs nothing worth
measuring. On a GPU that check would make the host wait for the device at every step, and a small
network's steps are bound by the host launching them, so there each step's verdict is kept on the
device (one `isfinite` and one `&`) and read only where a checkpoint could be written next: before
a step checkpoint's step (`every_n_train_steps`), at the end of each validation and of each
training epoch, and before StopOnSignal saves on Ctrl-C or SIGTERM. The message then names the
steps since the last reading. The validation loss is checked at the end of each validation.
Lightning runs every ModelCheckpoint after the other callbacks, so all of this happens before any
save. Raising ends `fit` without writing anything, so the checkpoints on disk keep the last good
state; `train` reports the error and tests the best checkpoint.
"""

import math

import lightning as L
import torch

from .idle_hooks import may_save_at_step


class NonFiniteLossError(Exception):
    """The loss became NaN or infinite; the message names the step and epoch."""


class StopOnNonFiniteLoss(L.Callback):
    def __init__(self) -> None:
        # On an accelerator: whether every training loss since the last reading was finite (a
        # boolean tensor on the device), and the first step of those; None when all are read.
        self._finite: torch.Tensor | None = None
        self._unread_from = 0

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        if not self.reads_later(loss.device):
            value = _value_if_not_finite(loss)
            # One process alone has no one to tell: a finite loss then ends the check here.
            if value is not None or trainer.world_size > 1:
                when = f"at step {trainer.global_step}"
                _stop_if(trainer, value is not None, "the training loss", str(value), when)
            return
        finite = torch.isfinite(loss.detach()).all()
        if self._finite is None:
            self._finite, self._unread_from = finite, trainer.global_step
        else:
            self._finite &= finite

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if self._finite is not None and any(
            may_save_at_step(checkpoint, step) for checkpoint in trainer.checkpoint_callbacks
        ):
            self.read_training_losses(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.read_training_losses(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.read_training_losses(trainer)
        loss = trainer.callback_metrics.get("val/loss")  # logged by TabularModule
        if loss is not None:
            value = _value_if_not_finite(loss)
            when = f"after step {trainer.global_step}"
            _stop_if(trainer, value is not None, "the validation loss", str(value), when)

    def read_training_losses(self, trainer: L.Trainer) -> None:
        """Raise NonFiniteLossError if a training loss kept on the device since the last reading
        was not finite (one wait for the device). Nothing to read on the CPU."""
        if self._finite is None:
            return
        finite, self._finite = bool(self._finite), None
        first, last = self._unread_from, trainer.global_step - 1
        when = f"at step {last}" if last <= first else f"at a step from {first} to {last}"
        _stop_if(trainer, not finite, "the training loss", "not finite", when)

    def training_losses_finite(self, trainer: L.Trainer) -> bool:
        """False if a training loss kept on the device since the last reading was not finite, in
        any process (every process must call it)."""
        broken = self._finite is not None and not bool(self._finite)
        return not trainer.strategy.reduce_boolean_decision(broken, all=False)

    def idle_batch_hooks(self, trainer: L.Trainer) -> list[str]:
        """Where every loss is checked at once, there is nothing to read after the step
        (callbacks/idle_hooks.py)."""
        return [] if self.reads_later(trainer.strategy.root_device) else ["on_train_batch_end"]

    @staticmethod
    def reads_later(device: torch.device) -> bool:
        """Whether losses on `device` are kept there and read later: anywhere but on the CPU."""
        return device.type != "cpu"


def _value_if_not_finite(loss: torch.Tensor) -> float | None:
    """The loss (summed, if it has several elements) when it is NaN or infinite, else None."""
    value = loss.item() if loss.numel() == 1 else loss.detach().float().sum().item()
    return None if math.isfinite(value) else value


def _stop_if(trainer: L.Trainer, broken: bool, subject: str, state: str, when: str) -> None:
    """Raise NonFiniteLossError("<subject> is <state> <when> (epoch N)") if `broken` here or in
    another process: every process stops together, so that none waits forever under DDP."""
    if trainer.strategy.reduce_boolean_decision(broken, all=False):
        state = state if broken else "not finite in another rank"
        raise NonFiniteLossError(f"{subject} is {state} {when} (epoch {trainer.current_epoch})")
