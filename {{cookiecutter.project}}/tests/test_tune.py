"""tune: an Optuna study of train runs that prunes, continues in its run directory, and hands back
its best trial as a command line and an experiment file."""

import io
import os
import shlex
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import optuna
import pytest
import torch
from conftest import CONFIG_DIR, run_app
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.support.config_checks import check_tune_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.tune import (
    STUDY_NAME,
    TUNE_KEYS,
    experiment_yaml,
    judged_by,
    open_study,
    override_text,
    train_overrides,
    tune,
)

# Two epochs of two batches: the study's mechanics, not a real search.
SHORT = ["trainer.max_epochs=2", "+trainer.limit_train_batches=2"]


def load(run_dir: Path) -> optuna.Study:
    return optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{run_dir / 'study.db'}")


def compose_tune(*overrides: str):
    return compose(config_name="tune", overrides=list(overrides))


@pytest.fixture(scope="module")
def twice_tuned(tmp_path_factory):
    """`tune n_trials=3` twice in the same run directory: first as a user types it, then (to
    spare a second start of Python) through the same `tune` function in this process."""
    workdir = tmp_path_factory.mktemp("tune")
    run_dir = workdir / "study"
    typed = ["n_trials=3", *SHORT]
    first = run_app("tune", *typed, f"hydra.run.dir={run_dir}", cwd=workdir)
    assert first.returncode == 0, first.stderr[-3000:]
    printed = io.StringIO()
    with (
        initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"),
        redirect_stdout(printed),
    ):
        tune(compose_tune(f"run_dir={run_dir}", *typed), typed)
    return run_dir, [first.stdout, printed.getvalue()]


def test_two_runs_of_three_trials_leave_one_study_of_six(twice_tuned):
    run_dir, printed = twice_tuned
    study = load(run_dir)
    assert [trial.number for trial in study.trials] == list(range(6))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert "3 trials, 3 complete, 0 pruned, 0 failed" in printed[0]
    assert "6 trials, 6 complete, 0 pruned, 0 failed" in printed[1]
    # The continued study drew new settings instead of repeating the first three.
    drawn = [tuple(sorted(trial.params.items())) for trial in study.trials]
    assert len(set(drawn)) == 6
    assert {"lr", "hidden_sizes", "dropout"} == set(study.trials[0].params)


def test_each_trial_is_a_train_run_with_its_own_tensorboard_run(twice_tuned):
    run_dir, _ = twice_tuned
    for trial in load(run_dir).trials:
        trial_dir = Path(trial.user_attrs["run_dir"])
        assert trial_dir == run_dir / "trials" / f"{trial.number:03d}"
        assert (trial_dir / "metrics.json").is_file()
        events = EventAccumulator(str(trial_dir))
        events.Reload()
        # The trial's value is the validation loss of its best checkpoint.
        assert trial.value == pytest.approx(min(p.value for p in events.Scalars("val/loss")))
        assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")
        tested = events.Scalars("test/auroc")[0].value
        assert trial.user_attrs["test/auroc"] == pytest.approx(tested)
    first = load(run_dir).trials[0]  # run by the tune command: its record is Hydra's own format
    recorded = OmegaConf.load(run_dir / "trials" / "000" / ".hydra" / "overrides.yaml")
    assert list(recorded) == [*SHORT, *first.user_attrs["overrides"]]
    checkpoint = torch.load(trial_dir / "checkpoints" / "best.ckpt", weights_only=True)
    dropout = checkpoint["hyper_parameters"]["model"]["dropout"]
    assert dropout == pytest.approx(trial.params["dropout"])


