"""Experiment trackers beside TensorBoard: CSV and MLflow, alone or together. MLflow's runs are read
back with its own client; what only TensorBoard can show is left out quietly for the others and
kept when TensorBoard is one of several."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import PACKAGE, QUIET, compose_config
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.support.hparams import flat_hparams
from {{ cookiecutter.package }}.support.reports import mlflow_view
from {{ cookiecutter.package }}.train import train

ARTIFACTS = [".hydra/config.yaml", "checkpoints/best.ckpt", "metrics.json"]


def run_train(*args: str, cwd: Path, after: str = "") -> subprocess.CompletedProcess:
    """`train args...` as a user runs it, in a fresh process without MLFLOW_TRACKING_URI (which
    would replace the default store); `after` is Python run in that process once train is done,
    before it exits with train's exit code."""
    code = (
        "import sys\n"
        f"sys.argv = ['train', *{list(args)!r}]\n"
        f"from {PACKAGE} import train\n"
        "try:\n    train.main()\n    code = 0\nexcept SystemExit as stop:\n    code = stop.code\n"
        + after
        + "sys.exit(code)\n"
    )
    env = {name: value for name, value in os.environ.items() if name != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def events_of(run_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    return events


def artifact_files(client: MlflowClient, run_id: str, folder: str | None = None) -> list[str]:
    files = []
    for entry in client.list_artifacts(run_id, folder):
        files += artifact_files(client, run_id, entry.path) if entry.is_dir else [entry.path]
    return sorted(files)


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    """A SQLite store under the test's folder. MLflow exports the URI it is given as
    MLFLOW_TRACKING_URI; setting it here first makes pytest remove it again afterwards."""
    uri = f"sqlite:///{tmp_path}/tracking/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def test_mlflow_beside_tensorboard_records_the_run_in_both(tmp_path):
    """The README's command, with the default store: logs/mlflow.db and logs/mlartifacts."""
    result = run_train(
        "logger=[tensorboard,mlflow]",
        "trainer.max_epochs=3",
        *QUIET,
        "hydra.run.dir=run",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "run"
    database = tmp_path / "logs" / "mlflow.db"
    assert f"tensorboard --logdir {run_dir}" in result.stdout
    assert f"mlflow ui --backend-store-uri sqlite:///{database}" in result.stdout
    assert not (tmp_path / "mlruns").exists()  # MLflow's own default, in the working folder

    client = MlflowClient(f"sqlite:///{database}")
    experiment = client.get_experiment_by_name("train")
    assert experiment.artifact_location == str(tmp_path / "logs" / "mlartifacts")
    [run] = client.search_runs([experiment.experiment_id])
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "run"
    assert run.data.tags["run_dir"] == str(run_dir)
    # The params are the HParams table's, by the same readable names.
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    config.run_dir = str(run_dir)  # recorded as ${hydra:runtime.output_dir}
    assert run.data.params == {name: str(value) for name, value in flat_hparams(config).items()}
    assert run.data.params["optimizer"] == "Adam"
    assert run.data.params["hidden_sizes"] == "[16]"
    assert run.data.params["max_epochs"] == "3"
    # Every epoch's metrics: the same points as TensorBoard's curves.
    events = events_of(run_dir)
    for name in ("train/loss", "val/loss", "val/auroc", "best_val/loss"):
        history = client.get_metric_history(run_id, name)
        points = [(point.step, pytest.approx(point.value)) for point in events.Scalars(name)]
        assert [(point.step, point.value) for point in history] == points, name
    assert len(client.get_metric_history(run_id, "val/loss")) == 3
    tested = json.loads((run_dir / "metrics.json").read_text())
    assert {name: run.data.metrics[name] for name in tested} == pytest.approx(tested)
    # The config, the test metrics and the checkpoint they came from.
    assert artifact_files(client, run_id) == ARTIFACTS
    copies = Path(client.download_artifacts(run_id, "", str(tmp_path / "downloaded")))
    for name in ARTIFACTS:
        assert (copies / name).read_bytes() == (run_dir / name).read_bytes(), name
    # TensorBoard keeps what only it can show.
    assert "_hparams_/experiment" in events.PluginTagToContent("hparams")
    assert "custom_scalars__config__" in events.PluginTagToContent("custom_scalars")
    assert events.Tags()["images"] == ["test/confusion_matrix", "test/precision_recall"]
    assert "test/pr_curve" in events.Tags()["tensors"]


def test_mlflow_alone_trains_without_tensorboard_and_without_warnings(tmp_path, tracking_uri):
    """On two inputs, where TensorBoard would also get the decision boundary."""
    run_dir = tmp_path / "run"
    cfg = compose_config(
        "train",
        [
            f"run_dir={run_dir}",
            *QUIET,
            "logger=mlflow",
            f"logger.mlflow.tracking_uri={tracking_uri}",
            "data=moons",
            "data.demo_options.rows=200",
            "trainer.max_epochs=2",
        ],
    )
    check_config(cfg)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tested = train(cfg)
    # Deprecation notices are between libraries (MLflow's of SQLAlchemy's, Lightning's of torch's,
    # whatever their category); nothing else, e.g. about a missing TensorBoard, may reach the user.
    shown = [
        f"{w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if not issubclass(w.category, DeprecationWarning) and "is deprecated" not in str(w.message)
    ]
    assert shown == []
    assert not list(run_dir.glob("events.out.tfevents.*"))

    client = MlflowClient(tracking_uri)
    [run] = client.search_runs([client.get_experiment_by_name("train").experiment_id])
    assert run.data.params["data.demo"] == "moons"
    assert len(client.get_metric_history(run.info.run_id, "train/loss")) == 2
    assert run.data.metrics["test/auroc"] == pytest.approx(tested["test/auroc"])
    # No .hydra/config.yaml outside a Hydra app (the compose API): the others still go.
    assert artifact_files(client, run.info.run_id) == ["checkpoints/best.ckpt", "metrics.json"]


def test_csv_beside_tensorboard_writes_each_epoch_and_never_imports_mlflow(tmp_path):
    result = run_train(
        "logger=[tensorboard,csv]",
        "trainer.max_epochs=3",
        *QUIET,
        "hydra.run.dir=run",
        cwd=tmp_path,
        after="assert 'mlflow' not in sys.modules, 'mlflow was imported'\n",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / "run"
    table = run_dir / "csv" / "metrics.csv"
    assert f"The metrics as a table: {table}" in result.stdout
    assert f"tensorboard --logdir {run_dir}" in result.stdout
    assert not (tmp_path / "logs").exists()

    rows = pd.read_csv(table)
    for name in ("train/loss", "val/loss", "val/auroc"):
        assert rows.dropna(subset=[name])["epoch"].tolist() == [0, 1, 2], name
    tested = json.loads((run_dir / "metrics.json").read_text())
    last = rows.dropna(subset=["test/loss"]).iloc[-1]
    assert {name: last[name] for name in tested} == pytest.approx(tested)
    events = events_of(run_dir)
    assert "_hparams_/experiment" in events.PluginTagToContent("hparams")
    assert events.Tags()["images"] == ["test/confusion_matrix", "test/precision_recall"]


@pytest.mark.parametrize(
    "choice", ["logger=tensorboard", "logger=csv", "logger=mlflow", "logger=[tensorboard,csv]"]
)
def test_logger_choices_compose_into_one_entry_each(choice, train_config):
    cfg = train_config(choice)
    check_config(cfg)
    names = choice.split("=")[1].strip("[]").split(",")
    assert list(cfg.logger) == names
    assert all("_target_" in cfg.logger[name] for name in names)


@pytest.mark.parametrize("uri", ["", " ", "sqlite://", "sqlite:///", "sqlite:///?timeout=5"])
def test_a_tracking_uri_without_a_store_is_refused(train_config, uri):
    cfg = train_config("logger=[tensorboard,mlflow]")
    cfg.logger.mlflow.tracking_uri = uri
    with pytest.raises(UserError, match="logger.mlflow.tracking_uri=.*sqlite:///logs/mlflow.db"):
        check_config(cfg)


def test_a_sqlite_file_under_a_regular_file_is_refused(train_config, tmp_path):
    (tmp_path / "blocker").write_text("not a folder")
    cfg = train_config(
        "logger=mlflow", f"logger.mlflow.tracking_uri=sqlite:///{tmp_path}/blocker/m.db"
    )
    with pytest.raises(UserError, match=r"logger.mlflow.tracking_uri=.*cannot write .*blocker"):
        check_config(cfg)


def test_mlflow_missing_is_refused_with_the_install_command(train_config, monkeypatch):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else found(name, *a)
    )
    with pytest.raises(UserError, match=r"logger=mlflow needs MLflow.*\.\[mlflow\]"):
        check_config(train_config("logger=mlflow"))


def test_an_empty_tracking_uri_is_one_line_and_writes_nothing(tmp_path):
    result = run_train(
        "logger=mlflow",
        "logger.mlflow.tracking_uri=''",
        "hydra.run.dir=run",
        cwd=tmp_path,
        after="assert 'torch' not in sys.modules, 'torch was imported'\n",
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: logger.mlflow.tracking_uri='' is not allowed: expected")
    assert not (tmp_path / "run").exists() and not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("http://127.0.0.1:5000", "Compare the runs in MLflow: http://127.0.0.1:5000"),
        (
            "sqlite:///logs/mlflow.db",
            "mlflow ui --backend-store-uri sqlite:///<cwd>/logs/mlflow.db",
        ),
        ("postgresql://me@db/mlflow", "mlflow ui --backend-store-uri postgresql://me@db/mlflow"),
    ],
)
def test_the_mlflow_hint_fits_the_store(uri, shown):
    assert shown.replace("<cwd>", str(Path.cwd())) in mlflow_view(uri, "train")
