"""How numeric inputs are scaled (`data.numeric_transform`), from their training values.

- `standardize`: minus the training mean, over the standard deviation (the lecture's way);
- `robust`: minus the training median, over the interquartile range, then smoothly clipped,
  x / sqrt(1 + (x / CLIP_AT)^2), so that a heavy tail or an outlier cannot dominate a layer while
  the order of values is kept: the preprocessing of RealMLP-TD (Holzmueller et al., "Better by
  Default", NeurIPS 2024). A column whose middle half is one value is scaled by half its range.
- `quantile`: each value's place among the training values, as a standard normal score: the
  quantile transformation Gorishniy et al. ("Revisiting Deep Learning Models for Tabular Data",
  2021) gave every model, scikit-learn's `QuantileTransformer(output_distribution="normal")`
  (1000 quantiles, ends clipped at 1e-7). A heavy tail is spread out rather than clipped.
  Its fitted state is the column's distinct quantiles ("knots") and their normal scores, plain
  lists; values between knots are interpolated linearly, values beyond them take the end scores.
  Values are rounded to float32 first, in fitting and transforming: the exported graph takes
  float32 numbers, and between two close knots a float64 and a float32 copy of one value would
  get visibly different scores.
A constant column keeps scale 1, so it maps to zeros instead of dividing by zero.

numpy is imported where it is used: the config checks read NUMERIC_TRANSFORMS before any run.
"""

from statistics import NormalDist
from typing import Any

NUMERIC_TRANSFORMS = ("standardize", "robust", "quantile")
# Where the smooth clip bends: values within about 3 scaled units pass nearly as they are.
CLIP_AT = 3.0
# scikit-learn's QuantileTransformer defaults: 1000 quantiles, levels kept 1e-7 from 0 and 1.
QUANTILES = 1000
LEVEL_MARGIN = 1e-7


def centre_and_scale(values: Any, transform: str) -> tuple[float, float]:
    """(centre, scale) of a column's training values (a float64 array without NaN)."""
    import numpy as np

    if transform == "standardize":
        return float(values.mean()), float(values.std()) or 1.0
    low, centre, high = np.percentile(values, [25, 50, 75])
    spread = high - low or (values.max() - values.min()) / 2
    return float(centre), float(spread) or 1.0


def scaled(values: Any, centre: float, scale: float, transform: str) -> Any:
    """The values as the network sees them (any array type with arithmetic and `** 0.5`)."""
    values = (values - centre) / scale
    if transform == "robust":
        values = values / (1.0 + (values / CLIP_AT) ** 2) ** 0.5
    return values


def quantile_knots(values: Any) -> tuple[list[float], list[float]]:
    """(knots, scores) of a column's training values (a float64 array without NaN): its quantiles
    at QUANTILES evenly spaced levels, each distinct value once with the mean normal score of its
    levels (a value that fills many levels, such as a count's 0, gets their middle), at least two
    knots so that a constant column maps every value to 0."""
    import numpy as np

    levels = np.linspace(0.0, 1.0, max(2, min(QUANTILES, len(values))))
    knots = np.quantile(as_float32(values), levels)
    normal = NormalDist()
    clipped = np.clip(levels, LEVEL_MARGIN, 1.0 - LEVEL_MARGIN)
    scores = np.array([normal.inv_cdf(level) for level in clipped.tolist()])
    distinct, which = np.unique(knots, return_inverse=True)
    means = np.bincount(which, weights=scores) / np.bincount(which)
    if len(distinct) == 1:
        return [float(distinct[0]), float(distinct[0]) + 1.0], [0.0, 0.0]
    return distinct.tolist(), means.tolist()


def quantile_scores(values: Any, knots: list[float], scores: list[float]) -> Any:
    """The values' normal scores: linear between knots, the end scores beyond them."""
    import numpy as np

    return np.interp(as_float32(values), knots, scores)


def as_float32(values: Any) -> Any:
    """float64 values rounded to the nearest float32, as the exported graph's inputs are."""
    import numpy as np

    return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)
