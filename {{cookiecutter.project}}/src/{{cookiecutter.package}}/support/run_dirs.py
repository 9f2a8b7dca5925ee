"""Run directories: refuse one that cannot be written, let one process write a run at a time,
record a run's configuration in it only once the run has been accepted, and remove what a refused
command left behind.

Hydra creates the run directory itself, before the app's code runs, and a failure there is its own
short traceback. `CheckOutputDir` is a Hydra callback, called just before that, so a run directory
under a regular file gets one `error:` line and exit 2 instead. `train` checks its checkpoint
folders the same way before training, so no epoch is lost to a folder it could never write.

Hydra would also write `.hydra/config.yaml` before the app's code runs, so a refused command pointed
at an existing run's hydra.run.dir would overwrite that run's record. `hydra.output_subdir` is null
(configs/hydra/default.yaml) and the apps write the same three files with `save_run_config`, after
the configuration, the checkpoint and the data have been accepted.
"""

import datetime
import os
import shlex
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .errors import EXIT_USER_ERROR, UserError, is_first_process

# What a refused command undoes (undo_refused_run): the run directory Hydra was about to create
# for it, and the length of an existing run's log before this command appended to it.
_CREATED: list[Path] = []
_LOG_LENGTHS: dict[Path, int | None] = {}
LOCK_FILE = ".lock"


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
        run_dir = Path(config.hydra.run.dir).absolute()
        log = run_dir / f"{config.hydra.job.name}.log"
        if not run_dir.exists():
            _CREATED.append(run_dir)
        else:  # None: this command's log would be a new file in an earlier run's directory
            _LOG_LENGTHS[log] = log.stat().st_size if log.is_file() else None

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
    # Accepted: from here an error is the run's own, and its log and directory are its record.
    _CREATED.clear()
    _LOG_LENGTHS.clear()
    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    folder = Path(run_dir) / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create(list(hydra_cfg.overrides.task)), folder / "overrides.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), folder / "hydra.yaml")


def undo_refused_run() -> None:
    """After a refused command: leave the run directory as it was. A directory Hydra created for
    the command is removed if it holds only Hydra's log; in an earlier run's directory, the lines
    this command appended to a log are cut off again, and a log it started is removed (the refusal
    itself was printed)."""
    for folder in _CREATED:
        if folder.is_dir() and all(p.is_file() and p.suffix == ".log" for p in folder.iterdir()):
            for log in folder.iterdir():
                log.unlink()
            folder.rmdir()
    for log, length in _LOG_LENGTHS.items():
        if length is None:
            log.unlink(missing_ok=True)
        elif log.is_file() and log.stat().st_size > length:
            os.truncate(log, length)


@contextmanager
def one_writer(run_dir: str) -> Iterator[None]:
    """Hold `<run_dir>/.lock` while the block runs: a second process that targets the same run
    directory (train, a resume, cross_validate, tune) is refused at once, naming the holder.

    An advisory `fcntl.flock`: the system releases it when the holder exits, however it exits, so a
    lock left by a killed process never blocks a later resume; the file itself only says who holds
    it. DDP, torchrun and SLURM processes other than the first share their first process's lock.
    Where flock does not exist (Windows) the lock is not taken.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    if not is_first_process():
        yield
        return
    path = Path(run_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        lock = open(path, "a+")  # noqa: SIM115 - held until the block ends, closed below
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise RunDirInUse(
                f"hydra.run.dir={run_dir} is in use by {holder}: wait for it to end, or choose "
                "another hydra.run.dir"
            ) from None
        # The holder removes the file as it ends: a lock taken on the removed file is no lock.
        if path.exists() and os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino:
            break
        lock.close()
    with lock:
        lock.seek(0)
        lock.truncate()
        started = datetime.datetime.now().isoformat(timespec="seconds")
        lock.write(
            f"process {os.getpid()} on {socket.gethostname()} ({_command()}, since {started})"
        )
        lock.flush()
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # still holding it: nobody else can have it now


class RunDirInUse(UserError):
    """Another process holds the run directory: this command must leave its files alone."""


def _command() -> str:
    return " ".join(shlex.quote(arg) for arg in [Path(sys.argv[0]).name, *sys.argv[1:]])


def resume_command() -> str:
    """The command line that continues this run: the same command and settings, with
    `ckpt_path=last` and this run's directory."""
    program = Path(sys.argv[0]).name
    if program == "__main__.py" or program.endswith(".py"):  # python -m <package>.<app>
        app = HydraConfig.get().job.name
        program = f"python -m {__package__.rsplit('.', 1)[0]}.{app}"
    overrides = [
        o
        for o in HydraConfig.get().overrides.task
        if not o.startswith(("ckpt_path=", "hydra.run.dir="))
    ]
    run_dir = HydraConfig.get().runtime.output_dir
    words = [*overrides, "ckpt_path=last", f"hydra.run.dir={run_dir}"]
    return " ".join([program, *(shlex.quote(word) for word in words)])
