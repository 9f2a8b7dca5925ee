"""A Lightning callback that changes the dropout probability while training (no library has one).

Before each epoch (`interval: epoch`) or optimizer step (`interval: step`) it sets `p` on every
`torch.nn.Dropout` module of the model to the schedule's value (`dropout_schedules.py`) and logs
that value as the `dropout/p` curve.

What it does not reach: dropout that is not a `torch.nn.Dropout` module, i.e. a call to
`torch.nn.functional.dropout` inside a `forward`, the separate classes `nn.Dropout1d/2d/3d`,
`nn.AlphaDropout` and `nn.FeatureAlphaDropout`, and dropout built into other layers (the `dropout`
argument of `nn.LSTM` or `nn.MultiheadAttention`). The project's MLP only uses `nn.Dropout`.

Evaluation and prediction are never affected: it acts only in training hooks, and a Dropout module
in eval mode passes its input through whatever its `p`.
"""

import math
from functools import partial
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from ..support.errors import UserError
from .dropout_schedules import SCHEDULES, Clock


class DropoutScheduler(L.Callback):
    """E.g. `DropoutScheduler("linear", "epoch", start=0.5, end=0.0)`; see `dropout_schedules`.

    The schedule's position is the trainer's own epoch or global step, which a resumed run restores,
    so the schedule continues where it stopped. The checkpoint also keeps the schedule, its settings
    and the probability in use, and a run resumed with different settings says so.
    """

    def __init__(self, schedule: str, interval: str = "epoch", **settings: Any) -> None:
        if schedule not in SCHEDULES:
            raise UserError(
                f"dropout_schedule.schedule={schedule!r} is not allowed: expected one "
                f"of {', '.join(SCHEDULES)}"
            )
        self.schedule = schedule
        self.interval = interval
        self.settings = dict(settings)
        self.p: float | None = None
        self._p_at = partial(SCHEDULES[schedule], **settings)
        self._dropouts: list[nn.Dropout] = []
        self._total = 1
        self._per_epoch = 1

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._dropouts = [m for m in pl_module.modules() if isinstance(m, nn.Dropout)]
        if not self._dropouts:
            raise UserError(
                f"dropout_schedule={self.schedule} has nothing to schedule: the model has no "
                "torch.nn.Dropout layer (model.hidden_sizes=[] has none); use dropout_schedule=none"
            )

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.interval == "step":
            self._total = int(trainer.estimated_stepping_batches)
            batches = trainer.num_training_batches / trainer.accumulate_grad_batches
            self._per_epoch = max(1, math.ceil(batches))
        else:
            self._total = trainer.max_epochs

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.interval == "epoch":
            self._apply(pl_module, Clock(trainer.current_epoch, self._total))

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.interval == "step":
            self._apply(pl_module, Clock(trainer.global_step, self._total, self._per_epoch))

    def _apply(self, pl_module: L.LightningModule, clock: Clock) -> None:
        self.p = float(self._p_at(clock))
        for dropout in self._dropouts:
            dropout.p = self.p
        per_step = self.interval == "step"
        pl_module.log("dropout/p", self.p, on_step=per_step, on_epoch=not per_step, batch_size=1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "interval": self.interval,
            "settings": dict(self.settings),
            "p": self.p,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = (state_dict["schedule"], state_dict["interval"], state_dict["settings"])
        if saved != (self.schedule, self.interval, self.settings):
            rank_zero_warn(
                f"Resuming with another dropout schedule: the checkpoint used {saved[0]} per "
                f"{saved[1]} {saved[2]}, this run uses {self.schedule} per {self.interval} "
                f"{self.settings}; the new one applies from here on."
            )
        self.p = state_dict["p"]
