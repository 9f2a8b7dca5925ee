"""Replacing a table's columns whatever they are called.

`frame.assign(**columns)` passes the column names as keyword arguments, so a column named "self"
(the self-employed flag of a mortgage table) collides with the method's own argument and raises a
TypeError. `with_columns` takes the names as data instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def with_columns(frame: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """A shallow copy of `frame` with `columns` (name -> values) in place of its own; `frame`
    itself when there are none. The other columns are shared, not copied."""
    if not columns:
        return frame
    replaced = frame.copy(deep=False)
    for name, values in columns.items():
        replaced[name] = values
    return replaced
