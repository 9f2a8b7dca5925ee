"""The heart table becomes 29 standardised / one-hot inputs, split and batched correctly."""

import re

import numpy as np
import pandas as pd
import pytest
import torch

from {{ cookiecutter.package }}.data.batching import TensorTable, batch_loader
from {{ cookiecutter.package }}.data.datamodule import (
    TabularDataModule,
    UnseenLevelWarning,
)
from {{ cookiecutter.package }}.data.demos import load_demo
from {{ cookiecutter.package }}.data.preprocessing import TablePreprocessor
from {{ cookiecutter.package }}.data.splits import split_rows
from {{ cookiecutter.package }}.support.errors import UserError


@pytest.fixture(scope="module")
def heart(tmp_path_factory):
    from conftest import compose_config
    from hydra.utils import instantiate

    cfg = compose_config("train", [f"run_dir={tmp_path_factory.mktemp('run')}"])
    datamodule = instantiate(cfg.data, _convert_="all")
    datamodule.setup("fit")
    return datamodule


def test_heart_has_29_inputs(heart):
    assert heart.input_size == 29
    assert heart.task == "binary"
    assert heart.classes == [0, 1]


def test_split_is_stratified_and_covers_every_row_once(heart):
    rows = heart.split_rows
    assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(303))
    assert len(rows["test"]) == round(303 * 0.2)
    labels = load_demo("heart")["target"].to_numpy()
    for split in rows.values():
        assert labels[split].mean() == pytest.approx(83 / 303, abs=0.04)


@pytest.mark.filterwarnings(
    "ignore::{{ cookiecutter.package }}.data.datamodule.UnseenLevelWarning",
)
def test_split_depends_on_the_seed():
    first = TabularDataModule(demo="heart", seed=1)
    second = TabularDataModule(demo="heart", seed=2)
    first.setup()
    second.setup()
    assert not np.array_equal(first.split_rows["test"], second.split_rows["test"])


def test_folds_test_every_row_exactly_once():
    labels = np.array(["a"] * 60 + ["b"] * 30)
    tested = []
    for fold in range(3):
        rows = split_rows(labels, 0.2, 0.5, seed=0, stratify=True, num_folds=3, fold=fold)
        assert len(rows["test"]) == 30
        assert (labels[rows["test"]] == "b").sum() == 10  # stratified: a third of each class
        assert len(rows["val"]) == 18  # val_fraction of all rows, from the other folds
        assert not set(rows["test"]) & (set(rows["train"]) | set(rows["val"]))
        tested += rows["test"].tolist()
    assert sorted(tested) == list(range(90))


@pytest.mark.parametrize("num_folds", [None, 3])
def test_classes_too_rare_to_test_are_trained_on_and_the_rest_split_as_usual(num_folds):
    labels = np.array(["a"] * 45 + ["b"] * 45 + ["c", "c", "d"])
    rare = np.flatnonzero(np.isin(labels, ["c", "d"]))
    tested = []
    for fold in range(num_folds or 1):
        rows = split_rows(labels, 0.2, 0.2, seed=0, stratify=True, num_folds=num_folds, fold=fold)
        assert set(rare) <= set(rows["train"])
        assert not set(rare) & (set(rows["val"]) | set(rows["test"]))
        every = np.concatenate(list(rows.values()))
        assert sorted(every.tolist()) == list(range(93))  # each row in one part only
        assert (labels[rows["test"]] == "a").sum() == (labels[rows["test"]] == "b").sum()
        tested += rows["test"].tolist()
    if num_folds:  # the other rows are each tested once
        assert sorted(tested) == list(range(90))


def test_a_class_too_rare_to_test_is_named_in_the_report_and_trained_on(tmp_path):
    path = tmp_path / "table.csv"
    labels = ["low"] * 30 + ["high"] * 30 + ["mid"] * 2
    pd.DataFrame({"x": np.arange(62.0), "grade": labels}).to_csv(path, index=False)
    datamodule = TabularDataModule(path=str(path), target="grade")
    datamodule.setup()
    assert datamodule.classes == ["high", "low", "mid"]
    assert "training only, too few rows to validate and test (under 3): mid (2)" in "\n".join(
        datamodule.describe()
    )
    mid = datamodule.classes.index("mid")
    assert (datamodule.table("train").targets == mid).sum() == 2
    assert not (datamodule.table("test").targets == mid).any()