def test_the_best_trial_is_printed_and_saved_as_an_experiment(twice_tuned, tmp_path):
    run_dir, printed = twice_tuned
    best = load(run_dir).best_trial
    params = best.params
    command = printed[1].split("Train it again:\n  ", 1)[1].splitlines()[0]
    # The network's settings (configs/search_space/mlp.yaml) come before tune.yaml's lr.
    assert shlex.split(command) == [
        "{{ cookiecutter.project }}-train",
        *SHORT,
        f"model.hidden_sizes={params['hidden_sizes']}",
        f"model.dropout={params['dropout']!r}",
        f"optimizer.lr={params['lr']!r}",
    ]
    shown = run_app(
        "train",
        "--config-dir",
        str(run_dir / "configs"),
        "experiment=tuned",
        "--cfg",
        "job",
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    cfg = OmegaConf.create(shown.stdout)
    assert cfg.optimizer.lr == best.params["lr"]
    assert override_text(list(cfg.model.hidden_sizes)) == best.params["hidden_sizes"]
    assert cfg.model.dropout == best.params["dropout"]
    assert cfg.trainer.limit_train_batches == 2


def test_trials_that_cannot_win_are_pruned(tmp_path, capsys):
    """A pruner that prunes every trial after its first epoch: no trial trains to the end."""
    overrides = [f"run_dir={tmp_path}", "n_trials=2", *SHORT]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose_tune(*overrides)
        cfg.pruner = OmegaConf.create({"_target_": "optuna.pruners.ThresholdPruner", "upper": 0.0})
        study = tune(cfg, overrides)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    for trial in study.trials:
        trial_dir = Path(trial.user_attrs["run_dir"])
        events = EventAccumulator(str(trial_dir))
        events.Reload()
        assert len(events.Scalars("val/loss")) == 1  # stopped after its first epoch
        assert not (trial_dir / "metrics.json").exists()
    assert "No trial has finished yet" in capsys.readouterr().out
    assert not (tmp_path / "configs").exists()


def test_a_study_continues_only_with_the_metric_it_was_judged_by(tmp_path):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        first = compose_tune(f"run_dir={tmp_path}")
        open_study(first, tmp_path, *judged_by(first))
        other = compose_tune(f"run_dir={tmp_path}", "callbacks.model_checkpoint.monitor=val/auroc")
        with pytest.raises(
            UserError,
            match="judged by val/loss .minimize.; this command asks for val/auroc .maximize.",
        ):
            open_study(other, tmp_path, *judged_by(other))


@pytest.mark.parametrize(
    ("overrides", "judged"),
    [
        ([], ("val/loss", "min")),  # heart: binary
        (["data=wine"], ("val/acc", "max")),  # the task read from the data
        (["data=wine", "data.task=regression"], ("val/loss", "min")),  # the task as given
        (["data=wine", "callbacks.model_checkpoint.monitor=val/f1"], ("val/f1", "max")),
    ],
)
def test_trials_are_judged_by_what_auto_stands_for_in_train(tmp_path, overrides, judged):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        assert judged_by(compose_tune(f"run_dir={tmp_path}", *overrides)) == judged


def test_a_mode_that_does_not_fit_what_auto_became_is_refused_before_the_study(tmp_path):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose_tune(
            f"run_dir={tmp_path}", "data=wine", "callbacks.model_checkpoint.mode=min"
        )
    with pytest.raises(UserError, match="mode='min' does not fit val/acc, which is better when"):
        judged_by(cfg)
    assert not (tmp_path / "study.db").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["n_trials=0"], "n_trials=0 is not allowed"),
        (
            ["optimizer.lr=0.01"],
            "optimizer.lr is set on the command line and searched by search_space.lr",
        ),
        (
            ["search_space.dropout.high=1.0"],
            "search_space.dropout reaches a value train refuses: model.dropout=1.0",
        ),
        (["search_space.lr.low=0"], "search_space.lr.low=0 is not allowed with log: true"),
        (["search_space.lr.low=0.5"], "low=0.5 high=0.1 is not allowed"),
        (["+search_space.lr.steps=3"], "search_space.lr.steps is not a search setting"),
        (
            ["+search_space.optimizer={key: optimizer, choices: [adam, lion]}"],
            "optimizer=lion, which is not a file of configs/optimizer/",
        ),
        (["search_space.hidden_sizes.choices=[]"], "search_space.hidden_sizes.choices"),
        (["trainer=ddp"], "tune runs its trials one after another in this process"),
        (["callbacks.model_checkpoint.monitor=null"], "set callbacks.model_checkpoint.monitor"),
    ],
)
def test_bad_study_settings_are_refused_before_any_trial(tmp_path, overrides, message):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose_tune(f"run_dir={tmp_path}", *overrides)
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        check_tune_config(cfg, overrides)


def test_a_group_can_be_searched(tmp_path):
    overrides = ["+search_space.optimizer={key: optimizer, choices: [sgd, adam, rmsprop]}"]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        check_tune_config(compose_tune(f"run_dir={tmp_path}", *overrides), overrides)


def test_tune_keys_are_the_keys_train_does_not_have():
    tune_keys = set(OmegaConf.load(CONFIG_DIR / "tune.yaml")) - {"defaults"}
    train_keys = set(OmegaConf.load(CONFIG_DIR / "train.yaml"))
    assert tune_keys - train_keys - {"callbacks", "trainer"} == set(TUNE_KEYS)


def test_the_study_settings_stay_out_of_the_trials_command_line():
    typed = [
        "n_trials=5",
        "search_space.lr.high=0.01",
        "~search_space.dropout",
        "sampler.n_startup_trials=2",
        "pruner.n_warmup_steps=1",
        "trainer.max_epochs=9",
        "experiment=heart_disease",
    ]
    assert train_overrides(typed) == ["trainer.max_epochs=9", "experiment=heart_disease"]


def test_experiment_file_of_overrides():
    text = experiment_yaml(
        [
            "experiment=heart_disease",
            "optimizer=sgd",
            "optimizer.lr=0.05",
            "model.hidden_sizes=[64,32]",
            "+trainer.limit_train_batches=2",
            "~callbacks.early_stopping",
        ],
        "# header\n",
    )
    assert text.startswith("# @package _global_\n# header\n")
    assert OmegaConf.create(text) == OmegaConf.create(
        {
            "defaults": ["/experiment/heart_disease", "override /optimizer: sgd", "_self_"],
            "optimizer": {"lr": 0.05},
            "model": {"hidden_sizes": [64, 32]},
            "trainer": {"limit_train_batches": 2},
        }
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [([64, 32], "[64,32]"), (True, "true"), (None, "null"), (0.001, "0.001"), ("adam", "adam")],
)
def test_override_text(value, text):
    assert override_text(value) == text


def test_console_script_is_installed(tmp_path):
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    script = shutil.which("{{ cookiecutter.project }}-tune", path=search)
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert "search_space" in result.stdout
