"""A multilayer perceptron: Linear -> activation -> Dropout per hidden layer, then a Linear head.

It follows the network contract (model/__init__.py): built with `input_size`, `output_size` and
the settings of configs/model/mlp.yaml; `forward` maps a float batch (rows, input_size) to raw
outputs (rows, output_size); its dropout is model/dropout.py's subclass of `torch.nn.Dropout`
(cheaper on a CPU), which the dropout schedules reach.
"""

import torch
from torch import nn

from .dropout import Dropout
from .layers import activation as make_activation
from .layers import initialise


class MLP(nn.Module):
    """`hidden_sizes=[]` leaves only the head: a linear (logistic) model."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_sizes: list[int],
        activation: str = "relu",
        dropout: float = 0.0,
        init: str = "default",
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_size
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), make_activation(activation), Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, output_size))
        self.layers = nn.Sequential(*layers)
        initialise(self, init)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)
