"""Check a composed configuration before any heavy work, without importing torch.

Hydra already refuses unknown keys and choices with its own list of options; these checks catch the
values that Hydra cannot judge (ranges, and choices that must fit together) so that a run fails in a
second with a clear message instead of minutes later inside PyTorch.
"""

import importlib.util
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf

# Each vocabulary is read from the code that implements it, none of which imports torch here.
from ..callbacks.dropout_schedules import EARLY_DECAYS, INTERVALS, SCHEDULES
from ..configs import group_choices, load_choice
from ..data.missing import MISSING_POLICIES
from ..data.scaling import NUMERIC_TRANSFORMS
from ..model.class_weights import BALANCED
from ..model.layers import ACTIVATIONS, INITIALISATIONS, NORMALIZATIONS, NUMERIC_EMBEDDINGS
from ..model.losses import CONTRACT_KEY, INPUTS
from ..model.metrics import AUTO, TASK_METRICS, TASKS, better_when
from ..model.thresholds import CRITERIA
from .errors import UserError
from .mlflow_runs import sqlite_file
from .run_dirs import unwritable_reason

# Settings that watch a logged metric: early stopping, the best checkpoint, reduce_on_plateau.
MONITORS = ("callbacks.early_stopping", "callbacks.model_checkpoint", "scheduler")


def check_loss_fits_task(loss: DictConfig | dict[str, Any], task: str) -> None:
    """Refuse a loss that cannot train this task (its file's `trains` does not list it), e.g.
    binary cross-entropy on three classes, and a loss file that does not say what it trains."""
    name = loss_name(loss)
    trains = loss.get(CONTRACT_KEY)
    if not trains or any(given not in INPUTS for given in trains.values()):
        raise UserError(
            f"loss={name} does not say what it trains: its file needs `{CONTRACT_KEY}`, each task "
            f"it trains with what it is given ({', '.join(INPUTS)}), e.g. "
            f"{CONTRACT_KEY}: " + "{regression: values} (model/losses.py)"
        )
    if task not in trains:
        fitting = [
            choice
            for choice in group_choices("loss")
            if task in (load_choice("loss", choice).get(CONTRACT_KEY) or {})
        ]
        raise UserError(
            f"loss={name} cannot train a {task} task (it trains {', '.join(trains)}); losses for "
            f"{task}: {', '.join(fitting)} (or loss=auto)"
        )


def loss_name(loss: DictConfig | dict[str, Any]) -> str:
    """The `loss=` choice whose file has this loss's class, in the user's words; else the class."""
    target = loss.get("_target_")
    for choice in group_choices("loss"):
        if load_choice("loss", choice).get("_target_") == target:
            return f"{choice} ({target})"
    return str(target)


def check_class_weights(weight: list[float] | None, classes: list[Any]) -> None:
    """Refuse class weights that do not give exactly one weight per class of the data."""
    if weight is not None and len(weight) != len(classes):
        raise UserError(
            f"loss.weight has {len(weight)} values but the data has {len(classes)} classes "
            f"({', '.join(map(str, classes))}): give one weight per class, in that order"
        )


def check_monitor(cfg: DictConfig, prefix: str) -> None:
    """`<prefix>.monitor` must be a metric the task logs, and `<prefix>.mode` must fit it.
    `auto` stands for the task's metric or its direction (model/metrics.py): train replaces it
    once the task is known (support/build.with_task_monitors) and checks again."""
    monitor = OmegaConf.select(cfg, f"{prefix}.monitor", default=None)
    if monitor is None:
        return
    if monitor == AUTO:
        _require(cfg, f"{prefix}.mode", lambda v: v in ("min", "max", AUTO), "min, max or auto")
        return
    task = OmegaConf.select(cfg, "data.task", default=None)
    names = TASK_METRICS.get(task) or sorted({n for ns in TASK_METRICS.values() for n in ns})
    allowed = [f"{stage}/{name}" for stage in ("val", "train") for name in ("loss", *names)]
    if monitor not in allowed:
        raise UserError(
            f"{prefix}.monitor={monitor!r} is not logged: expected one of {', '.join(allowed)}"
        )
    mode = OmegaConf.select(cfg, f"{prefix}.mode", default=None)
    best = better_when(monitor.split("/")[1])
    if mode not in (None, AUTO, best):
        raise UserError(
            f"{prefix}.mode={mode!r} does not fit {monitor}, which is better when "
            f"{'higher' if best == 'max' else 'lower'}: use {prefix}.mode={best}"
        )


