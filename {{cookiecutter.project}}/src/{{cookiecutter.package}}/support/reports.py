"""What a run tells its user: the data it read, where it resumed, why training ended, metrics.json,
the cross-validation summary, and how to view what its loggers wrote."""

import json
import logging
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lightning.pytorch.utilities import rank_zero_only

from .mlflow_runs import sqlite_file

log = logging.getLogger(__name__)


@rank_zero_only
def report(lines: list[str]) -> None:
    """Print `lines` and keep them in the run's log file (`<app>.log` in its run directory): what
    the data module read and inferred, what predict and export wrote."""
    print("\n".join(lines))
    log.info("\n".join(lines).strip("\n"))


def budget_line(
    epochs: int, per_epoch: int, max_epochs: int, step_budget: int | None, members: int = 1
) -> str:
    """How long the run trains: its epochs, which limit set them, and how many networks."""
    limit = (
        f"step_budget={step_budget} steps"
        if epochs < max_epochs
        else f"trainer.max_epochs={max_epochs}"
    )
    ensemble = f", {members} networks side by side (model.members)" if members > 1 else ""
    return (
        f"training: up to {epochs} epochs of {per_epoch} steps ({limit}; early stopping may "
        f"end it sooner){ensemble}"
    )


def write_metrics(run_dir: str, metrics: Mapping[str, float]) -> Path:
    """Write one flat JSON object, metric name -> number, as `<run_dir>/metrics.json`."""
    path = Path(run_dir) / "metrics.json"
    path.write_text(json.dumps({name: float(value) for name, value in metrics.items()}, indent=2))
    return path


def report_metrics(
    metrics: Mapping[str, float], metrics_file: Path, note: str | None = None
) -> None:
    """The test metrics, then `note` (one_class_note), then where they were saved."""
    width = max((len(name) for name in metrics), default=0)
    lines = ["", "Test metrics:"]
    lines += [f"  {name:<{width}}  {float(value):.4f}" for name, value in metrics.items()]
    report([*lines, *([note] if note else []), f"Saved {metrics_file}"])


def one_class_note(
    predicted: Mapping[str, Sequence[int]], classes: Sequence[Any], threshold: float | None
) -> str | None:
    """One line when the model called every test row the same class, which accuracy hides (94%
    for a model that calls every row negative when 6% are positive); None otherwise.

    `predicted`: rows predicted as each class (model/epoch_outputs.py): "usual" (at 0.5, or the
    largest probability) and, for a binary model with a decision threshold, "at_threshold", which
    is what predict answers."""
    usual, chosen = predicted.get("usual"), predicted.get("at_threshold")
    if usual is None:  # regression, or no test rows
        return None
    at_usual = _only_class(usual, classes)
    at_chosen = _only_class(chosen, classes) if chosen is not None else None
    weigh = "weigh the classes: " + (
        "loss=bce loss.pos_weight=balanced (or loss=cross_entropy loss.weight=balanced)"
        if len(classes) == 2
        else "loss=cross_entropy loss.weight=balanced"
    )
    if chosen is None and at_usual is not None:
        return (
            f"Warning: the model predicts {at_usual!r} for every test row, so its accuracy is "
            f"only that class's share of the rows; {weigh}"
        )
    if at_chosen is not None and at_chosen == at_usual:
        return (
            f"Warning: the model predicts {at_usual!r} for every test row, at 0.5 and at its "
            f"decision threshold {threshold:.4g}: it has learnt no other class; {weigh}"
        )
    if at_chosen is not None:
        return (
            f"Warning: at its decision threshold {threshold:.4g} the model predicts "
            f"{at_chosen!r} for every test row: the criterion gave the other class up; "
            "callbacks.decision_threshold.criterion=balanced_accuracy counts both classes alike"
        )
    if at_usual is not None and chosen is not None:
        return (
            f"Note: at 0.5 the model predicts {at_usual!r} for every test row (test/acc is that "
            f"class's share); at the threshold chosen on validation, {threshold:.4g}, it "
            "predicts both classes (test/*_at_threshold, and what predict answers)"
        )
    return None


def _only_class(counts: Sequence[int], classes: Sequence[Any]) -> Any:
    """The one class every row was predicted as; None when the rows went to several."""
    predicted = [label for label, count in zip(classes, counts, strict=True) if count]
    return predicted[0] if len(predicted) == 1 else None


TENSORBOARD_HEADING = (
    "View the curves (localhost only; add `--bind_all` only if you mean to share them):"
)


