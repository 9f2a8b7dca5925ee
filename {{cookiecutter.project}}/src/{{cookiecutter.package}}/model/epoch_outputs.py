"""One epoch's predictions, targets and loss, kept so that the metrics are computed once per epoch.

Updating a MetricCollection of three torchmetrics and a MeanMetric of the loss costs about 0.3 ms a
step, more than a tenth of a small MLP's step on a CPU. Keeping the step's scores and targets costs
two list appends; the task's metrics then see the whole epoch in one update (`compute`), with the
same result. As a torchmetrics `Metric` the lists are gathered from every DDP process (uneven
shares included), so every process computes the metrics of the whole epoch. The price is memory:
the epoch's scores (one per row; one per row and class for multiclass) and targets, kept on the
training device until the epoch ends.
"""

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from .metrics import THRESHOLD, metrics_at_threshold, task_metrics
from .thresholds import choose_threshold

# The key of `compute`'s result that holds how many rows were predicted as each class (only with
# `count_predictions`): a dict, not a metric to log.
PREDICTED = "predicted"


class EpochOutputs(Metric):
    """`count_predictions`: also count the rows predicted as each class (at 0.5 and at the
    decision threshold for binary, by the largest probability for multiclass): how a run finds
    out that its model calls every test row one class."""

    full_state_update = False

    def __init__(self, task: str, num_classes: int | None, count_predictions: bool = False) -> None:
        super().__init__()
        self.task, self.num_classes = task, num_classes
        self.count_predictions = count_predictions
        # They see outputs already gathered from every process: syncing again would count twice.
        # The targets come from the data module's encoder, so the metrics' own checks of them
        # (which sort the whole epoch's targets again) are skipped.
        self.metrics = task_metrics(task, num_classes, validate_args=False, sync_on_compute=False)
        self.add_state("scores", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")
        self.add_state("loss_sum", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, scores: torch.Tensor, targets: torch.Tensor, loss: torch.Tensor) -> None:
        """`loss` is the batch's mean loss; weighting it by the batch's rows gives the epoch's
        mean per row however the last batch is cut. A NaN loss makes the epoch's loss NaN (which
        stops the run, callbacks/non_finite_loss.py) rather than being left out."""
        self.scores.append(scores)
        self.targets.append(targets)
        if len(targets):  # an empty share (fewer rows than processes) has a NaN mean loss
            # In float32: a float16 loss times 1024 rows can overflow.
            self.loss_sum += loss.to(self.loss_sum.dtype) * len(targets)
            self.count += len(targets)

    def compute(
        self, threshold: float | None = None, criterion: str | None = None
    ) -> dict[str, torch.Tensor]:
        """The mean loss under "loss", and the task's metrics (at 0.5) under their own names.

        Binary only: `criterion` (model/thresholds.py) chooses the decision threshold on this
        epoch's outputs (validation); `threshold` is one chosen before (test). The threshold is
        then reported under "threshold" and the metrics that depend on it under their names +
        `_at_threshold`. No threshold when the epoch lacks one of the classes."""
        scores, targets = dim_zero_cat(self.scores), dim_zero_cat(self.targets)
        self.metrics.update(scores, targets)
        results = {"loss": self.loss_sum / self.count, **self.metrics.compute()}
        self.metrics.reset()  # frees their copy of the epoch, and leaves them ready for the next
        if self.task != "binary":
            threshold = None
        elif criterion is not None:
            threshold = choose_threshold(scores, targets, criterion)
        if threshold is not None:
            results[THRESHOLD] = torch.tensor(threshold, device=scores.device)
            at_threshold = metrics_at_threshold(
                threshold, validate_args=False, sync_on_compute=False
            ).to(scores.device)
            results.update(at_threshold(scores, targets))
        if self.count_predictions:
            results[PREDICTED] = self._predicted(scores, threshold)
        return results

    def _predicted(self, scores: torch.Tensor, threshold: float | None) -> dict[str, list[int]]:
        """Rows predicted as each class, in class order: "usual" (score > 0.5, or the largest
        probability), and "at_threshold" when there is one."""
        if self.task == "regression" or len(scores) == 0:
            return {}
        if self.task == "multiclass":
            counted = {"usual": scores.argmax(-1)}
        else:
            counted = {"usual": (scores > 0.5).long()}
            if threshold is not None:
                counted["at_threshold"] = (scores > threshold).long()
        size = self.num_classes or 2
        return {k: torch.bincount(v, minlength=size).tolist() for k, v in counted.items()}
