"""Lightning calls only the callback hooks that have work to do (callbacks/idle_hooks.py)."""

from types import SimpleNamespace

import lightning as L
import torch
from conftest import QUIET
from lightning.pytorch.loggers import TensorBoardLogger

from {{ cookiecutter.package }}.callbacks.decision_boundary import DecisionBoundary
from {{ cookiecutter.package }}.callbacks.idle_hooks import (
    TRAINING_STEP_HOOKS,
    silence_idle_hooks,
)
from {{ cookiecutter.package }}.support.build import (
    build_callbacks,
    build_trainer,
    with_task_monitors,
)


def called_hooks(trainer: L.Trainer, hooks) -> set[tuple[str, str]]:
    return {
        (type(callback).__name__, hook)
        for callback in trainer.callbacks
        for hook in hooks
        if callable(getattr(callback, hook))
    }


def trainer_of(train_config, *overrides: str) -> L.Trainer:
    cfg = train_config(*QUIET, *overrides)
    with_task_monitors(cfg, "binary")  # as train does once the data is read: heart is binary
    return build_trainer(cfg.trainer, build_callbacks(cfg.callbacks, cfg.dropout_schedule), [])


def test_a_training_step_calls_three_callback_hooks_by_default(train_config):
    # Of 13 callbacks x 6 hooks: the loss check, the bar and the decision boundary's points.
    assert called_hooks(trainer_of(train_config), TRAINING_STEP_HOOKS) == {
        ("StopOnNonFiniteLoss", "on_before_backward"),
        ("TimedProgressBar", "on_train_batch_end"),
        ("DecisionBoundary", "on_train_batch_end"),
    }


def test_hooks_with_work_in_their_setting_are_kept(train_config):
    trainer = trainer_of(
        train_config,
        "callbacks.step_checkpoint.every_n_train_steps=5",
        "scheduler=one_cycle",  # its learning rate changes every step, so it is logged every step
    )
    called = called_hooks(trainer, TRAINING_STEP_HOOKS)
    assert ("ModelCheckpoint", "on_train_batch_end") in called
    assert ("LearningRateMonitor", "on_train_batch_start") in called


def test_only_the_checkpoint_that_never_saves_loses_its_epoch_hooks(train_config):
    trainer = trainer_of(train_config)  # the step checkpoint at every_n_train_steps 0
    # best.ckpt, last.ckpt after every epoch, the step checkpoint: whether each keeps its hooks.
    assert [
        (checkpoint.filename, callable(checkpoint.on_train_epoch_end))
        for checkpoint in trainer.checkpoint_callbacks
    ] == [("best", True), ("last", True), ("last", False)]
    assert not callable(trainer.checkpoint_callbacks[2].on_validation_end)


def test_a_hook_set_on_the_object_is_not_silenced():
    calls = []
    callback = L.Callback()
    callback.on_train_batch_end = lambda *args: calls.append(args)
    trainer = L.Trainer(callbacks=[callback], logger=False, enable_progress_bar=False)
    silence_idle_hooks(trainer)
    assert callable(callback.on_train_batch_end)
    assert callback.on_before_backward is None


def test_the_decision_boundary_keeps_batches_only_where_it_draws(tmp_path):
    """Its per-step hook is silenced once training starts on a table it cannot draw, and comes
    back for one it can (the same callback object, e.g. a later fit)."""
    boundary = DecisionBoundary()
    writer = TensorBoardLogger(tmp_path)
    trainer = SimpleNamespace(is_global_zero=True, loggers=[writer])

    def start(input_size: int, task: str = "binary", numbers: int | None = None) -> None:
        numbers = input_size if numbers is None else numbers
        hparams = SimpleNamespace(input_size=input_size, task=task, numbers=numbers)
        boundary.on_train_start(trainer, SimpleNamespace(hparams=hparams))

    start(29)
    assert boundary.on_train_batch_end is None
    start(2)
    assert callable(boundary.on_train_batch_end)
    batch = (torch.zeros(4, 2), torch.ones(4))
    boundary.on_train_batch_end(trainer, None, None, batch, 0)
    assert len(boundary._points) == 1
    start(2, "regression")
    assert boundary.on_train_batch_end is None
    start(2, numbers=1)  # a number and a category's embedding code: no plane to draw
    assert boundary.on_train_batch_end is None
