"""`torch.nn.Dropout` with a cheaper mask on the CPU.

On a CPU, torch's dropout draws one 32-bit random number per unit (a Bernoulli sample each). For
a 256-wide layer that costs more than the layer's matrix product: measured here, three dropout
layers took about half of a training step of the 3 x 256 MLP at batch 256. This module draws 64
random bits per four units instead and keeps a unit when its 16 bits reach the level that
`p` sets, so `p` is honoured to 1/65536. In evaluation and at p = 0 it passes its input on, as
torch's does; at p = 1 and on other devices (a GPU's generator is fast) it is torch's own dropout.

It is a subclass of `nn.Dropout`, so the dropout schedules (callbacks/dropout_scheduler.py) and
anything else that looks for `nn.Dropout` modules still find it and set its `p`.
"""

import torch
from torch import nn

# Each unit's mask is one 16-bit lane of a random int64 word: 65536 levels.
LEVELS = 2**16


class Dropout(nn.Dropout):
    """Zero each unit with probability `p` while training and scale the rest by 1 / (1 - p)."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.p == 0 or not self.training:
            # What torch's dropout returns here too (the input itself), without its call: a
            # layer at p = 0 (no dropout, or a schedule's start) then costs nothing per step.
            return features
        if features.device.type != "cpu" or self.p >= 1:
            return super().forward(features)
        dropped_levels = round(self.p * LEVELS)
        units = features.numel()
        # random_ over the whole int64 range: all 64 bits uniform (its default leaves the sign
        # bit zero), viewed as four signed 16-bit lanes in [-32768, 32767].
        words = torch.empty((units + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
        lanes = words.view(torch.int16)[:units].view(features.shape)
        keep = lanes >= dropped_levels - LEVELS // 2
        # One float mask, already scaled: the backward pass is then one multiplication too.
        mask = keep.to(features.dtype).mul_(LEVELS / (LEVELS - dropped_levels))
        return features * mask
