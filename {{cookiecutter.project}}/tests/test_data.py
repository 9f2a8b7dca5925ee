"""The heart table becomes 29 standardised / one-hot inputs, split and batched correctly."""

import pandas as pd
import pytest
import torch

from {{ cookiecutter.package }}.data.batching import TensorTable, batch_loader
from {{ cookiecutter.package }}.data.datamodule import TabularDataModule
from {{ cookiecutter.package }}.data.preprocessing import TablePreprocessor
from {{ cookiecutter.package }}.errors import UserError


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
    frames = heart._frames
    assert sum(len(f) for f in frames.values()) == 303
    assert len(frames["test"]) == round(303 * 0.2)
    rows = pd.concat(frames.values()).index
    assert rows.is_unique
    for frame in frames.values():
        assert frame["target"].mean() == pytest.approx(83 / 303, abs=0.04)


def test_split_depends_on_the_seed():
    first = TabularDataModule(seed=1)
    second = TabularDataModule(seed=2)
    first.setup()
    second.setup()
    assert not first._frames["test"].index.equals(second._frames["test"].index)


def test_standardisation_is_fitted_on_training_rows_only(heart):
    train = heart._frames["train"]
    assert heart.preprocessor.means[0] == pytest.approx(train["age"].mean())
    features = heart._table("train").features
    numeric = features[:, : len(heart.preprocessor.numeric)]
    assert torch.allclose(numeric.mean(0), torch.zeros(6), atol=1e-5)
    assert torch.allclose(numeric.std(0, unbiased=False), torch.ones(6), atol=1e-4)


def test_training_batches_cover_every_row_once_per_epoch(heart):
    table = heart._table("train")
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


def test_missing_column_is_a_user_error(tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"a": [1, 2, 3, 4], "b": [0, 1, 0, 1]}).to_csv(path, index=False)
    datamodule = TabularDataModule(path=str(path), target="label", numeric=["a"])
    with pytest.raises(UserError, match="data.target.*label"):
        datamodule.setup()


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        TabularDataModule(path=str(tmp_path / "nope.csv")).setup()
