"""Benchmark the generated project's training against a plain PyTorch loop and a per-row pipeline.

    python benchmarks/run.py [--rows 200000] [--small-rows 50000] [--repeats 3] [--million]
                             [--demo] [--device cpu|cuda] [--output FILE]

(a) the generated project's `train` with its default callbacks, metrics and TensorBoard logging,
    set explicitly to (b)'s network, optimizer, batches and scaling (`project_command` says why);
(b) a minimal hand-written PyTorch loop with the same split, preprocessing, model, optimizer, batch
    size and a validation pass per epoch: the floor;
(c) the same project fed by a per-row TensorDataset and the DataLoader's default collate;
(d) the plain loop's network and batches in a bare LightningModule: Lightning's own floor.
On the CPU: batch 1024 on `--rows` rows (a, b, c, d) and batch 32, the project's default, on
`--small-rows` rows (a, b, d). With `--device cuda`: batch 1024 and 8192 on `--gpu-rows` rows,
the tables on the GPU, plus (a) with `model.compile=true` and (a) with Adam's fused kernel.
Every run is a fresh process of a few epochs. Seconds per epoch are the gaps between epoch ends
(training plus validation), so start-up cancels out; start-up is the time from launch to the first
training step. "CPU s" is the process's CPU time per epoch, which other work on a shared machine
disturbs much less than the clock (every pipeline runs one thread). Medians over repeats, run
interleaved; the spread is (slowest - fastest) / median of a pipeline's repeats, a measure of the
machine's noise. `--demo` also times the README's first
command (the heart demo's whole `train`). Prints tables and writes the figures as JSON.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from baking import bake_and_install
from devices import DEVICES, no_gpu_reason
from plain_loop import THREADS
from synthetic import FEATURES, TARGET, feature_names, write_table

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
PACKAGE = "bench_project"
PIPELINES = {
    "a_project": "(a) project `train`",
    "b_plain_loop": "(b) plain PyTorch loop",
    "c_per_row": "(c) per-row DataLoader",
    "d_bare_lightning": "(d) bare LightningModule",
    "a_compiled": "(a) with model.compile=true",
    "a_fused_adam": "(a) with Adam(fused=True)",
}


@dataclass(frozen=True)
class Case:
    """One table and batch size, and the pipelines measured on it."""

    batch_size: int
    rows: int
    names: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"batch {self.batch_size}"


def cases(args: argparse.Namespace) -> list[Case]:
    if args.device == "cuda":
        gpu = ("a_project", "b_plain_loop", "d_bare_lightning", "a_compiled", "a_fused_adam")
        return [Case(1024, args.gpu_rows, gpu), Case(8192, args.gpu_rows, gpu)]
    return [
        Case(1024, args.rows, ("a_project", "b_plain_loop", "c_per_row", "d_bare_lightning")),
        Case(32, args.small_rows, ("a_project", "b_plain_loop", "d_bare_lightning")),
    ]


def train_command(run_dir: Path, device: str, extra: list[str]) -> list[str]:
    """The project's `train` with the benchmark's epoch timer; `trainer=gpu` on cuda."""
    return [
        sys.executable,
        "-m",
        f"{PACKAGE}.train",
        f"hydra.run.dir={run_dir}",
        "+callbacks.epoch_timer={_target_: epoch_timer.EpochTimer}",
        *(["trainer=gpu"] if device == "cuda" else []),
        *extra,
    ]


def project_command(
    table: Path, epochs: int, batch_size: int, device: str, run_dir: Path, extra: list[str]
) -> list[str]:
    """The project's `train` on `table`, set to train exactly what (b) and (d) train.

    Every choice that shapes the network, the optimization or the batches is passed explicitly
    rather than left to the defaults: `data=csv`'s defaults are not (b)'s (three layers of 256
    with a periodic embedding of the numbers, AdamW with a warm-up cosine schedule, an automatic
    batch size, quantile scaling) and may change again, and a benchmark whose (a) quietly trains a
    bigger network measures the defaults' choices, not the project's overhead. So: 29-128-64-1
    with ReLU, PyTorch's initialization, no dropout and no numeric embedding; Adam(lr=1e-3,
    betas 0.9/0.999, no weight decay, torch's default kernel, not the project's fused one) at a
    constant rate; BCE on logits; numbers standardised
    with the training rows' mean and deviation; the case's batch size.
    """
    columns = ",".join(feature_names())
    return train_command(
        run_dir,
        device,
        [
            "data=csv",
            f"data.path={table}",
            f"data.target={TARGET}",
            "data.task=binary",
            f"data.numeric=[{columns}]",
            "data.categorical=[]",
            "data.categories={}",
            "data.numeric_transform=standardize",
            f"data.batch_size={batch_size}",
            "model=mlp",
            "model.hidden_sizes=[128,64]",
            "model.activation=relu",
            "model.dropout=0.0",
            "model.init=default",
            "model.numeric_embedding=none",
            "optimizer=adam",
            "optimizer.lr=0.001",
            "optimizer.betas=[0.9,0.999]",
            "optimizer.weight_decay=0.0",
            "optimizer.fused=false",  # (b) and (d) use torch's default Adam; a_fused_adam does not
            "scheduler=none",
            "loss=bce",
            "dropout_schedule=none",
            f"trainer.max_epochs={epochs}",
            "step_budget=null",  # every one of the epochs asked for
            *extra,
        ],
    )


def pipelines(table: Path, batch_size: int, device: str, scratch: Path) -> dict:
    """Name -> function(epochs) -> command line."""

    def run_dir(name: str, epochs: int) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-{batch_size}-{epochs}-", dir=scratch))

    def project(name: str, extra: list[str]):
        return lambda e: project_command(table, e, batch_size, device, run_dir(name, e), extra)

    def script(file: str):
        return lambda e: (
            [sys.executable, str(HERE / file), str(table), str(e), str(batch_size)]
            + ([device] if device != "cpu" else [])
        )

    return {
        "a_project": project("a", []),
        "b_plain_loop": script("plain_loop.py"),
        "c_per_row": project("c", ["data._target_=per_row_datamodule.PerRowDataModule"]),
        "d_bare_lightning": script("bare_lightning.py"),
        "a_compiled": project("a-compiled", ["model.compile=true"]),
        "a_fused_adam": project("a-fused", ["optimizer.fused=true"]),
    }


def measure(command: list[str], log: Path) -> dict:
    """Run one process; return its per-epoch seconds, time to first step and peak memory."""
    started = time.time()
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "BENCH_PACKAGE": PACKAGE,
        "BENCH_T0": repr(started),
    }
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.time() - started
    text = log.read_text()
    if status != 0:
        raise SystemExit(f"benchmark run failed ({' '.join(command)}):\n{text[-3000:]}")

    def times(name: str) -> list[float]:
        return [
            float(line.split(f"{name}=")[1].split()[0])
            for line in text.splitlines()
            if f"{name}=" in line
        ]

    epoch_ends, steps = times("epoch_end_s"), times("steps_s")
    gaps = differences(epoch_ends)
    # What an epoch costs beyond its training steps: validation, checkpoints, logging.
    fixed = [gap - step for gap, step in zip(gaps, steps[1:], strict=False)]
    return {
        "seconds_per_epoch": statistics.median(gaps),
        "cpu_seconds_per_epoch": statistics.median(differences(times("cpu_s"))),
        "fixed_seconds_per_epoch": statistics.median(fixed),
        "first_step_s": times("first_step_s")[0],
        "first_step_cpu_s": times("first_step_cpu_s")[0],
        "epochs": len(epoch_ends),
        "after_training_s": wall - epoch_ends[-1],
        "wall_s": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def differences(values: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(values, values[1:], strict=False)]


def training_rows(rows: int) -> int:
    """Rows in the training split (test 20 %, validation 15 % of the whole), as the project."""
    test = -(-rows * 20 // 100)
    val = -(-(rows - test) * 15 // 80)
    return rows - test - val


def spread(values: list[float]) -> float:
    """(largest - smallest) / median: how far apart the repeats of one measurement fell."""
    return (max(values) - min(values)) / statistics.median(values)


def summarise(runs: list[dict], rows: int) -> dict:
    per_epoch = [run["seconds_per_epoch"] for run in runs]
    median = statistics.median(per_epoch)
    cpu = [run["cpu_seconds_per_epoch"] for run in runs]
    return {
        "seconds_per_epoch": median,
        "spread": spread(per_epoch),
        "cpu_seconds_per_epoch": statistics.median(cpu),
        "cpu_spread": spread(cpu),
        "train_samples_per_second": training_rows(rows) / median,
        "fixed_seconds_per_epoch": statistics.median(r["fixed_seconds_per_epoch"] for r in runs),
        "first_step_s": statistics.median(run["first_step_s"] for run in runs),
        "first_step_spread": spread([run["first_step_s"] for run in runs]),
        "first_step_cpu_s": statistics.median(run["first_step_cpu_s"] for run in runs),
        "wall_s": statistics.median(run["wall_s"] for run in runs),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "runs": runs,
    }


def bench(
    tables: dict[Case, Path], epochs: int, repeats: int, device: str, scratch: Path
) -> dict[Case, dict]:
    """Every case's pipelines, `repeats` times, interleaved so that noise spreads over them all."""
    commands = {
        case: pipelines(table, case.batch_size, device, scratch) for case, table in tables.items()
    }
    runs = {case: {name: [] for name in case.names} for case in tables}
    for repeat in range(repeats):
        for case in tables:
            for name in case.names:
                log = scratch / f"{name}-{case.batch_size}-{case.rows}-{repeat}.log"
                result = measure(commands[case][name](epochs), log)
                runs[case][name].append(result)
                print(
                    f"  {case.title} {name} repeat {repeat}: "
                    f"{result['seconds_per_epoch']:.3f} s/epoch, "
                    f"first step {result['first_step_s']:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return {
        case: {name: summarise(name_runs, case.rows) for name, name_runs in case_runs.items()}
        for case, case_runs in runs.items()
    }