def check_monitors(cfg: DictConfig) -> None:
    """Every monitored metric must be logged; train checks again once the task is inferred."""
    for prefix in MONITORS:
        check_monitor(cfg, prefix)


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
        _require(
            cfg,
            "data.fold",
            lambda v: _is_count(v, 0) and v < folds,
            f"a whole number from 0 to data.num_folds - 1 = {folds - 1}",
        )
    test_key = "1/data.num_folds" if folds else "data.test_fraction"
    test = 1 / folds if folds else OmegaConf.select(cfg, "data.test_fraction", default=0) or 0
    held_out = (OmegaConf.select(cfg, "data.val_fraction", default=0) or 0) + test
    if held_out >= 0.9:
        raise UserError(
            f"data.val_fraction + {test_key} = {held_out:g} leaves too few training rows: "
            "keep the sum below 0.9"
        )


def _is_probability(value: Any) -> bool:
    return _is_number(value) and 0 <= value < 1


def _is_fraction(value: Any) -> bool:
    """Strictly between 0 and 1."""
    return _is_number(value) and 0 < value < 1


def _is_positive(value: Any) -> bool:
    return _is_number(value) and value > 0


def _is_non_negative(value: Any) -> bool:
    return _is_number(value) and value >= 0


def _is_class_weights(value: Any) -> bool:
    """A list of weights >= 0, not all 0."""
    return not isinstance(value, str) and all(map(_is_non_negative, value)) and any(value)


# Settings that are true or false: Hydra reads `maybe` as text, which would pass as true.
SWITCHES = (
    "model.compile",
    "model.input_scale",
    "model.cross_fit",
    "model.linear_base",
    "data.batch_size_per_device",
    "data.clip_predictions",
)

