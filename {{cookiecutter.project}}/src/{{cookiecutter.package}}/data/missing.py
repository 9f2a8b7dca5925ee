"""What to do with missing values: `data.missing=impute|error|drop`.

- impute (default): keep every row; the preprocessor fills numbers with the training median and
  gives categories a "missing" level. A row without a target cannot be imputed and is dropped.
- error: refuse a table with any missing value in the columns the model reads or in the target.
- drop: drop every row with a missing value in those columns.
"""

import numpy as np
import pandas as pd

from ..support.errors import UserError

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
