"""At test time, for classification: the precision-recall curve and the confusion matrix.

The curve goes to TensorBoard's PR Curves tab (one curve per class, one class against the rest, when
there are more than two) and the matrix, with its counts, to the Images tab. The predictions of
every test batch are gathered with torchmetrics' `CatMetric`, which also collects them from every
DDP process, so the pictures cover the whole test split.

A binary model with a decision threshold chosen on validation (callbacks/decision_threshold.py)
gets its confusion matrix at that threshold beside the one at 0.5, and `test/precision_recall`,
the curve with the two operating points on it: TensorBoard's PR Curves tab cannot mark a point.
"""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torchmetrics import CatMetric
from torchmetrics.functional import confusion_matrix
from torchmetrics.functional.classification import (
    binary_precision,
    binary_precision_recall_curve,
    binary_recall,
)

from .figures import confusion_matrix_image, precision_recall_image
from .summary_writers import summary_writers


class TestPlots(L.Callback):
    """`num_thresholds`: the points of the PR curve (TensorBoard's default, 127)."""

    def __init__(self, num_thresholds: int = 127) -> None:
        self.num_thresholds = num_thresholds
        self._scores = CatMetric(nan_strategy="disable")
        self._targets = CatMetric(nan_strategy="disable")
        self._active = False

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Decided alike in every process: gathering the predictions needs all of them.
        self._active = pl_module.hparams.task != "regression" and any(
            isinstance(log, TensorBoardLogger) for log in trainer.loggers
        )
        self._scores = self._scores.to(pl_module.device)
        self._targets = self._targets.to(pl_module.device)
        self._scores.reset()
        self._targets.reset()

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs,
        batch,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self._active:
            features, targets, *_ = batch
            self._scores.update(pl_module.predict_scores(pl_module(features)))
            self._targets.update(targets)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._active:
            return
        scores, targets = self._scores.compute(), self._targets.compute()
        writers = summary_writers(trainer)
        if not writers or len(targets) == 0:
            return
        task, classes = pl_module.hparams.task, trainer.datamodule.classes
        if task == "binary":
            # At 0.5, and at the decision threshold (what predict answers) when there is one.
            thresholds = {"at 0.5": 0.5}
            chosen = pl_module.decision_threshold
            if chosen is not None:
                thresholds[f"at the threshold chosen, {chosen:.4g}"] = chosen
            matrices = {
                title: confusion_matrix(scores, targets, task=task, threshold=threshold)
                for title, threshold in thresholds.items()
            }
        else:  # the class of the largest probability
            thresholds = {}
            matrices = {"": confusion_matrix(scores, targets, task=task, num_classes=len(classes))}
        image = confusion_matrix_image(
            {title: matrix.cpu().numpy() for title, matrix in matrices.items()}, classes
        )
        curve = None
        if len(thresholds) > 1:
            curve = self._precision_recall(scores, targets, thresholds, classes[1])
        step = trainer.global_step
        for writer in writers:
            if task == "binary":
                writer.add_pr_curve(
                    "test/pr_curve", targets, scores, step, num_thresholds=self.num_thresholds
                )
            else:
                for index, name in enumerate(classes):
                    writer.add_pr_curve(
                        f"test/pr_curve/{name}",
                        targets == index,
                        scores[:, index],
                        step,
                        num_thresholds=self.num_thresholds,
                    )
            writer.add_image("test/confusion_matrix", image, step, dataformats="HWC")
            if curve is not None:
                writer.add_image("test/precision_recall", curve, step, dataformats="HWC")

    @staticmethod
    def _precision_recall(scores, targets, thresholds: dict[str, float], positive):
        """The binary precision-recall curve with the precision and recall of each threshold."""
        targets = targets.long()  # CatMetric keeps floats
        precision, recall, _ = binary_precision_recall_curve(scores, targets)
        points = {
            title: (
                float(binary_recall(scores, targets, threshold=threshold)),
                float(binary_precision(scores, targets, threshold=threshold)),
            )
            for title, threshold in thresholds.items()
        }
        return precision_recall_image(
            recall.cpu().numpy(), precision.cpu().numpy(), points, positive
        )
