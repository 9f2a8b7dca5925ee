"""Turn raw table columns into model inputs: standardised numbers and one-hot categories.

Written by hand rather than with scikit-learn's ColumnTransformer because its learned state must be
plain lists and numbers: it travels inside every checkpoint, and checkpoints are loaded with torch's
safe `weights_only=True`, which refuses pickled scikit-learn objects.
"""

from typing import Any

import numpy as np
import pandas as pd


class TablePreprocessor:
    """scikit-learn-style `fit` / `transform`; the learned state lives in plain attributes.

    Numeric columns are standardised with the training mean and standard deviation. Categorical
    columns are one-hot encoded over their known levels (declared up front, or those seen in
    training); a level never seen becomes all zeros. Levels are compared as text: 1 and "1" match.
    """

    def __init__(
        self,
        numeric: list[str],
        categorical: list[str],
        categories: dict[str, list[Any]] | None = None,
    ) -> None:
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        declared = categories or {}
        self.declared = {col: [str(v) for v in levels] for col, levels in declared.items()}
        self.means: list[float] = []
        self.scales: list[float] = []
        self.categories: dict[str, list[str]] = {}

    @property
    def is_fitted(self) -> bool:
        return (len(self.means), len(self.categories)) == (len(self.numeric), len(self.categorical))

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for col in self.categorical:
            names += [f"{col}={level}" for level in self.categories[col]]
        return names

    def fit(self, frame: pd.DataFrame) -> "TablePreprocessor":
        numbers = frame[self.numeric].astype("float64")
        self.means = numbers.mean().tolist()
        # A constant column keeps scale 1 so that it maps to zeros instead of dividing by zero.
        self.scales = [s if s > 0 else 1.0 for s in numbers.std(ddof=0).tolist()]
        self.categories = {
            col: self.declared.get(col) or sorted(frame[col].astype(str).unique().tolist())
            for col in self.categorical
        }
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """A float32 matrix: the numeric columns, then the one-hot block of each categorical one."""
        numbers = (frame[self.numeric].to_numpy("float64") - self.means) / self.scales
        blocks = [numbers.astype(np.float32)]
        for col in self.categorical:
            levels = self.categories[col]
            codes = pd.Index(levels).get_indexer(frame[col].astype(str))  # -1: unseen level
            one_hot = np.zeros((len(frame), len(levels)), dtype=np.float32)
            seen = codes >= 0
            one_hot[np.flatnonzero(seen), codes[seen]] = 1.0
            blocks.append(one_hot)
        return np.concatenate(blocks, axis=1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "means": self.means,
            "scales": self.scales,
            "categories": self.categories,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.numeric = list(state["numeric"])
        self.categorical = list(state["categorical"])
        self.means = list(state["means"])
        self.scales = list(state["scales"])
        self.categories = {col: list(levels) for col, levels in state["categories"].items()}
