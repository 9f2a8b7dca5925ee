"""Numbers, durations and booleans written as people write them: '$1,200', '12.5%', '1.234,5',
'04:43:32', 'yes'/'no', 'TRUE'/'FALSE'.

pandas reads a column as numbers only when every value is a plain number, so a column of amounts
with a currency sign or thousands separators arrives as text, and would be one-hot encoded (or
refused for its many levels). A text column whose every present value reads as a number this way
becomes numbers; in such a column a value with no letter or digit ('?', '-', '.', '--') is a mark
of a missing value, as many exports write one, and is read as missing (the report names the marks;
data.missing then imputes or refuses them). One whose every value is a duration or a clock time
('4:35', '04:43:32', pandas' '0 days 04:43:32', Python's '1 day, 2:03:04'; a Parquet duration
column too) becomes seconds (since midnight, for a clock time): as text each value would be a level
of its own, and the network could not read their order. One whose every value is one of a yes/no
pair (any case) becomes booleans, categorical like the booleans pandas reads itself. The target
keeps its labels (predictions come back as "yes"/"no"), but a target of numbers written as text is
read as numbers.

What a column's text is read as is fitted state (`found`: column -> plain strings), saved in the
checkpoint with the preprocessing, so predict, serve and export read a new row's "$1,200" as
training did, even where the new rows alone would be ambiguous: a new value is read with the
column's decimal mark where it reads so ("1.500" is 1500 after training's "1.234,5"), with the
other one only where it reads no other way ("1.5"); predict reads such columns from its file as
text, so that pandas does not decide first.

A number is: an optional sign, an optional currency sign before or after, digits with an optional
decimal mark, optionally grouped in thousands, and an optional trailing %, which divides by 100.
The decimal mark is the file's (csv_format.py), or the other one if that is the only one under
which every value reads. Thousands are grouped by the other mark, a space (also the no-break
spaces French formatting uses) or an apostrophe (Swiss), one kind per value, in groups of three
digits: "1,5" is not a thousands-grouped 15. Written by hand: pandas' `thousands=` drops the
character wherever it is, and skrub's ToFloat needs both marks given and checks no grouping
either (DESIGN.md).
"""

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from .frames import with_columns

CURRENCY_SIGNS = "$€£¥₹₽₩₺₪₫₴₦₱฿¢"
# Thousands separators besides the mark that is not the decimal one.
GROUPING = " \u00a0\u202f'’"
MINUS = "-\u2212"  # ASCII hyphen-minus, and the minus sign
BOOLEAN_WORDS = (("true", "false"), ("yes", "no"), ("y", "n"), ("t", "f"))
# Values of a column tried before all of its distinct values: most text fails on its first.
SAMPLE_VALUES = 1000
# Words in a column of numbers that the report points out (numbers_held_back); more make it text.
MOST_HELD_BACK = 5


def _number_pattern(decimal: str) -> re.Pattern:
    other = "," if decimal == "." else "."
    point = re.escape(decimal)
    grouped = r"\d{1,3}(?P<sep>[" + re.escape(other + GROUPING) + r"])\d{3}(?:(?P=sep)\d{3})*"
    body = "(?:" + grouped + r"|\d+)(?:" + point + r"\d*)?|" + point + r"\d+"
    sign = "[" + re.escape("+" + MINUS) + "]"
    currency = "[" + re.escape(CURRENCY_SIGNS) + "]"
    return re.compile(
        "(?P<sign>" + sign + r")?\s*(?P<lead>" + currency + r")?\s*(?P<sign2>" + sign + r")?\s*"
        "(?P<body>" + body + r")\s*(?P<trail>" + currency + r")?\s*(?P<percent>%)?"
    )


PATTERNS = {decimal: _number_pattern(decimal) for decimal in ".,"}
# [days] hours:minutes[:seconds]: '4:35', '04:43:32.5', '0 days 04:43:32', '-1 days +23:59:00'
# (pandas), '1 day, 2:03:04' (Python). The days carry their own sign, the time of day its own.
DURATION = re.compile(
    r"(?:(?P<days>[-+]?\d+) days?,? \+?)?(?P<sign>[-+])?(?P<hours>\d+):(?P<minutes>[0-5]\d)"
    r"(?::(?P<seconds>[0-5]\d(?:\.\d+)?))?"
)


