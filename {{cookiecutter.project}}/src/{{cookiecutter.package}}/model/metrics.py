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
    if task == "binary":
        options["validate_args"] = validate_args
        return MetricCollection({"acc": BinaryAccuracy(**options), "auroc": BinaryAUROC(**options),
                                 "f1": BinaryF1Score(**options)})
    if task == "multiclass":
        options["validate_args"] = validate_args
        return MetricCollection({
            "acc": MulticlassAccuracy(num_classes, average="micro", **options),
            "f1": MulticlassF1Score(num_classes, average="macro", **options),
        })
    return MetricCollection({"mse": MeanSquaredError(**options),
                             "mae": MeanAbsoluteError(**options), "r2": R2Score(**options)})
