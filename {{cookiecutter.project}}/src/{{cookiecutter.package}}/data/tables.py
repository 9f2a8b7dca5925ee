"""Read the user's table from a CSV or Parquet file, and write one without ever leaving half a file.

The format follows the file name: `.parquet` or `.pq` is Parquet, anything else is read as CSV
(pandas also opens compressed CSV such as `.csv.gz`), with the encoding, delimiter and decimal mark
csv_format.py finds or `data.read` sets. Every problem with the file is a UserError that names the
setting that pointed at it (`data.path`, `input`, ...).
"""

import codecs
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..support.errors import UserError, shortened
from .csv_format import (
    DETECTED,
    CsvFormat,
    checked_read_options,
    compression_of,
    csv_format,
    open_decompressed,
    refuse_duplicate_names,
)

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


# Rows parsed at a time when a whole large table is read.
CSV_CHUNK_ROWS = 100_000
# An uncompressed CSV file up to this size is parsed in one call. pandas' chunked reader peaks
# lower (about 2x the final table against 3x) but parses half as fast: 0.40 against 0.18 s for
# 200,000 rows x 30 columns (a 54 MB file). Below this size the lower peak saves under ~100 MB.
ONE_READ_BYTES = 128 * 2**20


def check_every_row_has_every_field(
    file: Path, key: str, path: str, found: CsvFormat | None = None
) -> None:
    """Refuse a CSV file whose data row has more or fewer fields than its header, naming the row.

    pandas refuses a row with too many fields but fills a row with too few with missing values,
    which would quietly shift or drop data (a cut-off export, a stray line break). pyarrow's parser,
    run once over the file without building a table, sees both, in a fraction of pandas' time. It
    splits and decodes as pandas will (`found`: the delimiter, quoting and encoding in use).
    """
    import pyarrow as pa
    from pyarrow import csv

    options = found.options if found is not None else {}
    bad: list = []

    def first_bad_row(row: "csv.InvalidRow") -> str:
        bad.append(row)
        return "error"

    parsing = {"delimiter": options.get("sep", ","), "invalid_row_handler": first_bad_row}
    for ours, arrows in (("quotechar", "quote_char"), ("escapechar", "escape_char")):
        if options.get(ours) is not None:
            parsing[arrows] = options[ours]
    if "doublequote" in options:
        parsing["double_quote"] = bool(options["doublequote"])
    # pyarrow skips a UTF-8 byte-order mark itself; other encodings it decodes through Python's.
    encoding = options.get("encoding", "utf-8")
    encoding = "utf8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
    read = csv.ReadOptions(use_threads=False, encoding=encoding)
    try:
        with open_decompressed(file, options.get("compression", "infer")) as stream:
            names = csv.open_csv(
                stream, read_options=read, parse_options=csv.ParseOptions(**parsing)
            ).schema.names
        # The parser counts every row's fields whatever is converted, so only the first column is
        # built (half the check's time on 29 columns), as text: pyarrow guesses types from the
        # first block, and a later value of another type would end the check before the file did.
        as_text = csv.ConvertOptions(
            include_columns=names[:1], column_types={names[0]: pa.string()}
        )
        with open_decompressed(file, options.get("compression", "infer")) as stream:
            reader = csv.open_csv(
                stream,
                read_options=read,
                parse_options=csv.ParseOptions(**parsing),
                convert_options=as_text,
            )
            for _ in reader:
                pass
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError, EOFError):
        if not bad:  # another complaint (e.g. an encoding): pandas' reading will say what it is
            return
    if bad:
        row = bad[0]
        # pyarrow counts the file's records from 1, the header included (a quoted line break
        # inside a field does not start a new record).
        where = f"data row {row.number - 1}" if row.number else "a data row"
        shown = shortened(row.text)
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
    return file


def _chunks(file: Path, rows: int | None, found: CsvFormat | None) -> Iterator[pd.DataFrame]:
    """`rows` at a time; None: the whole table at once."""
    if found is None:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(file).iter_batches(batch_size=rows):
            yield batch.to_pandas()
        return
    if rows is None:
        # Its internal blocks may guess a column's type differently, as parts do: the column is
        # then text and numbers (written_values.py reads it), without pandas' DtypeWarning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            whole = pd.read_csv(file, **found.options)
        yield whole
        return
    with pd.read_csv(file, chunksize=rows, **found.options) as reader:
        yield from reader


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _starts_parquet(file: Path) -> bool:
    """Every Parquet file begins (and ends) with the four bytes PAR1."""
    with open(file, "rb") as raw:
        return raw.read(4) == b"PAR1"


