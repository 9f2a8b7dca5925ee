"""A ResNet-style MLP for tables, after Gorishniy et al., "Revisiting Deep Learning Models for
Tabular Data" (NeurIPS 2021), section 3.2:

    ResNet(x)      = Prediction(Block(... Block(Linear(x))))
    Block(x)       = x + Dropout(Linear(Dropout(Activation(Linear(Normalization(x))))))
    Prediction(x)  = Linear(Activation(Normalization(x)))

Every block keeps the width `width` (the paper's d_main) and widens inside to
`hidden_factor * width` (d_hidden); `dropout` is the paper's hidden dropout and `residual_dropout`
the one on the block's branch. The paper normalises with BatchNorm; `normalization: layer_norm` is
the default here because BatchNorm cannot train on a batch of one row, which the last batch of an
epoch can be, and LayerNorm behaves the same on every DDP share. `normalization: batch_norm` gives
the paper's network.

It follows the network contract (model/__init__.py). Its dropout is `torch.nn.Dropout` modules, so
a dropout schedule sets both dropouts to the scheduled value.
"""

import torch
from torch import nn

from .dropout import Dropout
from .layers import activation as make_activation
from .layers import initialise
from .layers import normalization as make_normalization


class ResidualBlock(nn.Module):
    def __init__(
        self,
        width: int,
        hidden: int,
        activation: str,
        dropout: float,
        residual_dropout: float,
        normalization: str,
    ) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            make_normalization(normalization, width),
            nn.Linear(width, hidden),
            make_activation(activation),
            Dropout(dropout),
            nn.Linear(hidden, width),
            Dropout(residual_dropout),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features + self.branch(features)


class ResNet(nn.Module):
    """`blocks=0` is Linear -> normalization -> activation -> Linear: a one-hidden-layer MLP."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        width: int = 128,
        blocks: int = 2,
        hidden_factor: float = 2.0,
        activation: str = "relu",
        dropout: float = 0.2,
        residual_dropout: float = 0.0,
        normalization: str = "layer_norm",
        init: str = "default",
    ) -> None:
        super().__init__()
        hidden = max(1, round(hidden_factor * width))
        self.first = nn.Linear(input_size, width)
        self.blocks = nn.Sequential(
            *(
                ResidualBlock(width, hidden, activation, dropout, residual_dropout, normalization)
                for _ in range(blocks)
            )
        )
        self.head = nn.Sequential(
            make_normalization(normalization, width),
            make_activation(activation),
            nn.Linear(width, output_size),
        )
        initialise(self, init)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.first(features)))
