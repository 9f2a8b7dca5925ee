"""Date and time columns: how their text is read, and the calendar numbers the network sees.

A column is a date column when it holds timestamps (a Parquet timestamp, a pandas datetime, or a
pandas period, read as its start) or when its text is dates written one way: the format pandas
guesses from the first value (month first, then day first) must read every sampled value. Numbers
are never dates, and a format must name the year and the month, so `2020` or `12.5` stay what they
are.

A date becomes calendar numbers: its year, month, day of the month, day of the week (Monday 0),
day of the year, the hour when the training rows have times of day, and the days since 1970-01-01
(the elapsed time, with its fraction). They are numeric inputs like any other: imputed where the
date is missing or unreadable, then scaled (preprocessing.py). Timestamps with a time zone are
read in UTC.
"""

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

# The parts every date makes, and the one only a column with times of day makes.
DATE_PARTS = ("year", "month", "day", "weekday", "day_of_year")
TIME_PART = "hour"
ELAPSED_PART = "days_since_1970"
# Values sampled to decide whether text is dates: enough to catch a second format, cheap to parse.
SAMPLE = 1000
# The format pandas' own timestamps (not text) are read with.
TIMESTAMPS = "timestamps"


def _parse(values: pd.Series, how: str) -> pd.Series:
    """datetime64 (UTC, without a zone) of each value; NaT where it is missing or unreadable."""
    if isinstance(values.dtype, pd.PeriodDtype):  # to_datetime would make each one NaT, silently
        return values.dt.to_timestamp()
    if how == TIMESTAMPS:
        dates = pd.to_datetime(values, errors="coerce", utc=True)
    else:
        dates = pd.to_datetime(values.astype("string"), format=how, errors="coerce", utc=True)
    return dates.dt.tz_localize(None)


def date_format(values: pd.Series) -> str | None:
    """How the column's dates are written (a strptime format, or TIMESTAMPS), or None when the
    column does not hold dates."""
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype):
        return TIMESTAMPS
    present = values.dropna()
    sample = present.iloc[:SAMPLE]
    if sample.empty or pd.api.types.infer_dtype(sample, skipna=True) != "string":
        return None
    written = _sampled_format(sample)
    # The whole column only for a candidate: most text is no date, and these scans are long.
    if written is None or pd.api.types.infer_dtype(present, skipna=True) != "string":
        return None
    if pd.to_numeric(present, errors="coerce").notna().any():
        return None  # numbers, or text a number of which the role code judges
    return written


def _sampled_format(sample: pd.Series) -> str | None:
    """The format that reads every sampled value, guessed from the first one, or None."""
    first = str(sample.iloc[0]).strip()
    for day_first in (False, True):
        with warnings.catch_warnings():  # "parsing dates in %d/%m format": the loop tries both
            warnings.simplefilter("ignore", UserWarning)
            written = guess_datetime_format(first, dayfirst=day_first)
        if (
            not written
            or "%y" not in written.lower()
            or not any(month in written for month in ("%m", "%b", "%B"))
        ):
            continue
        if _parse(sample.str.strip(), written).notna().all():
            return written
    return None


def parse_dates(values: pd.Series, how: str) -> pd.Series:
    """The column as datetime64: text read with the format `date_format` found in training."""
    return _parse(values.str.strip() if how != TIMESTAMPS else values, how)


def date_parts(dates: pd.Series) -> list[str]:
    """The calendar numbers a column makes: the hour only when its training rows have times."""
    timed = bool((dates.dropna() != dates.dropna().dt.normalize()).any())
    return [*DATE_PARTS, *([TIME_PART] if timed else []), ELAPSED_PART]


def calendar_numbers(dates: pd.Series, part: str) -> np.ndarray:
    """One calendar number per row as float64, NaN where the date is missing."""
    if part == ELAPSED_PART:
        seconds = dates.to_numpy("datetime64[ns]").astype("int64") / 1e9
        return np.where(dates.isna().to_numpy(), np.nan, seconds / 86400.0)
    accessor = {
        "year": "year",
        "month": "month",
        "day": "day",
        "weekday": "day_of_week",
        "day_of_year": "day_of_year",
        TIME_PART: "hour",
    }[part]
    return getattr(dates.dt, accessor).to_numpy("float64", na_value=np.nan)
