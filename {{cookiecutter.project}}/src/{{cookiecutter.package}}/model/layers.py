"""The activations, normalisations and weight initialisations a network can be configured with, by
name.

The names are the vocabulary of `model.activation`, `model.normalization`, `model.init` and
`model.numeric_embedding`: this is their one home. The
tables hold the names of torch's own classes and functions, not the objects, so the config checks
can read them without importing torch; torch is imported only when a layer is made. Add an entry
here to offer another one to every network.
"""

from typing import Any

# model.activation -> the torch.nn class.
ACTIVATIONS = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "gelu": "GELU",
    "elu": "ELU",
    "selu": "SELU",
    "silu": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
}

# model.numeric_embedding: what the module does to each number before any network
# (model/inputs.py): nothing, or the periodic embedding.
NUMERIC_EMBEDDINGS = ("none", "periodic")

# model.normalization -> the torch.nn class, built with the layer's width.
NORMALIZATIONS = {"batch_norm": "BatchNorm1d", "layer_norm": "LayerNorm"}

# model.init -> the torch.nn.init function and its settings; "default" keeps PyTorch's own
# (Kaiming-uniform with a=sqrt(5)).
INITIALISATIONS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "default": None,
    "xavier_uniform": ("xavier_uniform_", {}),
    "xavier_normal": ("xavier_normal_", {}),
    "kaiming_uniform": ("kaiming_uniform_", {"nonlinearity": "relu"}),
    "kaiming_normal": ("kaiming_normal_", {"nonlinearity": "relu"}),
    "orthogonal": ("orthogonal_", {}),
}


def activation(name: str) -> Any:
    """A new activation module, e.g. `activation("relu")` is `torch.nn.ReLU()`."""
    from torch import nn

    return getattr(nn, ACTIVATIONS[name])()


def normalization(name: str, width: int) -> Any:
    """A new normalisation layer, e.g. `normalization("layer_norm", 64)`."""
    from torch import nn

    return getattr(nn, NORMALIZATIONS[name])(width)


def initialise(network: Any, name: str) -> None:
    """Re-initialise every Linear layer of `network`: weights by `name`, biases to zero."""
    if INITIALISATIONS[name] is None:
        return
    from torch import nn

    function, settings = INITIALISATIONS[name]
    for layer in network.modules():
        if isinstance(layer, nn.Linear):
            getattr(nn.init, function)(layer.weight, **settings)
            nn.init.zeros_(layer.bias)
