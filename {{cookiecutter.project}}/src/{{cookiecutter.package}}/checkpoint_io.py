"""Write checkpoints atomically: a kill or a full disk mid-save leaves the previous file whole.

Lightning's own writer goes through fsspec, which writes a temporary file in the system's temp
directory and then moves it: across file systems that move is a copy, so a kill in the middle leaves
a truncated checkpoint, and the temporary file stays behind. Here each checkpoint is written next to
its target as `.<name>.partial-<pid>`, flushed to disk, then renamed over the target with
`os.replace`, which is atomic on one file system. Leftover partial files of a killed run are removed
when the next run in that directory starts.
"""

import contextlib
import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from .errors import UserError

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

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path,
                        storage_options: Any | None = None) -> None:
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
            raise UserError(f"could not write the checkpoint {target}: "
                            f"{error.strerror or error}") from None

    def write(self, checkpoint: dict[str, Any], partial: Path) -> None:
        """Write the whole file and make sure it is on disk before it may replace the target."""
        with open(partial, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())

    def load_checkpoint(self, path: str | Path, map_location: Any = _keep_location,
                        weights_only: bool | None = None) -> dict[str, Any]:
        """Lightning's load (resume, `trainer.test(ckpt_path=...)`), always with weights_only=True
        whatever the caller asked, so no path through the Trainer can unpickle code."""
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
