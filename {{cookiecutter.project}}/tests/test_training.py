"""Training runs end to end: every choice trains, and a real run leaves what the README promises."""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import CONFIG_DIR, QUIET, run_app
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.train import train

OPTIMIZERS = sorted(f.stem for f in (CONFIG_DIR / "optimizer").glob("*.yaml"))
REGRESSION_LOSSES = ["quantile"]  # the heart task is binary: these train on a regression table
LOSSES = sorted(
    f.stem for f in (CONFIG_DIR / "loss").glob("*.yaml") if f.stem not in REGRESSION_LOSSES
)
SCHEDULERS = sorted(f.stem for f in (CONFIG_DIR / "scheduler").glob("*.yaml"))
DROPOUT_SCHEDULES = sorted(f.stem for f in (CONFIG_DIR / "dropout_schedule").glob("*.yaml"))
ACTIVATIONS = ["relu", "leaky_relu", "gelu", "elu", "selu", "silu", "sigmoid", "tanh"]


def smoke_test(train_config, *overrides: str) -> dict[str, float]:
    cfg = train_config("trainer.fast_dev_run=true", *QUIET, *overrides)
    metrics = train(cfg)
    assert {"test/loss", "test/acc", "test/auroc", "test/f1"} <= set(metrics)
    assert math.isfinite(metrics["test/loss"])
    return metrics


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains(train_config, optimizer):
    smoke_test(train_config, f"optimizer={optimizer}")


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains(train_config, loss):
    smoke_test(train_config, f"loss={loss}")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_trains(train_config, activation):
    smoke_test(
        train_config,
        f"model.activation={activation}",
        "model.dropout=0.2",
        "model.hidden_sizes=[8,4]",
    )


def test_torch_threads_setting_is_applied(train_config):
    torch.set_num_threads(2)
    smoke_test(train_config, "torch_threads=1")
    assert torch.get_num_threads() == 1


def test_logistic_regression_trains(train_config):
    smoke_test(train_config, "model.hidden_sizes=[]")


@pytest.mark.parametrize("schedule", DROPOUT_SCHEDULES)
def test_every_dropout_schedule_trains(train_config, schedule):
    smoke_test(train_config, f"dropout_schedule={schedule}", "model.dropout=0.3")


def test_gradient_clipping_trains(train_config):
    smoke_test(train_config, "trainer.gradient_clip_val=0.5")
    smoke_test(
        train_config, "trainer.gradient_clip_val=0.1", "trainer.gradient_clip_algorithm=value"
    )


def test_weighted_losses_train(train_config):
    smoke_test(train_config, "loss=bce", "loss.pos_weight=2.5")
    smoke_test(
        train_config, "loss=cross_entropy", "loss.weight=[1.0,2.0]", "loss.label_smoothing=0.2"
    )


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_trains_logs_the_lr_and_checkpoints_safely(
    train_config, tmp_path, scheduler
):
    """Two real epochs (checkpoints are skipped by fast_dev_run): the scheduler's state must load
    with weights_only=True for `ckpt_path=last` to resume it. The learning rate is logged as often
    as the scheduler changes it: every step, or once an epoch (a constant one too)."""
    cfg = train_config(
        *QUIET,
        f"scheduler={scheduler}",
        "trainer.max_epochs=2",
        "+trainer.limit_train_batches=2",
        "+trainer.limit_val_batches=1",
    )
    train(cfg)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert len(checkpoint["lr_schedulers"]) == (scheduler != "none")
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    per_step = (cfg.scheduler or {}).get("interval") == "step"
    assert len(events.Scalars("lr-Adam")) == (4 if per_step else 2)


@pytest.fixture(scope="module")
def regression_table(tmp_path_factory):
    """A small synthetic regression table: y = 2 a - b + noise."""
    generator = torch.Generator().manual_seed(0)
    a, b, noise = torch.randn(3, 120, generator=generator)
    path = tmp_path_factory.mktemp("table") / "regression.csv"
    frame = pd.DataFrame({"a": a, "b": b, "y": 2 * a - b + 0.1 * noise})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("loss", ["quantile", "mse", "l1", "huber"])
def test_regression_losses_train(train_config, regression_table, loss):
    metrics = train(
        train_config(
            "trainer.fast_dev_run=true",
            *QUIET,
            f"loss={loss}",
            f"data.path={regression_table}",
            "data.target=y",
            "data.task=regression",
            "data.numeric=[a,b]",
            "data.categorical=[]",
            "data.categories=null",
        )
    )
    assert {"test/loss", "test/mse", "test/mae", "test/r2"} <= set(metrics)
    assert math.isfinite(metrics["test/loss"])