def read_number(value: Any, decimal: str) -> float | None:
    """`value` as a number if it is one, or text written as one; else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.number):
        return float(value)
    if not isinstance(value, str):
        return None
    match = PATTERNS[decimal].fullmatch(value.strip())
    if match is None or (match["sign"] and match["sign2"]) or (match["lead"] and match["trail"]):
        return None
    digits = match["body"]
    if match["sep"]:
        digits = digits.replace(match["sep"], "")
    number = float(digits.replace(decimal, "."))
    if (match["sign"] or match["sign2"] or "+") in MINUS:
        number = -number
    return number / 100 if match["percent"] else number


def read_duration(value: Any) -> float | None:
    """`value` as seconds if it is a duration or a clock time, or text written as one; else None."""
    if isinstance(value, datetime.timedelta):  # pandas' Timedelta is one
        return value.total_seconds()
    if not isinstance(value, str):
        return None
    match = DURATION.fullmatch(value.strip())
    if match is None:
        return None
    time = int(match["hours"]) * 3600 + int(match["minutes"]) * 60 + float(match["seconds"] or 0)
    return int(match["days"] or 0) * 86400 + (-time if match["sign"] == "-" else time)


def _boolean_words(value: Any) -> tuple[str, str] | None:
    """The yes/no pair `value` is a word of, if any."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    return next((pair for pair in BOOLEAN_WORDS if word in pair), None)


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def is_missing_mark(value: Any) -> bool:
    """Text with no letter or digit ('?', '-', '.', '--'): in a column of numbers, a missing one."""
    return isinstance(value, str) and not any(char.isalnum() for char in value)


def _read_or_mark(value: Any, decimal: str) -> float | None:
    """`value` as a number, NaN for a missing-value mark, or None."""
    return np.nan if is_missing_mark(value) else read_number(value, decimal)


def _every_value_read(
    sample: list[Any],
    read: Callable[[Any], float | None],
    factorized: Callable[[], tuple[np.ndarray, list[Any]]],
) -> tuple[np.ndarray, list[Any], list[float]] | None:
    """Each row's code, the column's distinct values and each one as `read` reads it (NaN for a
    mark of a missing value), when every present value reads and not all are marks; else None.
    The `sample` (the first present values) is tried first: most text fails on its first values.
    `factorized`: the column's codes and distinct values, computed at most once by the caller."""
    if any(read(value) is None for value in sample):
        return None
    codes, distinct = factorized()
    numbers = [read(value) for value in distinct]
    if None in numbers or all(np.isnan(number) for number in numbers):
        return None
    return codes, distinct, numbers


def _how_numbers(values: pd.Series, decimal: str) -> tuple[dict[str, str], pd.Series] | None:
    """How a column's present values all read as numbers (trying `decimal` first), and the
    column so read; or None. Each distinct value is read once: a large column costs one pass."""
    sample = values.dropna().iloc[:SAMPLE_VALUES].tolist()
    factorized = functools.cache(lambda: _factorized(values))
    for mark in (decimal, "," if decimal == "." else "."):
        read = _every_value_read(sample, functools.partial(_read_or_mark, decimal=mark), factorized)
        if read is None:
            continue
        codes, distinct, numbers = read
        marks = [value for value in distinct if is_missing_mark(value)]
        written = (v for v in distinct if not (_is_plain_number(v) or is_missing_mark(v)))
        how = {"kind": "number", "decimal": mark, "example": str(next(written, distinct[0]))}
        if marks:
            marked = int(np.isin(codes, [distinct.index(value) for value in marks]).sum())
            how["missing_marks"] = f"{', '.join(map(repr, marks))} in {marked} rows"
        return how, _numbers_column(values, codes, numbers)
    return None


