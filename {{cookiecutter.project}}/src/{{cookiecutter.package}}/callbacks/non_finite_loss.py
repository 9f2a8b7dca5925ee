"""Stop at the first NaN or infinite loss, before a checkpoint can save the broken weights.

Lightning no longer has a switch for this (`terminate_on_nan` went in 2.0; `detect_anomaly` is a
slow debugging aid), and its EarlyStopping notices a non-finite validation loss only after the
weights are broken, while the checkpoint callbacks of that same epoch still save them as last.ckpt.

The training loss is checked before each backward pass, and the validation loss at the end of each
validation, which Lightning runs before any ModelCheckpoint (it always orders those last). Raising
ends `fit` without writing anything, so the checkpoints on disk keep the last good state; `train`
reports the error and tests the best checkpoint.
"""

import lightning as L
import torch


class NonFiniteLossError(Exception):
    """The loss became NaN or infinite; the message names the step and epoch."""


class StopOnNonFiniteLoss(L.Callback):
    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        self._check(trainer, loss, "the training loss is", "at")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val/loss")  # logged by TabularModule
        if loss is not None and not trainer.sanity_checking:
            self._check(trainer, loss, "the validation loss is", "after")

    @staticmethod
    def _check(trainer: L.Trainer, loss: torch.Tensor, what: str, when: str) -> None:
        broken = not bool(torch.isfinite(loss).all())
        # Every process stops together, so that none waits forever for the others under DDP.
        if trainer.strategy.reduce_boolean_decision(broken, all=False):
            value = loss.detach().float().sum().item() if broken else "not finite in another rank"
            raise NonFiniteLossError(
                f"{what} {value} {when} step {trainer.global_step} (epoch {trainer.current_epoch})"
            )
