"""What to do with missing values: `data.missing=impute|error|drop`.

- impute (default): keep every row; the preprocessor fills numbers with the training median and
  gives categories a "missing" level. A row without a target cannot be imputed and is dropped.
- error: refuse a table with any missing value in the columns the model reads or in the target.
- drop: drop every row with a missing value in those columns.

An infinite number (inf, -inf, "Infinity" in a CSV file) in a numeric column is no measurement
either, and would make the training mean infinite and the loss NaN: it is a missing value under
the same policy, named with its column and count in a warning (impute, drop) or the refusal (error).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ..support.errors import UserError
from .frames import with_columns

if TYPE_CHECKING:  # imported where used: the config checks read MISSING_POLICIES before every
    import numpy as np  # run, and `--help` should not wait for pandas
    import pandas as pd

# The vocabulary of data.missing; the config checks read it from here.
MISSING_POLICIES = ("impute", "error", "drop")


def missing_counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Column -> number of missing values, for the columns that have any."""
    counts = frame[columns].isna().sum()
    return {column: int(count) for column, count in counts.items() if count}


def describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{column!r} ({count} row{'s' if count != 1 else ''})" for column, count in counts.items()
    )


def refuse_missing(counts: dict[str, int], source: str) -> None:
    if counts:
        raise UserError(
            f"{source} has missing values in {describe_counts(counts)} and data.missing=error: "
            "fill them in, or set data.missing=impute (training median, a 'missing' level) or "
            "data.missing=drop (leave those rows out)"
        )


def usable_rows(
    frame: pd.DataFrame, inputs: list[str], target: str, policy: str, source: str
) -> tuple[pd.DataFrame, int]:
    """The rows to learn from under `policy`, and how many were left out."""
    import numpy as np

    if policy not in MISSING_POLICIES:
        allowed = ", ".join(MISSING_POLICIES)
        raise UserError(f"data.missing={policy!r} is not allowed: expected one of {allowed}")
    columns = [*inputs, target]
    if policy == "error":
        refuse_missing(missing_counts(frame, columns), source)
    checked = columns if policy == "drop" else [target]
    keep = frame[checked].notna().all(axis=1).to_numpy()
    left_out = int(np.count_nonzero(~keep))
    if left_out == len(frame):
        raise UserError(
            f"{source} has no row with a value in every column of {', '.join(checked)} "
            f"(data.missing={policy}): nothing is left to learn from"
        )
    return (frame[keep] if left_out else frame), left_out


class InfiniteValueWarning(UserWarning):
    """Infinite numbers, treated as missing values under data.missing."""


def infinite_counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Column -> number of infinite values, for the columns of `columns` that have any."""
    import numpy as np

    counts = {}
    for column in columns:
        infinite = _infinite(frame[column])
        if infinite is not None and infinite.any():
            counts[column] = int(np.count_nonzero(infinite))
    return counts


def _infinite(values: pd.Series) -> np.ndarray | None:
    """Which values are infinite; None for a column that cannot hold any (integers, booleans)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return None
    if not pd.api.types.is_float_dtype(values):  # text read as numbers later: "inf" among it
        values = pd.to_numeric(values, errors="coerce")
    return np.isinf(values.to_numpy("float64", na_value=np.nan))


def refuse_infinite(counts: dict[str, int], source: str) -> None:
    if counts:
        raise UserError(
            f"{source} has infinite values in {describe_counts(counts)} and data.missing=error: "
            "replace them with numbers, or set data.missing=impute (the training median) or "
            "data.missing=drop (leave those rows out)"
        )


def warn_infinite(counts: dict[str, int], source: str, policy: str) -> None:
    if counts:
        what = "left out with their rows" if policy == "drop" else "imputed"
        warnings.warn(
            f"{source} has infinite values in {describe_counts(counts)}: {what} like missing "
            f"values (data.missing={policy})",
            InfiniteValueWarning,
            stacklevel=3,
        )


def without_infinities(frame: pd.DataFrame, counts: dict[str, int]) -> pd.DataFrame:
    """`frame` with the infinite values of the columns counted in `counts` made missing."""
    return with_columns(
        frame, {column: frame[column].mask(_infinite(frame[column])) for column in counts}
    )


def infinities_as_missing(
    frame: pd.DataFrame, columns: list[str], policy: str, source: str
) -> pd.DataFrame:
    """`frame` with the infinite values of the numeric `columns` made missing, once data.missing
    has had its say: error refuses them, impute and drop warn."""
    counts = infinite_counts(frame, columns)
    if policy == "error":
        refuse_infinite(counts, source)
    warn_infinite(counts, source, policy)
    return without_infinities(frame, counts)