def _factorized(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Each row's code (-1: missing) and the distinct values, so each is read once."""
    codes, distinct = pd.factorize(values)
    return codes, distinct.tolist()


def _is_plain_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _how_booleans(present: pd.Series) -> dict[str, str] | None:
    """The yes/no pair every present value is a word of (in any case), or None."""
    sample = present.iloc[:SAMPLE_VALUES].tolist()
    pairs = {_boolean_words(value) for value in sample}
    if len(pairs) != 1 or None in pairs:
        return None
    distinct = present.unique().tolist()
    if {_boolean_words(value) for value in distinct} != pairs:
        return None
    true, false = pairs.pop()
    return {"kind": "boolean", "true": true, "false": false, "example": str(distinct[0])}


def _duration_or_mark(value: Any) -> float | None:
    return np.nan if is_missing_mark(value) else read_duration(value)


def _how_durations(values: pd.Series) -> tuple[dict[str, str], pd.Series] | None:
    """How a column's present values all read as durations, and the column as seconds; or None."""
    sample = values.dropna().iloc[:SAMPLE_VALUES].tolist()
    read = _every_value_read(sample, _duration_or_mark, lambda: _factorized(values))
    if read is None:
        return None
    codes, distinct, seconds = read
    example = next(value for value in distinct if not is_missing_mark(value))
    return {"kind": "duration", "example": str(example)}, _numbers_column(values, codes, seconds)


def find_written_values(
    frame: pd.DataFrame, columns: list[str], decimal: str, labels: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """The frame with each of `columns` that pandas left as text, and whose present values all
    read one way, read so; and how, column -> {"kind": "number", "decimal": ",", "example":
    "1.234,5"}, {"kind": "duration", "example": "04:43:32"} or {"kind": "boolean", "true": "yes",
    "false": "no", "example": "Yes"}.
    `labels` (the target) are read as numbers only, never as booleans."""
    found, read = {}, {}
    for column in columns:
        values = frame[column]
        if not _is_text(values) or values.isna().all():
            continue
        numbers = _how_numbers(values, decimal)
        if numbers is None:
            numbers = _how_durations(values)
        if numbers is not None:
            found[column], read[column] = numbers
            continue
        how = None if column in labels else _how_booleans(values.dropna())
        if how is not None:
            found[column], read[column] = how, _read_column(values, how)
    return with_columns(frame, read), found


def numbers_held_back(
    frame: pd.DataFrame, columns: list[str], decimal: str
) -> dict[str, list[str]]:
    """Of `columns` that are still text: those whose values are numbers but for at most
    MOST_HELD_BACK distinct words ('n.a.', 'unknown'), column -> those words. Not read as missing,
    as marks are: a word may be a level; the report names them and how to say they are gaps."""
    held = {}
    for column in columns:
        values = frame[column]
        if not _is_text(values) or values.isna().all():
            continue
        present = values.dropna()
        # Most text shows more words than that among its first values: a few reads, not all.
        if _words(present.iloc[:SAMPLE_VALUES], decimal) is None:
            continue
        distinct = present.unique().tolist()
        words = _words(distinct, decimal)
        if words and len(distinct) > 2 * len(words):  # mostly numbers
            held[column] = [str(word) for word in words]
    return held


def _words(values: Iterable[Any], decimal: str) -> list[Any] | None:
    """The distinct values that read as no number (a missing-value mark reads as one), in order;
    None as soon as there are more than MOST_HELD_BACK."""
    words: list[Any] = []
    for value in values:
        if value not in words and _read_either(value, decimal) is None:
            words.append(value)
            if len(words) > MOST_HELD_BACK:
                return None
    return words


def _read_either(value: Any, decimal: str) -> float | None:
    """`value` read with the column's decimal mark, or with the other one where it reads only so:
    the column's mark decides what either would read ("1.500": 1500 after "1.234,5"), but "1.5"
    from a file written elsewhere is still 1.5. A missing-value mark is NaN."""
    if is_missing_mark(value):
        return np.nan
    number = read_number(value, decimal)
    return read_number(value, "," if decimal == "." else ".") if number is None else number


def _as_boolean(value: Any, how: dict[str, str]) -> Any:
    """True or False for a word of the column's pair (in any case); anything else as it is."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in (how["true"], how["false"]):
            return word == how["true"]
    return value


def _numbers_column(values: pd.Series, codes: np.ndarray, numbers: list[float]) -> pd.Series:
    """The column of `numbers` (one per distinct value, by `codes`); whole numbers without a gap
    are integers, as pandas reads them when they are written plainly."""
    column = np.append(np.asarray(numbers, dtype=np.float64), np.nan)[codes]
    whole = (
        len(column) > 0
        and (codes >= 0).all()
        and np.all(np.mod(column, 1) == 0)
        and np.abs(column).max() < 2**53
    )
    column = column.astype(np.int64) if whole else column
    return pd.Series(column, index=values.index, name=values.name)


def _read_as(value: Any, how: dict[str, str]) -> float | None:
    """A new value of a column of numbers or durations read as its column is (NaN for a mark of a
    missing value), or None where it does not read so."""
    if how["kind"] == "number":
        return _read_either(value, how["decimal"])
    return _duration_or_mark(value)


def _read_column(values: pd.Series, how: dict[str, str]) -> pd.Series:
    """The column with its text read as `how` says. A value that does not read so stays as it is,
    for the checks that follow to name it (text in a numeric column, a level never seen)."""
    codes, distinct = _factorized(values)
    if how["kind"] != "boolean":
        read = [_read_as(value, how) for value in distinct]
        if None not in read:
            return _numbers_column(values, codes, read)
        kept = [
            value if number is None else number
            for value, number in zip(distinct, read, strict=True)
        ]
    else:
        kept = [_as_boolean(value, how) for value in distinct]
    mixed = np.asarray([*kept, np.nan], dtype=object)[codes]
    return pd.Series(mixed, index=values.index, name=values.name)


def read_written_values(frame: pd.DataFrame, found: dict[str, dict[str, str]]) -> pd.DataFrame:
    """`frame` with each column of `found` that it has (and holds as text) read as `found` says;
    the frame itself when there is none."""
    read = {
        column: _read_column(frame[column], how)
        for column, how in found.items()
        if column in frame.columns and _is_text(frame[column])
    }
    return with_columns(frame, read)


def describe_written(how: dict[str, str]) -> str:
    """For the data report: "numbers written as text: '$1,200'", "yes/no as booleans: 'Yes'"."""
    if how["kind"] == "number":
        marks = f"; missing: {how['missing_marks']}" if "missing_marks" in how else ""
        if _is_plain_number(how["example"]):  # only the marks of missing values made it text
            return f"numbers{marks}"
        return f"numbers written as text: {how['example']!r}{marks}"
    if how["kind"] == "duration":
        return f"durations or clock times as seconds: {how['example']!r}"
    return f"{how['true']}/{how['false']} as booleans: {how['example']!r}"
