"""model.members: networks trained side by side, each as it would learn alone, and averaged;
model.cross_fit: each of them on all but its own part of the rows, validated on that part."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import QUIET, compose_config
from fresh_tables import TARGET, fresh_table
from omegaconf import OmegaConf
from threshold_checks import by_brute_force, criterion_at

from {{ cookiecutter.package }}.configs import load_choice
from {{ cookiecutter.package }}.data.batching import SMALLEST_AUTO_BATCH, auto_batch_size
from {{ cookiecutter.package }}.data.datamodule import (
    TabularDataModule,
    UnseenLevelWarning,
)
from {{ cookiecutter.package }}.data.missing import InfiniteValueWarning
from {{ cookiecutter.package }}.data.splits import member_parts, split_rows
from {{ cookiecutter.package }}.model.ensemble import (
    AUTO_MAX_TRAINING_ROWS,
    AUTO_MEMBERS,
    members_loss,
    out_of_part,
    resolved_members,
)
from {{ cookiecutter.package }}.model.module import TabularModule
from {{ cookiecutter.package }}.support.checkpoints import load_checkpoint
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import set_up_data, train

SIX_ROWS_OF_EACH_TASK = [
    ("regression", torch.tensor([0.5, -1.0, 2.0, 0.0, 1.5, -0.3])),
    ("binary", torch.tensor([1, 0, 1, 1, 0, 0])),
    ("multiclass", torch.tensor([0, 2, 1, 1, 0, 2])),
]


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


@pytest.mark.parametrize(("task", "targets"), SIX_ROWS_OF_EACH_TASK)
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


def test_auto_is_an_ensemble_for_small_tables_only():
    # "Small": the tables whose training split data.batch_size=auto gives its smallest batch.
    assert auto_batch_size(AUTO_MAX_TRAINING_ROWS) == SMALLEST_AUTO_BATCH
    assert auto_batch_size(AUTO_MAX_TRAINING_ROWS + 1) > SMALLEST_AUTO_BATCH
    assert resolved_members("auto", 300) == AUTO_MEMBERS
    assert resolved_members("auto", AUTO_MAX_TRAINING_ROWS) == AUTO_MEMBERS
    assert resolved_members("auto", AUTO_MAX_TRAINING_ROWS + 1) == 1
    assert resolved_members(3, 10**6) == 3


@pytest.mark.parametrize("value", [0, -2, 1.5, "many", True])
def test_a_bad_member_count_is_refused_naming_the_key(train_config, value):
    with pytest.raises(UserError, match=r"model\.members=.* auto, or a whole number >= 1"):
        check_config(train_config("data=csv", f"model.members={value}"))


def test_a_small_table_trains_predicts_and_records_its_ensemble(train_config, tmp_path, capsys):
    table = tmp_path / "table.csv"
    fresh_table("regression", rows=300).to_csv(table, index=False)
    overrides = ["data=csv", f"data.path={table}", f"data.target={TARGET}", *QUIET]
    metrics = train(train_config(*overrides, "trainer.max_epochs=3"))
    printed = capsys.readouterr().out
    assert f"{AUTO_MEMBERS} networks side by side (model.members)" in printed
    assert f"in {AUTO_MEMBERS} parts; each network trains on the others" in printed  # cross_fit
    # The checkpoint holds what auto became, so predict, evaluate and export rebuild 5 members.
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "best.ckpt")
    assert checkpoint["hyper_parameters"]["model"]["members"] == AUTO_MEMBERS
    module = TabularModule.from_checkpoint(checkpoint)
    assert len(module.net.members) == AUTO_MEMBERS
    assert metrics["test/r2"] > 0.5  # the table's signal, learnt in 3 epochs

    # A resumed run cross-fits again, its parts dealt from the seed as the split is.
    train(train_config(*overrides, "trainer.max_epochs=4", "ckpt_path=last"))
    printed = capsys.readouterr().out
    assert "Resuming from" in printed and f"in {AUTO_MEMBERS} parts" in printed

    # A classification table is cross-fitted too, and its decision threshold is the best cut of
    # the pooled rows' out-of-part probabilities (the rows each member did not train on).
    fresh_table("binary", rows=300).to_csv(table, index=False)
    binary_run = [f"run_dir={tmp_path / 'binary'}", *overrides, "trainer.max_epochs=1"]
    train(compose_config("train", binary_run))
    printed = capsys.readouterr().out
    assert f"{AUTO_MEMBERS} networks side by side" in printed and "cross-fit" in printed
    binary = load_checkpoint(tmp_path / "binary" / "checkpoints" / "best.ckpt")
    assert binary["hyper_parameters"]["model"]["members"] == AUTO_MEMBERS
    pooled = set_up_data(compose_config("train", binary_run)).table("val")
    module = TabularModule.from_checkpoint(binary).eval()
    with torch.inference_mode():
        scores = module.predict_scores(out_of_part(module(pooled.features), pooled.parts))
    chosen = criterion_at(scores, pooled.targets, binary["decision_threshold"], "balanced_accuracy")
    assert chosen == pytest.approx(by_brute_force(scores, pooled.targets, "balanced_accuracy"))

    # model.cross_fit=false: the 5 members train on the training split, as one network would.
    fresh_table("regression", rows=300).to_csv(table, index=False)
    plain = [f"run_dir={tmp_path / 'plain'}", *overrides, "trainer.max_epochs=1"]
    train(compose_config("train", [*plain, "model.cross_fit=false"]))
    printed = capsys.readouterr().out
    assert f"{AUTO_MEMBERS} networks side by side" in printed and "cross-fit" not in printed


def test_member_parts_deal_each_class_and_each_group_evenly_over_the_parts():
    labels = np.array(["a"] * 23 + ["b"] * 7 + ["c"] * 2)
    parts = member_parts(labels, 5, seed=0, stratify=True)
    assert np.array_equal(parts, member_parts(labels, 5, seed=0, stratify=True))  # the seed's
    assert not np.array_equal(parts, member_parts(labels, 5, seed=1, stratify=True))
    for label in "abc":  # within a class the parts differ by one row at most
        counts = np.bincount(parts[labels == label], minlength=5)
        assert counts.max() - counts.min() <= 1
    assert set(np.bincount(parts, minlength=5)) <= {6, 7}  # 32 rows in 5 parts
    amounts = member_parts(np.linspace(0, 1, 33), 5, seed=0, stratify=False)  # regression
    assert sorted(np.bincount(amounts, minlength=5)) == [6, 6, 7, 7, 7]
    groups = np.repeat(np.arange(12), 3)
    grouped = member_parts(np.zeros(36), 5, seed=0, stratify=False, groups=groups)
    for group in range(12):  # a group's rows share one part
        assert len(set(grouped[groups == group])) == 1
    # Fewer groups than parts: a part is left empty (its member trains on every row).
    few = member_parts(np.zeros(6), 5, seed=0, stratify=False, groups=np.repeat([0, 1, 2], 2))
    assert len(set(few)) == 3


@pytest.mark.parametrize(("task", "targets"), SIX_ROWS_OF_EACH_TASK)
def test_a_cross_fitted_member_learns_from_every_part_but_its_own(task, targets):
    module = ensemble(task, members=3)
    features, parts = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    module._step((features, targets, parts), "train").backward()
    for index, member in enumerate(module.net.members):
        # The member alone, on the rows outside its part.
        alone = ensemble(task, members=1)
        alone.net.load_state_dict(member.state_dict())
        rows = parts != index
        alone._loss(alone(features[rows]), targets[rows]).backward()
        for shared, own in zip(member.parameters(), alone.net.parameters(), strict=True):
            assert torch.allclose(shared.grad * 3, own.grad, atol=1e-6)


def test_a_batch_without_a_members_rows_leaves_that_member_out_of_the_step():
    module = ensemble("regression", members=3)
    features, targets = torch.randn(2, 4), torch.tensor([0.5, -1.0])
    parts = torch.tensor([1, 1])  # member 1 validates both rows and trains on none
    loss = members_loss(module._loss, module(features), targets, parts)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(not p.grad.any() for p in module.net.members[1].parameters())
    assert any(p.grad.any() for p in module.net.members[0].parameters())


def test_validation_scores_each_row_with_the_member_that_did_not_train_on_it():
    module = ensemble("regression", members=3).eval()
    features, targets = torch.randn(6, 4), torch.randn(6)
    parts = torch.tensor([2, 0, 1, 1, 0, 2])
    with torch.no_grad():
        outputs = module(features)
        picked = out_of_part(outputs, parts)
        for row, part in enumerate(parts.tolist()):
            assert torch.equal(picked[row], outputs[row, part])
        loss = module._step((features, targets, parts), "val")
    assert torch.allclose(loss, module._loss(picked, targets))


def test_cross_fitting_pools_the_training_and_validation_rows(tmp_path):
    table = tmp_path / "table.csv"
    fresh_table("regression", rows=300).to_csv(table, index=False)
    datamodule = TabularDataModule(path=str(table), target=TARGET)
    datamodule.setup("fit")
    split = {name: rows.copy() for name, rows in datamodule.split_rows.items()}
    datamodule.cross_fit(5)
    pooled = np.concatenate([split["train"], split["val"]])
    assert np.array_equal(datamodule.training_rows, pooled)
    assert {n: len(r) for n, r in datamodule.split_rows.items()} == {
        n: len(r) for n, r in split.items()
    }  # the split the run reports, and its test rows, are as they were
    train, val = datamodule.table("train"), datamodule.table("val")
    assert len(train) == len(val) == len(pooled)
    assert torch.equal(train.parts, torch.from_numpy(datamodule.member_parts))
    assert sorted(set(train.parts.tolist())) == [0, 1, 2, 3, 4]
    assert len(datamodule.table("test")) == len(split["test"])
    assert datamodule.table("test").parts is None
    # The target's standardisation is fitted on the rows that train: the pooled ones.
    values = pd.read_csv(table)[TARGET].to_numpy()
    assert datamodule.target_encoder.mean == pytest.approx(values[pooled].mean())
    features, targets, parts = next(iter(datamodule.train_dataloader()))
    assert len(features) == len(targets) == len(parts)


def test_a_cross_fit_that_is_not_a_switch_is_refused(train_config):
    with pytest.raises(UserError, match=r"model\.cross_fit='maybe' is not allowed: expected true"):
        check_config(train_config("data=csv", "model.cross_fit=maybe"))


def test_only_the_kept_fit_warns_of_levels_unseen_in_training(train_config, tmp_path):
    table = fresh_table("regression", rows=300)
    # A region that only one validation row has: unseen by the training split's fit, seen by
    # the cross-fitted one, which fits on the training and validation rows together.
    split = split_rows(table[TARGET].to_numpy(), 0.15, 0.2, seed=42, stratify=False)
    lonely = split["val"][0]  # data=csv's fractions and train.yaml's seed
    table.loc[lonely, "region"] = "atlantis"
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    overrides = ["data=csv", f"data.path={path}", f"data.target={TARGET}"]
    with pytest.warns(UnseenLevelWarning, match=r"the val split .*'atlantis'"):
        set_up_data(train_config(*overrides, "model.cross_fit=false"))
    with warnings.catch_warnings(record=True) as shown:
        datamodule = set_up_data(train_config(*overrides))
    assert not [note for note in shown if issubclass(note.category, UnseenLevelWarning)]
    assert datamodule.cross_fit_parts == AUTO_MEMBERS


def test_a_refusal_still_shows_the_warnings_that_came_before_it(train_config, tmp_path):
    table = fresh_table("regression", rows=60)
    table["age"] = table["age"].astype(object)
    table.loc[3, "age"] = "inf"  # imputed, with a warning, before the target is looked at
    table[TARGET] = 1.0  # one value: refused
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    overrides = ["data=csv", f"data.path={path}", f"data.target={TARGET}"]
    with pytest.warns(InfiniteValueWarning), pytest.raises(UserError, match="a single value"):
        set_up_data(train_config(*overrides))
