"""Run directories: refuse one that cannot be written, and record a run's configuration in it only
once the run has been accepted.

Hydra creates the run directory itself, before the app's code runs, and a failure there is its own
short traceback. `CheckOutputDir` is a Hydra callback, called just before that, so a run directory
under a regular file gets one `error:` line and exit 2 instead. `train` checks its checkpoint
folders the same way before training, so no epoch is lost to a folder it could never write.

Hydra would also write `.hydra/config.yaml` before the app's code runs, so a refused command pointed
at an existing run's hydra.run.dir would overwrite that run's record. `hydra.output_subdir` is null
(configs/hydra/default.yaml) and the apps write the same three files with `save_run_config`, after
the configuration, the checkpoint and the data have been accepted.
"""

import os
import sys
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .errors import EXIT_USER_ERROR


def unwritable_reason(folder: str | Path) -> str | None:
    """Why `folder` could not be created or written to, or None when it can."""
    existing = Path(folder).absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


class CheckOutputDir(Callback):
    """Check hydra.run.dir (a run) or hydra.sweep.dir (a multirun) before Hydra creates it."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_unwritable("hydra.run.dir", config.hydra.run.dir)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_unwritable("hydra.sweep.dir", config.hydra.sweep.dir)


def _refuse_unwritable(key: str, folder: str) -> None:
    reason = unwritable_reason(folder)
    if reason is not None:
        print(f"error: {key}={folder} cannot be created or written: {reason}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def save_run_config(cfg: DictConfig, run_dir: str) -> None:
    """config.yaml, overrides.yaml and hydra.yaml as Hydra writes them; nothing outside a Hydra app
    (the tests' compose API)."""
    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    folder = Path(run_dir) / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create(list(hydra_cfg.overrides.task)), folder / "overrides.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), folder / "hydra.yaml")
