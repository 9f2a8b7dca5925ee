"""Turn raw table columns into model inputs: scaled numbers, one-hot and embedded categories.

The matrix a row becomes, in this order:
- one number per numeric column and per calendar number of a date column (calendar.py): a
  missing value becomes the training median, then the number is scaled as `numeric_transform`
  says (scaling.py: robust, standardize or quantile);
- a one-hot block per categorical column with at most MAX_ONE_HOT_LEVELS levels, over its known
  levels (declared up front, or seen in training); a level never seen in training is all zeros;
- one code per categorical column with more levels, which the module's embedding table reads
  (model/inputs.py): 1.. for the levels seen in at least MIN_EMBEDDED_ROWS training rows, 0 for
  rarer levels pooled together and for levels never seen in training. The threshold follows
  RealMLP-TD (Holzmueller et al. 2024), which one-hot encodes up to 9 levels and embeds the rest.
`data.one_hot` and `data.embed` choose the encoding of a column themselves.

Written by hand rather than with scikit-learn's ColumnTransformer because its learned state must be
plain lists and numbers: it travels inside every checkpoint, checkpoints are loaded with torch's
safe `weights_only=True`, which refuses pickled scikit-learn objects, and export writes the same
steps as an ONNX graph (onnx_preprocessing.py).
"""

from typing import Any

import numpy as np
import pandas as pd

from .calendar import calendar_numbers, date_parts, parse_dates
from .scaling import centre_and_scale, quantile_knots, quantile_scores, scaled

