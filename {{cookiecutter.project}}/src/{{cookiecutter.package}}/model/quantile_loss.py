"""The quantile (pinball) loss for regression: predicts a chosen quantile instead of the mean.

Written by hand because neither torch nor torchmetrics has it as a loss, and it is four lines.
"""

import torch
from torch import nn


class QuantileLoss(nn.Module):
    """Mean of max(q * e, (q - 1) * e) with e = target - prediction.

    Under-predictions cost q per unit and over-predictions 1 - q, so the minimiser is the q-quantile
    of the target: q = 0.5 is the median (half the mean absolute error), q = 0.9 a value the target
    stays below nine times in ten.
    """

    def __init__(self, quantile: float = 0.5) -> None:
        super().__init__()
        self.quantile = quantile

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        error = target - prediction
        return torch.maximum(self.quantile * error, (self.quantile - 1) * error).mean()
