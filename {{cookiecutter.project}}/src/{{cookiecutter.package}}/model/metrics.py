"""The torchmetrics of each task, named as they appear in TensorBoard and metrics.json."""

from typing import Any

from torchmetrics import MetricCollection
from torchmetrics.classification import (
    BinaryAccuracy,
    BinaryAUROC,
    BinaryF1Score,
    MulticlassAccuracy,
    MulticlassF1Score,
)
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score


def task_metrics(
    task: str, num_classes: int | None, validate_args: bool = True, **options: Any
) -> MetricCollection:
    """binary: acc, auroc, f1; multiclass: acc, f1 (macro); regression: mse, mae, r2.

    `validate_args=False` skips the classification metrics' checks of their inputs; `options` go
    to every metric, e.g. `sync_on_compute=False`."""
    checked = {**options, "validate_args": validate_args}  # classification metrics only
    if task == "binary":
        return MetricCollection({"acc": BinaryAccuracy(**checked), "auroc": BinaryAUROC(**checked),
                                 "f1": BinaryF1Score(**checked)})
    if task == "multiclass":
        return MetricCollection({
            "acc": MulticlassAccuracy(num_classes, average="micro", **checked),
            "f1": MulticlassF1Score(num_classes, average="macro", **checked),
        })
    return MetricCollection({"mse": MeanSquaredError(**options),
                             "mae": MeanAbsoluteError(**options), "r2": R2Score(**options)})
