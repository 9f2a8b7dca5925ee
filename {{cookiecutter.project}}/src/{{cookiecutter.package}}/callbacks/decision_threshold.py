"""Choose a binary classifier's decision threshold on the validation split while it trains.

At every validation the module chooses the threshold that maximises `criterion` on that epoch's
validation predictions (gathered from every DDP process; model/thresholds.py; a cross-fitted
ensemble's are the out-of-part predictions of its pooled rows, model/ensemble.py) and keeps it with
its weights, so each checkpoint saved after a validation, best.ckpt included, holds the threshold
of its own validation predictions: the same as choosing it after fit from the best checkpoint's
validation predictions, without predicting the validation split again, and resumed runs keep it.
`train` then tests best.ckpt at 0.5 (`test/acc`, ...) and at its threshold
(`test/acc_at_threshold`, ..., `test/threshold`), and predict, serve and evaluate use the
checkpoint's threshold.

The choosing is switched on here, not in the module, so that only `fit` chooses: evaluate and
predict build no callbacks and take the checkpoint's threshold as it is.
`callbacks.decision_threshold=null` chooses none: everything decides at 0.5, as before
thresholds were chosen. Other tasks are left alone.
"""

import lightning as L


class DecisionThreshold(L.Callback):
    """`criterion`: balanced_accuracy or f1 (model/thresholds.py says which suits what)."""

    def __init__(self, criterion: str = "balanced_accuracy") -> None:
        self.criterion = criterion

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if pl_module.hparams.task == "binary":
            pl_module.threshold_criterion = self.criterion

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pl_module.threshold_criterion = None
