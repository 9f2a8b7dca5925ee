"""A multilayer perceptron: Linear -> activation -> Dropout per hidden layer, then a Linear head."""

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}

# Weight initialisations by name; "default" keeps PyTorch's own (Kaiming-uniform with a=sqrt(5)).
INITIALISATIONS = {
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "orthogonal": nn.init.orthogonal_,
}


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
            layers += [nn.Linear(width, hidden), ACTIVATIONS[activation](), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, output_size))
        self.layers = nn.Sequential(*layers)
        if init != "default":
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    INITIALISATIONS[init](layer.weight)
                    nn.init.zeros_(layer.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)
