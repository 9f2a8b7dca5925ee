"""Log the validation metrics of the best epoch as `best_val/...`, for the HParams table.

The best epoch is the one `best.ckpt` holds, judged by the checkpoint callback's own `monitor` and
`mode` (val/loss, lowest), so `best_val/loss` and `best_val/acc` describe the very model that is
tested. Each time a new best arrives the whole set is logged again: the curves step down (or up)
to the best so far, and their last points are the values the HParams table shows beside the test
metrics. A resumed run continues from the checkpoint callback's restored best score.
"""

import lightning as L
import torch

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
        # still the previous best here, and "better" is strict, as ModelCheckpoint's own test.
        best = checkpoint.best_model_score
        better = torch.lt if checkpoint.mode == "min" else torch.gt
        if best is not None and not better(current, best.to(current.device)):
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
