"""model.linear_base: a regression network's output adds to a ridge regression fitted on the rows
the network trains on, and checkpoints carry it as they carry the weights."""

import numpy as np
import pytest
import torch
from fresh_tables import TARGET, fresh_table
from omegaconf import OmegaConf
from sklearn.linear_model import RidgeCV
from torchmetrics.functional import r2_score

from {{ cookiecutter.package }}.configs import load_choice
from {{ cookiecutter.package }}.model import linear_base
from {{ cookiecutter.package }}.model.linear_base import LinearBase
from {{ cookiecutter.package }}.model.module import TabularModule
from {{ cookiecutter.package }}.support.build import build_module, loss_for_task
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.support.resume_checks import fixed_settings
from {{ cookiecutter.package }}.train import set_up_data

TRUE_WEIGHTS = [1.0, -2.0, 0.5]
TRUE_BIAS = 0.3


def linear_rows(rows: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three numbers, then one embedding code column that the target does not depend on."""
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(rows, 3))
    codes = rng.integers(1, 5, size=(rows, 1))
    targets = numbers @ TRUE_WEIGHTS + TRUE_BIAS + rng.normal(0, 0.05, rows)
    features = torch.tensor(np.hstack([numbers, codes]), dtype=torch.float32)
    return features, torch.tensor(targets, dtype=torch.float32)


def test_the_base_is_a_ridge_regression_of_the_numbers_and_one_hot_columns():
    features, targets = linear_rows()
    base = LinearBase(dense_inputs=3, members=1)
    base.fit(features, targets)
    assert base.weight[:, 0].tolist() == pytest.approx(TRUE_WEIGHTS, abs=0.02)
    assert base.bias.item() == pytest.approx(TRUE_BIAS, abs=0.02)
    # The embedding codes are the network's: the base neither reads nor fits them.
    recoded = features.clone()
    recoded[:, 3] = 7.0
    torch.testing.assert_close(base(recoded), base(features))


def test_each_member_is_fitted_on_the_rows_outside_its_own_part():
    features, targets = linear_rows()
    parts = torch.arange(len(targets)) % 3
    base = LinearBase(dense_inputs=3, members=3)
    base.fit(features, targets, parts)
    moved = targets.clone()
    moved[parts == 0] += 5.0 * features[parts == 0, 0]  # only part 0's rows change
    refitted = LinearBase(dense_inputs=3, members=3)
    refitted.fit(features, moved, parts)
    torch.testing.assert_close(refitted.weight[:, 0], base.weight[:, 0])  # never saw them
    for member in (1, 2):  # trained on them
        assert refitted.weight[0, member] > base.weight[0, member] + 1.0


def test_a_large_table_is_fitted_on_a_sample_of_its_rows(monkeypatch):
    """RidgeCV copies the matrix a few times in float64: a million rows are not fitted whole."""
    monkeypatch.setattr(linear_base, "FIT_MIN_ROWS", 50)
    monkeypatch.setattr(linear_base, "FIT_VALUES", 300)  # 100 rows of the 3 columns
    fitted_rows = []
    ridge_fit = RidgeCV.fit
    monkeypatch.setattr(
        RidgeCV, "fit", lambda self, x, y: fitted_rows.append(len(x)) or ridge_fit(self, x, y)
    )
    features, targets = linear_rows()
    base = LinearBase(dense_inputs=3, members=2)
    base.fit(features, targets, torch.arange(len(targets)) % 2)
    assert fitted_rows == [100, 100]
    assert base.weight[:, 0].tolist() == pytest.approx(TRUE_WEIGHTS, abs=0.05)


def test_without_number_or_one_hot_columns_each_members_base_is_its_rows_mean():
    _, targets = linear_rows()
    codes = torch.randint(1, 5, (len(targets), 1)).float()
    parts = torch.arange(len(targets)) % 2
    base = LinearBase(dense_inputs=0, members=2)
    base.fit(codes, targets, parts)
    expected = [targets[parts != member].mean().item() for member in (0, 1)]
    assert base(codes[:1]).flatten().tolist() == pytest.approx(expected, abs=1e-6)
    assert "the training mean" in base.description()


def module(task: str, members: int, linear_base: bool = True) -> TabularModule:
    loss = load_choice("loss", load_choice("loss", "auto").by_task[task])
    torch.manual_seed(0)
    return TabularModule(
        input_size=5,
        embedding_rows=[4],  # the last column is an embedding code
        task=task,
        num_classes=None,
        model={
            "_target_": "{{ cookiecutter.package }}.model.mlp.MLP",
            "hidden_sizes": [8],
            "members": members,
            "linear_base": linear_base,
        },
        loss=OmegaConf.to_container(loss),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
    ).eval()


@pytest.mark.parametrize("members", [1, 3])
def test_a_regression_networks_output_is_added_to_its_base(members):
    regression = module("regression", members)
    with torch.no_grad():
        regression.linear_base.weight.normal_()
        regression.linear_base.bias.normal_()
    features = torch.cat([torch.randn(6, 4), torch.randint(0, 4, (6, 1)).float()], dim=1)
    with torch.no_grad():
        network = regression.net(regression.inputs(features))
        base = regression.linear_base(features)
        outputs = regression(features)
    expected = network + (base.unsqueeze(-1) if members > 1 else base)
    torch.testing.assert_close(outputs, expected)
    assert not torch.allclose(outputs, network)


def test_classification_and_a_base_switched_off_train_the_network_alone():
    assert module("binary", members=1).linear_base is None
    assert module("regression", members=1, linear_base=False).linear_base is None


def test_a_run_fits_each_members_base_on_its_training_rows_and_saves_it(train_config, tmp_path):
    table = tmp_path / "table.csv"
    fresh_table("regression", rows=300).to_csv(table, index=False)
    cfg = train_config("data=csv", f"data.path={table}", f"data.target={TARGET}")
    datamodule = set_up_data(cfg)  # auto: 5 cross-fitted members on a table this small
    cfg.loss = loss_for_task(cfg.loss, datamodule.task)
    trained = build_module(cfg, datamodule)
    base = trained.linear_base
    assert base.weight.shape[1] == 5
    assert len({tuple(base.weight[:, m].tolist()) for m in range(5)}) == 5  # each its own rows
    assert base.description().startswith("linear base: 5 ridge regressions (one per network)")
    # The fresh table's outcome is linear in its inputs plus noise: the base alone explains most
    # of the test rows it never saw.
    test = datamodule.table("test")
    with torch.no_grad():
        predicted = base(test.features).mean(1)
    assert float(r2_score(predicted, test.targets)) > 0.8
    # Buffers of the module: the checkpoint's state dict holds them, and a module built from
    # the saved hyperparameters takes them back.
    state = trained.state_dict()
    assert {"linear_base.weight", "linear_base.bias"} <= set(state)
    restored = TabularModule(**trained.hparams)
    restored.load_state_dict(state)
    torch.testing.assert_close(restored.linear_base.weight, base.weight)
    torch.testing.assert_close(restored.eval()(test.features), trained.eval()(test.features))


def test_a_checkpoint_from_before_the_setting_resumes_as_if_it_were_off():
    """fixed_settings (support/resume_checks.py) fills a module setting a checkpoint lacks with
    its off value, and a classification run's linear base is off whatever it says."""
    data_state = {"preprocessor": {"numeric": ["x"], "categorical": []}, "target_encoder": {}}

    def settings(task: str, **model) -> dict:
        hparams = {"task": task, "model": {"_target_": "net", **model}}
        return fixed_settings({"loss": {}, "optimizer": {}, "scheduler": {}, **hparams}, data_state)

    older = settings("regression")
    assert older == settings("regression", linear_base=False)
    assert older != settings("regression", linear_base=True)
    assert settings("binary") == settings("binary", linear_base=True)


def test_a_linear_base_that_is_not_a_switch_is_refused(train_config):
    with pytest.raises(UserError, match=r"model\.linear_base='maybe' is not allowed"):
        check_config(train_config("data=csv", "model.linear_base=maybe"))
