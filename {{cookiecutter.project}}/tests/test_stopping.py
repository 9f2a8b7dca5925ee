"""Training stops on a non-finite loss without harming the checkpoints, and says why it stopped."""

import math
from types import SimpleNamespace

import pytest
import torch
from conftest import QUIET
from lightning.pytorch.callbacks import EarlyStopping
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason

from {{ cookiecutter.package }}.callbacks.non_finite_loss import (
    NonFiniteLossError,
    StopOnNonFiniteLoss,
)
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.support.reports import stop_reason
from {{ cookiecutter.package }}.train import train


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(train_config, tmp_path, capsys):
    # 7 steps per epoch: step 9 is in epoch 1, after epoch 0 was checkpointed.
    metrics = train(
        train_config(
            *QUIET,
            "trainer.max_epochs=3",
            "+callbacks.poison={_target_: training_hooks.BreakWeightsAtStep, step: 9}",
        )
    )
    out = capsys.readouterr().out
    assert "Training stopped: the training loss is nan at step 9 (epoch 1)" in out
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (0, 7)
    assert all(torch.isfinite(w).all() for w in last["state_dict"].values())
    assert math.isfinite(metrics["test/loss"])  # the best checkpoint was tested
    assert (tmp_path / "metrics.json").is_file()


def test_losses_kept_on_the_device_are_read_before_any_checkpoint(
    train_config, tmp_path, capsys, monkeypatch
):
    # On a GPU the losses stay on the device and are read only before a checkpoint could be
    # written (no wait for the device at every step); here that path is taken on the CPU.
    monkeypatch.setattr(StopOnNonFiniteLoss, "reads_later", staticmethod(lambda device: True))
    train(
        train_config(
            *QUIET,
            "trainer.max_epochs=3",
            "callbacks.step_checkpoint.every_n_train_steps=4",
            "+callbacks.poison={_target_: training_hooks.BreakWeightsAtStep, step: 9}",
        )
    )
    # Read after steps 3, 6 (epoch end), 7 and 11: the loss of step 9 is found after step 11,
    # before the step checkpoint saves there.
    out = capsys.readouterr().out
    assert "the training loss is not finite at a step from 8 to 11 (epoch 1)" in out
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (1, 8)
    assert all(torch.isfinite(w).all() for w in last["state_dict"].values())


def test_a_finite_loss_is_checked_with_the_other_processes_only_when_there_are_some():
    asked = []

    def reduce_boolean_decision(broken: bool, all: bool) -> bool:
        asked.append(broken)
        return True  # another rank's loss was not finite

    strategy = SimpleNamespace(reduce_boolean_decision=reduce_boolean_decision)
    ddp = SimpleNamespace(world_size=2, global_step=5, current_epoch=0, strategy=strategy)
    with pytest.raises(NonFiniteLossError, match="not finite in another rank at step 5"):
        StopOnNonFiniteLoss().on_before_backward(ddp, None, torch.tensor(0.5))
    assert asked == [False]
    # One process: a finite loss asks no one (a strategy that cannot answer is never called).
    alone = SimpleNamespace(world_size=1, strategy=SimpleNamespace(reduce_boolean_decision=None))
    StopOnNonFiniteLoss().on_before_backward(alone, None, torch.tensor(0.5))


def test_nan_validation_loss_stops_before_the_checkpoints_save(train_config, tmp_path, capsys):
    train(
        train_config(
            *QUIET,
            "trainer.max_epochs=3",
            "+callbacks.poison={_target_: training_hooks.BreakWeightsBeforeValidation, epoch: 1}",
        )
    )
    assert "the validation loss is nan after step 14 (epoch 1)" in capsys.readouterr().out
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (0, 7)
    assert all(torch.isfinite(w).all() for w in last["state_dict"].values())


def test_divergence_before_any_checkpoint_is_an_error(train_config, tmp_path):
    with pytest.raises(
        UserError,
        match=r"training loss is (nan|inf) at step \d+ \(epoch 0\), "
        r"before any checkpoint.*optimizer.lr",
    ):
        train(train_config(*QUIET, "optimizer=sgd", "optimizer.lr=1e30"))
    assert not (tmp_path / "metrics.json").exists()


def test_early_stopping_says_why_and_when(train_config, capsys):
    # Patience 1: the first epoch that does not lower the validation loss by 0.05 ends the run.
    train(
        train_config(
            *QUIET,
            "trainer.max_epochs=50",
            "optimizer.lr=0.5",
            "callbacks.early_stopping.patience=1",
            "callbacks.early_stopping.min_delta=0.05",
        )
    )
    out = capsys.readouterr().out
    assert "Early stopping at epoch" in out
    assert "val/loss did not improve by more than 0.05 for 1 epoch; best" in out


def test_a_full_run_says_it_reached_max_epochs(train_config, capsys):
    train(train_config(*QUIET, "trainer.max_epochs=2"))
    assert "Trained all 2 epochs (max_epochs), ending at step 14." in capsys.readouterr().out


def stopped_trainer(reason: EarlyStoppingReason, value: float = 0.5) -> SimpleNamespace:
    stopper = EarlyStopping(monitor="val/auroc", mode="max", patience=3, min_delta=0.01)
    stopper.stopping_reason, stopper.stopped_epoch = reason, 12
    stopper.best_score = torch.tensor(0.9)
    return SimpleNamespace(
        global_step=91,
        current_epoch=13,
        max_epochs=200,
        early_stopping_callback=stopper,
        callback_metrics={"val/auroc": torch.tensor(value)},
    )


def test_stop_reason_names_the_cause_epoch_and_step():
    assert stop_reason(stopped_trainer(EarlyStoppingReason.PATIENCE_EXHAUSTED), None) == (
        "Early stopping at epoch 12 (step 91): val/auroc did not improve by more than 0.01 for "
        "3 epochs; best 0.9000."
    )
    non_finite = stopped_trainer(EarlyStoppingReason.NON_FINITE_METRIC, float("nan"))
    assert stop_reason(non_finite, None) == (
        "Early stopping at epoch 12 (step 91): val/auroc is nan, not a finite number."
    )
    running = stopped_trainer(EarlyStoppingReason.NOT_STOPPED)
    assert stop_reason(running, None) == "Training ended in epoch 13 at step 91."
    assert stop_reason(running, NonFiniteLossError("the training loss is inf at step 91")) == (
        "Training stopped: the training loss is inf at step 91. Nothing was saved after it: the "
        "checkpoints keep the last good state."
    )
