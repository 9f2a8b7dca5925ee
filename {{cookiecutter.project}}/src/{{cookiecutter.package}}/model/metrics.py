"""The torchmetrics of each task, named as they appear in TensorBoard and metrics.json."""

from torchmetrics import MetricCollection
from torchmetrics.classification import (
    BinaryAccuracy,
    BinaryAUROC,
    BinaryF1Score,
    MulticlassAccuracy,
    MulticlassF1Score,
)
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError, R2Score


def task_metrics(task: str, num_classes: int | None) -> MetricCollection:
    """binary: acc, auroc, f1; multiclass: acc, f1 (macro); regression: mse, mae, r2."""
    if task == "binary":
        return MetricCollection(
            {"acc": BinaryAccuracy(), "auroc": BinaryAUROC(), "f1": BinaryF1Score()}
        )
    if task == "multiclass":
        return MetricCollection({
            "acc": MulticlassAccuracy(num_classes, average="micro"),
            "f1": MulticlassF1Score(num_classes, average="macro"),
        })
    return MetricCollection(
        {"mse": MeanSquaredError(), "mae": MeanAbsoluteError(), "r2": R2Score()}
    )
