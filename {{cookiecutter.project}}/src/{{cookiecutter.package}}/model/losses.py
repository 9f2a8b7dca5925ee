"""The loss contract: which tasks a loss trains and what it is given, and building it from its plain
config.

A loss's file, `configs/loss/<name>.yaml`, is its class (`_target_`) and the class's settings, plus
one key of ours, `trains`: each task the loss can train, with what it compares against the targets
there, one of INPUTS. E.g. `trains: {binary: probabilities, regression: values}` for the mean
squared error. The output layer's width follows from it (`output_size`), the config checks refuse
a loss on a task it does not list, and nothing else names losses: adding a loss is adding its file.

Torch is imported only to build a loss, so the config checks can read this module without it.
"""

from typing import Any

# What a loss is given, by the word its `trains` table uses.
INPUTS = {
    "logits": "one raw output per class, against the class index (cross-entropy)",
    "logit": "one raw output, against the 0/1 label (binary cross-entropy on logits)",
    "probabilities": "the predicted probability of the positive class (binary), or of every class "
    "(multiclass, a softmax) against the one-hot label",
    "values": "the predicted value, in the standardised target's units (regression)",
}
CONTRACT_KEY = "trains"
# Settings given as a number or a list in the config that torch takes as a float tensor.
TENSOR_SETTINGS = ("pos_weight", "weight")


def loss_input(settings: dict[str, Any], task: str) -> str | None:
    """What the loss is given on `task` (a key of INPUTS); None if it does not train that task."""
    return (settings.get(CONTRACT_KEY) or {}).get(task)


def output_size(given: str, task: str, num_classes: int | None) -> int:
    """The network's output width: one per class for logits (and multiclass probabilities)."""
    if given == "logits" or (given == "probabilities" and task == "multiclass"):
        return int(num_classes)
    return 1


def build_loss(settings: dict[str, Any]) -> Any:
    """The torch loss module. Settings stay plain in the checkpoint's hyperparameters (safe
    `weights_only=True` loading), but `BCEWithLogitsLoss(pos_weight=...)` and
    `CrossEntropyLoss(weight=...)` want tensors, so they are converted here; the losses keep them
    as buffers, which follow the model to its device."""
    import torch
    from hydra.utils import instantiate

    arguments = {k: v for k, v in settings.items() if k != CONTRACT_KEY}
    plain = {k: v for k, v in arguments.items() if k not in TENSOR_SETTINGS or v is None}
    tensors = {
        k: torch.tensor(v, dtype=torch.float32)
        for k, v in arguments.items()
        if k in TENSOR_SETTINGS and v is not None
    }
    return instantiate(plain, _convert_="all", **tensors)
