"""How numeric inputs are scaled (`data.numeric_transform`), from their training values.

- `standardize`: minus the training mean, over the standard deviation (the lecture's way);
- `robust`: minus the training median, over the interquartile range, then smoothly clipped,
  x / sqrt(1 + (x / CLIP_AT)^2), so that a heavy tail or an outlier cannot dominate a layer while
  the order of values is kept: the preprocessing of RealMLP-TD (Holzmueller et al., "Better by
  Default", NeurIPS 2024). A column whose middle half is one value is scaled by half its range.
A constant column keeps scale 1, so it maps to zeros instead of dividing by zero.

numpy is imported where it is used: the config checks read NUMERIC_TRANSFORMS before any run.
"""

from typing import Any

NUMERIC_TRANSFORMS = ("standardize", "robust")
# Where the smooth clip bends: values within about 3 scaled units pass nearly as they are.
CLIP_AT = 3.0


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
