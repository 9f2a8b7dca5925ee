"""Log the validation metrics of the best epoch as `best_val/...`, for the HParams table.

The best epoch is the one `best.ckpt` holds, judged by the checkpoint callback's own `monitor` and
`mode` (by default the lowest val/loss, the highest val/acc for multiclass), so `best_val/loss`
and `best_val/acc` describe the very model that is tested. Each time a new best arrives the whole
set is logged again: the curves step down (or up) to the best so far, and their last points are
the values the HParams table shows beside the test metrics. A resumed run continues from the
checkpoint callback's restored best score.
"""

from collections.abc import Mapping

import lightning as L
import torch

from .model_checkpoint import ModelCheckpoint, strictly_better

PREFIX = "best_val/"


class BestValidationMetrics(L.Callback):
    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        checkpoint = trainer.checkpoint_callback
        if trainer.sanity_checking or checkpoint is None or checkpoint.monitor is None:
            return
        current = trainer.callback_metrics.get(checkpoint.monitor)
        if current is None or not torch.isfinite(current):
            return
        # Lightning runs the checkpoint callbacks after every other one: best_model_score is
        # still the previous best here.
        best = checkpoint.best_model_score
        if best is not None and not _new_best(checkpoint, current, best, trainer.callback_metrics):
            return
        values = {
            PREFIX + name.split("/", 1)[1]: float(value)
            for name, value in trainer.callback_metrics.items()
            if name.startswith("val/")
        }
        # The step Lightning logs this validation's metrics at (as its LearningRateMonitor does).
        step = trainer.fit_loop.epoch_loop._batches_that_stepped
        for logger in trainer.loggers:
            logger.log_metrics(values, step=step)


def _new_best(
    checkpoint: L.Callback,
    current: torch.Tensor,
    best: torch.Tensor,
    metrics: Mapping[str, torch.Tensor],
) -> bool:
    """As the checkpoint callback judges it: the project's ModelCheckpoint tells tied epochs
    apart by their val/loss (callbacks/model_checkpoint.py), Lightning's own keeps the first."""
    if isinstance(checkpoint, ModelCheckpoint):
        return checkpoint.improves(current, metrics)
    return strictly_better(checkpoint.mode, current, best)