def ratios(results: dict) -> dict[str, float]:
    """Seconds per epoch of one pipeline over another (and time to the first step, a over d)."""
    per_epoch = {name: r["seconds_per_epoch"] for name, r in results.items()}
    pairs = [
        ("a_project", "b_plain_loop"),
        ("c_per_row", "a_project"),
        ("d_bare_lightning", "b_plain_loop"),
        ("a_project", "d_bare_lightning"),
        ("a_compiled", "a_project"),
        ("a_fused_adam", "a_project"),
    ]
    cpu = {name: r["cpu_seconds_per_epoch"] for name, r in results.items()}
    found = {
        f"{top}/{bottom}": per_epoch[top] / per_epoch[bottom]
        for top, bottom in pairs
        if top in per_epoch and bottom in per_epoch
    }
    found |= {
        f"cpu {top}/{bottom}": cpu[top] / cpu[bottom]
        for top, bottom in pairs
        if top in cpu and bottom in cpu
    }
    if "a_project" in results and "d_bare_lightning" in results:
        a, d = results["a_project"], results["d_bare_lightning"]
        found["first_step a_project/d_bare_lightning"] = a["first_step_s"] / d["first_step_s"]
        found["cpu first_step a_project/d_bare_lightning"] = (
            a["first_step_cpu_s"] / d["first_step_cpu_s"]
        )
    return found


