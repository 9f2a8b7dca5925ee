"""model.members: networks trained side by side, each as it would learn alone, and averaged."""

import pytest
import torch
from conftest import QUIET, compose_config
from fresh_tables import TARGET, fresh_table
from omegaconf import OmegaConf

from {{ cookiecutter.package }}.configs import load_choice
from {{ cookiecutter.package }}.data.batching import SMALLEST_AUTO_BATCH, auto_batch_size
from {{ cookiecutter.package }}.model.ensemble import (
    AUTO_MAX_TRAINING_ROWS,
    AUTO_MEMBERS,
    resolved_members,
)
from {{ cookiecutter.package }}.model.module import TabularModule
from {{ cookiecutter.package }}.support.checkpoints import load_checkpoint
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train


def ensemble(task: str, members: int) -> TabularModule:
    """A module of `members` small MLPs, trained with the task's own loss (loss=auto's choice)."""
    loss = load_choice("loss", load_choice("loss", "auto").by_task[task])
    torch.manual_seed(0)
    return TabularModule(
        input_size=4,
        task=task,
        num_classes=3 if task == "multiclass" else None,
        model={
            "_target_": "{{ cookiecutter.package }}.model.mlp.MLP",
            "hidden_sizes": [8],
            "members": members,
        },
        loss=OmegaConf.to_container(loss),
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
    )


@pytest.mark.parametrize(
    ("task", "targets"),
    [
        ("regression", torch.tensor([0.5, -1.0, 2.0, 0.0, 1.5, -0.3])),
        ("binary", torch.tensor([1, 0, 1, 1, 0, 0])),
        ("multiclass", torch.tensor([0, 2, 1, 1, 0, 2])),
    ],
)
def test_each_member_gets_the_gradient_of_its_own_loss(task, targets):
    module = ensemble(task, members=3)
    features = torch.randn(6, 4)
    module._loss(module(features), targets).backward()
    for member in module.net.members:
        # The member alone, as the one network of a module of its own.
        alone = ensemble(task, members=1)
        alone.net.load_state_dict(member.state_dict())
        alone._loss(alone(features), targets).backward()
        for shared, own in zip(member.parameters(), alone.net.parameters(), strict=True):
            # 1/3 of it: the loss is the members' mean, a scale Adam's steps do not see.
            assert torch.allclose(shared.grad * 3, own.grad, atol=1e-6)


def test_members_start_from_different_weights():
    first, second = ensemble("regression", members=2).net.members
    assert not torch.equal(first.layers[0].weight, second.layers[0].weight)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_the_prediction_is_the_mean_of_the_members_probabilities_or_values(task):
    module = ensemble(task, members=3).eval()
    features = torch.randn(5, 4)
    with torch.no_grad():
        outputs = module(features)
        each = [module.predict_scores(outputs[:, k]) for k in range(3)]
        assert outputs.shape[:2] == (5, 3)
        # Probabilities are averaged, not logits: the softmax of the mean logit would differ.
        assert torch.allclose(module.predict_scores(outputs), torch.stack(each).mean(0))


def test_auto_is_an_ensemble_for_small_regression_tables_only():
    # "Small": the tables for which data.batch_size=auto picks its smallest batch.
    assert auto_batch_size(AUTO_MAX_TRAINING_ROWS) == SMALLEST_AUTO_BATCH
    assert auto_batch_size(AUTO_MAX_TRAINING_ROWS + 1) > SMALLEST_AUTO_BATCH
    assert resolved_members("auto", "regression", 300) == AUTO_MEMBERS
    assert resolved_members("auto", "regression", AUTO_MAX_TRAINING_ROWS) == AUTO_MEMBERS
    assert resolved_members("auto", "regression", AUTO_MAX_TRAINING_ROWS + 1) == 1
    assert resolved_members("auto", "binary", 300) == 1
    assert resolved_members("auto", "multiclass", 300) == 1
    assert resolved_members(3, "binary", 10**6) == 3


@pytest.mark.parametrize("value", [0, -2, 1.5, "many", True])
def test_a_bad_member_count_is_refused_naming_the_key(train_config, value):
    with pytest.raises(UserError, match=r"model\.members=.* auto, or a whole number >= 1"):
        check_config(train_config("data=csv", f"model.members={value}"))


def test_a_small_regression_table_trains_predicts_and_records_its_ensemble(
    train_config, tmp_path, capsys
):
    table = tmp_path / "table.csv"
    fresh_table("regression", rows=300).to_csv(table, index=False)
    overrides = ["data=csv", f"data.path={table}", f"data.target={TARGET}", *QUIET]
    metrics = train(train_config(*overrides, "trainer.max_epochs=3"))
    assert f"{AUTO_MEMBERS} networks side by side (model.members)" in capsys.readouterr().out
    # The checkpoint holds what auto became, so predict, evaluate and export rebuild 5 members.
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "best.ckpt")
    assert checkpoint["hyper_parameters"]["model"]["members"] == AUTO_MEMBERS
    module = TabularModule.from_checkpoint(checkpoint)
    assert len(module.net.members) == AUTO_MEMBERS
    assert metrics["test/r2"] > 0.5  # the table's signal, learnt in 3 epochs

    # A classification table keeps one network under the same default.
    fresh_table("binary", rows=300).to_csv(table, index=False)
    binary_run = [f"run_dir={tmp_path / 'binary'}", *overrides, "trainer.max_epochs=1"]
    train(compose_config("train", binary_run))
    assert "networks side by side" not in capsys.readouterr().out
    binary = load_checkpoint(tmp_path / "binary" / "checkpoints" / "best.ckpt")
    assert binary["hyper_parameters"]["model"]["members"] == 1
