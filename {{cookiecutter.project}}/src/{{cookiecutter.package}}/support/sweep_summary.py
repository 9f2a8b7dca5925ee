"""After a multirun (`-m`): one table of every job's settings and final metrics, in the sweep
directory as `summary.csv` (for a spreadsheet or pandas) and `summary.md` (printed too).

A Hydra callback (configured in `configs/hydra/default.yaml`), run once in the launching process
when the whole sweep has ended. It reads what each job left on disk, its overrides
(`.hydra/overrides.yaml`) and its `metrics.json`, so it works for every launcher, SLURM's included,
whose jobs run elsewhere. A job without metrics.json (it failed or is still running) keeps its row,
with empty metric cells.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

NAME = "summary"


@dataclass
class Job:
    number: int
    name: str  # its directory, relative to the sweep's
    settings: dict[str, str]  # its overrides, key -> value as typed
    metrics: dict[str, float]


def read_jobs(sweep_dir: Path) -> list[Job]:
    jobs = []
    for overrides_file in sweep_dir.rglob(".hydra/overrides.yaml"):
        job_dir = overrides_file.parent.parent
        number = OmegaConf.load(job_dir / ".hydra" / "hydra.yaml").hydra.job.num
        settings = dict(str(o).partition("=")[::2] for o in OmegaConf.load(overrides_file))
        metrics_file = job_dir / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        jobs.append(Job(number, job_dir.relative_to(sweep_dir).as_posix(), settings, metrics))
    return sorted(jobs, key=lambda job: job.number)


def summary_rows(jobs: list[Job]) -> list[dict[str, Any]]:
    """`job`, then each setting that differs between the jobs (the job's name shows the ones they
    share; a single job shows all), then every metric."""
    keys = list(dict.fromkeys(key for job in jobs for key in job.settings))
    if len(jobs) > 1:
        keys = [k for k in keys if len({job.settings.get(k) for job in jobs}) > 1]
    return [
        {"job": job.name, **{k: job.settings.get(k, "") for k in keys}, **job.metrics}
        for job in jobs
    ]


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns_of(rows))
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured Markdown table; numbers to 4 decimals."""

    def cell(value: Any) -> str:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|")

    columns = columns_of(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = summary_rows(read_jobs(sweep_dir))
        if not rows:
            return
        write_csv(rows, sweep_dir / f"{NAME}.csv")
        table = markdown_table(rows)
        (sweep_dir / f"{NAME}.md").write_text(table)
        print(f"\nSweep summary ({sweep_dir / NAME}.csv and .md):\n{table}")
        print("View the runs side by side (localhost only):")
        print(f"  tensorboard --logdir {sweep_dir.resolve()} --host 127.0.0.1")
