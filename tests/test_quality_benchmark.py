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