@pytest.mark.parametrize("stratify", [True, False])
@pytest.mark.parametrize("num_folds", [None, 4])
def test_a_grouped_split_keeps_each_group_in_one_part(stratify, num_folds):
    groups = np.repeat(np.arange(40), 5)  # 40 patients, 5 visits each
    labels = np.where(np.arange(200) % 3 == 0, "yes", "no") if stratify else np.arange(200.0)
    tested = []
    for fold in range(num_folds or 1):
        rows = split_rows(
            labels, 0.15, 0.2, seed=0, stratify=stratify, num_folds=num_folds, fold=fold,
            groups=groups,
        )  # fmt: skip
        parts = [set(groups[rows[part]]) for part in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(200))
        assert 0.15 <= len(rows["test"]) / 200 <= 0.3  # whole groups: near the fraction asked
        tested += rows["test"].tolist()
    if num_folds:
        assert sorted(tested) == list(range(200))
    other_seed = split_rows(labels, 0.15, 0.2, seed=1, stratify=stratify, groups=groups)
    assert set(other_seed["test"]) != set(
        split_rows(labels, 0.15, 0.2, seed=0, stratify=stratify, groups=groups)["test"]
    )


def test_the_group_column_is_named_in_the_report_and_is_no_input(tmp_path):
    path = tmp_path / "visits.csv"
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(30), 4)
    frame = pd.DataFrame({"patient": patients, "x": rng.normal(size=120)})
    frame["sick"] = np.where(frame["x"] + patients % 2 > 0.5, "yes", "no")
    frame.to_csv(path, index=False)
    datamodule = TabularDataModule(path=str(path), target="sick", group="patient")
    datamodule.setup()
    report = "\n".join(datamodule.describe())
    assert ", by data.group='patient' (30 groups, each in one part)" in report
    assert "patient (data.group: rows are split by it)" in report
    assert datamodule.preprocessor.numeric == ["x"]
    frame.loc[7, "patient"] = None
    frame.to_csv(path, index=False)
    with pytest.raises(UserError, match=r"^data.group='patient' has no value in 1 of the 120 "):
        TabularDataModule(path=str(path), target="sick", group="patient").setup()


def test_unstratified_folds_depend_on_the_seed():
    values = np.linspace(0, 1, 50)
    first = split_rows(values, 0.2, 0.2, seed=0, stratify=False, num_folds=5, fold=0)
    second = split_rows(values, 0.2, 0.2, seed=1, stratify=False, num_folds=5, fold=0)
    assert len(first["test"]) == 10
    assert set(first["test"]) != set(second["test"])


def test_standardisation_is_fitted_on_training_rows_only(heart):
    train = load_demo("heart").iloc[heart.split_rows["train"]]
    assert heart.preprocessor.centres[0] == pytest.approx(train["age"].mean())
    features = heart.table("train").features
    numeric = features[:, : len(heart.preprocessor.numeric)]
    assert torch.allclose(numeric.mean(0), torch.zeros(6), atol=1e-5)
    assert torch.allclose(numeric.std(0, unbiased=False), torch.ones(6), atol=1e-4)


def test_training_batches_cover_every_row_once_per_epoch(heart):
    table = heart.table("train")
    batches = list(heart.train_dataloader())
    assert all(len(x) == len(y) <= heart.hparams.batch_size for x, y in batches)
    seen = torch.cat([x for x, _ in batches])
    assert len(seen) == len(table)
    assert torch.equal(seen.unique(dim=0), table.features.unique(dim=0))


def test_table_answers_a_whole_batch_with_one_index():
    table = TensorTable(torch.arange(10.0).reshape(5, 2), torch.arange(5))
    features, targets = table.__getitems__([4, 0])
    assert features.tolist() == [[8.0, 9.0], [0.0, 1.0]]
    assert targets.tolist() == [4, 0]
    loader = batch_loader(table, batch_size=2, shuffle=False)
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3], [4]]


