"""What a run tells its user: the data it read, where it resumed, why training ended, metrics.json,
the cross-validation summary, and how to view its curves."""

import json
import logging
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch.utilities import rank_zero_only

log = logging.getLogger(__name__)


@rank_zero_only
def report_data(lines: list[str]) -> None:
    """Print what the data module read and inferred, and keep it in the run's log file."""
    print("\n".join(lines))
    log.info("\n".join(lines))


def write_metrics(run_dir: str, metrics: Mapping[str, float]) -> Path:
    """Write one flat JSON object, metric name -> number, as `<run_dir>/metrics.json`."""
    path = Path(run_dir) / "metrics.json"
    path.write_text(json.dumps({name: float(value) for name, value in metrics.items()}, indent=2))
    return path


def print_metrics(metrics: Mapping[str, float], metrics_file: Path) -> None:
    print("\nTest metrics:")
    for name, value in metrics.items():
        print(f"  {name:<12} {float(value):.4f}")
    print(f"Saved {metrics_file}")


def print_tensorboard_command(run_dir: str) -> None:
    print("View the curves (localhost only; add `--bind_all` only if you mean to share them):")
    print(f"  tensorboard --logdir {Path(run_dir).resolve()} --host 127.0.0.1")


def print_resume(ckpt_path: str, checkpoint: Mapping) -> None:
    print(
        f"Resuming from {ckpt_path}: saved in epoch {checkpoint['epoch']} at step "
        f"{checkpoint['global_step']}"
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
    report = {"num_folds": num_folds, "repeats": repeats, "runs": len(results), "metrics": summary}
    path.write_text(json.dumps(report, indent=2))
    return path, summary


def print_cross_validation(summary: Mapping[str, Mapping[str, float]], summary_file: Path) -> None:
    runs = len(next(iter(summary.values()))["values"])
    print(f"\nCross-validated test metrics ({runs} runs):")
    print(f"  {'metric':<12} {'mean':>8} {'std':>8}")
    for name, stats in summary.items():
        print(f"  {name:<12} {stats['mean']:>8.4f} {stats['std']:>8.4f}")
    print(f"Saved {summary_file}")
