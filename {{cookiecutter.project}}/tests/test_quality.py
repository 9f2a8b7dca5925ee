"""The slow tier: the defaults are good on heart, and a million-row table fits in memory.

pytest -m slow
"""

import json
import resource
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import QUIET, compose_config, run_app

from {{ cookiecutter.package }}.cross_validate import cross_validate
from {{ cookiecutter.package }}.train import train

# Logistic regression on one-hot + standardised inputs, 5 x 5 repeated stratified cross-validation
# (the data notice's reference table): the defaults must do at least as well.
LOGISTIC_REGRESSION_AUROC = 0.908


@pytest.mark.slow
def test_the_default_run_on_heart_is_sound(tmp_path):
    metrics = train(compose_config("train", [f"run_dir={tmp_path}", *QUIET]))
    assert metrics["test/auroc"] >= 0.85


@pytest.mark.slow
def test_cross_validated_defaults_match_logistic_regression_on_heart(tmp_path):
    cfg = compose_config("cross_validate", [f"run_dir={tmp_path}", "data.num_folds=5", "repeats=5"])
    summary = cross_validate(cfg)
    assert summary["test/auroc"]["mean"] >= LOGISTIC_REGRESSION_AUROC


@pytest.mark.slow
@pytest.mark.parametrize("task", ["binary", "regression"])  # regression: with its linear base
def test_a_million_rows_by_30_columns_train_in_well_under_2_gb(tmp_path, task):
    rows, rng = 1_000_000, np.random.default_rng(0)
    table = pd.DataFrame({f"x{i}": rng.normal(size=rows).astype("float32") for i in range(25)})
    for i in range(3):
        table[f"k{i}"] = rng.integers(0, 5, rows)
    for i in range(2):
        table[f"s{i}"] = rng.choice(["red", "green", "blue", "cyan"], rows)
    signal = table["x0"] + table["x1"] - table["x2"] + (table["s0"] == "red")
    noisy = signal + rng.normal(size=rows)
    table["y"] = np.where(noisy > 0.5, "yes", "no") if task == "binary" else noisy.round(3)
    table.to_csv(tmp_path / "big.csv", index=False, float_format="%.4g")
    del table, signal, noisy

    result = run_app(
        "train",
        "data=csv",
        f"data.path={tmp_path / 'big.csv'}",
        "data.target=y",
        "data.batch_size=1024",
        "trainer.max_epochs=1",
        *QUIET,
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1000000 rows" in result.stdout
    assert "input width: 36 (28 numbers" in result.stdout  # k0..k2: whole numbers, read as numbers
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    if task == "binary":
        assert metrics["test/auroc"] > 0.8
    else:  # the signal is about 3.2 of the target's variance of 4.2: an R2 of about 0.76 at best
        assert "linear base: a ridge regression" in result.stdout
        assert metrics["test/r2"] > 0.6
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_gb = peak / (1e9 if sys.platform == "darwin" else 1e6)
    assert peak_gb < 1.5, f"peak memory {peak_gb:.2f} GB"