def test_preprocessor_state_is_plain_and_round_trips():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    fitted = TablePreprocessor(["x"], ["colour"]).fit(frame)
    restored = TablePreprocessor([], [])
    restored.load_state_dict(fitted.state_dict())
    new_rows = pd.DataFrame({"x": [2.0], "colour": ["green"]})
    assert restored.transform(new_rows).tolist() == [[0.0, 0.0, 0.0]]  # unseen level: all zeros
    assert restored.feature_names == ["x", "colour=blue", "colour=red"]
    assert restored.unseen_levels(new_rows) == {"colour": {"green": 1}}


def test_missing_values_are_imputed_from_training_rows():
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 10.0], "colour": ["red", None, "blue", "red"]})
    fitted = TablePreprocessor(["x"], ["colour"]).fit(frame, rows=np.array([0, 1, 2]))
    assert fitted.medians == [2.0]  # row 3 (x=10) is not a training row
    assert fitted.categories == {"colour": ["blue", "missing", "red"]}
    features = fitted.transform(frame, rows=np.array([1]))
    assert features[0, 0] == pytest.approx(0.0)  # the median is the training mean here
    assert features[0, 1:].tolist() == [0.0, 1.0, 0.0]


def test_levels_are_the_same_whether_read_as_numbers_or_text():
    fitted = TablePreprocessor([], ["code", "flag"]).fit(
        pd.DataFrame({"code": [1.0, 2.0, None], "flag": [True, False, True]})
    )
    assert fitted.categories == {"code": ["1", "2", "missing"], "flag": ["False", "True"]}
    as_text = pd.DataFrame({"code": ["2", "1"], "flag": ["True", "False"]})
    assert fitted.transform(as_text).tolist() == [[0, 1, 0, 0, 1], [1, 0, 0, 1, 0]]


def test_unseen_categories_in_the_test_split_are_counted_in_a_warning(tmp_path):
    path = tmp_path / "table.csv"
    frame = pd.DataFrame(
        {"x": np.arange(60.0), "y": ["a", "b"] * 30, "colour": ["red", "blue", "green"] * 20}
    )
    frame.to_csv(path, index=False)
    datamodule = TabularDataModule(
        path=str(path), target="y", categorical=["colour"], categories={"colour": ["red", "blue"]}
    )
    with pytest.warns(UnseenLevelWarning) as caught:
        datamodule.setup()
    messages = " ".join(str(warning.message) for warning in caught)
    assert re.search(r"the test split .* 'colour': \d+ rows? \('green'\)", messages)
    test_rows = datamodule.table("test").features
    assert (test_rows[:, 1:].sum(1) == 0).sum() > 0  # green rows: all zeros


def test_datamodule_state_is_plain_data(heart):
    state = heart.state_dict()
    assert state["target_encoder"] == {
        "task": "binary",
        "classes": [0, 1],
        "mean": 0.0,
        "scale": 1.0,
        "low": None,
        "high": None,
    }
    restored = TabularDataModule(demo="heart")
    restored.load_state_dict(state)
    assert restored.input_size == 29
    assert restored.preprocessor.state_dict() == heart.preprocessor.state_dict()


@pytest.mark.parametrize("clip", [True, False])
def test_the_training_targets_range_goes_to_the_module_unless_switched_off(tmp_path, clip):
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": np.arange(40.0), "y": np.arange(40.0) ** 2}).to_csv(path, index=False)
    datamodule = TabularDataModule(path=str(path), target="y", clip_predictions=clip)
    datamodule.setup()
    assert datamodule.task == "regression"
    trained_on = datamodule.table("train").targets
    held = [trained_on.min().item(), trained_on.max().item()]
    assert datamodule.prediction_range == (pytest.approx(held, abs=1e-5) if clip else None)
    low, high = datamodule.target_encoder.low, datamodule.target_encoder.high
    said = f"predictions held within its training range {low:.4g} to {high:.4g}"
    assert any(said in line for line in datamodule.describe()) == clip


def test_missing_column_is_a_user_error(tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": [1, 2, 3, 4], "b": [0, 1, 0, 1]}).to_csv(path, index=False)
    datamodule = TabularDataModule(path=str(path), target="label", numeric=["a"])
    with pytest.raises(UserError, match="data.target.*label"):
        datamodule.setup()
