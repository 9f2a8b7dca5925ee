"""Decide what each column is to the network: a number, a category, a date, or nothing.

Columns listed in `data.numeric`, `data.categorical` (or `data.one_hot`, `data.embed`, which also
choose its encoding) or `data.drop` get that role; every other column's role is inferred from its
values:
- timestamps, pandas periods, and text that is dates written one way (calendar.py), are dates;
- text and booleans are categorical, however many levels they have (preprocessing.py embeds
  those with many);
- numbers are numeric, integers with few values too (a count, a rating, a coded level): as
  RealMLP-TD, scikit-learn's HistGradientBoosting (`from_dtype`) and skrub read a table's types.
  Listing a code such as 0/1/2 in `data.categorical` one-hot encodes it instead;
- an identifier carries nothing a model can learn from new rows, so it is dropped: text whose every
  value differs, or an integer column named like an id (`id`, `customer_id`, `CustomerID`,
  `row_index`, `rownames`, ...) whose every value differs; a column with no value at all is
  dropped too, and one with the same value in every row (nothing to tell rows apart by).
  IDENTIFIER_RULE says so where the summary lists the columns left out.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..support.errors import UserError, shortened
from .calendar import date_format

IDENTIFIER_RULE = (
    "identifiers are text, or integers in a column named like an id, with every value distinct"
)
# `id` as a word (customer_id, id), camel case (CustomerID, userId, but not valid or PID), and row
# numbers as pandas (`Unnamed: 0`) and R's data sets (`rownames`) export them.
ID_NAME = re.compile(
    r"(^|[^a-z])(id|ids|index|key|uuid)$|(?-i:[a-z](Id|ID|Ids|IDs))$"
    r"|^(unnamed: ?0|row|rownum|rownames|row\.names)$",
    re.I,
)
# pandas.api.types.infer_dtype kinds that are numbers (the target's task is read with them too).
NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal")


@dataclass
class Roles:
    """The columns the network reads, in table order, and the ones left out with the reason."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # column -> how its dates are written
    dropped: dict[str, str] = field(default_factory=dict)


def require_columns(frame: pd.DataFrame, wanted: dict[str, list[str]], source: str) -> None:
    """Each key (e.g. `data.target`) must name columns the table has."""
    for key, columns in wanted.items():
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            hint = _delimiter_hint(frame.columns)
            raise UserError(
                f"{key} names {'a column' if len(missing) == 1 else 'columns'} missing from "
                f"{source}: {', '.join(map(repr, missing))}; its columns are "
                f"{', '.join(map(str, frame.columns))}{hint}"
            )


def _delimiter_hint(columns: pd.Index) -> str:
    """For a header read whole as one name that holds a character separating words in it (`a:b`,
    `a b`), the setting that splits it by that character; else nothing."""
    if len(columns) != 1:
        return ""
    found = re.search(r"\w([^\w.\-'\"()])\W*\w", str(columns[0]))
    if found is None:
        return ""
    sep = found.group(1)
    return f": give its delimiter, e.g. data.read.sep={'space' if sep == ' ' else repr(sep)}"


def require_numbers(frame: pd.DataFrame, columns: list[str], reason: str, source: str) -> None:
    """Refuse a numeric column that holds text, naming the first offending value and its row."""
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.notna() & pd.to_numeric(values, errors="coerce").isna()
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            # A chunk of a file read in parts keeps counting rows where the previous chunk ended.
            number = values.index[row] if isinstance(values.index, pd.RangeIndex) else row
            raise UserError(
                f"column {column!r} of {source} holds text ({values.iloc[row]!r} in data row "
                f"{number + 1}), but {reason}: a numeric column holds numbers only; list it in "
                "data.categorical, or correct the value"
            )


def _is_whole(values: pd.Series) -> bool:
    """Whether every finite value is a whole number (an infinite one is a missing value)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy("float64", na_value=np.nan)
    numbers = numbers[~np.isinf(numbers)]
    return bool(np.all(np.mod(numbers, 1) == 0))


def infer_role(values: pd.Series, may_be_constant: bool = False) -> tuple[str, str]:
    """("numeric" | "categorical" | "date" | "dropped", why) for one column, from its values;
    for a date, `why` is how its dates are written. `may_be_constant`: a single value does not
    drop it (its levels are declared in data.categories, so new rows may hold others)."""
    present = values.dropna()
    if present.empty:
        return "dropped", "no values"
    if not may_be_constant and len(present) == len(values) and present.nunique() == 1:
        return "dropped", f"one value in every row: {shortened(str(present.iloc[0]), 30)!r}"
    written = date_format(values)
    if written is not None:
        return "date", written
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind == "boolean":
        return "categorical", "booleans"
    every_value_distinct = present.nunique() == len(values)
    if kind in NUMBER_KINDS:
        # Integers stored as floats only because a value is missing still count as integers.
        whole = kind == "integer" or (values.hasnans and _is_whole(present))
        if whole and every_value_distinct and ID_NAME.search(str(values.name)):
            return "dropped", "identifier: every value distinct"
        return "numeric", "numbers"
    if every_value_distinct:
        return "dropped", "identifier: every value distinct"
    return "categorical", "text"


def assign_roles(
    frame: pd.DataFrame,
    target: str,
    declared: dict[str, list[str]],
    drop: list[str],
    source: str,
    with_levels: Collection[str] = (),
    group: str | None = None,
) -> Roles:
    """Declared roles first, inferred ones for every other column except the target.

    `declared` maps data.numeric, data.categorical, data.one_hot and data.embed to the columns
    each lists; the last three all make categorical columns. `with_levels`: the columns whose
    levels data.categories declares. `group` (data.group) is no input: the test rows' groups are
    never seen in training, so it would tell the network nothing there.
    """
    grouped = {"data.group": [group]} if group is not None else {}
    wanted = {"data.target": [target], **declared, "data.drop": drop, **grouped}
    require_columns(frame, wanted, source)
    for key, columns in {**declared, **grouped}.items():
        if target in columns:
            raise UserError(f"{key} lists the target column {target!r}: the target is not an input")
    keys = list(declared)
    for first, key in enumerate(keys):
        for other in keys[first + 1 :]:
            both = sorted(set(declared[key]) & set(declared[other]))
            if both:
                raise UserError(
                    f"{key} and {other} both list {', '.join(map(repr, both))}: "
                    "give each column one role"
                )
    numeric = declared.get("data.numeric", [])
    categorical = {
        column for key, columns in declared.items() if key != "data.numeric" for column in columns
    }
    roles = Roles()
    for column in frame.columns:
        if column == target:
            continue
        if column == group:
            role, why = "dropped", "data.group: rows are split by it"
        elif column in drop:
            role, why = "dropped", "data.drop"
        elif column in numeric:
            role, why = "numeric", "data.numeric"
        elif column in categorical:
            role, why = "categorical", "declared"
        else:
            role, why = infer_role(frame[column], may_be_constant=column in with_levels)
        if role == "numeric":
            roles.numeric.append(column)
        elif role == "categorical":
            roles.categorical.append(column)
        elif role == "date":
            roles.dates[column] = why
        else:
            roles.dropped[column] = why
    require_numbers(frame, numeric, "data.numeric lists it", source)
    if not roles.numeric and not roles.categorical and not roles.dates:
        raise UserError(
            f"{source} leaves no input column besides the target {target!r} (dropped: "
            f"{'; '.join(f'{col}: {why}' for col, why in roles.dropped.items()) or 'none'}): a "
            "model needs at least one input; data.numeric or data.categorical keeps a column"
        )
    return roles
