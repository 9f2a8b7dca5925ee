"""Unusable input stops a run with one line naming the file, column or key, and nothing written."""

import pandas as pd
import pytest
from conftest import run_app

from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train


def table(path, **columns) -> str:
    pd.DataFrame(columns).to_csv(path, index=False)
    return str(path)


def text(path, *lines: str) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)


GOOD = {"x": [1.0, 2.0, 3.0, 4.0] * 10, "label": ["yes", "no"] * 20}

THIRTEEN_CLASSES = [*"abcdefghijkl" * 3, "m", "m"]  # 38 rows, one class with 2 of them

# (what the file is, data overrides, the message that must name the problem)
BAD_INPUTS = [
    (
        "missing file",
        lambda d: ["data.path=" + str(d / "nowhere.csv"), "data.target=label"],
        r"data.path='.*nowhere.csv' does not exist: give the path of a CSV or Parquet file",
    ),
    (
        "directory",
        lambda d: ["data.path=" + str(d), "data.target=label"],
        r"data.path='.*' is a directory",
    ),
    (
        "empty file",
        lambda d: [f"data.path={d / 'empty.csv'}", "data.target=label"],
        r"data.path='.*empty.csv' is an empty file",
    ),
    (
        "missing target",
        lambda d: [f"data.path={table(d / 't.csv', **GOOD)}", "data.target=outcome"],
        r"data.target names a column missing from data.path='.*t.csv': 'outcome'; "
        r"its columns are x, label",
    ),
    (
        "header in one column",
        lambda d: [f"data.path={text(d / 't.csv', 'x:label', '1:a', '2:b')}", "data.target=label"],
        r"data.target names a column missing from data.path='.*t.csv': 'label'; "
        r"its columns are x:label: give its delimiter, e.g. data.read.sep=':'$",
    ),
    (
        "single-valued target",
        lambda d: [
            f"data.path={table(d / 't.csv', x=[1.0, 2.0] * 5, label=['yes'] * 10)}",
            "data.target=label",
        ],
        r"data.target='label' holds a single value \(yes\) .*at least two distinct values",
    ),
    (
        "numeric column holding text",
        lambda d: [
            f"data.path={table(d / 't.csv', x=['1.5'] * 39 + ['n/a?'], label=GOOD['label'])}",
            "data.target=label",
            "data.numeric=[x]",
        ],
        r"column 'x' of data.path='.*' holds text \('n/a\?' in data row 40\), but data.numeric "
        r"lists it",
    ),
    (
        "no usable row",
        lambda d: [
            f"data.path={table(d / 't.csv', x=[1.0, None], label=[None, 'a'])}",
            "data.target=label",
            "data.missing=drop",
        ],
        r"no row with a value in every column of x, label \(data.missing=drop\)",
    ),
    (
        "one class to test",  # a 4-class table with 1- and 2-row classes trains (test_data.py)
        lambda d: [
            f"data.path={table(d / 't.csv', x=GOOD['x'], label=['a'] * 37 + ['b', 'b', 'c'])}",
            "data.target=label",
        ],
        r"cannot split the 40 usable rows of .*t.csv' into train, validation and test: 1 of the "
        r"3 classes of 'label' has 3 rows or more and a split needs 2 \(the others: b: 2, c: 1\); "
        r"merge classes or add rows$",
    ),
    (
        "whole numbers to test",  # a year or a count read as classes: regression is named
        lambda d: [
            f"data.path={table(d / 't.csv', x=GOOD['x'], year=[2001] * 38 + [2002, 2003])}",
            "data.target=year",
        ],
        r"1 of the 3 classes of 'year' has 3 rows or more .*; merge classes or add rows; or, "
        r"if they are amounts, data.task=regression$",
    ),
    (
        "too few groups",
        lambda d: [
            f"data.path={table(d / 't.csv', **GOOD, visit=[1, 2, 3, 4] * 10)}",
            "data.target=label",
            "data.group=visit",
        ],
        r"cannot split the 40 usable rows of .*t.csv' into train, validation and test by "
        r"data.group='visit' \(4 groups\): Cannot have number of splits n_splits=5 greater than "
        r"the number of groups: 4.$",
    ),
    (
        "no such group column",
        lambda d: [
            f"data.path={table(d / 't.csv', **GOOD)}",
            "data.target=label",
            "data.group=patient",
        ],
        r"^data.group names a column missing from .*t.csv': 'patient'; its columns are x, label$",
    ),
    (
        "more classes than test rows",  # its 2-row class trains only; 12 classes, 4 test rows
        lambda d: [
            f"data.path={table(d / 't.csv', x=[0.5, 1.5] * 19, label=THIRTEEN_CLASSES)}",
            "data.target=label",
            "data.test_fraction=0.1",
        ],
        r"into train, validation and test: The test_size = 4 should be greater or equal to the "
        r"number of classes = 12$",
    ),
    (
        "loss that cannot train the inferred task",
        lambda d: [
            f"data.path={table(d / 't.csv', x=GOOD['x'], label=['a', 'b', 'c', 'd'] * 10)}",
            "data.target=label",
            "loss=bce",
        ],
        r"loss=bce \(torch.nn.BCEWithLogitsLoss\) cannot train a multiclass task \(it trains "
        r"binary\); losses for multiclass: cross_entropy, huber, l1, mse \(or loss=auto\)",
    ),
    (
        "monitor that the inferred task does not log",
        lambda d: [
            f"data.path={table(d / 't.csv', x=GOOD['x'], y=[v * 1.5 for v in GOOD['x']])}",
            "data.target=y",
            "callbacks.early_stopping.monitor=val/auroc",
            "callbacks.early_stopping.mode=max",
        ],
        r"callbacks.early_stopping.monitor='val/auroc' is not logged: expected one of val/loss, "
        r"val/mse",
    ),
]


