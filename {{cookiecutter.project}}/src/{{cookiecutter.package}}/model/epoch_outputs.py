"""One epoch's predictions, targets and loss, kept so that the metrics are computed once per epoch.

Updating a MetricCollection of three torchmetrics and a MeanMetric of the loss costs about 0.3 ms a
step, more than a tenth of a small MLP's step on a CPU. Keeping the step's scores, targets and
loss costs three list appends and one multiplication (~5 us); the task's metrics then see the
whole epoch in one update (`compute`), with the same result. As a torchmetrics `Metric` the lists
are gathered from every DDP process (uneven shares included), so every process computes the
metrics of the whole epoch. The price is memory: the epoch's scores (one per row; one per row and
class for multiclass), targets and per-batch losses, kept on the training device until the epoch
ends.
"""

from collections.abc import Callable
from typing import Any

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from .metrics import THRESHOLD, metrics_at_threshold, set_threshold, task_metrics
from .thresholds import choose_threshold

# The key of `compute`'s result that holds how many rows were predicted as each class (only with
# `count_predictions`): a dict, not a metric to log.
PREDICTED = "predicted"


class EpochOutputs(Metric):
    """`count_predictions`: also count the rows predicted as each class (at 0.5 and at the
    decision threshold for binary, by the largest probability for multiclass): how a run finds
    out that its model calls every test row one class.

    `target_scale` (regression): the training targets' standard deviation. The network learns
    standardised targets; the metrics see scores and targets times this scale, so that mse and
    mae are in the target's own units (r2 is the same in both). The loss stays as trained."""

    full_state_update = False

    def __init__(
        self,
        task: str,
        num_classes: int | None,
        count_predictions: bool = False,
        target_scale: float | None = None,
    ) -> None:
        super().__init__()
        self.task, self.num_classes = task, num_classes
        self.count_predictions = count_predictions
        self.target_scale = target_scale if task == "regression" else None
        # They see outputs already gathered from every process: syncing again would count twice.
        # The targets come from the data module's encoder, so the metrics' own checks of them
        # (which sort the whole epoch's targets again) are skipped.
        self.metrics = task_metrics(task, num_classes, validate_args=False, sync_on_compute=False)
        self.add_state("scores", default=[], dist_reduce_fx="cat")
        self.add_state("targets", default=[], dist_reduce_fx="cat")
        # Each batch's loss times its rows: summed once per epoch, not per step (two in-place
        # additions a step cost more than the rest of `update`); the rows are the targets'.
        self.add_state("row_losses", default=[], dist_reduce_fx="cat")
        # The decision threshold's metrics, built once and pointed at each epoch's threshold.
        self.at_threshold = (
            metrics_at_threshold(validate_args=False, sync_on_compute=False)
            if task == "binary"
            else None
        )

    def _wrap_update(self, update: Callable) -> Callable:
        """A lighter wrapper than torchmetrics' (called once a step, it cost more than the
        appends): the same bookkeeping, written past `nn.Module.__setattr__` (~2.5 us a write)
        into the instance's dict, where that method would put these plain values too. No
        `torch.set_grad_enabled`: the module's step passes detached tensors, and `update` only
        keeps them, so no graph can grow."""

        def counted(*args: Any, **kwargs: Any) -> None:
            attributes = self.__dict__
            attributes["_computed"] = None
            attributes["_update_count"] += 1
            update(*args, **kwargs)
            if self.compute_on_cpu:
                self._move_list_states_to_cpu()

        return counted

    def update(self, scores: torch.Tensor, targets: torch.Tensor, loss: torch.Tensor) -> None:
        """`loss` is the batch's mean loss; weighting it by the batch's rows gives the epoch's
        mean per row however the last batch is cut. A NaN loss makes the epoch's loss NaN (which
        stops the run, callbacks/non_finite_loss.py) rather than being left out. All three are
        detached from the graph (as the module's step passes them)."""
        self.scores.append(scores)
        self.targets.append(targets)
        if len(targets):  # an empty share (fewer rows than processes) has a NaN mean loss
            if loss.dtype.itemsize < 4:  # in float32: a float16 loss times 1024 rows can overflow
                loss = loss.float()
            self.row_losses.append(loss * len(targets))

    def compute(
        self, threshold: float | None = None, criterion: str | None = None
    ) -> dict[str, torch.Tensor]:
        """The mean loss under "loss", and the task's metrics (at 0.5) under their own names.

        Binary only: `criterion` (model/thresholds.py) chooses the decision threshold on this
        epoch's outputs (validation); `threshold` is one chosen before (test). The threshold is
        then reported under "threshold" and the metrics that depend on it under their names +
        `_at_threshold`. No threshold when the epoch lacks one of the classes."""
        scores, targets = dim_zero_cat(self.scores), dim_zero_cat(self.targets)
        if self.target_scale is None:
            self.metrics.update(scores, targets)
        else:  # a scale, not the mean too: differences need no shift, and float32 keeps them
            self.metrics.update(scores * self.target_scale, targets * self.target_scale)
        results = {"loss": self._mean_loss(len(targets)), **self.metrics.compute()}
        self.metrics.reset()  # frees their copy of the epoch, and leaves them ready for the next
        if self.task != "binary":
            threshold = None
        elif criterion is not None:
            threshold = choose_threshold(scores, targets, criterion)
        if threshold is not None:
            results[THRESHOLD] = torch.tensor(threshold, device=scores.device)
            set_threshold(self.at_threshold, threshold)
            self.at_threshold.update(scores, targets)
            results.update(self.at_threshold.compute())
            self.at_threshold.reset()
        if self.count_predictions:
            results[PREDICTED] = self._predicted(scores, threshold)
        return results

    def _mean_loss(self, rows: int) -> torch.Tensor:
        """The epoch's mean loss per row (float32 unless the loss was float64). NaN without rows,
        as 0 / 0 was: the losses' list is then empty, or an empty tensor after a DDP gather."""
        kept = self.row_losses
        if isinstance(kept, list) and not kept:
            return torch.tensor(float("nan"), device=self.device)
        return dim_zero_cat(kept).sum() / rows

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
