"""best.ckpt keeps the epoch with the best monitored metric and, of epochs tied for the best, the
one with the lowest validation loss (callbacks/model_checkpoint.py); best_val/... describe that
same epoch."""

import pytest
import torch
from conftest import QUIET
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.callbacks.model_checkpoint import ModelCheckpoint
from {{ cookiecutter.package }}.support.build import build_callbacks, with_task_monitors
from {{ cookiecutter.package }}.train import train


def test_of_epochs_tied_for_the_best_accuracy_the_lowest_loss_is_kept(train_config, tmp_path):
    # heart's 46 validation rows: accuracy moves in steps of 1/46, so epochs tie.
    train(
        train_config(*QUIET, "trainer.max_epochs=12", "callbacks.model_checkpoint.monitor=val/acc")
    )
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    accuracy = {point.step: point.value for point in events.Scalars("val/acc")}
    loss = {point.step: point.value for point in events.Scalars("val/loss")}
    best = max(accuracy.values())
    tied = [step for step, value in accuracy.items() if value == best]
    assert len(tied) > 1, accuracy  # else this run tests nothing: change its length or seed
    kept = min(tied, key=loss.get)
    assert kept != tied[0]  # Lightning's own class would have kept the first
    checkpoint = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)
    [state] = [s for s in checkpoint["callbacks"].values() if s.get("monitor") == "val/acc"]
    assert state["best_model_score"] == pytest.approx(best)
    assert state["kept_tie_breaker"] == pytest.approx(loss[kept])  # losses tell epochs apart
    shown = events.Scalars("best_val/acc")
    assert shown[-1].step == kept
    assert events.Scalars("best_val/loss")[-1].value == loss[kept]


def test_the_kept_loss_survives_a_resume():
    stopped = ModelCheckpoint(monitor="val/acc", mode="max")
    stopped.kept_tie_breaker = 0.41
    resumed = ModelCheckpoint(monitor="val/acc", mode="max")
    resumed.load_state_dict(stopped.state_dict())
    assert resumed.kept_tie_breaker == 0.41
    # Lightning's own class name: a run its ModelCheckpoint wrote resumes with its best score
    assert resumed.state_key.startswith("ModelCheckpoint{'monitor': 'val/acc', 'mode': 'max'")


def test_a_resumed_run_keeps_the_metric_its_best_checkpoint_watched(train_config, tmp_path):
    # A multiclass run begun when the best checkpoint watched val/loss whatever the task.
    before = ["data=wine", *QUIET, "trainer.max_epochs=2"]
    train(train_config(*before, "callbacks.model_checkpoint.monitor=val/loss"))
    stopped = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    [best] = [s["best_model_score"] for s in stopped["callbacks"].values() if s.get("monitor")]
    resumed = train_config(*before[:-1], "trainer.max_epochs=3", "ckpt_path=last")
    train(resumed)
    watched = resumed.callbacks.model_checkpoint
    assert (watched.monitor, watched.mode) == ("val/loss", "min")
    after = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    [state] = [s for s in after["callbacks"].values() if s.get("monitor")]
    assert state["best_model_score"] <= best  # carried on from the first run's best, not reset


def test_no_monitor_keeps_lightnings_default_mode(train_config):
    cfg = train_config("callbacks.model_checkpoint.monitor=null")
    with_task_monitors(cfg, "binary")
    built = build_callbacks(cfg.callbacks)
    [best] = [c for c in built if isinstance(c, ModelCheckpoint) and c.filename == "best"]
    assert (best.monitor, best.mode) == (None, "min")