def test_same_seed_gives_identical_metrics(train_config, tmp_path_factory):
    """Same seed, same machine: the same numbers, dropout and shuffling included."""

    def run(seed: int) -> str:
        run_dir = tmp_path_factory.mktemp("run")
        train(
            train_config(
                *QUIET,
                f"run_dir={run_dir}",
                f"seed={seed}",
                "trainer.max_epochs=2",
                "model.dropout=0.3",
                "dropout_schedule=linear",
            )
        )
        return (run_dir / "metrics.json").read_text()

    first = run(7)
    assert run(7) == first
    assert run(8) != first


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A short real training from the command line, as in the README."""
    workdir = tmp_path_factory.mktemp("project")
    run_dir = workdir / "run"
    result = run_app(
        "train",
        "trainer.max_epochs=3",
        "optimizer=sgd",
        "optimizer.lr=0.05",
        "model.hidden_sizes=[32,16]",
        f"hydra.run.dir={run_dir}",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    return run_dir, result


def test_run_prints_metrics_and_the_tensorboard_command(finished_run):
    run_dir, result = finished_run
    assert "test/auroc" in result.stdout
    assert f"tensorboard --logdir {run_dir}" in result.stdout
    assert "litlogger" not in result.stdout + result.stderr  # Lightning's advertisement


def test_run_writes_metrics_json(finished_run):
    run_dir, _ = finished_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # At 0.5, and at the decision threshold chosen on validation (test_imbalance.py).
    assert set(metrics) == {
        "test/loss",
        "test/acc",
        "test/auroc",
        "test/f1",
        "test/threshold",
        "test/acc_at_threshold",
        "test/f1_at_threshold",
    }
    assert all(isinstance(v, float) for v in metrics.values())


def test_run_writes_train_and_val_curves_per_epoch(finished_run):
    run_dir, _ = finished_run
    events = EventAccumulator(str(run_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "val/loss", "train/auroc", "val/auroc", "test/auroc"} <= tags
    assert len(events.Scalars("train/loss")) == 3
    assert len(events.Scalars("val/loss")) == 3


def test_run_logs_hyperparameters_for_the_hparams_dashboard(finished_run):
    from tensorboard.plugins.hparams import plugin_data_pb2

    run_dir, _ = finished_run
    events = EventAccumulator(str(run_dir))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    session = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert session.hparams["optimizer"].string_value == "SGD"
    assert session.hparams["lr"].number_value == pytest.approx(0.05)
    assert session.hparams["momentum"].number_value == pytest.approx(0.9)
    assert session.hparams["hidden_sizes"].string_value == "[32, 16]"
    assert session.hparams["batch_size"].number_value == 32
    assert session.hparams["max_epochs"].number_value == 3
    assert session.hparams["scheduler"].string_value == "none"
    assert session.hparams["loss"].string_value == "BCEWithLogitsLoss"
    assert "trainer.default_root_dir" not in session.hparams
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/experiment"]
    ).experiment
    metrics = [info.name.tag for info in experiment.metric_infos]
    assert metrics == [
        "best_val/acc",
        "best_val/acc_at_threshold",
        "best_val/auroc",
        "best_val/f1",
        "best_val/f1_at_threshold",
        "best_val/loss",
        "best_val/threshold",
        "test/acc",
        "test/acc_at_threshold",
        "test/auroc",
        "test/f1",
        "test/f1_at_threshold",
        "test/loss",
        "test/threshold",
    ]
    # Every metric of the table is a logged curve; none got an extra point at step 0.
    for metric in metrics:
        assert events.Scalars(metric)[0].step > 0


def test_checkpoints_load_safely(finished_run):
    run_dir, _ = finished_run
    for name in ("best.ckpt", "last.ckpt"):
        checkpoint = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        assert checkpoint["hyper_parameters"]["model"]["hidden_sizes"] == [32, 16]
        assert checkpoint["TabularDataModule"]["preprocessor"]["numeric"][0] == "age"
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]


def test_evaluate_reproduces_the_test_metrics(finished_run, tmp_path):
    run_dir, _ = finished_run
    result = run_app(
        "evaluate",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
        f"hydra.run.dir={tmp_path / 'eval'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    trained = json.loads((run_dir / "metrics.json").read_text())
    evaluated = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert evaluated == pytest.approx(trained, abs=1e-6)
    assert "litmodels" not in result.stdout + result.stderr  # Lightning's advertisement
    assert not (tmp_path / "eval" / "checkpoints").exists()  # testing saves nothing


def test_evaluate_refuses_a_missing_checkpoint(tmp_path):
    result = run_app(
        "evaluate", "ckpt_path=nowhere.ckpt", f"hydra.run.dir={tmp_path}", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "ckpt_path='nowhere.ckpt'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("app", "shown"),
    [
        ("train", "optimizer: adadelta, adagrad, adam, adamw, rmsprop, sgd"),
        ("evaluate", "ckpt_path: ???"),
        ("predict", "input: ???"),
        ("cross-validate", "repeats: 1"),
    ],
)
def test_console_scripts_are_installed(tmp_path, app, shown):
    # Console scripts sit beside the interpreter, whether or not the environment is activated.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    script = shutil.which(f"{{ cookiecutter.project }}-{app}", path=search)
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert shown in result.stdout


@pytest.mark.slow
def test_compiled_model_trains(train_config):
    smoke_test(train_config, "model.compile=true")
