"""Benchmark the generated project's training against a plain PyTorch loop and a per-row pipeline.

    python benchmarks/run.py [--rows 200000] [--repeats 3] [--million] [--output FILE]

(a) the generated project's `train` with its default callbacks, metrics and TensorBoard logging;
(b) a minimal hand-written PyTorch loop with the same split, preprocessing, model, optimizer, batch
    size and a validation pass per epoch: the floor;
(c) the same project fed by a per-row TensorDataset and the DataLoader's default collate.
Every run is a fresh process, timed at 1 and 5 epochs: the difference cancels start-up out.
Prints a table and writes the figures as JSON.
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
SHORT, LONG = 1, 5


def bake_and_install(workdir: Path) -> Path:
    """Bake the default project as a user would and install it into this environment."""
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(workdir),
                                overwrite_if_exists=True,
                                extra_context={"project_name": "Bench Project"}))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
                    "-e", str(project)], check=True)
    return project


def project_command(table: Path, epochs: int, run_dir: Path, extra: list[str]) -> list[str]:
    columns = ",".join(feature_names())
    return [
        sys.executable, "-m", f"{PACKAGE}.train",
        f"data.path={table}", f"data.target={TARGET}", "data.task=binary",
        f"data.numeric=[{columns}]", "data.categorical=[]", "data.categories=null",
        f"data.batch_size={BATCH_SIZE}", "model.hidden_sizes=[128,64]",
        f"trainer.max_epochs={epochs}", f"hydra.run.dir={run_dir}",
        "+callbacks.first_step={_target_: first_step.FirstStepTimer}", *extra,
    ]


def pipelines(table: Path, scratch: Path) -> dict:
    """Name -> function(epochs) -> command line."""
    def run_dir(name: str, epochs: int) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-{epochs}-", dir=scratch))

    per_row = ["data._target_=per_row_datamodule.PerRowDataModule"]
    return {
        "a_project": lambda e: project_command(table, e, run_dir("a", e), []),
        "b_plain_loop": lambda e: [sys.executable, str(HERE / "plain_loop.py"), str(table), str(e),
                                   str(BATCH_SIZE)],
        "c_per_row": lambda e: project_command(table, e, run_dir("c", e), per_row),
    }


def measure(command: list[str], log: Path) -> dict:
    """Run one process; return its wall time, peak resident memory and time to the first step."""
    env = {**os.environ, "PYTHONPATH": str(HERE), "BENCH_PACKAGE": PACKAGE,
           "BENCH_T0": repr(time.time())}
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    text = log.read_text()
    if status != 0:
        raise SystemExit(f"benchmark run failed ({' '.join(command)}):\n{text[-3000:]}")
    first_step = next(float(line.split("first_step_s=")[1].split()[0])
                      for line in text.splitlines() if "first_step_s=" in line)
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "first_step_s": first_step}


def training_rows(rows: int) -> int:
    """Rows in the training split (test 20 %, validation 15 % of the whole), as the project."""
    test = -(-rows * 20 // 100)
    val = -(-(rows - test) * 15 // 80)
    return rows - test - val


def summarise(samples: dict[int, list[dict]], rows: int) -> dict:
    short = statistics.median(s["wall_s"] for s in samples[SHORT])
    long = statistics.median(s["wall_s"] for s in samples[LONG])
    per_epoch = (long - short) / (LONG - SHORT)
    return {
        "seconds_per_epoch": per_epoch,
        "train_samples_per_second": training_rows(rows) / per_epoch,
        "startup_s": short - per_epoch,
        "first_step_s": statistics.median(s["first_step_s"] for s in samples[SHORT]),
        "peak_rss_mb": max(s["peak_rss_mb"] for runs in samples.values() for s in runs),
        "runs": samples,
    }


def bench(table: Path, rows: int, repeats: int, scratch: Path, names: list[str]) -> dict:
    commands = pipelines(table, scratch)
    samples = {name: {SHORT: [], LONG: []} for name in names}
    for repeat in range(repeats):  # interleaved, so that machine noise spreads over every pipeline
        for name in names:
            for epochs in (SHORT, LONG):
                result = measure(commands[name](epochs), scratch / f"{name}-{epochs}-{repeat}.log")
                samples[name][epochs].append(result)
                print(f"  {name} epochs={epochs} repeat={repeat}: {result['wall_s']:.2f} s",
                      file=sys.stderr, flush=True)
    return {name: summarise(runs, rows) for name, runs in samples.items()}


def table_lines(title: str, results: dict) -> list[str]:
    header = (f"{'pipeline':<14} {'s/epoch':>9} {'samples/s':>11} {'start-up s':>11} "
              f"{'1st step s':>11} {'peak MB':>9}")
    lines = [f"\n{title}", header]
    for name, r in results.items():
        lines.append(f"{name:<14} {r['seconds_per_epoch']:>9.3f} "
                     f"{r['train_samples_per_second']:>11,.0f} {r['startup_s']:>11.2f} "
                     f"{r['first_step_s']:>11.2f} {r['peak_rss_mb']:>9.0f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--million", action="store_true", help="also the 1,000,000-row case")
    parser.add_argument("--output", type=Path, default=TEMPLATE / "build/bench/results.json")
    args = parser.parse_args()

    workdir = TEMPLATE / "build/bench"
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="runs-", dir=workdir))
    bake_and_install(workdir / "project")
    report: dict = {"rows": args.rows, "features": FEATURES, "batch_size": BATCH_SIZE,
                    "repeats": args.repeats, "torch_threads": THREADS}
    table = write_table(workdir / f"table-{args.rows}.csv", args.rows)
    names = ["a_project", "b_plain_loop", "c_per_row"]
    report["results"] = bench(table, args.rows, args.repeats, scratch, names)
    results = report["results"]
    report["ratios"] = {
        "a_over_b_seconds_per_epoch": results["a_project"]["seconds_per_epoch"]
        / results["b_plain_loop"]["seconds_per_epoch"],
        "c_over_a_seconds_per_epoch": results["c_per_row"]["seconds_per_epoch"]
        / results["a_project"]["seconds_per_epoch"],
    }
    lines = table_lines(f"{args.rows:,} rows x {FEATURES} features, batch {BATCH_SIZE}, "
                        f"medians of {args.repeats}", results)
    lines.append(f"(a)/(b) seconds per epoch: {report['ratios']['a_over_b_seconds_per_epoch']:.2f}"
                 f"   (c)/(a): {report['ratios']['c_over_a_seconds_per_epoch']:.2f}")
    if args.million:
        big = write_table(workdir / "table-1000000.csv", 1_000_000)
        report["million"] = bench(big, 1_000_000, 1, scratch, ["a_project", "b_plain_loop"])
        lines += table_lines("1,000,000 rows, one run each", report["million"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print("\n".join(lines))
    print(f"\nfigures: {args.output}")


if __name__ == "__main__":
    main()
