"""A synthetic binary table for the benchmark: float features, a learnable non-linear target."""

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = 29
TARGET = "label"


def feature_names(count: int = FEATURES) -> list[str]:
    return [f"x{i:02d}" for i in range(count)]


def write_table(path: Path, rows: int, features: int = FEATURES, seed: int = 0) -> Path:
    """Write `rows` x `features` floats and a 0/1 label to a CSV file, once; then reuse it."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    weights = rng.standard_normal(features, dtype=np.float32)
    logits = x @ weights / np.sqrt(features) + 0.5 * np.sin(x[:, 0] * x[:, 1])
    frame = pd.DataFrame(x, columns=feature_names(features))
    frame[TARGET] = (rng.random(rows) < 1 / (1 + np.exp(-2 * logits))).astype(np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".partial")
    frame.to_csv(temporary, index=False, float_format="%.6g")
    temporary.rename(path)
    return path
