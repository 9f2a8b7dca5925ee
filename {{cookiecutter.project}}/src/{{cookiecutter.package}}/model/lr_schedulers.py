"""Learning-rate schedules: the Lightning scheduler config from a plain `scheduler` config.

Each `configs/scheduler/*.yaml` is a torch scheduler (`_target_`, `_partial_`) plus two keys that
are Lightning's, not torch's: `interval` (call `scheduler.step()` every `epoch` or every `step`)
and, for reduce_on_plateau, `monitor` (the logged metric it watches). A run-length setting left
null (`T_max`, `total_steps`) becomes the whole run in that interval: `trainer.max_epochs`, or the
optimizer steps Lightning estimates for the run (`trainer.estimated_stepping_batches`).
"""

from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

LIGHTNING_KEYS = ("interval", "monitor")
RUN_LENGTH_KEYS = ("T_max", "total_steps")


def run_length(trainer: L.Trainer, interval: str) -> int:
    if interval == "step":
        return int(trainer.estimated_stepping_batches)
    return int(trainer.max_epochs)


def lr_scheduler_config(
    settings: dict[str, Any], optimizer: torch.optim.Optimizer, trainer: L.Trainer
) -> dict[str, Any]:
    """`{"scheduler": ..., "interval": ..., "monitor": ...}` for `configure_optimizers`."""
    lightning = {k: settings[k] for k in LIGHTNING_KEYS if k in settings}
    torch_settings = {k: v for k, v in settings.items() if k not in LIGHTNING_KEYS}
    for key in RUN_LENGTH_KEYS:
        if key in torch_settings and torch_settings[key] is None:
            torch_settings[key] = run_length(trainer, lightning["interval"])
    # Plain lists and dicts (`_convert_`): the scheduler's state goes into every checkpoint.
    scheduler = instantiate(torch_settings, _convert_="all")(optimizer=optimizer)
    return {"scheduler": scheduler, **lightning}


def warmup_cosine(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_fraction: float = 0.05,
    start_factor: float = 0.01,
    eta_min: float = 0.0,
) -> SequentialLR:
    """Linear warm-up from `start_factor * lr` to `lr` over the first `warmup_fraction` of the run,
    then half a cosine down to `eta_min`. Built from torch's own schedulers, so its state is theirs.
    """
    warmup = max(1, round(warmup_fraction * total_steps))
    return SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
            CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup), eta_min=eta_min),
        ],
        milestones=[warmup],
    )
