"""Read the user's table from a CSV or Parquet file, and write one without ever leaving half a file.

The format follows the file name: `.parquet` or `.pq` is Parquet, anything else is read as CSV
(pandas also opens compressed CSV such as `.csv.gz`). Every problem with the file is a UserError
that names the setting that pointed at it (`data.path`, `input`, ...).
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..support.errors import UserError

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


# Rows parsed at a time when a whole table is read.
CSV_CHUNK_ROWS = 100_000


def check_every_row_has_every_field(file: Path, key: str, path: str) -> None:
    """Refuse a CSV file whose data row has more or fewer fields than its header, naming the row.

    pandas refuses a row with too many fields but fills a row with too few with missing values,
    which would quietly shift or drop data (a cut-off export, a stray line break). pyarrow's parser,
    run once over the file without building a table, sees both, in a fraction of pandas' time.
    """
    import pyarrow as pa
    from pyarrow import csv

    bad: list = []

    def first_bad_row(row: "csv.InvalidRow") -> str:
        bad.append(row)
        return "error"

    try:
        with pa.input_stream(str(file), compression="detect") as stream:
            reader = csv.open_csv(
                stream,
                read_options=csv.ReadOptions(use_threads=False),
                parse_options=csv.ParseOptions(invalid_row_handler=first_bad_row),
                convert_options=csv.ConvertOptions(column_types={}, strings_can_be_null=True),
            )
            for _ in reader:
                pass
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        if not bad:  # another complaint (e.g. an encoding): pandas' reading will say what it is
            return
    if bad:
        row = bad[0]
        # pyarrow counts the file's lines from 1, header included.
        where = f"line {row.number} (data row {row.number - 1})" if row.number else "a data row"
        shown = row.text if len(row.text) <= 60 else row.text[:57] + "..."
        raise UserError(
            f"{key}={path!r} is not a well-formed CSV file: {where} has {row.actual_columns} "
            f"fields but the header has {row.expected_columns} ({shown!r}); a row cut short or "
            "a stray separator or line break: correct or remove that row"
        )


def _checked_file(path: str, key: str) -> Path:
    """The file `path` names, refused in one line when it cannot hold a table."""
    file = Path(path).expanduser()
    if not file.exists():
        raise UserError(f"{key}={path!r} does not exist: give the path of a CSV or Parquet file")
    if file.is_dir():
        raise UserError(f"{key}={path!r} is a directory: give the path of a CSV or Parquet file")
    if file.stat().st_size == 0:
        raise UserError(f"{key}={path!r} is an empty file: expected a header line and data rows")
    if not is_parquet(file):
        check_every_row_has_every_field(file, key, path)
    return file


def _chunks(file: Path, rows: int) -> Iterator[pd.DataFrame]:
    if is_parquet(file):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(file).iter_batches(batch_size=rows):
            yield batch.to_pandas()
        return
    with pd.read_csv(file, chunksize=rows) as reader:
        yield from reader


def _starts_parquet(file: Path) -> bool:
    """Every Parquet file begins (and ends) with the four bytes PAR1."""
    with open(file, "rb") as raw:
        return raw.read(4) == b"PAR1"


def read_table_in_chunks(path: str, rows: int, key: str = "data.path") -> Iterator[pd.DataFrame]:
    """The table in `path`, `rows` rows at a time, with at least one data row in all; the rows are
    numbered on from one part to the next (the index), as in the whole table."""
    file = _checked_file(path, key)
    kind = "Parquet" if is_parquet(file) else "CSV"
    start, any_rows = 0, False
    try:
        for chunk in _chunks(file, rows):
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            chunk.columns = [str(column) for column in chunk.columns]
            start += len(chunk)
            any_rows = any_rows or not chunk.empty
            yield chunk
    except ImportError as error:
        raise UserError(f"{key}={path!r}: reading Parquet needs pyarrow ({error})") from None
    except (ValueError, OSError, UnicodeDecodeError) as error:
        if kind == "Parquet" and "magic bytes not found" in str(error) and _starts_parquet(file):
            raise UserError(
                f"{key}={path!r} is not a whole Parquet file: its end (the footer every Parquet "
                "file closes with) is missing, so it was cut short (an unfinished copy or write)"
            ) from None
        # pandas' ParserError and EmptyDataError, and pyarrow's errors, are ValueError or OSError.
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        hint = "" if kind == "Parquet" else " (names ending .parquet or .pq are read as Parquet)"
        raise UserError(f"{key}={path!r} is not a readable {kind} file{hint}: {detail}") from None
    if not any_rows:
        raise UserError(f"{key}={path!r} holds no data rows: expected a header line and data rows")


def read_table(path: str, key: str = "data.path") -> pd.DataFrame:
    """The table in `path`, with at least one data row; `key` is the setting named in errors."""
    # Parts joined at the end: pandas' one-shot reader peaks near three times the table's final
    # size, parts near twice it.
    chunks = list(read_table_in_chunks(path, CSV_CHUNK_ROWS, key))
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


@contextmanager
def table_writer(path: str) -> Iterator[Callable[[pd.DataFrame], None]]:
    """`write(frame)` appends rows to a temporary file beside `path` (CSV, or Parquet by
    extension); when the block ends without an error it is renamed to `path`, else removed.

    The rename is atomic, so a reader never sees half a file, and an interrupted run leaves the
    previous file (if any) as it was.
    """
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    # Hidden, beside the target (a rename is atomic only within one file system), one per process,
    # and ending like the target, so that pandas picks the same compression (e.g. `.csv.gz`).
    temporary = file.with_name(f".{os.getpid()}.{file.name}")
    parquet: list = []  # the Parquet writer, once the first part has set the columns' types
    written = False

    def write(frame: pd.DataFrame) -> None:
        nonlocal written
        if is_parquet(file):
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = parquet[0].schema if parquet else None
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            if not parquet:
                parquet.append(pq.ParquetWriter(temporary, table.schema))
            parquet[0].write_table(table)
        else:
            frame.to_csv(temporary, mode="a" if written else "w", header=not written, index=False)
        written = True

    try:
        yield write
        for writer in parquet:
            writer.close()
        if not written:
            raise ValueError("no rows were written")
        os.replace(temporary, file)
    except BaseException:
        for writer in parquet:
            writer.close()
        temporary.unlink(missing_ok=True)
        raise


def write_table(frame: pd.DataFrame, path: str) -> Path:
    """Write CSV or Parquet (by extension) atomically: see `table_writer`."""
    with table_writer(path) as write:
        write(frame)
    return Path(path).expanduser()
