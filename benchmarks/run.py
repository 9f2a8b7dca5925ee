"""Benchmark the generated project's training against a plain PyTorch loop and a per-row pipeline.

    python benchmarks/run.py [--rows 200000] [--repeats 3] [--million] [--output FILE]

(a) the generated project's `train` with its default callbacks, metrics and TensorBoard logging;
(b) a minimal hand-written PyTorch loop with the same split, preprocessing, model, optimizer, batch
    size and a validation pass per epoch: the floor;
(c) the same project fed by a per-row TensorDataset and the DataLoader's default collate;
(d) the plain loop's network and batches in a bare LightningModule: Lightning's own floor.
Every run is a fresh process of a few epochs. Seconds per epoch are the gaps between epoch ends
(training plus validation), so start-up cancels out; start-up is the time from launch to the first
training step. Medians over repeats, run interleaved. Prints a table and writes the figures as JSON.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plain_loop import THREADS
from synthetic import FEATURES, TARGET, feature_names, write_table

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
PACKAGE = "bench_project"
BATCH_SIZE = 1024


def bake_and_install(workdir: Path) -> Path:
    """Bake the default project as a user would and install it into this environment."""
    from cookiecutter.main import cookiecutter

    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(workdir),
            overwrite_if_exists=True,
            extra_context={"project_name": "Bench Project"},
        )
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "-e",
            str(project),
        ],
        check=True,
    )
    return project


def project_command(table: Path, epochs: int, run_dir: Path, extra: list[str]) -> list[str]:
    columns = ",".join(feature_names())
    return [
        sys.executable,
        "-m",
        f"{PACKAGE}.train",
        f"data.path={table}",
        f"data.target={TARGET}",
        "data.task=binary",
        f"data.numeric=[{columns}]",
        "data.categorical=[]",
        "data.categories=null",
        f"data.batch_size={BATCH_SIZE}",
        "model.hidden_sizes=[128,64]",
        # The plain loop's network and optimizer: no dropout, Adam(lr=1e-3) without weight decay.
        "model.dropout=0.0",
        "optimizer.lr=0.001",
        "optimizer.weight_decay=0.0",
        f"trainer.max_epochs={epochs}",
        f"hydra.run.dir={run_dir}",
        "+callbacks.epoch_timer={_target_: epoch_timer.EpochTimer}",
        *extra,
    ]


def pipelines(table: Path, scratch: Path) -> dict:
    """Name -> function(epochs) -> command line."""

    def run_dir(name: str, epochs: int) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-{epochs}-", dir=scratch))

    per_row = ["data._target_=per_row_datamodule.PerRowDataModule"]
    return {
        "a_project": lambda e: project_command(table, e, run_dir("a", e), []),
        "b_plain_loop": lambda e: [
            sys.executable,
            str(HERE / "plain_loop.py"),
            str(table),
            str(e),
            str(BATCH_SIZE),
        ],
        "c_per_row": lambda e: project_command(table, e, run_dir("c", e), per_row),
        "d_bare_lightning": lambda e: [
            sys.executable,
            str(HERE / "bare_lightning.py"),
            str(table),
            str(e),
            str(BATCH_SIZE),
        ],
    }


def measure(command: list[str], log: Path) -> dict:
    """Run one process; return its per-epoch seconds, time to first step and peak memory."""
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "BENCH_PACKAGE": PACKAGE,
        "BENCH_T0": repr(time.time()),
    }
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    text = log.read_text()
    if status != 0:
        raise SystemExit(f"benchmark run failed ({' '.join(command)}):\n{text[-3000:]}")

    def times(name: str) -> list[float]:
        return [
            float(line.split(f"{name}=")[1].split()[0])
            for line in text.splitlines()
            if f"{name}=" in line
        ]

    epoch_ends = times("epoch_end_s")
    gaps = [later - earlier for earlier, later in zip(epoch_ends, epoch_ends[1:], strict=False)]
    return {
        "seconds_per_epoch": statistics.median(gaps),
        "first_step_s": times("first_step_s")[0],
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def training_rows(rows: int) -> int:
    """Rows in the training split (test 20 %, validation 15 % of the whole), as the project."""
    test = -(-rows * 20 // 100)
    val = -(-(rows - test) * 15 // 80)
    return rows - test - val


def summarise(runs: list[dict], rows: int) -> dict:
    per_epoch = statistics.median(run["seconds_per_epoch"] for run in runs)
    return {
        "seconds_per_epoch": per_epoch,
        "train_samples_per_second": training_rows(rows) / per_epoch,
        "first_step_s": statistics.median(run["first_step_s"] for run in runs),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "runs": runs,
    }


def bench(
    table: Path, rows: int, epochs: int, repeats: int, scratch: Path, names: list[str]
) -> dict:
    commands = pipelines(table, scratch)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for repeat in range(repeats):  # interleaved, so that machine noise spreads over every pipeline
        for name in names:
            result = measure(commands[name](epochs), scratch / f"{name}-{rows}-{repeat}.log")
            runs[name].append(result)
            print(
                f"  {name} repeat {repeat}: {result['seconds_per_epoch']:.3f} s/epoch",
                file=sys.stderr,
                flush=True,
            )
    return {name: summarise(name_runs, rows) for name, name_runs in runs.items()}


def table_lines(title: str, results: dict) -> list[str]:
    header = f"{'pipeline':<16} {'s/epoch':>9} {'samples/s':>11} {'1st step s':>11} {'peak MB':>9}"
    lines = [f"\n{title}", header]
    for name, r in results.items():
        lines.append(
            f"{name:<16} {r['seconds_per_epoch']:>9.3f} "
            f"{r['train_samples_per_second']:>11,.0f} {r['first_step_s']:>11.2f} "
            f"{r['peak_rss_mb']:>9.0f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="per run; the first has no gap")
    parser.add_argument("--million", action="store_true", help="also the 1,000,000-row case")
    parser.add_argument("--output", type=Path, default=TEMPLATE / "build/bench/results.json")
    args = parser.parse_args()

    workdir = TEMPLATE / "build/bench"
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="runs-", dir=workdir))
    bake_and_install(workdir / "project")
    report: dict = {
        "rows": args.rows,
        "features": FEATURES,
        "batch_size": BATCH_SIZE,
        "repeats": args.repeats,
        "torch_threads": THREADS,
    }
    table = write_table(workdir / f"table-{args.rows}.csv", args.rows)
    names = ["a_project", "b_plain_loop", "c_per_row", "d_bare_lightning"]
    report["results"] = bench(table, args.rows, args.epochs, args.repeats, scratch, names)
    per_epoch = {name: r["seconds_per_epoch"] for name, r in report["results"].items()}
    report["ratios"] = {
        "a_over_b": per_epoch["a_project"] / per_epoch["b_plain_loop"],
        "c_over_a": per_epoch["c_per_row"] / per_epoch["a_project"],
        "d_over_b": per_epoch["d_bare_lightning"] / per_epoch["b_plain_loop"],
        "a_over_d": per_epoch["a_project"] / per_epoch["d_bare_lightning"],
    }
    lines = table_lines(
        f"{args.rows:,} rows x {FEATURES} features, batch {BATCH_SIZE}, medians of {args.repeats}",
        report["results"],
    )
    lines.append(
        "seconds per epoch: "
        + "   ".join(
            f"({name[0]})/({name[-1]}) {ratio:.2f}" for name, ratio in report["ratios"].items()
        )
    )
    if args.million:
        big = write_table(workdir / "table-1000000.csv", 1_000_000)
        report["million"] = bench(big, 1_000_000, 3, 1, scratch, ["a_project", "b_plain_loop"])
        lines += table_lines("1,000,000 rows, one run each", report["million"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print("\n".join(lines))
    print(f"\nfigures: {args.output}")


if __name__ == "__main__":
    main()