def print_view_commands(run_dir: str, loggers: Mapping[str, Any] | None) -> None:
    """How to look at what each of the run's loggers (`cfg.logger`) wrote: the TensorBoard
    command, the CSV file, the MLflow UI command or server."""
    folder = Path(run_dir).resolve()
    for logger in (loggers or {}).values():
        kind = str(logger.get("_target_", "")).rsplit(".", 1)[-1] if logger else None
        if kind == "TensorBoardLogger":
            print(TENSORBOARD_HEADING)
            print(f"  tensorboard --logdir {folder} --host 127.0.0.1")
        elif kind == "CSVLogger":
            table = Path(logger.get("name") or "", str(logger.get("version") or ""), "metrics.csv")
            if (folder / table).is_file():
                print(f"The metrics as a table: {folder / table}")
            else:  # cross_validate: one per fold
                print(f"The metrics as tables: {table} in each run below {folder}")
        elif logger and "tracking_uri" in logger:
            print(mlflow_view(logger.tracking_uri, logger.get("experiment_name")))


def mlflow_view(tracking_uri: str, experiment: str | None) -> str:
    """Where to see the MLflow runs: a server's address, or the UI command for a database (the UI
    comes with the full `mlflow` package, not with mlflow-skinny)."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"Compare the runs in MLflow: {tracking_uri} (experiment {experiment!r})"
    database = sqlite_file(tracking_uri)
    store = f"sqlite:///{database}" if database is not None else tracking_uri
    return (
        "Compare the runs in MLflow (localhost only; its UI needs `pip install mlflow`):\n"
        f"  mlflow ui --backend-store-uri {store}"
    )


def report_resume(ckpt_path: str, checkpoint: Mapping, changed: Mapping[str, list] = {}) -> None:
    """Where the run continues from, and the settings it continues with that differ from the
    run's record (support/resume_checks.record_resume)."""
    report(
        [
            f"Resuming from {ckpt_path}: saved in epoch {checkpoint['epoch']} at step "
            f"{checkpoint['global_step']}",
            *(
                f"  changed on resume: {key}: {before} -> {now}"
                for key, (before, now) in changed.items()
            ),
        ]
    )


def stop_reason(trainer: Any, diverged: Exception | None) -> str:
    """One line: why training ended, at which epoch and step (counted from 0, as in the progress bar
    and TensorBoard)."""
    step = trainer.global_step
    if diverged is not None:
        return (
            f"Training stopped: {diverged}. Nothing was saved after it: the checkpoints keep "
            "the last good state."
        )
    stopper = trainer.early_stopping_callback
    reason = stopper.stopping_reason.name if stopper is not None else "NOT_STOPPED"
    if reason == "PATIENCE_EXHAUSTED":
        return (
            f"Early stopping at epoch {stopper.stopped_epoch} (step {step}): {stopper.monitor} "
            f"did not improve by more than {abs(stopper.min_delta):g} for "
            f"{_epochs(stopper.patience)}; best {float(stopper.best_score):.4f}."
        )
    if reason == "NON_FINITE_METRIC":
        value = float(trainer.callback_metrics[stopper.monitor])
        return (
            f"Early stopping at epoch {stopper.stopped_epoch} (step {step}): {stopper.monitor} "
            f"is {value}, not a finite number."
        )
    if reason != "NOT_STOPPED":
        return f"Early stopping at epoch {stopper.stopped_epoch} (step {step}): " + (
            stopper.stopping_reason_message or reason
        )
    if trainer.max_epochs is not None and trainer.current_epoch >= trainer.max_epochs:
        return f"Trained all {_epochs(trainer.max_epochs)} (max_epochs), ending at step {step}."
    return f"Training ended in epoch {trainer.current_epoch} at step {step}."


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def write_cross_validation(
    run_dir: str, results: list[Mapping[str, float]], num_folds: int, repeats: int
) -> tuple[Path, dict[str, dict[str, float]]]:
    """`<run_dir>/cross_validation.json`: per test metric, the mean, the standard deviation over
    all folds of all repeats (n - 1 in the denominator) and every fold's value, in run order."""
    summary = {}
    for name in results[0]:
        values = [float(metrics[name]) for metrics in results]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        summary[name] = {"mean": statistics.fmean(values), "std": spread, "values": values}
    path = Path(run_dir) / "cross_validation.json"
    record = {"num_folds": num_folds, "repeats": repeats, "runs": len(results), "metrics": summary}
    path.write_text(json.dumps(record, indent=2))
    return path, summary


def report_cross_validation(summary: Mapping[str, Mapping[str, float]], summary_file: Path) -> None:
    runs = len(next(iter(summary.values()))["values"])
    width = max(len("metric"), *map(len, summary))
    lines = ["", f"Cross-validated test metrics ({runs} runs):"]
    lines.append(f"  {'metric':<{width}} {'mean':>8} {'std':>8}")
    for name, stats in summary.items():
        lines.append(f"  {name:<{width}} {stats['mean']:>8.4f} {stats['std']:>8.4f}")
    report([*lines, f"Saved {summary_file}"])
