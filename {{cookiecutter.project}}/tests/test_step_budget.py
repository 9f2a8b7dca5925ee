"""The step budget: the run's length in optimizer steps, rounded up to whole epochs."""

import pandas
import pytest
from conftest import QUIET

from {{ cookiecutter.package }}.support.step_budget import budgeted_epochs, steps_per_epoch
from {{ cookiecutter.package }}.train import train


def test_the_budget_is_rounded_up_to_whole_epochs_and_never_passes_max_epochs():
    assert steps_per_epoch(train_rows=1000, batch_size=256) == 4
    assert steps_per_epoch(train_rows=1000, batch_size=256, accumulate_grad_batches=3) == 2
    assert budgeted_epochs(max_epochs=200, step_budget=2000, steps_per_epoch=137) == 15
    assert budgeted_epochs(max_epochs=10, step_budget=2000, steps_per_epoch=137) == 10
    assert budgeted_epochs(max_epochs=200, step_budget=None, steps_per_epoch=137) == 200
    assert budgeted_epochs(max_epochs=200, step_budget=5, steps_per_epoch=137) == 1


def test_a_run_ends_with_its_budget_validated_and_annealed(train_config, tmp_path, capsys):
    # The heart table: 7 steps an epoch, so a budget of 10 steps is 2 whole epochs (14 steps),
    # and warmup_cosine anneals to its end over those 14.
    train(
        train_config(
            *QUIET,
            "step_budget=10",
            "scheduler=warmup_cosine",
            "logger=csv",
            "trainer.max_epochs=50",
        )
    )
    out = capsys.readouterr().out
    assert "training: up to 2 epochs of 7 steps (step_budget=10 steps;" in out
    assert "Trained all 2 epochs (max_epochs), ending at step 14." in out
    logged = pandas.read_csv(tmp_path / "csv" / "metrics.csv")
    validated = logged.dropna(subset=["val/loss"])
    assert validated[["epoch", "step"]].values.tolist() == [[0, 6], [1, 13]]
    learning_rates = logged.dropna(subset=["lr-Adam"])["lr-Adam"].tolist()
    assert len(learning_rates) == 14 and learning_rates[-1] == pytest.approx(0, abs=1e-4)
