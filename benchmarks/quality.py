"""How good the generated project's defaults are on real tables, next to the usual baselines.

    python benchmarks/quality.py [--tables a,b] [--held-out] [--folds 5] [--quick]
                                 [--max-rows N] [--output FILE] [--workdir DIR]

For every table of quality_tables.py: bake the default project, write the table as its package
ships it to Parquet, and run the project's own `cross_validate` on it with nothing but
`data=csv data.path=... data.target=...` (and `data.num_folds`, `repeats=1`), in a subprocess.
The baselines of quality_baselines.py (HistGradientBoosting, a linear model, RealMLP-TD when
pytabkit is installed) are then scored on the very same test folds: the project's own
`data/splits.py:split_rows`, given the labels of the rows the project keeps (its data module's
`usable_table`) and the split settings of the project's run. The baselines train on the fold's
training and validation rows together. Metric per fold: ROC AUC (binary), accuracy (multiclass)
or R2 (regression), reported x 100 ("points"); the project's comes from its cross_validation.json.

Prints a table (the mean over folds of each model, the gap of the project's MLP to the better of
HistGradientBoosting and the linear model, seconds per fold of each model) and writes every fold's
value and time as JSON. `--quick`: 2 folds on the small tables, a smoke test. `--held-out`: the
tables of quality_held_out.py instead, which no default was chosen on (`--tables` may name those
too).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import baking
from quality_baselines import (
    hist_gradient_boosting,
    linear,
    model_inputs,
    realmlp,
    realmlp_available,
    score,
)
from quality_held_out import HELD_OUT
from quality_tables import TABLES

HERE = Path(__file__).resolve().parent
PROJECT_NAME = "Quality Bench"
PACKAGE = "quality_bench"
METRICS = {"binary": "auroc", "multiclass": "acc", "regression": "r2"}
SHOWN_METRICS = {"auroc": "ROC AUC", "acc": "accuracy", "r2": "R2"}
FOLD_LINE = re.compile(r"^repeat_\d+/fold_(\d+) \(\d+ of \d+\):")
SPLIT_LINE = re.compile(r"split: (\d+) train, (\d+) validation, (\d+) test")
QUICK_FOLDS = 2
# Every table --tables may name: the development tables and the held-out ones (distinct names).
KNOWN_TABLES = {**TABLES, **HELD_OUT}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", help="comma-separated names, e.g. penguins,churn (default all)")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="the held-out tables (quality_held_out.py) instead of the development tables",
    )
    parser.add_argument("--folds", type=int, help="number of cross-validation folds (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_FOLDS} folds on the small tables"
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        help="use a random subsample of this many rows of a larger table (seeded, in file order)",
    )
    parser.add_argument(
        "--realmlp-max-rows",
        type=int,
        default=5_000,
        help="skip RealMLP-TD on tables with more rows than this (default 5000: on 2 CPU cores it "
        "takes minutes per fold beyond that)",
    )
    parser.add_argument("--output", type=Path, default=Path("build/bench-quality/quality.json"))
    parser.add_argument("--workdir", type=Path, default=Path("build/bench-quality"))
    args = parser.parse_args(argv)
    names = args.tables.split(",") if args.tables else None
    if names is None:
        chosen = HELD_OUT if args.held_out else TABLES
        names = [name for name, table in chosen.items() if table.quick or not args.quick]
    if not names:
        parser.error("--quick --held-out: none of the held-out tables is small enough for --quick")
    unknown = [name for name in names if name not in KNOWN_TABLES]
    if unknown:
        parser.error(f"--tables: unknown {', '.join(unknown)}; known: {', '.join(KNOWN_TABLES)}")
    args.tables = names
    args.folds = args.folds or (QUICK_FOLDS if args.quick else 5)
    if args.folds < 2:
        parser.error(f"--folds {args.folds}: at least 2")
    if args.max_rows is not None and args.max_rows < 100:
        parser.error(f"--max-rows {args.max_rows}: at least 100")
    return args


def bake_and_install(workdir: Path) -> Path:
    """Bake and install the default project (baking.py), and make its code importable here."""
    project = baking.bake_and_install(workdir, PROJECT_NAME)
    # This process imports the project's own split code: the fresh install's path is not on
    # sys.path until the next interpreter starts.
    sys.path.insert(0, str(project / "src"))
    return project


def write_table(name: str, max_rows: int | None, directory: Path) -> tuple[Path, int]:
    """The table as shipped, or a seeded subsample of its rows in their order; its file and the
    number of rows shipped."""
    frame = KNOWN_TABLES[name].load()
    shipped = len(frame)
    if max_rows is not None and shipped > max_rows:
        frame = frame.sample(max_rows, random_state=0).sort_index().reset_index(drop=True)
    path = directory / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return path, shipped


def run_project(
    project: Path, table_file: Path, target: str, folds: int, run_dir: Path, log: Path
) -> dict:
    """The project's cross_validate on the table: every fold's test metrics and wall seconds,
    its composed config, the first fold's split sizes; or the line it stopped with."""
    command = [
        sys.executable,
        "-m",
        f"{PACKAGE}.cross_validate",
        "data=csv",
        f"data.path={table_file}",
        f"data.target={target}",
        f"data.num_folds={folds}",
        "repeats=1",
        f"hydra.run.dir={run_dir}",
    ]
    seconds, split, lines = [], None, []
    start = last = time.perf_counter()
    # The fold lines as they come (their times), and this run's own bake of the project first on
    # the path, whatever else the environment has installed under the same name.
    path = os.pathsep.join(filter(None, [str(project / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    with (
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        ) as process,
        log.open("w") as record,
    ):
        for line in process.stdout:
            record.write(line)
            lines.append(line.rstrip())
            if FOLD_LINE.match(line):
                now = time.perf_counter()
                seconds.append(now - last)  # the first fold's includes start-up and reading
                last = now
            elif split is None and (found := SPLIT_LINE.search(line)):
                split = tuple(int(n) for n in found.groups())
    summary = run_dir / "cross_validation.json"
    if process.returncode != 0 or not summary.is_file():
        said = [line for line in lines if line.startswith("error:")] or lines[-3:]
        return {"error": f"exit {process.returncode}: {' / '.join(said)}"}
    from omegaconf import OmegaConf

    return {
        "metrics": json.loads(summary.read_text())["metrics"],
        "seconds": seconds,
        "total_seconds": time.perf_counter() - start,
        "config": OmegaConf.load(run_dir / ".hydra" / "config.yaml"),
        "split": split,
    }


def project_folds(config, folds: int) -> tuple[str, pd.Index, list[dict]]:
    """The project's task, the table rows it keeps (labels of the file's row index), and each
    fold's row positions among them: what its data module computes for `data.fold=k`."""
    import importlib

    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    split_rows = importlib.import_module(f"{PACKAGE}.data.splits").split_rows
    infer_task = importlib.import_module(f"{PACKAGE}.data.targets").infer_task

    data = instantiate(config.data)
    frame, _ = data.usable_table()
    labels = frame[data.hparams.target]
    task = infer_task(labels, data.hparams.task, data.source)
    settings = OmegaConf.to_container(config.data, resolve=True)
    splits = [
        split_rows(
            labels.to_numpy(),
            settings["val_fraction"],
            settings["test_fraction"],
            settings["seed"],  # repeat 0 of cross_validate: the data seed itself
            stratify=task != "regression",
            num_folds=folds,
            fold=fold,
        )
        for fold in range(folds)
    ]
    return task, frame.index, splits


def run_baselines(
    table_file: Path, target: str, task: str, kept: pd.Index, splits: list[dict], with_realmlp: bool
) -> dict:
    """Each baseline's test metric and seconds (fit and predict) on every fold."""
    frame = pd.read_parquet(table_file).loc[kept].reset_index(drop=True)
    inputs, text = model_inputs(frame, target)
    labels = frame[target]
    makers = {
        "hgb": lambda: hist_gradient_boosting(task, text),
        "linear": lambda: linear(task, text),
    }
    if with_realmlp:
        makers["realmlp"] = lambda: realmlp(task, text, threads=1)
    results = {name: {"values": [], "seconds": []} for name in makers}
    for rows in splits:
        fit_rows = [*rows["train"], *rows["val"]]
        for name, make in makers.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                # pytabkit's Lightning warns of its own deprecated calls, at every fit and predict.
                warnings.filterwarnings("ignore", message=".*LeafSpec.*")
                model = make().fit(inputs.iloc[fit_rows], labels.iloc[fit_rows])
                value = score(task, model, inputs.iloc[rows["test"]], labels.iloc[rows["test"]])
            results[name]["values"].append(value)
            results[name]["seconds"].append(time.perf_counter() - start)
    return results


def benchmark_table(name: str, args: argparse.Namespace, workdir: Path, project: Path) -> dict:
    table = KNOWN_TABLES[name]
    table_file, shipped = write_table(name, args.max_rows, workdir / "tables")
    run_dir = workdir / "runs" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    result = {
        "table": name,
        "source": table.source,
        "target": table.target,
        "traits": table.traits,
        "rows_shipped": shipped,
        "rows": len(pd.read_parquet(table_file, columns=[table.target])),
        "task": table.task,
        "metric": METRICS[table.task],
        "folds": args.folds,
        "models": {},
    }
    print(f"{name}: {table.source}, {result['rows']} rows, target {table.target!r}", flush=True)
    log = run_dir / "output.log"
    run = run_project(project, table_file, table.target, args.folds, run_dir, log)
    if "error" in run:
        print(f"  mlp: {run['error']}", flush=True)
        result["models"]["mlp"] = {"error": run["error"]}
        return result
    task, kept, splits = project_folds(run["config"], args.folds)
    first = splits[0]
    if run["split"] != (len(first["train"]), len(first["val"]), len(first["test"])):
        raise RuntimeError(
            f"{name}: the project split fold 0 as {run['split']} (train, val, test), "
            f"split_rows gives {len(first['train']), len(first['val']), len(first['test'])}"
        )
    result["task"], result["metric"] = task, METRICS[task]
    metric = run["metrics"].get("test/" + result["metric"])
    if metric is None:
        reported = ", ".join(run["metrics"])
        result["models"]["mlp"] = {"error": f"no test/{result['metric']} among {reported}"}
    else:
        result["models"]["mlp"] = {
            "values": metric["values"],
            "seconds": run["seconds"],
            "total_seconds": run["total_seconds"],
        }
    with_realmlp = realmlp_available() and result["rows"] <= args.realmlp_max_rows
    result["models"].update(
        run_baselines(table_file, table.target, task, kept, splits, with_realmlp)
    )
    for outcome in result["models"].values():
        if "values" in outcome:
            outcome["mean"] = statistics.fmean(outcome["values"])
            outcome["seconds_per_fold"] = statistics.fmean(outcome["seconds"])
    result["gap_points"] = gap_points(result["models"])
    print(f"  {summary_line(result)}", flush=True)
    return result


def gap_points(models: dict) -> float | None:
    """The MLP's mean minus the better of HistGradientBoosting and the linear model, x 100."""
    baselines = [models[m]["mean"] for m in ("hgb", "linear") if "mean" in models.get(m, {})]
    if "mean" not in models.get("mlp", {}) or not baselines:
        return None
    return 100 * (models["mlp"]["mean"] - max(baselines))


def summary_line(result: dict) -> str:
    shown = []
    for model, outcome in result["models"].items():
        if "mean" in outcome:
            points, seconds = 100 * outcome["mean"], outcome["seconds_per_fold"]
            shown.append(f"{model} {points:.1f} ({seconds:.1f} s)")
    return "  ".join(shown)


MODELS = ("mlp", "hgb", "linear", "realmlp")
HEADER = ("table", "rows", "task", "metric", "MLP", "HGB", "linear", "RealMLP", "gap")


def report(results: list[dict]) -> str:
    """The printed table: means x 100, the MLP's gap in points, seconds per fold of each model."""
    rows = []
    for result in results:
        models = result["models"]
        points = [
            f"{100 * models[m]['mean']:.1f}"
            if "mean" in models.get(m, {})
            else ("failed" if "error" in models.get(m, {}) else "-")
            for m in MODELS
        ]
        gap = result.get("gap_points")
        seconds = [
            f"{models[m]['seconds_per_fold']:.0f}" if "mean" in models.get(m, {}) else "-"
            for m in MODELS
        ]
        rows.append(
            (
                result["table"],
                f"{result['rows']:,}",
                result["task"],
                SHOWN_METRICS[result["metric"]],
                *points,
                "-" if gap is None else f"{gap:+.1f}",
                "/".join(seconds),
            )
        )
    header = (*HEADER, "s/fold " + "/".join(MODELS))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(f"{cell:>{w}}" for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(0, "  ".join(f"{cell:>{w}}" for cell, w in zip(header, widths, strict=True)))
    gaps = [r["gap_points"] for r in results if r.get("gap_points") is not None]
    if gaps:
        lines.append(
            f"MLP vs the better of HGB and linear: median gap {statistics.median(gaps):+.1f} "
            f"points, worst {min(gaps):+.1f}, at or above it on {sum(g >= 0 for g in gaps)} "
            f"of {len(gaps)} tables"
        )
    failed = [r["table"] for r in results if "error" in r["models"].get("mlp", {})]
    if failed:
        lines.append(f"MLP failed on: {', '.join(failed)} (see the JSON for the message)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    workdir = args.workdir.resolve()
    (workdir / "tables").mkdir(parents=True, exist_ok=True)
    project = bake_and_install(workdir)
    results = []
    settings = {
        "folds": args.folds,
        "max_rows": args.max_rows,
        "realmlp_max_rows": args.realmlp_max_rows,
        "realmlp": realmlp_available(),
        "baselines_fit_on": "train + validation rows of each fold",
        "cpus": os.cpu_count(),
    }
    for name in args.tables:
        results.append(benchmark_table(name, args, workdir, project))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"settings": settings, "tables": results}, indent=2))
    print()
    print(report(results))
    print(f"Saved {args.output}")


if __name__ == "__main__":
    main()
