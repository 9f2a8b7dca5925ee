"""Open a checkpoint safely: tensors and plain data only, never code."""

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
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except UnpicklingError as error:
        raise UserError(
            f"ckpt_path={path!r} was refused: it holds more than tensors and plain data, "
            f"and loading it could run code ({str(error).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise UserError(f"ckpt_path={path!r} is not a readable checkpoint: {error}") from None
    needed = ("state_dict", "hyper_parameters", "datamodule_hyper_parameters", "TabularDataModule")
    if not isinstance(checkpoint, dict) or any(key not in checkpoint for key in needed):
        raise UserError(f"ckpt_path={path!r} is not a checkpoint written by this project's train")
    return checkpoint
