"""Turn raw table columns into model inputs: standardised numbers and one-hot categories.

Written by hand rather than with scikit-learn's ColumnTransformer because its learned state must be
plain lists and numbers: it travels inside every checkpoint, and checkpoints are loaded with torch's
safe `weights_only=True`, which refuses pickled scikit-learn objects.
"""

from typing import Any

import numpy as np
import pandas as pd

# The level a missing category becomes; with data.missing=impute, training rows teach it.
MISSING_LEVEL = "missing"


def level_name(value: Any) -> str:
    """One spelling per level: 1, 1.0 and "1" are the level "1"; True and "True" are "True"."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.number) and float(value).is_integer():
        return str(int(value))
    return str(value)


def level_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's index into `names`, the column's distinct levels as text (MISSING_LEVEL last).

    Each distinct value is named once, not once per row, which keeps large tables fast.
    """
    codes, uniques = pd.factorize(values)
    names = [level_name(v) for v in uniques.tolist()] + [MISSING_LEVEL]
    return np.where(codes < 0, len(names) - 1, codes), names


def _sort_levels(levels: list[str]) -> list[str]:
    """Numeric levels in numeric order (2 before 10), then text levels alphabetically."""

    def key(level: str) -> tuple[int, float, str]:
        try:
            return 0, float(level), level
        except ValueError:
            return 1, 0.0, level

    return sorted(levels, key=key)


def _numbers(values: pd.Series, rows: np.ndarray | None) -> np.ndarray:
    """The column as float64, an infinite value missing (NaN) like any other non-number."""
    numbers = pd.to_numeric(values).to_numpy("float64", na_value=np.nan)
    numbers = numbers if rows is None else numbers[rows]
    return np.where(np.isinf(numbers), np.nan, numbers)


def _levels(values: pd.Series, rows: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    codes, names = level_codes(values)
    return (codes if rows is None else codes[rows]), names


class TablePreprocessor:
    """scikit-learn-style `fit` / `transform`; the learned state lives in plain attributes.

    Numeric columns: a missing value becomes the training median, then every value is
    standardised with the training mean and standard deviation. Categorical columns are one-hot
    encoded over their known levels (declared up front, or those seen in training); a level never
    seen in training becomes all zeros, and `unseen_levels` counts such rows so that callers can
    warn about them.

    Each method takes an optional `rows`: the positions of the rows to use, in that order (None: all
    of them). A split of a large table is then read column by column, never copied as a whole.
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
        self.declared = {col: [level_name(v) for v in levels] for col, levels in declared.items()}
        self.medians: list[float] = []
        self.means: list[float] = []
        self.scales: list[float] = []
        self.categories: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        """The raw columns it reads."""
        return self.numeric + self.categorical

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for col in self.categorical:
            names += [f"{col}={level}" for level in self.categories[col]]
        return names

    def fit(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> "TablePreprocessor":
        self.medians, self.means, self.scales = [], [], []
        for col in self.numeric:
            values = _numbers(frame[col], rows)
            median = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
            values = np.where(np.isnan(values), median, values)
            self.medians.append(median)
            self.means.append(float(values.mean()))
            # A constant column keeps scale 1 so that it maps to zeros instead of dividing by zero.
            self.scales.append(float(values.std()) or 1.0)
        self.categories = {}
        for col in self.categorical:
            codes, names = _levels(frame[col], rows)
            present = sorted({names[code] for code in np.unique(codes).tolist()})
            self.categories[col] = self.declared.get(col) or _sort_levels(present)
        return self

    def transform(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """A float32 matrix: the numeric columns, then the one-hot block of each categorical one.

        Filled one column at a time, so that a large table costs little beyond the matrix itself.
        """
        length = len(frame) if rows is None else len(rows)
        features = np.zeros((length, len(self.feature_names)), dtype=np.float32)
        for j, col in enumerate(self.numeric):
            values = _numbers(frame[col], rows)
            values = np.where(np.isnan(values), self.medians[j], values)
            features[:, j] = (values - self.means[j]) / self.scales[j]
        offset = len(self.numeric)
        for col in self.categorical:
            codes = self._codes(frame, col, rows)
            seen = np.flatnonzero(codes >= 0)
            features[seen, offset + codes[seen]] = 1.0
            offset += len(self.categories[col])
        return features

    def unseen_levels(
        self, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> dict[str, dict[str, int]]:
        """Column -> {level unknown to the fitted state: number of rows}, for columns with any."""
        unseen = {}
        for col in self.categorical:
            codes, names = _levels(frame[col], rows)
            known = pd.Index(self.categories[col]).get_indexer(names)
            counts = np.bincount(codes[known[codes] < 0], minlength=len(names))
            found: dict[str, int] = {}
            for code in np.flatnonzero(counts).tolist():  # 1 and "1" share a name: add them up
                found[names[code]] = found.get(names[code], 0) + int(counts[code])
            if found:
                unseen[col] = found
        return unseen

    def _codes(self, frame: pd.DataFrame, col: str, rows: np.ndarray | None) -> np.ndarray:
        """Each row's position among the column's levels; -1 for a level never seen."""
        codes, names = _levels(frame[col], rows)
        return pd.Index(self.categories[col]).get_indexer(names)[codes]

    def state_dict(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "medians": self.medians,
            "means": self.means,
            "scales": self.scales,
            "categories": self.categories,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.numeric = list(state["numeric"])
        self.categorical = list(state["categorical"])
        self.medians = list(state["medians"])
        self.means = list(state["means"])
        self.scales = list(state["scales"])
        self.categories = {col: list(levels) for col, levels in state["categories"].items()}
