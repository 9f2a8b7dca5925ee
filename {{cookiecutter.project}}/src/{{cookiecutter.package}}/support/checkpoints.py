"""Checkpoint files on disk: opened safely (tensors and plain data only, never code) and written
atomically (a kill or a full disk mid-save leaves the previous file whole).

Writing: Lightning's own writer goes through fsspec, which writes a temporary file in the system's
temp directory and then moves it: across file systems that move is a copy, so a kill in the middle
leaves a truncated checkpoint, and the temporary file stays behind. Here each checkpoint is written
next to its target as `.<name>.partial-<pid>`, flushed to disk, then renamed over the target with
`os.replace`, which is atomic on one file system. Leftover partial files of a killed run are removed
when the next run in that directory starts.
"""

import contextlib
import os
import warnings
import zipfile
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from .errors import UserError


def load_checkpoint(path: str) -> dict[str, Any]:
    """Load with `weights_only=True`, so a file that would run code when unpickled is refused."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(
            f"ckpt_path={path!r} is not a file: give the path of a .ckpt file, "
            "e.g. logs/train/runs/<run>/checkpoints/best.ckpt"
        )
    try:
        with warnings.catch_warnings():  # torch's note on the pickle protocol, before it refuses
            warnings.filterwarnings("ignore", "Detected pickle protocol")
            checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except UnpicklingError as error:
        reason = _refusal_reason(error)
        if "GLOBAL" not in reason:  # not a pickle torch wrote, e.g. text or a truncated file
            reason = _damage(file) or reason
            raise UserError(f"ckpt_path={path!r} is not a readable checkpoint: {reason}") from None
        raise UserError(
            f"ckpt_path={path!r} was refused: it holds more than tensors and plain data, and "
            f"loading it could run code ({reason}). Use a checkpoint written by this project's "
            "train"
        ) from None
    except Exception as error:  # a damaged file can fail in any part of torch's reader
        reason = _damage(file) or f"{type(error).__name__}: {error}"
        raise UserError(f"ckpt_path={path!r} is not a readable checkpoint: {reason}") from None
    needed = ("state_dict", "hyper_parameters", "datamodule_hyper_parameters", "TabularDataModule")
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in needed):
        raise UserError(f"ckpt_path={path!r} is not a checkpoint written by this project's train")
    return checkpoint


def _damage(file: Path) -> str | None:
    """What is wrong with a checkpoint file torch could not read, if the file itself says: torch
    writes a zip archive, whose end lists its members and whose every member has a checksum."""
    if file.stat().st_size == 0:
        return "the file is empty (a save that never wrote anything)"
    with open(file, "rb") as raw:
        starts_like_zip = raw.read(4) == b"PK\x03\x04"
    if starts_like_zip and not zipfile.is_zipfile(file):
        return (
            "the file is cut short: the end of the archive is missing (a save or copy that "
            "did not finish); use another checkpoint of the run, e.g. best.ckpt or last.ckpt"
        )
    if starts_like_zip:
        try:
            with zipfile.ZipFile(file) as archive:
                broken = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            return f"the archive is damaged ({error})"
        if broken is not None:
            return (
                f"the file is damaged: its part {broken!r} does not match its checksum "
                "(corrupted on disk or in a copy)"
            )
    return None


def _refusal_reason(error: UnpicklingError) -> str:
    """torch's own reason, e.g. `Trying to load unsupported GLOBAL posix.system ...`, without its
    general advice (whose first line suggests loading with weights_only=False)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    advice = ("Check the documentation", "Please file an issue")
    specific = [line for line in lines[1:] if not line.startswith(advice)]
    return (specific or lines or ["unpickling failed"])[0].rstrip(".")


def requeued_by_slurm() -> bool:
    """SLURM counts the restarts of a requeued job in SLURM_RESTART_COUNT."""
    return int(os.environ.get("SLURM_RESTART_COUNT") or 0) > 0


def resume_checkpoint(ckpt_path: str | None, checkpoint_dir: str) -> tuple[str, dict] | None:
    """The checkpoint `train ckpt_path=...` resumes from, checked, with its contents; None for none.

    `last` means this run's own `<checkpoint_dir>/last.ckpt`. When it is missing this is an error,
    not Lightning's warning and a fresh start: a mistyped hydra.run.dir would otherwise quietly
    train from scratch.
    """
    if ckpt_path is None and requeued_by_slurm() and (Path(checkpoint_dir) / "last.ckpt").is_file():
        # SLURM started this job again after preempting it (or after a timeout, with the slurm
        # launcher's max_num_timeout): continue the run instead of starting it over.
        print("SLURM requeued this job: resuming from its last.ckpt")
        ckpt_path = "last"
    if ckpt_path is None:
        return None
    if ckpt_path == "last":
        last = Path(checkpoint_dir) / "last.ckpt"
        if not last.is_file():
            raise UserError(
                f"ckpt_path=last found no checkpoint to resume: {last} does not exist. Give the "
                "directory of the run to resume, e.g. ckpt_path=last "
                "hydra.run.dir=logs/train/runs/<run>, or a file: ckpt_path=<path>.ckpt"
            )
        ckpt_path = str(last)
    return ckpt_path, load_checkpoint(ckpt_path)


PARTIAL_PATTERN = ".*.partial-*"


def _keep_location(storage: Any, location: str) -> Any:
    """Lightning's default map_location: tensors stay on the device they were saved from."""
    return storage


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def remove_partial_files(checkpoint_dir: str | Path) -> list[Path]:
    """Delete the partial files a killed run left in `checkpoint_dir` (only those); return them."""
    directory = Path(checkpoint_dir)
    if not directory.is_dir():
        return []
    leftovers = sorted(directory.glob(PARTIAL_PATTERN))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save to a partial file beside the target, fsync, os.replace; loads are always safe."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        target = Path(path)
        partial = partial_path(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.write(checkpoint, partial)
            os.replace(partial, target)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise UserError(
                f"could not write the checkpoint {target}: {error.strerror or error}"
            ) from None

    def write(self, checkpoint: dict[str, Any], partial: Path) -> None:
        """Write the whole file and make sure it is on disk before it may replace the target."""
        with open(partial, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())

    def load_checkpoint(
        self, path: str | Path, map_location: Any = _keep_location, weights_only: bool | None = None
    ) -> dict[str, Any]:
        """Lightning's load (resume, `trainer.test(ckpt_path=...)`), always with weights_only=True
        whatever the caller asked, so no path through the Trainer can unpickle code."""
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
