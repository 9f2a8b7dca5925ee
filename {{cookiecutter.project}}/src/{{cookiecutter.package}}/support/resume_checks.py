"""What a resumed run may change, checked before anything is written.

A checkpoint's weights, optimizer state and scheduler state only make sense for the network, data
and classes they were trained with. Lightning would find out halfway through restoring them (a raw
`size mismatch` traceback, after the run's config record had been rewritten), or not at all (the
same shapes with other input columns). Here the settings the checkpoint's state depends on are
compared with this run's before the trainer exists, and a mismatch is one line naming every key
that differs with both values. That includes every optimizer, scheduler and loss setting: their
state (the learning rate in the optimizer's param groups, the scheduler's base rates, the loss's
weight buffers) is restored from the checkpoint after the new settings are built, so a change
there would be printed as accepted and then silently undone. Everything else (max_epochs, early
stopping's patience, dropout, the trainer's devices, ...) may change; `record_resume` notes what
did in `<run>/.hydra/resumes.yaml`. A checkpoint saved in the middle of an epoch also keeps its
batch size: the rest of that epoch is cut into batches of the size it started with.
"""

import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .errors import UserError

# Network settings that never change the weights' shapes or meaning: free to change on resume.
FREE_MODEL_KEYS = ("compile", "dropout", "residual_dropout")


def _shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The network's parameters and buffers (the loss's weights are compared as settings)."""
    return {name: tuple(t.shape) for name, t in state.items() if name.startswith("net.")}


def _group(settings: dict[str, Any] | None, group: str) -> dict[str, Any]:
    return {
        f"{group}.{key}": value
        for key, value in (settings or {}).items()
        if not key.startswith("_") or key == "_target_"
    }


def fixed_settings(hparams: dict[str, Any], data_state: dict[str, Any]) -> dict[str, Any]:
    """The settings a checkpoint's state depends on, by the key a user would change."""
    from ..model.module import MODULE_SETTINGS

    preprocessor = data_state["preprocessor"]
    # A module setting the checkpoint's template predates was off then, as it is for a network
    # file that leaves it out; the linear base is off for any task but regression.
    model = {**MODULE_SETTINGS, **(hparams["model"] or {})}
    if hparams["task"] != "regression":
        model["linear_base"] = False
    settings = {
        "data.task": hparams["task"],
        "the target's classes": data_state["target_encoder"].get("classes"),
        "the numeric inputs (data.numeric)": list(preprocessor["numeric"]),
        "the categorical inputs (data.categorical)": list(preprocessor["categorical"]),
        "model._target_": model.get("_target_"),
        "loss._target_": (hparams["loss"] or {}).get("_target_"),
        "optimizer._target_": (hparams["optimizer"] or {}).get("_target_"),
        "scheduler._target_": (hparams["scheduler"] or {}).get("_target_"),
        **_group(hparams["loss"], "loss"),
        **_group(hparams["optimizer"], "optimizer"),
        **_group(hparams["scheduler"], "scheduler"),
    }
    settings.update(
        {
            f"model.{key}": value
            for key, value in model.items()
            if key != "_target_" and key not in FREE_MODEL_KEYS
        }
    )
    return settings


def check_resumable(
    ckpt_path: str, checkpoint: dict[str, Any], module: Any, datamodule: Any, max_epochs: int
) -> None:
    """Refuse to continue `checkpoint` with a module or data that do not fit its state, with a
    max_epochs it has already passed, or, stopped mid-epoch, with another batch size."""
    epochs = checkpoint["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"]
    if max_epochs is not None and max_epochs != -1 and epochs > max_epochs:
        raise UserError(
            f"ckpt_path={ckpt_path} has trained {epochs} epochs, more than "
            f"trainer.max_epochs={max_epochs}: give trainer.max_epochs >= {epochs} to continue it"
        )
    _check_batch_size_mid_epoch(ckpt_path, checkpoint, datamodule)
    saved = fixed_settings(
        checkpoint["hyper_parameters"], checkpoint[type(datamodule).__qualname__]
    )
    now = fixed_settings(dict(module.hparams), datamodule.state_dict())
    differ = [key for key in saved.keys() | now.keys() if saved.get(key) != now.get(key)]
    shapes_differ = _shapes(checkpoint["state_dict"]) != _shapes(module.state_dict())
    if not differ and not shapes_differ:
        return
    if not differ:  # e.g. a category level seen in training now but not then
        differ = ["the input width"]
        saved["the input width"] = checkpoint["hyper_parameters"]["input_size"]
        now["the input width"] = module.hparams["input_size"]
    details = "; ".join(
        f"{key} is {_shown(saved.get(key))} in the checkpoint and {_shown(now.get(key))} now"
        for key in sorted(differ)
    )
    raise UserError(
        f"ckpt_path={ckpt_path} cannot be continued with these settings: {details}. Resume with "
        "the checkpoint's settings, or start a new run (another hydra.run.dir)"
    )


def _check_batch_size_mid_epoch(
    ckpt_path: str, checkpoint: dict[str, Any], datamodule: Any
) -> None:
    """The rest of an epoch stopped halfway is the same order cut into the same batches: the
    batches already trained are counted in batches of the size the epoch started with."""
    done = checkpoint["loops"]["fit_loop"]["epoch_loop.batch_progress"]["current"]["completed"]
    before = checkpoint["datamodule_hyper_parameters"].get("batch_size")
    now = datamodule.hparams.batch_size
    from ..data.batching import auto_batch_size

    if before == "auto":  # the training rows are the same (the split is checked before this)
        before = auto_batch_size(len(datamodule.training_rows))
    if now == "auto":
        now = datamodule.batch_size
    per_epoch = -(-len(datamodule.training_rows) // before) if before else 0
    if 0 < done < per_epoch and before != now:
        raise UserError(
            f"ckpt_path={ckpt_path} stopped in the middle of an epoch (after {done} of its "
            f"{per_epoch} batches) with data.batch_size={before}, and this run has "
            f"data.batch_size={now}: resume with data.batch_size={before}, or from a checkpoint "
            "saved at the end of an epoch"
        )


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def record_resume(
    run_dir: str, ckpt_path: str, checkpoint: dict[str, Any], cfg: DictConfig
) -> dict[str, list[Any]]:
    """Append what this resume changed (against the run's recorded config) to
    `<run_dir>/.hydra/resumes.yaml`; return the changes, key -> [before, now]."""
    folder = Path(run_dir) / ".hydra"
    recorded = folder / "config.yaml"
    before = _flat(OmegaConf.to_container(OmegaConf.load(recorded))) if recorded.is_file() else {}
    after = _flat(OmegaConf.to_container(cfg))  # unresolved, as config.yaml is saved
    ignored = ("ckpt_path",)
    changed = {
        key: [before.get(key), after.get(key)]
        for key in sorted(before.keys() | after.keys())
        if key not in ignored and before.get(key) != after.get(key)
    }
    entry = {
        "at": datetime.datetime.now().isoformat(timespec="seconds"),
        "from": str(ckpt_path),
        "epoch": int(checkpoint["epoch"]),
        "global_step": int(checkpoint["global_step"]),
        "changed": changed,
    }
    history = folder / "resumes.yaml"
    earlier = OmegaConf.to_container(OmegaConf.load(history)) if history.is_file() else []
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.create([*earlier, entry]), history)
    return changed


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        flat: dict[str, Any] = {}
        for key, value in node.items():
            flat.update(_flat(value, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: node}
