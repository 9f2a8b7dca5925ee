"""Open a checkpoint safely: tensors and plain data only, never code."""

import warnings
from pathlib import Path
from pickle import UnpicklingError
from typing import Any

import torch

from .errors import UserError


def load_checkpoint(path: str) -> dict[str, Any]:
    """Load with `weights_only=True`, so a file that would run code when unpickled is refused."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"ckpt_path={path!r} is not a file: give the path of a .ckpt file, "
                        "e.g. logs/train/runs/<run>/checkpoints/best.ckpt")
    try:
        with warnings.catch_warnings():  # torch's note on the pickle protocol, before it refuses
            warnings.filterwarnings("ignore", "Detected pickle protocol")
            checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except UnpicklingError as error:
        reason = _refusal_reason(error)
        if "GLOBAL" not in reason:  # not a pickle torch wrote, e.g. text or a truncated file
            raise UserError(f"ckpt_path={path!r} is not a readable checkpoint: {reason}") from None
        raise UserError(
            f"ckpt_path={path!r} was refused: it holds more than tensors and plain data, and "
            f"loading it could run code ({reason}). Use a checkpoint written by this project's "
            "train"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise UserError(f"ckpt_path={path!r} is not a readable checkpoint: {error}") from None
    needed = ("state_dict", "hyper_parameters", "datamodule_hyper_parameters", "TabularDataModule")
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in needed):
        raise UserError(f"ckpt_path={path!r} is not a checkpoint written by this project's train")
    return checkpoint


def _refusal_reason(error: UnpicklingError) -> str:
    """torch's own reason, e.g. `Trying to load unsupported GLOBAL posix.system ...`, without its
    general advice (whose first line suggests loading with weights_only=False)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    advice = ("Check the documentation", "Please file an issue")
    specific = [line for line in lines[1:] if not line.startswith(advice)]
    return (specific or lines or ["unpickling failed"])[0].rstrip(".")


def resume_checkpoint(ckpt_path: str | None, checkpoint_dir: str) -> tuple[str, dict] | None:
    """The checkpoint `train ckpt_path=...` resumes from, checked, with its contents; None for none.

    `last` means this run's own `<checkpoint_dir>/last.ckpt`. When it is missing this is an error,
    not Lightning's warning and a fresh start: a mistyped hydra.run.dir would otherwise quietly
    train from scratch.
    """
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
