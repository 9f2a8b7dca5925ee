"""benchmarks/quality.py: which tables it runs, and as `make bench-quality` runs it, on one small
table (with --slow only)."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import TEMPLATE


def load_quality_benchmark():
    """benchmarks/quality.py as a module (it imports pandas, which the baked project brings)."""
    pytest.importorskip("pandas", reason="installed with the baked project by test_bake.py")
    sys.path.insert(0, str(TEMPLATE / "benchmarks"))
    try:
        import quality
    finally:
        sys.path.remove(str(TEMPLATE / "benchmarks"))
    return quality


def test_held_out_tables_are_apart_from_the_development_tables():
    quality = load_quality_benchmark()
    development = quality.parse_args([]).tables
    held_out = quality.parse_args(["--held-out"]).tables
    assert development == list(quality.TABLES) and held_out == list(quality.HELD_OUT)
    assert len(held_out) >= 10 and not set(held_out) & set(development)
    assert {table.source for table in quality.HELD_OUT.values()}.isdisjoint(
        table.source for table in quality.TABLES.values()
    )
    # --tables may name a table of either set; an unknown name is refused, naming the known.
    assert quality.parse_args(["--tables", "penguins,boston"]).tables == ["penguins", "boston"]
    with pytest.raises(SystemExit):
        quality.parse_args(["--tables", "bostn"])


def test_quick_run_scores_every_model_on_every_fold(tmp_path, request):
    if not request.config.getoption("--slow"):
        pytest.skip("the quality benchmark's smoke test runs with --slow (make test-slow)")
    pytest.importorskip(
        "palmerpenguins", reason="make bench-quality installs benchmarks/requirements-quality.txt"
    )
    output = tmp_path / "quality.json"
    result = subprocess.run(
        [
            sys.executable,
            str(TEMPLATE / "benchmarks" / "quality.py"),
            "--quick",
            "--tables",
            "penguins",
            "--workdir",
            str(tmp_path / "work"),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "penguins" in result.stdout and "median gap" in result.stdout

    report = json.loads(output.read_text())
    (table,) = report["tables"]
    assert (table["table"], table["task"], table["metric"], table["folds"]) == (
        "penguins",
        "multiclass",
        "acc",
        2,
    )
    expected = {"mlp", "hgb", "linear"}
    if importlib.util.find_spec("pytabkit") is not None:
        expected.add("realmlp")
    assert set(table["models"]) == expected
    for name, model in table["models"].items():
        assert len(model["values"]) == 2, name
        assert len(model["seconds"]) == 2, name
        assert all(0.0 <= value <= 1.0 for value in model["values"]), (name, model["values"])
    # Penguins are easy: every model gets most test rows right, the project's MLP included.
    means = {name: model["mean"] for name, model in table["models"].items()}
    assert means["mlp"] > 0.9
    assert table["gap_points"] == pytest.approx(
        100 * (means["mlp"] - max(means["hgb"], means["linear"]))
    )


def test_many_tables_draws_new_tables_picks_a_target_and_tells_refusals_from_crashes():
    pd = pytest.importorskip("pandas", reason="installed with the baked project by test_bake.py")
    sys.path.insert(0, str(TEMPLATE / "benchmarks"))
    try:
        import many_tables
    finally:
        sys.path.remove(str(TEMPLATE / "benchmarks"))
    registered = next(iter(many_tables.REGISTERED)).split("/")
    summary = pd.DataFrame(
        {
            "Package": [registered[0], "pkg", "pkg", "pkg", "pkg"],
            "Item": [registered[1], "small", "wide", "fine", "dotted.name"],
            "Rows": [1000, 100, 1000, 1000, 1000],
            "Cols": [10, 10, 90, 10, 10],
        }
    )
    assert many_tables.candidates(summary, count=5, seed=0) == [("pkg", "fine")]
    frame = pd.DataFrame(
        {
            "rownames": range(30),
            "grade": ["a", "b", "c"] * 10,
            "amount": [float(i) for i in range(30)],
            "flag": [True, False] * 15,
        }
    )
    assert many_tables.pick_target(frame) == "flag"  # the last column with 2 to 10 values
    assert many_tables.pick_target(frame[["rownames", "amount"]]) == "amount"
    assert many_tables.pick_target(frame[["rownames"]]) is None
    assert many_tables.outcome(0, "warnings\n") == ("ok", "")
    refusal = "error: data.target='x' names a column missing from ..."
    assert many_tables.outcome(2, f"\n{refusal}\n") == ("refused", refusal)
    crash = "Traceback ...\nTypeError: DataFrame.assign() got multiple values for argument 'self'"
    assert many_tables.outcome(1, crash)[0] == "crashed"
    assert many_tables.outcome(2, crash)[0] == "crashed"  # exit 2 without its one line