def table_lines(title: str, results: dict) -> list[str]:
    header = (
        f"{'pipeline':<18} {'s/epoch':>8} {'spread':>7} {'CPU s':>7} {'spread':>7} "
        f"{'samples/s':>11} {'fixed s':>8} {'1st step s':>10} {'CPU s':>6} {'peak MB':>8}"
    )
    lines = [f"\n{title}", header]
    for name, r in results.items():
        lines.append(
            f"{name:<18} {r['seconds_per_epoch']:>8.3f} {r['spread']:>7.0%} "
            f"{r['cpu_seconds_per_epoch']:>7.3f} {r['cpu_spread']:>7.0%} "
            f"{r['train_samples_per_second']:>11,.0f} {r['fixed_seconds_per_epoch']:>8.3f} "
            f"{r['first_step_s']:>10.2f} {r['first_step_cpu_s']:>6.2f} {r['peak_rss_mb']:>8.0f}"
        )
    return lines


def ratio_line(found: dict[str, float]) -> str:
    return "ratios: " + "   ".join(f"{name} {value:.2f}" for name, value in found.items())


def demo(repeats: int, device: str, scratch: Path) -> dict:
    """The README's first command, `train` on the heart demo with every default, timed whole."""
    runs = []
    for repeat in range(repeats):
        run_dir = Path(tempfile.mkdtemp(prefix="demo-", dir=scratch))
        runs.append(measure(train_command(run_dir, device, []), scratch / f"demo-{repeat}.log"))
    keys = ["wall_s", "first_step_s", "seconds_per_epoch", "fixed_seconds_per_epoch"]
    summary = {key: statistics.median(run[key] for run in runs) for key in keys}
    summary["after_training_s"] = statistics.median(run["after_training_s"] for run in runs)
    summary["epochs"] = statistics.median(run["epochs"] for run in runs)
    summary["wall_spread"] = spread([run["wall_s"] for run in runs])
    summary["runs"] = runs
    return summary


