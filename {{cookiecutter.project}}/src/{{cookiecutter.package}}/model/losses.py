"""Build the loss from its plain config: numbers and lists in the config, tensors for torch.

The settings stay plain in the checkpoint's hyperparameters (safe `weights_only=True` loading), but
`BCEWithLogitsLoss(pos_weight=...)` and `CrossEntropyLoss(weight=...)` want tensors, so they are
converted here, where the loss is made. The losses keep them as buffers, which follow the model to
its device.
"""

from typing import Any

import torch
from hydra.utils import instantiate
from torch import nn

# Settings given as a number or a list in the config that torch takes as a float tensor.
TENSOR_SETTINGS = ("pos_weight", "weight")


def build_loss(settings: dict[str, Any]) -> nn.Module:
    plain = {k: v for k, v in settings.items() if k not in TENSOR_SETTINGS or v is None}
    tensors = {k: torch.tensor(v, dtype=torch.float32) for k, v in settings.items()
               if k in TENSOR_SETTINGS and v is not None}
    return instantiate(plain, **tensors)
