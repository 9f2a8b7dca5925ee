"""What a finished run leaves for its user: metrics.json, and how to view its curves."""

import json
import logging
from collections.abc import Mapping
from pathlib import Path

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

