"""Report each epoch's validation metric to an Optuna trial, stop the trial as soon as Optuna's
pruner says it cannot win, and keep its best value: the trial's result.

optuna-integration's PyTorchLightningPruningCallback (5.0) supports Lightning 2 and reports and
prunes the same way in one process, but it leaves the trial's best value to be found elsewhere, and
a dependency for these few lines is not worth it: `tune` runs each trial in one process (its DDP
path works through Optuna's private storage classes).
"""

import math

import lightning as L
import optuna


class PruneTrial(L.Callback):
    """`monitor`, `mode`: those of the best checkpoint, so `best` is the value of best.ckpt."""

    def __init__(self, trial: optuna.Trial, monitor: str, mode: str) -> None:
        self.trial = trial
        self.monitor = monitor
        self.mode = mode
        self.best: float | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        value, epoch = float(value), trainer.current_epoch
        if math.isfinite(value) and (
            self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        ):
            self.best = value
        self.trial.report(value, step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"{self.monitor} {value:.4f} after epoch {epoch}")
