"""The target column: which task it poses, and its values to training targets and back.

The task is inferred from the values unless `data.task` sets it: two distinct values (numbers or
text such as "yes"/"no") are binary; text is multiclass, and so are integers with at most
MAX_CLASSES distinct values that repeat: at most one distinct value per ROWS_PER_CLASS rows
(AutoGluon's rule for small tables, 10 %), so that 20 different counts in 20 rows are amounts, not
20 classes of one row each; other numbers are regression.

Classes are sorted and the positive class of a binary task is the second one ("yes" of no/yes,
1 of 0/1, True of False). A regression target is standardised with the training rows' mean and
standard deviation, so the network learns numbers near zero whatever the target's unit: the loss
is in those standardised units, while test/mse and test/mae are taken back to the target's own
units with the deviation (`scale`; test/r2 is the same in both), and predict answers in the
target's own units. The training rows' smallest and largest target are kept too:
predictions are held within them (`data.clip_predictions`, RealMLP-TD's output clamp).
"""

from typing import Any

import numpy as np
import pandas as pd

from ..support.errors import UserError
from .roles import NUMBER_KINDS

MAX_CLASSES = 20
ROWS_PER_CLASS = 10


def _shown(values: list[Any], most: int = 5) -> str:
    listed = ", ".join(map(str, values[:most]))
    return listed + (f", ... ({len(values)} in all)" if len(values) > most else "")


def _plain(value: Any) -> Any:
    """A Python bool, int, float or str, so that checkpoints hold plain data only."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def distinct_labels(labels: pd.Series) -> list[Any]:
    values = [_plain(v) for v in labels.dropna().unique().tolist()]
    try:
        return sorted(set(values))
    except TypeError:  # text mixed with numbers
        return sorted(set(values), key=str)


def is_whole_numbers(values: list[Any]) -> bool:
    """Whether every distinct label is a whole number (an int, as distinct_labels gives them)."""
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def looks_like_classes(distinct: list[Any], rows: int) -> bool:
    """Whether numbers are class codes: few whole numbers, with ten rows or more each on average."""
    few = len(distinct) <= min(MAX_CLASSES, rows // ROWS_PER_CLASS)
    return few and is_whole_numbers(distinct)


def infer_task(labels: pd.Series, task: str | None, source: str) -> str:
    """The task `data.task` names, or the one the labels pose; refuse labels that fit neither."""
    distinct = distinct_labels(labels)
    name = f"data.target={labels.name!r}"
    if len(distinct) < 2:
        raise UserError(
            f"{name} holds a single value ({_shown(distinct) or 'none'}) in {source}: "
            "a model needs a target with at least two distinct values"
        )
    kind = pd.api.types.infer_dtype(labels, skipna=True)
    numbers = kind in NUMBER_KINDS
    if task is None:
        if len(distinct) == 2:
            return "binary"
        if numbers and not looks_like_classes(distinct, labels.count()):
            return "regression"
        return "multiclass"
    if task == "binary" and len(distinct) != 2:
        raise UserError(
            f"data.task=binary, but {name} holds {len(distinct)} distinct values in {source} "
            f"({_shown(distinct)}): use data.task=multiclass, or leave data.task out"
        )
    if task == "regression" and not numbers:
        raise UserError(
            f"data.task=regression, but {name} in {source} holds text ({_shown(distinct)}): "
            "regression needs numbers; use data.task=binary or multiclass, or leave it out"
        )
    return task


class TargetEncoder:
    """scikit-learn-style `fit`, `transform` (labels -> targets) and `inverse` (outputs -> labels).

    Its learned state (task, classes, mean, scale, range) is plain data, saved in every checkpoint.
    """

    def __init__(self, task: str) -> None:
        self.task = task
        self.classes: list[Any] = []
        self.mean = 0.0
        self.scale = 1.0
        # The training targets' smallest and largest value (regression); None in checkpoints
        # made before they were kept.
        self.low: float | None = None
        self.high: float | None = None

    def fit(self, labels: pd.Series, training_rows: np.ndarray) -> "TargetEncoder":
        """Classes come from every row (a class seen only in testing still needs an output);
        the mean and scale of a regression target from the training rows only."""
        if self.task == "regression":
            values = labels.iloc[training_rows].to_numpy("float64")
            self.mean = float(values.mean())
            self.scale = float(values.std()) or 1.0
            self.low, self.high = float(values.min()), float(values.max())
        else:
            self.classes = distinct_labels(labels)
        return self

    def transform(self, labels: pd.Series, source: str) -> np.ndarray:
        """float32 standardised values for regression, int64 class indices for classification."""
        if self.task == "regression":
            return ((labels.to_numpy("float64") - self.mean) / self.scale).astype(np.float32)
        # Look up each distinct label once, not each row: 1.0 read from a file matches class 1.
        rows, uniques = pd.factorize(labels)
        known = pd.Index(self.classes).get_indexer([_plain(v) for v in uniques.tolist()])
        codes = np.append(known, -1)[rows]  # a missing label (row code -1) is unknown too
        if (codes < 0).any():
            unknown = distinct_labels(labels[codes < 0])
            raise UserError(
                f"data.target={labels.name!r} in {source} holds labels the model does not know: "
                f"{_shown(unknown)}; its classes are {_shown(self.classes, most=20)}"
            )
        return codes.astype(np.int64)

    def inverse(
        self, scores: np.ndarray, threshold: float | None = None
    ) -> tuple[list[Any] | np.ndarray, np.ndarray | None]:
        """Predictions in the label's own values, and one probability column per class.

        `scores` are what the model's `predict_scores` returns: the positive class's probability
        (binary), the class probabilities (multiclass) or standardised values (regression).
        Binary: a row is the positive class when its probability is above `threshold` (the
        decision threshold chosen on validation, model/thresholds.py), 0.5 when None.
        """
        if self.task == "regression":
            return scores * self.scale + self.mean, None
        if self.task == "binary":
            probabilities = np.column_stack([1.0 - scores, scores])
            chosen = (scores > (0.5 if threshold is None else threshold)).astype(np.int64)
        else:
            probabilities = scores
            chosen = probabilities.argmax(axis=1)
        labels = np.asarray(self.classes, dtype=object)[chosen]
        return labels.tolist(), probabilities

    def standardised_range(self) -> list[float] | None:
        """[smallest, largest] training target in the standardised units the network outputs;
        None for classification and for checkpoints made before the range was kept."""
        if self.task != "regression" or self.low is None or self.high is None:
            return None
        return [(self.low - self.mean) / self.scale, (self.high - self.mean) / self.scale]

    def state_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "classes": self.classes,
            "mean": self.mean,
            "scale": self.scale,
            "low": self.low,
            "high": self.high,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.task = state["task"]
        self.classes = list(state["classes"])
        self.mean = float(state["mean"])
        self.scale = float(state["scale"])
        self.low, self.high = state.get("low"), state.get("high")