@pytest.mark.parametrize(
    ("what", "overrides", "message"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_is_refused_before_anything_is_written(
    train_config, tmp_path, what, overrides, message
):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "empty.csv").write_text("")
    cfg = train_config("data=csv", *overrides(data_dir))
    check_config(cfg)
    with pytest.raises(UserError, match=message):
        train(cfg)
    assert not (tmp_path / "checkpoints").exists()
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["data.val_fraction=0.5", "data.test_fraction=0.45"],
            "data.val_fraction + data.test_fraction = 0.95 leaves too few training rows",
        ),
        (
            ["data.val_fraction=0.5", "data.num_folds=2"],
            "data.val_fraction + 1/data.num_folds = 1 leaves too few training rows",
        ),
        (["data.num_folds=1"], "data.num_folds=1 is not allowed"),
        (["data.num_folds=5", "data.fold=5"], "data.fold=5 is not allowed: .* 0 to .* = 4"),
        (["data.missing=guess"], "data.missing='guess' is not allowed: expected one of impute"),
        (["data=csv"], "data.path is required: data=csv data.path=FILE data.target=COLUMN"),
    ],
)
def test_data_settings_that_cannot_work_are_refused(train_config, overrides, message):
    with pytest.raises(UserError, match=message.replace("+", r"\+")):
        check_config(train_config(*overrides))


def test_from_the_command_line_one_line_exit_2_nothing_written(tmp_path):
    path = table(tmp_path / "t.csv", **GOOD)
    run_dir = tmp_path / "run"
    result = run_app(
        "train",
        "data=csv",
        f"data.path={path}",
        "data.target=outcome",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: data.target names a column missing from data.path='{path}': 'outcome'; "
        "its columns are x, label"
    ]
    assert not (run_dir / "checkpoints").exists()
    assert not (run_dir / "metrics.json").exists()


def test_fractions_without_training_rows_fail_before_torch_is_imported(tmp_path):
    result = run_app(
        "train",
        "data.val_fraction=0.6",
        "data.test_fraction=0.4",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "data.val_fraction + data.test_fraction = 1 leaves too few" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
