"""Check a composed configuration before any heavy work, without importing torch.

Hydra already refuses unknown keys and choices with its own list of options; these checks catch the
values that Hydra cannot judge (ranges, and choices that must fit together) so that a run fails in a
second with a clear message instead of minutes later inside PyTorch.
"""

from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .errors import UserError

ACTIVATIONS = ("relu", "leaky_relu", "gelu", "elu", "selu", "silu", "sigmoid", "tanh")
INITIALISATIONS = (
    "default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"
)
TASKS = ("binary", "multiclass", "regression")
MISSING_POLICIES = ("impute", "error", "drop")

# Which tasks each loss can train. Regression-style losses on a binary task compare the predicted
# probability with the 0/1 label (the Brier score for mse).
LOSS_TASKS = {
    "torch.nn.BCEWithLogitsLoss": ("binary",),
    "torch.nn.CrossEntropyLoss": ("binary", "multiclass"),
    "torch.nn.MSELoss": ("binary", "regression"),
    "torch.nn.L1Loss": ("binary", "regression"),
    "torch.nn.HuberLoss": ("binary", "regression"),
}


def check_loss_fits_task(loss_target: str, task: str) -> None:
    """Refuse a loss that cannot train this task, e.g. binary cross-entropy on three classes."""
    allowed = LOSS_TASKS.get(loss_target)
    if allowed is not None and task not in allowed:
        fitting = [name for name, tasks in LOSS_TASKS.items() if task in tasks]
        raise UserError(
            f"loss={loss_target} cannot train a {task} task; "
            f"losses for {task}: {', '.join(fitting)}"
        )


def _require(cfg: DictConfig, key: str, ok: Callable[[Any], bool], allowed: str) -> None:
    value = OmegaConf.select(cfg, key, default=None)
    if value is None:
        return
    try:
        good = ok(value)
    except TypeError:
        good = False
    if not good:
        shown = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
        raise UserError(f"{key}={shown!r} is not allowed: expected {allowed}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _check_table_is_named(cfg: DictConfig) -> None:
    """data=csv leaves the file and the target column to the user: say how to give them."""
    data = cfg.get("data")
    for name in ("path", "target"):
        if data is not None and OmegaConf.is_missing(data, name):
            raise UserError(f"data.{name} is required: data=csv data.path=FILE data.target=COLUMN")


def _check_held_out_rows(cfg: DictConfig) -> None:
    """Folds, validation and test rows must leave most rows for training."""
    folds = OmegaConf.select(cfg, "data.num_folds", default=None)
    _require(cfg, "data.num_folds", lambda v: _is_count(v, 2), "null, or a whole number >= 2")
    if folds is not None:
        _require(cfg, "data.fold", lambda v: _is_count(v, 0) and v < folds,
                 f"a whole number from 0 to data.num_folds - 1 = {folds - 1}")
    test_key = "1/data.num_folds" if folds else "data.test_fraction"
    test = 1 / folds if folds else OmegaConf.select(cfg, "data.test_fraction", default=0) or 0
    held_out = (OmegaConf.select(cfg, "data.val_fraction", default=0) or 0) + test
    if held_out >= 0.9:
        raise UserError(
            f"data.val_fraction + {test_key} = {held_out:g} leaves too few training rows: "
            "keep the sum below 0.9"
        )


def check_config(cfg: DictConfig) -> None:
    """Raise UserError naming the first setting that is out of range or does not fit the others."""
    _require(cfg, "seed", lambda v: _is_count(v, 0), "a whole number >= 0")
    _require(cfg, "model.hidden_sizes", lambda v: all(_is_count(s, 1) for s in v),
             "a list of layer widths >= 1, e.g. [16] or [64,32]; [] means no hidden layer")
    _require(cfg, "model.activation", lambda v: v in ACTIVATIONS,
             f"one of {', '.join(ACTIVATIONS)}")
    _require(cfg, "model.dropout", lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)")
    _require(cfg, "model.init", lambda v: v in INITIALISATIONS,
             f"one of {', '.join(INITIALISATIONS)}")
    _require(cfg, "optimizer.lr", lambda v: _is_number(v) and v > 0, "a number > 0")
    _require(cfg, "data.batch_size", lambda v: _is_count(v, 1), "a whole number >= 1")
    _require(cfg, "data.task", lambda v: v in TASKS, f"one of {', '.join(TASKS)}")
    _require(cfg, "data.missing", lambda v: v in MISSING_POLICIES,
             f"one of {', '.join(MISSING_POLICIES)}")
    for key in ("data.val_fraction", "data.test_fraction"):
        _require(cfg, key, lambda v: _is_number(v) and 0 < v < 1, "a number in (0, 1)")
    _require(cfg, "data.demo_options.rows", lambda v: _is_count(v, 10), "a whole number >= 10")
    for key in ("data.demo_options.noise", "data.demo_options.turns"):
        _require(cfg, key, lambda v: _is_number(v) and v >= 0, "a number >= 0")
    _check_table_is_named(cfg)
    _check_held_out_rows(cfg)
    _require(cfg, "trainer.max_epochs", lambda v: _is_count(v, 1), "a whole number >= 1")
    _require(cfg, "repeats", lambda v: _is_count(v, 1), "a whole number >= 1")
    task = OmegaConf.select(cfg, "data.task", default=None)
    loss_target = OmegaConf.select(cfg, "loss._target_", default=None)
    if task and loss_target:
        check_loss_fits_task(loss_target, task)