# The level a missing category becomes; with data.missing=impute, training rows teach it.
MISSING_LEVEL = "missing"
# Categorical columns with more levels than this are embedded rather than one-hot encoded.
MAX_ONE_HOT_LEVELS = 9
# An embedded level seen in fewer training rows shares the pooled row: a row of its own would learn
# little more than those few rows' noise.
MIN_EMBEDDED_ROWS = 5


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

    `unseen_levels` counts the rows whose category training never saw, so that callers can warn
    about them. Each method takes an optional `rows`: the positions of the rows to use, in that
    order (None: all of them). A split of a large table is then read column by column, never
    copied as a whole.
    """

    def __init__(
        self,
        numeric: list[str],
        categorical: list[str],
        categories: dict[str, list[Any]] | None = None,
        dates: dict[str, str] | None = None,
        embed: list[str] | None = None,
        one_hot: list[str] | None = None,
        numeric_transform: str = "standardize",
    ) -> None:
        self.numeric = list(numeric)
        # Every categorical column; fit splits them into one-hot encoded and embedded ones.
        self.categorical = list(categorical)
        self.embedded: list[str] = []
        self.dates = dict(dates or {})  # column -> how its text is written (calendar.py)
        self.embed, self.one_hot = list(embed or []), list(one_hot or [])
        self.numeric_transform = numeric_transform
        declared = categories or {}
        self.declared = {col: [level_name(v) for v in levels] for col, levels in declared.items()}
        self.date_parts: dict[str, list[str]] = {}
        self.medians: list[float] = []
        self.centres: list[float] = []
        self.scales: list[float] = []
        # numeric_transform=quantile: each number's [knots, normal scores] (scaling.py).
        self.quantiles: list[list[list[float]]] = []
        self.categories: dict[str, list[str]] = {}

    @property
    def columns(self) -> list[str]:
        """The raw columns it reads."""
        return self.numeric + list(self.dates) + self.categorical + self.embedded

    @property
    def number_names(self) -> list[str]:
        """The numeric inputs: the numeric columns, then each date column's calendar numbers."""
        parts = [f"{col}.{part}" for col, parts in self.date_parts.items() for part in parts]
        return self.numeric + parts

    @property
    def feature_names(self) -> list[str]:
        names = self.number_names
        for col in self.categorical:
            names += [f"{col}={level}" for level in self.categories[col]]
        return names + self.embedded

    @property
    def embedding_rows(self) -> list[int]:
        """Each embedded column's table size: its kept levels and the pooled row 0."""
        return [len(self.categories[col]) + 1 for col in self.embedded]

    def _number_columns(self, frame: pd.DataFrame, rows: np.ndarray | None):
        """(name, float64 values) of every numeric input, in `number_names` order."""
        for col in self.numeric:
            yield col, _numbers(frame[col], rows)
        for col, how in self.dates.items():
            dates = parse_dates(frame[col] if rows is None else frame[col].iloc[rows], how)
            if col not in self.date_parts:  # fitting: the parts the training rows call for
                self.date_parts[col] = date_parts(dates)
            for part in self.date_parts[col]:
                yield f"{col}.{part}", calendar_numbers(dates, part)

    def fit(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> "TablePreprocessor":
        self.medians, self.centres, self.scales, self.date_parts = [], [], [], {}
        self.quantiles = []
        for _, values in self._number_columns(frame, rows):
            median = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
            imputed = np.where(np.isnan(values), median, values)
            self.medians.append(median)
            if self.numeric_transform == "quantile":
                self.quantiles.append(list(quantile_knots(imputed)))
                self.centres.append(0.0)
                self.scales.append(1.0)
                continue
            centre, scale = centre_and_scale(imputed, self.numeric_transform)
            self.centres.append(centre)
            self.scales.append(scale)
        self.categories = {}
        everything, self.categorical, self.embedded = self.categorical + self.embedded, [], []
        for col in everything:
            codes, names = _levels(frame[col], rows)
            counts = np.bincount(codes, minlength=len(names))
            seen: dict[str, int] = {}
            for code in np.flatnonzero(counts).tolist():  # 1 and "1" share a name: add them up
                seen[names[code]] = seen.get(names[code], 0) + int(counts[code])
            levels = self.declared.get(col) or _sort_levels(list(seen))
            embedded = col in self.embed or (
                col not in self.one_hot and len(levels) > MAX_ONE_HOT_LEVELS
            )
            if embedded:
                self.embedded.append(col)
                levels = [level for level in levels if seen.get(level, 0) >= MIN_EMBEDDED_ROWS]
            else:
                self.categorical.append(col)
            self.categories[col] = levels
        return self

    def transform(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """A float32 matrix with `feature_names` as its columns.

        Filled one column at a time, so that a large table costs little beyond the matrix itself.
        """
        length = len(frame) if rows is None else len(rows)
        features = np.zeros((length, len(self.feature_names)), dtype=np.float32)
        for j, (_, values) in enumerate(self._number_columns(frame, rows)):
            values = np.where(np.isnan(values), self.medians[j], values)
            transform = self.numeric_transform
            if transform == "quantile":
                features[:, j] = quantile_scores(values, *self.quantiles[j])
            else:
                features[:, j] = scaled(values, self.centres[j], self.scales[j], transform)
        offset = len(self.number_names)
        for col in self.categorical:
            codes = self._codes(frame, col, rows)
            seen = np.flatnonzero(codes >= 0)
            features[seen, offset + codes[seen]] = 1.0
            offset += len(self.categories[col])
        for col in self.embedded:
            features[:, offset] = self._codes(frame, col, rows) + 1  # unseen and rare: 0
            offset += 1
        return features

    def unseen_levels(
        self, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> dict[str, dict[str, int]]:
        """Column -> {level unknown to the fitted state: number of rows}, for the one-hot columns
        with any. Embedded columns are left out: their pooled row, which training taught with the
        rare levels, is made for levels it never saw."""
        unseen = {}
        for col in self.categorical:
            codes, names = _levels(frame[col], rows)
            known = pd.Index(self.categories[col]).get_indexer(names)
            counts = np.bincount(codes[known[codes] < 0], minlength=len(names))
            found: dict[str, int] = {}
            for code in np.flatnonzero(counts).tolist():
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
            "embedded": self.embedded,
            "dates": self.dates,
            "date_parts": self.date_parts,
            "numeric_transform": self.numeric_transform,
            "medians": self.medians,
            "centres": self.centres,
            "scales": self.scales,
            "quantiles": self.quantiles,
            "categories": self.categories,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.numeric = list(state["numeric"])
        self.categorical = list(state["categorical"])
        self.embedded = list(state["embedded"])
        self.dates = dict(state["dates"])
        self.date_parts = {col: list(parts) for col, parts in state["date_parts"].items()}
        self.numeric_transform = state["numeric_transform"]
        self.medians = list(state["medians"])
        self.centres = list(state["centres"])
        self.scales = list(state["scales"])
        # Checkpoints from before the quantile transform have no such key.
        self.quantiles = [list(pair) for pair in state.get("quantiles", [])]
        self.categories = {col: list(levels) for col, levels in state["categories"].items()}
