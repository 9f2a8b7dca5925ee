"""Each dropout schedule's values, and the callback that applies, logs and resumes them."""

import math

import pytest
import torch
from conftest import CONFIG_DIR, QUIET
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from {{ cookiecutter.package }}.callbacks.dropout_scheduler import DropoutScheduler
from {{ cookiecutter.package }}.callbacks.dropout_schedules import SCHEDULES, Clock
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train


def values(schedule: str, total: int = 10, per_epoch: int = 1, **settings) -> list[float]:
    return [
        round(SCHEDULES[schedule](Clock(t, total, per_epoch), **settings), 6) for t in range(total)
    ]


def test_constant():
    assert values("constant", total=3, p=0.3) == [0.3, 0.3, 0.3]


def test_linear_falls_from_start_to_end_over_the_run():
    assert values("linear", start=0.5, end=0.0) == [round(0.5 - t / 18, 6) for t in range(10)]
    assert values("linear", total=3, start=0.1, end=0.3) == [0.1, 0.2, 0.3]


def test_cosine_is_half_a_cosine():
    got = values("cosine", total=5, start=0.5, end=0.1)
    assert got == [
        0.5,
        round(0.1 + 0.2 * (1 + math.cos(math.pi / 4)), 6),
        0.3,
        round(0.1 + 0.2 * (1 + math.cos(3 * math.pi / 4)), 6),
        0.1,
    ]


def test_step_multiplies_every_n_updates():
    assert values("step", total=7, start=0.4, factor=0.5, every=3) == [0.4] * 3 + [0.2] * 3 + [0.1]


def test_curriculum_rises_from_zero_towards_the_target():
    got = values("curriculum", end=0.5, gamma=10.0)
    assert got[0] == 0.0
    assert got == sorted(got)
    assert got[-1] == pytest.approx(0.5 * (1 - math.exp(-10)), abs=1e-6)
    assert got[1] == pytest.approx(0.5 * (1 - math.exp(-10 / 9)), abs=1e-6)


def test_early_dropout_stops_at_the_cutoff():
    assert values("early", p=0.3, cutoff_epoch=4, decay="constant") == [0.3] * 4 + [0.0] * 6
    assert values("early", total=6, p=0.4, cutoff_epoch=4, decay="linear") == [
        0.4,
        0.3,
        0.2,
        0.1,
        0.0,
        0.0,
    ]


def test_late_dropout_starts_at_the_cutoff():
    assert values("late", total=6, p=0.3, cutoff_epoch=4) == [0.0] * 4 + [0.3] * 2


def test_cutoff_is_in_epochs_when_updating_per_step():
    # 3 steps per epoch: the cutoff at epoch 2 is step 6.
    assert (
        values("early", total=9, per_epoch=3, p=0.3, cutoff_epoch=2, decay="constant")
        == [0.3] * 6 + [0.0] * 3
    )
    assert values("late", total=9, per_epoch=3, p=0.3, cutoff_epoch=2) == [0.0] * 6 + [0.3] * 3


def test_every_config_names_a_schedule_with_its_settings():
    for file in sorted((CONFIG_DIR / "dropout_schedule").glob("*.yaml")):
        if file.stem != "none":
            assert f"schedule: {file.stem}" in file.read_text()
    assert {f.stem for f in (CONFIG_DIR / "dropout_schedule").glob("*.yaml")} == {
        "none",
        *SCHEDULES,
    }


def dropout_curve(run_dir) -> list[float]:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return [round(point.value, 4) for point in events.Scalars("dropout/p")]


def short_run(train_config, epochs: int, *overrides: str, batches: int = 1) -> None:
    train(
        train_config(
            f"trainer.max_epochs={epochs}",
            f"+trainer.limit_train_batches={batches}",
            "+trainer.limit_val_batches=1",
            *QUIET,
            *overrides,
        )
    )


def test_linear_schedule_is_the_logged_curve(train_config, tmp_path):
    short_run(
        train_config,
        10,
        "dropout_schedule=linear",
        "dropout_schedule.start=0.5",
        "dropout_schedule.end=0.0",
    )
    assert dropout_curve(tmp_path) == [round(0.5 - t / 18, 4) for t in range(10)]


def test_early_schedule_is_the_logged_curve(train_config, tmp_path):
    short_run(
        train_config,
        8,
        "dropout_schedule=early",
        "model.dropout=0.3",
        "dropout_schedule.cutoff_epoch=4",
    )
    assert dropout_curve(tmp_path) == [0.3] * 4 + [0.0] * 4


def test_per_step_schedule_logs_every_step(train_config, tmp_path):
    short_run(
        train_config,
        2,
        "dropout_schedule=linear",
        "dropout_schedule.interval=step",
        "dropout_schedule.start=0.4",
        batches=3,
    )
    assert dropout_curve(tmp_path) == [round(0.4 - 0.08 * t, 4) for t in range(6)]


class Recorder(torch.nn.Module):
    """A model with two Dropout layers, for the callback alone."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.Dropout(0.1), nn.Dropout(0.1)
        self.logged: list[tuple[str, float]] = []

    def log(self, name: str, value: float, **kwargs) -> None:
        self.logged.append((name, value))


class FakeTrainer:
    current_epoch = 3
    max_epochs = 5
    global_step = 0


def test_callback_sets_every_dropout_layer_and_logs_the_value():
    model = Recorder()
    scheduler = DropoutScheduler("linear", "epoch", start=0.5, end=0.1)
    scheduler.on_fit_start(FakeTrainer(), model)
    scheduler.on_train_start(FakeTrainer(), model)
    scheduler.on_train_epoch_start(FakeTrainer(), model)
    assert model.first.p == model.second.p == pytest.approx(0.2)
    assert model.logged == [("dropout/p", pytest.approx(0.2))]


def test_callback_refuses_a_model_without_dropout():
    with pytest.raises(UserError, match="no torch.nn.Dropout layer"):
        DropoutScheduler("linear", start=0.5, end=0.0).on_fit_start(FakeTrainer(), nn.Linear(2, 1))


def test_state_is_plain_and_a_changed_schedule_is_reported():
    saved = DropoutScheduler("early", p=0.3, cutoff_epoch=4, decay="constant")
    saved.p = 0.3
    state = saved.state_dict()
    assert state == {
        "schedule": "early",
        "interval": "epoch",
        "p": 0.3,
        "settings": {"p": 0.3, "cutoff_epoch": 4, "decay": "constant"},
    }
    same = DropoutScheduler("early", p=0.3, cutoff_epoch=4, decay="constant")
    same.load_state_dict(state)
    assert same.p == 0.3
    with pytest.warns(UserWarning, match="another dropout schedule"):
        DropoutScheduler("linear", start=0.5, end=0.0).load_state_dict(state)