class TableFile:
    """A table file, checked before a row is read; a CSV file's way of writing settled.

    `key` is the setting that names the file (`data.path`, `input`) and `options` are
    pandas.read_csv options from the setting `options_key` (`data.read`, `read`), for CSV files
    only. The checks: the file exists and holds something, no two columns share a name, and (CSV)
    every row has as many fields as the header.
    """

    def __init__(
        self,
        path: str,
        key: str = "data.path",
        options: dict | None = None,
        options_key: str = "data.read",
    ) -> None:
        self.path, self.key = path, key
        self.where = f"{key}={path!r}"
        self.file = _checked_file(path, key)
        self.format: CsvFormat | None = None
        if not is_parquet(self.file):
            chosen = checked_read_options(options, options_key)
            self.format = csv_format(self.file, chosen, self.where, options_key)
            if self.format.header is not None:
                refuse_duplicate_names(self.format.header, self.where)
                check_every_row_has_every_field(self.file, key, path, self.format)
        self.options_key = options_key

    def describe(self) -> str:
        """How it is read, for the data report: "Parquet", or "';'-separated, decimal ',', ..."."""
        return "Parquet" if self.format is None else self.format.describe()

    def chunks(self, rows: int | None) -> Iterator[pd.DataFrame]:
        """The table `rows` rows at a time (None: in one part), with at least one data row in
        all; the rows are numbered on from one part to the next (the index), as in the whole
        table."""
        key, path = self.key, self.path
        start, any_rows = 0, False
        try:
            for chunk in _chunks(self.file, rows, self.format):
                if start == 0 and self.format is None:  # Parquet keeps duplicate names as they are
                    refuse_duplicate_names(list(chunk.columns), self.where)
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                chunk.columns = [str(column) for column in chunk.columns]
                start += len(chunk)
                if chunk.empty:  # a header without rows: nothing to hand on
                    continue
                any_rows = True
                yield chunk
        except ImportError as error:
            raise UserError(f"{key}={path!r}: reading Parquet needs pyarrow ({error})") from None
        except (ValueError, OSError, TypeError, EOFError) as error:
            # pandas' ParserError and EmptyDataError, and pyarrow's errors, are ValueError or
            # OSError (UnicodeDecodeError too); a read_csv option of the wrong type: TypeError; a
            # compressed file cut short: EOFError.
            raise self._unreadable(error) from None
        if not any_rows:
            raise UserError(
                f"{key}={path!r} holds no data rows: expected a header line and data rows"
            )

    def _unreadable(self, error: Exception) -> UserError:
        """The one line for a file pandas or pyarrow could not read to the end."""
        where, found = self.where, self.format
        if found is None:
            if "magic bytes not found" in str(error) and _starts_parquet(self.file):
                return UserError(
                    f"{where} is not a whole Parquet file: its end (the footer every Parquet "
                    "file closes with) is missing, so it was cut short (an unfinished copy or "
                    "write)"
                )
            return UserError(f"{where} is not a readable Parquet file: {_first_line(error)}")
        if isinstance(error, UnicodeDecodeError):
            byte = f"byte {error.object[error.start]:#x}"
            if "encoding" in found.detected:
                how = f"its start reads as {found.encoding}, but {byte} further on does not"
            else:
                how = f"{byte} is not {found.encoding} ({self.options_key}.encoding)"
            return UserError(
                f"{where} is not {found.encoding} text: {how}; give its encoding, e.g. "
                f"{self.options_key}.encoding=cp1252, or re-save it as UTF-8"
            )
        # describe() shows the detectable options, set or found; the line adds the user's others.
        given = {k: v for k, v in found.options.items() if k not in DETECTED}
        options = f", with {self.options_key} {given}" if given else ""
        return UserError(
            f"{where} is not a readable CSV file (read as {found.describe()}{options}; names "
            f"ending .parquet or .pq are read as Parquet): {_first_line(error)}"
        )

    def read(self) -> pd.DataFrame:
        """The whole table, with at least one data row."""
        # A large file in parts joined at the end: pandas' one-shot reader peaks near three times
        # the table's final size, parts near twice it. Parquet is read in parts either way.
        found = self.format
        at_once = (
            found is not None
            and compression_of(self.file, found.options.get("compression", "infer")) is None
            and self.file.stat().st_size <= ONE_READ_BYTES
        )
        chunks = list(self.chunks(None if at_once else CSV_CHUNK_ROWS))
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


def read_table(
    path: str, key: str = "data.path", options: dict | None = None, options_key: str = "data.read"
) -> pd.DataFrame:
    """The table in `path`, with at least one data row; `key` is the setting named in errors,
    `options` pandas.read_csv options (CSV only) from the setting `options_key`."""
    return TableFile(path, key, options, options_key).read()


@contextmanager
def table_writer(
    path: str, like: CsvFormat | None = None
) -> Iterator[Callable[[pd.DataFrame], None]]:
    """`write(frame)` appends rows to a temporary file beside `path` (CSV, or Parquet by
    extension); when the block ends without an error it is renamed to `path`, else removed.
    A CSV file is written in UTF-8 with the delimiter and decimal mark of `like` (the file the
    rows came from: a ';'-separated export with decimal commas comes back so), else pandas'.

    The rename is atomic, so a reader never sees half a file, and an interrupted run leaves the
    previous file (if any) as it was.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        raise UserError(f"output={path!r} is a directory: give the path of the file to write")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"output={path!r} cannot be written: {error.strerror or error}") from None
    # Hidden, beside the target (a rename is atomic only within one file system), one per process,
    # and ending like the target, so that pandas picks the same compression (e.g. `.csv.gz`).
    temporary = file.with_name(f".{os.getpid()}.{file.name}")
    parquet: list = []  # the Parquet writer, once the first part has set the columns' types
    written = False
    # A regular expression (columns aligned with spaces) is no delimiter to write with.
    marks = {} if like is None else {"decimal": like.decimal}
    if like is not None and len(like.sep) == 1:
        marks["sep"] = like.sep

    def write(frame: pd.DataFrame) -> None:
        nonlocal written
        if is_parquet(file):
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = parquet[0].schema if parquet else None
            try:
                table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
                raise UserError(
                    f"output={path!r}: a later part of the rows does not fit the column types of "
                    f"the first ({_first_line(error)}); write CSV, or a larger chunk_rows"
                ) from None
            if not parquet:
                parquet.append(pq.ParquetWriter(temporary, table.schema))
            parquet[0].write_table(table)
        else:
            frame.to_csv(
                temporary, mode="a" if written else "w", header=not written, index=False, **marks
            )
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
