"""Read the user's table from a CSV or Parquet file, and write one without ever leaving half a file.

The format follows the file name: `.parquet` or `.pq` is Parquet, anything else is read as CSV
(pandas also opens compressed CSV such as `.csv.gz`). Every problem with the file is a UserError
that names the setting that pointed at it (`data.path`, `input`, ...).
"""

import os
from pathlib import Path

import pandas as pd

from ..support.errors import UserError

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


# Rows parsed at a time: pandas' one-shot reader peaks near three times the table's final size;
# chunks joined at the end peak near twice it.
CSV_CHUNK_ROWS = 100_000


def _read_csv(file: Path) -> pd.DataFrame:
    with pd.read_csv(file, chunksize=CSV_CHUNK_ROWS) as reader:
        chunks = list(reader)
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def read_table(path: str, key: str = "data.path") -> pd.DataFrame:
    """The table in `path`, with at least one data row; `key` is the setting named in errors."""
    file = Path(path).expanduser()
    if not file.exists():
        raise UserError(f"{key}={path!r} does not exist: give the path of a CSV or Parquet file")
    if file.is_dir():
        raise UserError(f"{key}={path!r} is a directory: give the path of a CSV or Parquet file")
    if file.stat().st_size == 0:
        raise UserError(f"{key}={path!r} is an empty file: expected a header line and data rows")
    kind = "Parquet" if is_parquet(file) else "CSV"
    try:
        frame = pd.read_parquet(file) if kind == "Parquet" else _read_csv(file)
    except ImportError as error:
        raise UserError(f"{key}={path!r}: reading Parquet needs pyarrow ({error})") from None
    except (ValueError, OSError, UnicodeDecodeError) as error:
        # pandas' ParserError and EmptyDataError, and pyarrow's errors, are ValueError or OSError.
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        hint = "" if kind == "Parquet" else " (names ending .parquet or .pq are read as Parquet)"
        raise UserError(f"{key}={path!r} is not a readable {kind} file{hint}: {detail}") from None
    if frame.empty:
        raise UserError(f"{key}={path!r} holds no data rows: expected a header line and data rows")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def write_table(frame: pd.DataFrame, path: str) -> Path:
    """Write CSV or Parquet (by extension) to a temporary file beside `path`, then rename it.

    The rename is atomic, so a reader never sees half a file, and an interrupted run leaves the
    previous file (if any) as it was.
    """
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    # Hidden, beside the target (a rename is atomic only within one file system), one per process,
    # and ending like the target, so that pandas picks the same compression (e.g. `.csv.gz`).
    temporary = file.with_name(f".{os.getpid()}.{file.name}")
    try:
        if is_parquet(file):
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, file)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return file
