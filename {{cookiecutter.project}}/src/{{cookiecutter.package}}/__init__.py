"""Train a multilayer perceptron on tabular data with PyTorch Lightning, configured by Hydra."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("{{ cookiecutter.project }}")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
