"""`experiment=...` sets up a whole run from one file; `debug=...` makes a quick check of one."""

import pytest
import torch
from conftest import CONFIG_DIR, QUIET, compose_config, run_app
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.support.build import build_datamodule, build_module
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

EXPERIMENTS = sorted(f.stem for f in (CONFIG_DIR / "experiment").glob("*.yaml"))
DEBUG = sorted(f.stem for f in (CONFIG_DIR / "debug").glob("*.yaml"))


def data_of(experiment: str) -> str | None:
    """The data config an experiment file chooses (`override /data: <name>`), if it does."""
    config = OmegaConf.load(CONFIG_DIR / "experiment" / f"{experiment}.yaml")
    defaults = OmegaConf.to_container(config.get("defaults", []))
    chosen = [
        entry["override /data"]
        for entry in defaults
        if isinstance(entry, dict) and "override /data" in entry
    ]
    return chosen[0] if chosen else None


def table_left_to_fill(cfg) -> bool:
    """An experiment that is a template (your_csv): the file and its target left as `???`."""
    return any(OmegaConf.is_missing(cfg.data, key) for key in ("path", "target"))


def test_the_shipped_experiments_and_quick_checks_are_there():
    assert {"heart_disease", "moons", "your_csv"} <= set(EXPERIMENTS)
    assert {"fast_dev_run", "limit", "overfit", "profiler"} <= set(DEBUG)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiments_choose_data_configs_that_exist(experiment):
    data = data_of(experiment)
    assert data is None or (CONFIG_DIR / "data" / f"{data}.yaml").is_file()


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_passes_checks(tmp_path, experiment):
    """A template experiment asks for its table, then passes once it is given one."""
    overrides = [f"run_dir={tmp_path}", f"experiment={experiment}"]
    cfg = compose_config("train", overrides)
    if table_left_to_fill(cfg):
        with pytest.raises(UserError, match="data.path is required|data.target is required"):
            check_config(cfg)
        cfg = compose_config("train", [*overrides, "data.path=table.csv", "data.target=label"])
    check_config(cfg)
    assert cfg.task_name == "train"


def test_heart_disease_is_the_lecture_network(tmp_path):
    cfg = compose_config("train", [f"run_dir={tmp_path}", "experiment=heart_disease"])
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    linear = [
        m for m in build_module(cfg, datamodule).net.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert [(m.in_features, m.out_features) for m in linear] == [(29, 16), (16, 1)]
    assert cfg.model.activation == "relu"
    assert cfg.loss._target_ == "torch.nn.BCEWithLogitsLoss"


def test_moons_is_deeper_and_draws_its_boundary(tmp_path):
    cfg = compose_config("train", [f"run_dir={tmp_path}", "experiment=moons"])
    assert len(cfg.model.hidden_sizes) >= 2
    assert cfg.callbacks.decision_boundary.every_n_epochs == 10


def test_your_csv_asks_for_the_file_and_its_target(tmp_path):
    result = run_app("train", "experiment=your_csv", f"hydra.run.dir={tmp_path}", cwd=tmp_path)
    assert result.returncode != 0
    assert "data.path" in result.stderr


@pytest.mark.parametrize("debug", DEBUG)
def test_debug_runs_go_to_their_own_folder(tmp_path, debug):
    cfg = compose_config("train", [f"run_dir={tmp_path}", f"debug={debug}"])
    check_config(cfg)
    assert cfg.task_name == "debug"


def steps_of(run_dir) -> int:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]


def test_fast_dev_run_runs_one_batch_and_keeps_nothing(train_config, tmp_path):
    metrics = train(train_config(*QUIET, "debug=fast_dev_run"))
    assert "test/loss" in metrics
    assert not (tmp_path / "checkpoints").exists()
    assert not list(tmp_path.glob("events.out.tfevents.*"))


def test_limit_cuts_every_epoch_short(train_config, tmp_path):
    train(train_config(*QUIET, "debug=limit"))
    assert steps_of(tmp_path) == 3 * 5


def test_overfit_learns_one_batch(train_config, tmp_path):
    train(train_config(*QUIET, "debug=overfit", "trainer.max_epochs=30"))
    assert steps_of(tmp_path) == 30  # one batch per epoch
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    loss = [point.value for point in events.Scalars("train/loss")]
    assert loss[-1] < 0.8 * loss[0]


def test_profiler_writes_its_report(train_config, tmp_path):
    train(train_config(*QUIET, "debug=profiler", "trainer.max_epochs=1"))
    assert "FIT Profiler Report" in (tmp_path / "fit-profile.txt").read_text()