def demo_lines(summary: dict, repeats: int) -> list[str]:
    return [
        f"\nheart demo, the README's first command (`train`, every default), medians of {repeats}",
        f"whole run {summary['wall_s']:.2f} s (spread {summary['wall_spread']:.0%}): "
        f"start-up to the first step {summary['first_step_s']:.2f} s, "
        f"{summary['epochs']:.0f} epochs of {summary['seconds_per_epoch'] * 1000:.1f} ms "
        f"({summary['fixed_seconds_per_epoch'] * 1000:.1f} ms of it besides the training steps), "
        f"then testing and the report {summary['after_training_s']:.2f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="the batch-1024 table (CPU)")
    parser.add_argument("--small-rows", type=int, default=50_000, help="the batch-32 table (CPU)")
    parser.add_argument("--gpu-rows", type=int, default=1_000_000, help="the table on cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="per run; the first has no gap")
    parser.add_argument("--million", action="store_true", help="also the 1,000,000-row case")
    parser.add_argument("--demo", action="store_true", help="also the heart demo's whole train")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument("--output", type=Path, default=TEMPLATE / "build/bench/results.json")
    args = parser.parse_args()
    if args.device == "cuda" and (reason := no_gpu_reason()) is not None:
        raise SystemExit(reason)  # before baking or writing anything

    workdir = TEMPLATE / "build/bench"
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="runs-", dir=workdir))
    bake_and_install(workdir / "project", "Bench Project")
    report: dict = {
        "device": args.device,
        "features": FEATURES,
        "repeats": args.repeats,
        "torch_threads": THREADS,
        "cases": {},
    }
    tables = {
        case: write_table(workdir / f"table-{case.rows}.csv", case.rows) for case in cases(args)
    }
    lines = []
    for case, results in bench(tables, args.epochs, args.repeats, args.device, scratch).items():
        found = ratios(results)
        report["cases"][case.title] = {
            "batch_size": case.batch_size,
            "rows": case.rows,
            "results": results,
            "ratios": found,
        }
        title = (
            f"{case.rows:,} rows x {FEATURES} features, {case.title}, {args.device}, "
            f"medians of {args.repeats}"
        )
        lines += [*table_lines(title, results), ratio_line(found)]
    if args.million:
        case = Case(1024, 1_000_000, ("a_project", "b_plain_loop"))
        big = {case: write_table(workdir / "table-1000000.csv", case.rows)}
        report["million"] = bench(big, 3, 1, args.device, scratch)[case]
        lines += table_lines("1,000,000 rows, batch 1024, one run each", report["million"])
    if args.demo:
        report["demo"] = demo(args.repeats, args.device, scratch)
        lines += demo_lines(report["demo"], args.repeats)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print("\n".join(lines))
    print(f"\nfigures: {args.output}")


if __name__ == "__main__":
    main()
