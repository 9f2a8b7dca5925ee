"""The tasks and the torchmetrics of each, named as they appear in TensorBoard and metrics.json.

This table is the one home of the task and metric vocabulary: the config checks (which metrics a
monitor may watch), the train-vs-val charts and the epoch outputs all read it. It names torchmetrics
classes instead of holding them, so it can be read without importing torch; a name that starts
with "." is a class of this folder (`.ranking.BinaryAUROC`: torchmetrics' own, sorting faster).
To log another metric, add a line to its task, e.g.
`"mcc": ("classification.BinaryMatthewsCorrCoef", {}, "max")`.
"""

from typing import Any

# task -> metric name -> (class under torchmetrics. or here, its settings, better when max|min)
METRICS: dict[str, dict[str, tuple[str, dict[str, Any], str]]] = {
    "binary": {
        "acc": ("classification.BinaryAccuracy", {}, "max"),
        "auroc": (".ranking.BinaryAUROC", {}, "max"),
        "f1": ("classification.BinaryF1Score", {}, "max"),
    },
    "multiclass": {
        "acc": ("classification.MulticlassAccuracy", {"average": "micro"}, "max"),
        "f1": ("classification.MulticlassF1Score", {"average": "macro"}, "max"),
    },
    "regression": {
        "mse": ("regression.MeanSquaredError", {}, "min"),
        "mae": ("regression.MeanAbsoluteError", {}, "min"),
        "r2": ("regression.R2Score", {}, "max"),
    },
}
TASKS = tuple(METRICS)
TASK_METRICS = {task: tuple(metrics) for task, metrics in METRICS.items()}
# A binary run also reports its metrics that depend on a decision threshold (acc and f1, not auroc)
# at the threshold chosen on validation (model/thresholds.py), under their name + this suffix, e.g.
# `test/acc_at_threshold`, beside `test/threshold` itself; the plain names stay at 0.5. A suffix,
# not `@`: TensorBoard and MLflow refuse `@` in a metric's name.
AT_THRESHOLD = "_at_threshold"
THRESHOLD = "threshold"


# `auto` as a monitor (callbacks.model_checkpoint.monitor, by default) watches the task's metric
# below; as a mode, the direction its metric is better in. Multiclass picks its best epoch by
# validation accuracy, as RealMLP-TD (Holzmueller et al. 2024) picks its epoch by classification
# error: the label-smoothed loss follows accuracy only loosely (on the benchmark's hpc table,
# 81.3 -> 82.2 % 5-fold accuracy). Binary keeps the loss, which follows the ranking AUROC measures
# (by val/auroc: +0.1, +0.3, -0.2 points on three benchmark tables), as does regression's.
AUTO = "auto"
AUTO_MONITOR = {"binary": "val/loss", "multiclass": "val/acc", "regression": "val/loss"}


def resolved_monitor(
    monitor: str | None, mode: str | None, task: str
) -> tuple[str | None, str | None]:
    """`monitor` and `mode` with `auto` replaced by the task's metric and its direction (with no
    monitor at all, Lightning's default mode)."""
    if monitor == AUTO:
        monitor = AUTO_MONITOR[task]
    if mode == AUTO:
        mode = better_when(monitor.split("/", 1)[-1]) if monitor is not None else "min"
    return monitor, mode


def better_when(name: str) -> str:
    """ "max" or "min" for a logged metric name such as `acc` (the loss is better when lower)."""
    for metrics in METRICS.values():
        if name in metrics:
            return metrics[name][2]
    return "min"


def _metric_class(path: str) -> type:
    import importlib

    if path.startswith("."):
        module, class_name = path.rsplit(".", 1)
        return getattr(importlib.import_module(module, package=__package__), class_name)
    module, class_name = f"torchmetrics.{path}".rsplit(".", 1)
    return getattr(importlib.import_module(module), class_name)


def task_metrics(
    task: str, num_classes: int | None, validate_args: bool = True, **options: Any
) -> Any:
    """The task's metrics as a torchmetrics MetricCollection.

    `validate_args=False` skips the classification metrics' checks of their inputs; `options` go
    to every metric, e.g. `sync_on_compute=False`."""
    import inspect

    from torchmetrics import MetricCollection

    built = {}
    for name, (path, settings, _) in METRICS[task].items():
        metric_class = _metric_class(path)
        arguments = {**options, **settings}
        if "validate_args" in inspect.signature(metric_class).parameters:  # classification
            arguments["validate_args"] = validate_args
            if task == "multiclass":
                arguments["num_classes"] = num_classes
        built[name] = metric_class(**arguments)
    return MetricCollection(built)


def metrics_at_threshold(validate_args: bool = True, **options: Any) -> Any:
    """The binary metrics that take a decision threshold (their class has a `threshold`
    argument, so a metric line added to METRICS joins in by itself), named with AT_THRESHOLD, as
    a MetricCollection. Built once: `set_threshold` points them at each epoch's threshold, which
    spares building new metrics at every validation."""
    import inspect

    from torchmetrics import MetricCollection

    built = {}
    for name, (path, settings, _) in METRICS["binary"].items():
        metric_class = _metric_class(path)
        if "threshold" in inspect.signature(metric_class).parameters:
            arguments = {**options, **settings, "validate_args": validate_args}
            built[name + AT_THRESHOLD] = metric_class(**arguments)
    return MetricCollection(built)


def set_threshold(metrics: Any, threshold: float) -> None:
    """Point every metric of `metrics_at_threshold`'s collection at `threshold`. torchmetrics keeps
    the argument as the metric's `threshold` attribute and reads it at each update; a metric that
    kept it elsewhere would be caught here rather than measured at the wrong threshold."""
    for name, metric in metrics.items(keep_base=True, copy_state=False):
        if not hasattr(metric, "threshold"):
            raise TypeError(f"{name}: {type(metric).__name__} keeps no `threshold` attribute")
        metric.threshold = threshold
