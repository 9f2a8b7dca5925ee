"""Shared fixtures: compose the package's own configs the way the apps do."""

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.package }}.configs import load_choice
from {{ cookiecutter.package }}.model.losses import CONTRACT_KEY

PACKAGE = "{{ cookiecutter.package }}"
CONFIG_DIR = Path(str(files(PACKAGE) / "configs"))
# Overrides for a run whose console output no test reads: no progress bars, no model summary.
QUIET = ("callbacks.progress_bar.refresh_rate=0", "trainer.enable_model_summary=false")


def compose_config(config_name: str, overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides)


# A table of each task, to try a loss on a task it trains.
DATA_OF_TASK = {"binary": "heart", "multiclass": "wine", "regression": "diabetes"}


def data_for_loss(choice: str) -> list[str]:
    """The `data=` override that gives loss `choice` the first task its file says it trains
    (nothing for loss=auto, which follows the task)."""
    trains = load_choice("loss", choice).get(CONTRACT_KEY)
    return [f"data={DATA_OF_TASK[next(iter(trains))]}"] if trains else []


def table_left_to_user(choice: str) -> bool:
    """Whether data config `choice` leaves the file or its target to the user (data=csv)."""
    data = compose_config("train", [f"data={choice}"]).data
    return any(OmegaConf.is_missing(data, key) for key in ("path", "target"))


@pytest.fixture
def train_config(tmp_path):
    """Compose the train config with the given overrides, writing into a temporary run directory."""

    def make(*overrides: str) -> DictConfig:
        return compose_config("train", [f"run_dir={tmp_path}", *overrides])

    return make


def run_app(app: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m <package>.<app> args...` as a user would, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{app}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def finished_sweep(tmp_path_factory):
    """`train -m optimizer=sgd,adam` from the command line, as in the README: two short runs."""
    workdir = tmp_path_factory.mktemp("sweep")
    sweep = workdir / "sweep"
    result = run_app(
        "train",
        "-m",
        "optimizer=sgd,adam",
        "model.hidden_sizes=[8]",
        "trainer.max_epochs=2",
        *QUIET,
        f"hydra.sweep.dir={sweep}",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep, result


def snapshot(run_dir: Path) -> dict[str, bytes]:
    """Every file of a run directory, by its path in it, with its bytes (Hydra's log included)."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }
