"""Demo tables that need no download: heart, 2-D toy problems, scikit-learn's bundled tables.

The 2-D generators (moons, circles, spirals) are the lectures' non-linear toy problems: a linear
model fails on them and one hidden layer succeeds. They draw their points from a fixed random state,
so every run sees the same table and `seed` changes only the split and the training.
"""

import inspect
from collections.abc import Callable
from importlib.resources import as_file, files
from typing import Any

import numpy as np
import pandas as pd

from ..support.errors import UserError

# The generators' points do not depend on `seed`: the table is the data set, not a draw per run.
GENERATOR_STATE = 0


def _datasets() -> Any:
    """scikit-learn's datasets module, imported when a demo needs it: importing it costs 0.2-0.3 s,
    and every run reads this file (the data module imports `load_demo`), a user's table too."""
    from sklearn import datasets

    return datasets


def heart() -> pd.DataFrame:
    """The 303-patient Cleveland heart-disease table shipped in the package (see the README)."""
    with as_file(files(__package__) / "heart.csv") as embedded:
        return pd.read_csv(embedded)


def _points(features: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"x1": features[:, 0], "x2": features[:, 1], "label": labels})


def moons(rows: int = 1000, noise: float = 0.2) -> pd.DataFrame:
    """Two interleaving half circles (scikit-learn's make_moons)."""
    return _points(*_datasets().make_moons(rows, noise=noise, random_state=GENERATOR_STATE))


def circles(rows: int = 1000, noise: float = 0.1) -> pd.DataFrame:
    """A circle inside a larger one (scikit-learn's make_circles, inner radius half the outer)."""
    return _points(
        *_datasets().make_circles(rows, noise=noise, factor=0.5, random_state=GENERATOR_STATE)
    )


def spirals(rows: int = 1000, noise: float = 0.05, turns: float = 1.5) -> pd.DataFrame:
    """Two spiral arms wound around each other, `turns` times; scikit-learn has no generator."""
    generator = np.random.default_rng(GENERATOR_STATE)
    labels = np.arange(rows) % 2
    # sqrt spreads the points evenly along the arm instead of crowding them at the centre.
    radius = np.sqrt(generator.uniform(0.05, 1.0, rows))
    angle = radius * turns * 2 * np.pi + labels * np.pi
    features = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    features += generator.normal(0.0, noise, features.shape)
    return _points(features, labels)


def _bundled(loader: str, label_names: bool) -> pd.DataFrame:
    """scikit-learn's bundled table that its function `loader` returns, as one frame."""
    bunch = getattr(_datasets(), loader)(as_frame=True)
    frame = bunch.frame
    if label_names:  # "malignant"/"benign" rather than 0/1: predictions in the data set's own terms
        frame["target"] = np.asarray(bunch.target_names)[frame["target"].to_numpy()]
    return frame


def breast_cancer() -> pd.DataFrame:
    """569 tumours, 30 measurements, target malignant or benign (binary)."""
    return _bundled("load_breast_cancer", label_names=True)


def wine() -> pd.DataFrame:
    """178 wines, 13 chemical measurements, target class_0, class_1 or class_2 (multiclass)."""
    return _bundled("load_wine", label_names=True)


def digits() -> pd.DataFrame:
    """1797 hand-written digits as 8x8 pixel intensities (0-16), target 0-9 (multiclass)."""
    return _bundled("load_digits", label_names=False)


def diabetes() -> pd.DataFrame:
    """442 patients, 10 standardised measurements, target disease progression (regression)."""
    return _bundled("load_diabetes", label_names=False)


DEMOS: dict[str, Callable[..., pd.DataFrame]] = {
    "heart": heart,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "breast_cancer": breast_cancer,
    "wine": wine,
    "digits": digits,
    "diabetes": diabetes,
}


def load_demo(name: str, options: dict[str, Any] | None = None) -> pd.DataFrame:
    """The demo table `name`, built with `options` (the generators' rows and noise)."""
    if name not in DEMOS:
        raise UserError(f"data.demo={name!r} is not a demo table: choose one of {', '.join(DEMOS)}")
    options = options or {}
    accepted = list(inspect.signature(DEMOS[name]).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise UserError(
            f"data.demo_options has {', '.join(unknown)}, which data.demo={name} does not take; "
            f"it takes {', '.join(accepted) or 'no options'}"
        )
    return DEMOS[name](**options)