# Ranges of network, optimizer, scheduler, loss, dropout-schedule and callback settings: key, test,
# allowed. A key that the chosen file does not have is not checked.
RANGES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("model.width", lambda v: _is_count(v, 1), "a whole number >= 1"),
    ("model.blocks", lambda v: _is_count(v, 0), "a whole number >= 0"),
    ("model.hidden_factor", _is_positive, "a number > 0"),
    ("model.residual_dropout", _is_probability, "a number in [0, 1)"),
    ("model.normalization", lambda v: v in NORMALIZATIONS, f"one of {', '.join(NORMALIZATIONS)}"),
    ("optimizer.momentum", _is_non_negative, "a number >= 0"),
    ("optimizer.weight_decay", _is_non_negative, "a number >= 0"),
    (
        "optimizer.betas",
        lambda v: len(v) == 2 and all(map(_is_probability, v)),
        "two numbers in [0, 1), e.g. [0.9,0.999]",
    ),
    ("scheduler.interval", lambda v: v in INTERVALS, f"one of {', '.join(INTERVALS)}"),
    ("scheduler.step_size", lambda v: _is_count(v, 1), "a whole number >= 1"),
    ("scheduler.gamma", _is_positive, "a number > 0"),
    ("scheduler.T_max", lambda v: _is_count(v, 1), "a whole number >= 1, or null: the run"),
    ("scheduler.total_steps", lambda v: _is_count(v, 1), "a whole number >= 1, or null: the run"),
    ("scheduler.factor", _is_fraction, "a number in (0, 1)"),
    ("scheduler.patience", lambda v: _is_count(v, 0), "a whole number >= 0"),
    ("scheduler.max_lr", _is_positive, "a number > 0"),
    ("scheduler.pct_start", _is_fraction, "a number in (0, 1)"),
    ("scheduler.warmup_fraction", _is_probability, "a number in [0, 1)"),
    ("scheduler.start_factor", lambda v: _is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
    ("scheduler.eta_min", _is_non_negative, "a number >= 0"),
    (
        "loss.pos_weight",
        lambda v: v == BALANCED or _is_positive(v),
        f"a number > 0, or {BALANCED}: negatives / positives of the training rows",
    ),
    (
        "loss.weight",
        lambda v: v == BALANCED or _is_class_weights(v),
        f"a list of class weights >= 0, not all 0, e.g. [1.0,3.0], or {BALANCED}: "
        "rows / (classes x rows of the class), from the training rows",
    ),
    ("loss.label_smoothing", _is_probability, "a number in [0, 1)"),
    ("loss.delta", _is_positive, "a number > 0"),
    ("loss.quantile", _is_fraction, "a number in (0, 1)"),
    ("dropout_schedule.schedule", lambda v: v in SCHEDULES, f"one of {', '.join(SCHEDULES)}"),
    ("dropout_schedule.interval", lambda v: v in INTERVALS, f"one of {', '.join(INTERVALS)}"),
    ("dropout_schedule.p", _is_probability, "a number in [0, 1)"),
    ("dropout_schedule.start", _is_probability, "a number in [0, 1)"),
    ("dropout_schedule.end", _is_probability, "a number in [0, 1)"),
    ("dropout_schedule.factor", lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    ("dropout_schedule.every", lambda v: _is_count(v, 1), "a whole number >= 1"),
    ("dropout_schedule.gamma", _is_positive, "a number > 0"),
    ("dropout_schedule.cutoff_epoch", lambda v: _is_count(v, 1), "a whole number >= 1"),
    ("dropout_schedule.decay", lambda v: v in EARLY_DECAYS, f"one of {', '.join(EARLY_DECAYS)}"),
    ("callbacks.early_stopping.patience", lambda v: _is_count(v, 0), "a whole number >= 0"),
    ("callbacks.early_stopping.min_delta", _is_non_negative, "a number >= 0"),
    (
        "callbacks.step_checkpoint.every_n_train_steps",
        lambda v: _is_count(v, 0),
        "a whole number >= 0 (0: only the checkpoint after each epoch)",
    ),
    (
        "callbacks.decision_boundary.every_n_epochs",
        lambda v: _is_count(v, 1),
        "a whole number >= 1",
    ),
    (
        "callbacks.decision_boundary.resolution",
        lambda v: _is_count(v, 2),
        "a whole number >= 2 (grid points per axis)",
    ),
    ("callbacks.test_plots.num_thresholds", lambda v: _is_count(v, 2), "a whole number >= 2"),
    (
        "callbacks.decision_threshold.criterion",
        lambda v: v in CRITERIA,
        "one of " + ", ".join(f"{name} ({meaning})" for name, meaning in CRITERIA.items()),
    ),
    ("callbacks.progress_bar.min_interval", _is_non_negative, "a number of seconds >= 0"),
    (
        "callbacks.progress_bar.refresh_rate",
        lambda v: _is_count(v, 0),
        "a whole number >= 0 (0: no progress bars)",
    ),
    ("trainer.gradient_clip_val", _is_non_negative, "a number >= 0, or null for no clipping"),
    ("trainer.gradient_clip_algorithm", lambda v: v in ("norm", "value"), "norm or value"),
)


def check_config(cfg: DictConfig) -> None:
    """Raise UserError naming the first setting that is out of range or does not fit the others."""
    _require(cfg, "seed", lambda v: _is_count(v, 0), "a whole number >= 0")
    _require(cfg, "torch_threads", lambda v: _is_count(v, 1), "a whole number >= 1, or null")
    _require(cfg, "step_budget", lambda v: _is_count(v, 1), "a whole number >= 1, or null")
    for key in SWITCHES:
        _require(cfg, key, lambda v: isinstance(v, bool), "true or false")
    _require(
        cfg,
        "model.hidden_sizes",
        lambda v: all(_is_count(s, 1) for s in v),
        "a list of layer widths >= 1, e.g. [16] or [64,32]; [] means no hidden layer",
    )
    _require(
        cfg, "model.activation", lambda v: v in ACTIVATIONS, f"one of {', '.join(ACTIVATIONS)}"
    )
    _require(cfg, "model.dropout", lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)")
    _require(
        cfg,
        "model.numeric_embedding",
        lambda v: v in NUMERIC_EMBEDDINGS,
        f"one of {', '.join(NUMERIC_EMBEDDINGS)}",
    )
    _require(
        cfg, "model.init", lambda v: v in INITIALISATIONS, f"one of {', '.join(INITIALISATIONS)}"
    )
    _require(
        cfg,
        "model.members",
        lambda v: v == "auto" or _is_count(v, 1),
        "auto, or a whole number >= 1 of networks to train side by side and average",
    )
    _require(cfg, "optimizer.lr", lambda v: _is_number(v) and v > 0, "a number > 0")
    _require(
        cfg,
        "data.batch_size",
        lambda v: v == "auto" or _is_count(v, 1),
        "auto, or a whole number >= 1",
    )
    _require(
        cfg,
        "data.numeric_transform",
        lambda v: v in NUMERIC_TRANSFORMS,
        f"one of {', '.join(NUMERIC_TRANSFORMS)}",
    )
    _require(cfg, "data.task", lambda v: v in TASKS, f"one of {', '.join(TASKS)}")
    _require(
        cfg,
        "data.missing",
        lambda v: v in MISSING_POLICIES,
        f"one of {', '.join(MISSING_POLICIES)}",
    )
    for key in ("data.val_fraction", "data.test_fraction"):
        _require(cfg, key, lambda v: _is_number(v) and 0 < v < 1, "a number in (0, 1)")
    _require(cfg, "data.demo_options.rows", lambda v: _is_count(v, 10), "a whole number >= 10")
    for key in ("data.demo_options.noise", "data.demo_options.turns"):
        _require(cfg, key, lambda v: _is_number(v) and v >= 0, "a number >= 0")
    _check_table_is_named(cfg)
    _check_held_out_rows(cfg)
    _require(cfg, "trainer.max_epochs", lambda v: _is_count(v, 1), "a whole number >= 1")
    _require(cfg, "repeats", lambda v: _is_count(v, 1), "a whole number >= 1")
    for key, ok, allowed in RANGES:
        _require(cfg, key, ok, allowed)
    _check_choices_fit_together(cfg)
    check_monitors(cfg)
    _check_trackers(cfg)


def _check_choices_fit_together(cfg: DictConfig) -> None:
    task = OmegaConf.select(cfg, "data.task", default=None)
    loss = OmegaConf.select(cfg, "loss", default=None)
    if task and loss is not None and "_target_" in loss:
        check_loss_fits_task(loss, task)
    optimizer = OmegaConf.select(cfg, "optimizer", default=None) or {}
    if optimizer.get("nesterov") and not optimizer.get("momentum"):
        raise UserError(
            "optimizer.nesterov=true needs momentum: set optimizer.momentum > 0, "
            "e.g. optimizer.momentum=0.9"
        )
    cycles_momentum = OmegaConf.select(cfg, "scheduler.cycle_momentum", default=False)
    if cycles_momentum and "momentum" not in optimizer and "betas" not in optimizer:
        raise UserError(
            f"scheduler.cycle_momentum=true needs an optimizer with momentum or betas (sgd, adam, "
            f"adamw, rmsprop), not {optimizer.get('_target_')}: set scheduler.cycle_momentum=false"
        )


TRACKING_URIS = (
    "a SQLite file, e.g. sqlite:///logs/mlflow.db, or a server, e.g. http://127.0.0.1:5000"
)


def _check_trackers(cfg: DictConfig) -> None:
    """An MLflow logger (any logger entry with a `tracking_uri`) needs a store to write to and the
    mlflow package; a SQLite file needs a folder that can be written."""
    for name, logger in (OmegaConf.select(cfg, "logger", default=None) or {}).items():
        if logger is None or "tracking_uri" not in logger:
            continue
        key, uri = f"logger.{name}.tracking_uri", logger.tracking_uri
        database = sqlite_file(uri) if isinstance(uri, str) else None
        no_file = isinstance(uri, str) and uri.startswith("sqlite:") and database is None
        if not isinstance(uri, str) or not uri.strip() or no_file:
            raise UserError(f"{key}={uri!r} is not allowed: expected {TRACKING_URIS}")
        reason = unwritable_reason(database.parent) if database is not None else None
        if reason is not None:
            raise UserError(f"{key}={uri!r}: cannot write {database.parent}: {reason}")
        if importlib.util.find_spec("mlflow") is None:
            raise UserError(
                f"logger={name} needs MLflow, which is not installed: "
                "pip install -e '.[mlflow]' (or pip install mlflow-skinny)"
            )


SEARCH_FIELDS = ("key", "low", "high", "log", "step", "choices")
EXAMPLE_ENTRIES = (
    "{key: optimizer.lr, low: 0.0001, high: 0.1, log: true} or "
    "{key: model.hidden_sizes, choices: [[16], [64, 32]]}"
)


def check_tune_config(cfg: DictConfig, task_overrides: list[str]) -> None:
    """The study's own settings: a number of trials, one process per trial, a search space whose
    every value train accepts, and no searched setting fixed on the command line as well."""
    _require(cfg, "n_trials", lambda v: _is_count(v, 1), "a whole number >= 1")
    if OmegaConf.select(cfg, "callbacks.model_checkpoint.monitor", default=None) is None:
        raise UserError(
            "tune judges each trial by its best checkpoint's metric: set "
            "callbacks.model_checkpoint.monitor, e.g. val/loss"
        )
    trainer = cfg.trainer
    if trainer.strategy != "auto" or trainer.devices not in (1, "1") or trainer.num_nodes != 1:
        raise UserError(
            f"trainer.strategy={trainer.strategy} trainer.devices={trainer.devices} "
            f"trainer.num_nodes={trainer.num_nodes}: tune runs its trials one after another in "
            "this process, on one device; use trainer=cpu, gpu or mps"
        )
    typed = {line.split("=", 1)[0].lstrip("+~") for line in task_overrides}
    for name, entry in (cfg.search_space or {}).items():
        _check_search_entry(cfg, f"search_space.{name}", entry, typed)


def _check_search_entry(cfg: DictConfig, where: str, entry: Any, typed: set[str]) -> None:
    if not OmegaConf.is_dict(entry) or not isinstance(entry.get("key"), str):
        raise UserError(f"{where} is not allowed: expected e.g. " + EXAMPLE_ENTRIES)
    unknown = sorted(set(entry) - set(SEARCH_FIELDS))
    if unknown:
        raise UserError(
            f"{where}.{unknown[0]} is not a search setting: expected {', '.join(SEARCH_FIELDS)}"
        )
    key = entry.key
    if key in typed:
        raise UserError(
            f"{key} is set on the command line and searched by {where}: drop one "
            f"(to fix its value, leave it out of the search: '~{where}')"
        )
    if "choices" in entry:
        choices = entry.choices
        if not OmegaConf.is_list(choices) or len(choices) == 0 or {"low", "high"} & set(entry):
            raise UserError(
                f"{where}.choices is not allowed: expected a non-empty list, without low and high"
            )
        candidates = list(choices)
    else:
        low, high = entry.get("low"), entry.get("high")
        if not (_is_number(low) and _is_number(high) and low < high):
            raise UserError(
                f"{where}: low={low!r} high={high!r} is not allowed: expected two "
                "numbers with low < high (or choices)"
            )
        log, step = entry.get("log", False), entry.get("step")
        if log and low <= 0:
            raise UserError(f"{where}.low={low!r} is not allowed with log: true: expected > 0")
        if step is not None and (log or not _is_positive(step)):
            raise UserError(
                f"{where}.step={step!r} is not allowed: expected a number > 0, and "
                "no log: true with it"
            )
        candidates = [low, high]
    group = group_choices(key)
    for value in candidates:
        if group is not None:
            if value not in group:
                raise UserError(
                    f"{where} chooses {key}={value}, which is not a file of "
                    f"configs/{key}/: expected one of {', '.join(group)}"
                )
            continue
        probe = cfg.copy()
        OmegaConf.update(probe, key, value, force_add=True)
        try:
            check_config(probe)
        except UserError as error:
            raise UserError(f"{where} reaches a value train refuses: {error}") from None


# serve's own settings. None may be null: a null host would make the server listen on every
# network, and a null port on any free one.
SERVE_SETTINGS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    (
        "host",
        lambda v: isinstance(v, str) and v.strip() != "",
        "an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every network)",
    ),
    (
        "port",
        lambda v: _is_count(v, 0) and v <= 65535,
        "a whole number from 1 to 65535, or 0 for any free port",
    ),
    ("max_rows", lambda v: _is_count(v, 1), "a whole number >= 1"),
)


def check_serve_config(cfg: DictConfig) -> None:
    """The server's address, port and request size, before the checkpoint is opened."""
    for key, ok, allowed in SERVE_SETTINGS:
        if OmegaConf.select(cfg, key, default=None) is None:
            raise UserError(f"{key}=null is not allowed: expected {allowed}")
        _require(cfg, key, ok, allowed)
    _require(cfg, "torch_threads", lambda v: _is_count(v, 1), "a whole number >= 1, or null")
