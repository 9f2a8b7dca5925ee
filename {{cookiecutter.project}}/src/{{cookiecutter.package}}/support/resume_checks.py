"""What a resumed run may change, checked before anything is written.

A checkpoint's weights, optimizer state and scheduler state only make sense for the network, data
and classes they were trained with. Lightning would find out halfway through restoring them (a raw
`size mismatch` traceback, after the run's config record had been rewritten), or not at all (the
same shapes with other input columns). Here the settings the checkpoint's state depends on are
compared with this run's before the trainer exists, and a mismatch is one line naming every key
that differs with both values. Everything else (max_epochs, patience, the learning rate, dropout,
...) may change; `record_resume` notes what did in `<run>/.hydra/resumes.yaml`.
"""

import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .errors import UserError

# Network settings that never change the weights' shapes or meaning: free to change on resume.
FREE_MODEL_KEYS = ("compile", "dropout", "residual_dropout")


def _shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {name: tuple(tensor.shape) for name, tensor in state.items()}


def fixed_settings(hparams: dict[str, Any], data_state: dict[str, Any]) -> dict[str, Any]:
    """The settings a checkpoint's state depends on, by the key a user would change."""
    preprocessor = data_state["preprocessor"]
    model = hparams["model"] or {}
    settings = {
        "data.task": hparams["task"],
        "the target's classes": data_state["target_encoder"].get("classes"),
        "the numeric inputs (data.numeric)": list(preprocessor["numeric"]),
        "the categorical inputs (data.categorical)": list(preprocessor["categorical"]),
        "model._target_": model.get("_target_"),
        "loss._target_": (hparams["loss"] or {}).get("_target_"),
        "optimizer._target_": (hparams["optimizer"] or {}).get("_target_"),
        "scheduler._target_": (hparams["scheduler"] or {}).get("_target_"),
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
    ckpt_path: str, checkpoint: dict[str, Any], module: Any, datamodule: Any
) -> None:
    """Refuse to continue `checkpoint` with a module or data that do not fit its state."""
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
