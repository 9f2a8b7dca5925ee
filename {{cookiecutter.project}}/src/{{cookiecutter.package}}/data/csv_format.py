"""How a CSV file is written: its encoding, delimiter, quote and decimal mark, found from a sample.

Users' files come from spreadsheets and databases in every locale: `;`-separated with decimal
commas (Excel in much of Europe), tab- or pipe-separated, UTF-8 with or without a byte-order mark,
or a legacy Windows encoding. Each of these is detected from the start of the file (and, for
an uncompressed file, its end), so a large file costs no more to detect than a small one, unless
`data.read` sets it; every other pandas.read_csv option can be set there too and is passed on.

- encoding: a byte-order mark (UTF-8 or UTF-16) names it; else UTF-8 if the sample decodes as
  UTF-8; else cp1252, the Western European Windows encoding and a superset of Latin-1's printable
  characters (Latin-1 where a byte is undefined in cp1252). A sample that decodes but reads as
  few Latin letters and many others (Cyrillic, Greek, Asian text in a legacy encoding) is refused
  rather than turned into garbage: its encoding must be given.
- delimiter: the standard library's csv.Sniffer, limited to `,` `;` tab `|`; a header it leaves in
  one field is split by whichever of them splits it most. A header none of them splits is split
  on single spaces when the sample's lines all split into as many non-empty fields that way (R's
  `write.table` without row names, statsmodels' data files).
- quoting: a header whose every name is wrapped in single quotes (`'age' 'income'`) is read with
  `quotechar="'"`, so the names come without them; otherwise pandas' double quote.
- decimal mark: a comma when the delimiter is not a comma and the sample has more numbers that only
  a decimal comma explains (`1,5`, `1.234,5`) than numbers that only a decimal point explains.
  Thousands separators are not given to pandas, whose `thousands=` drops the character wherever it
  is (`1,5` would become 15); written_values.py reads them, checking the grouping.

Written by hand around csv.Sniffer: pandas' own detection (`sep=None`) needs its Python engine,
many times slower than its C engine on a large file, and looks at the first line only; the
charset detectors (charset_normalizer) guess among hundreds of encodings and, on the samples
tried, took Latin-1 French for cp1250 and cp1251 Russian for mac_cyrillic, where the three rules
above are right for the files they accept and refuse the others with the setting that fixes them.
"""

import codecs
import csv
import difflib
import inspect
import io
import lzma
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from ..support.errors import UserError, shortened

# Bytes of the file's head read to find its encoding, and of its tail (uncompressed files only).
HEAD_BYTES = 1 << 20
TAIL_BYTES = 1 << 16
# Characters of the head given to csv.Sniffer, and rows of it searched for decimal marks.
SNIFF_CHARS = 1 << 16
DECIMAL_ROWS = 2000
DELIMITERS = ",;\t|"
# A space-separated file is taken only when no other delimiter splits the header (see above).
SPACE = " "
SAMPLE_LINES = 50  # lines of the head that must split on spaces alike, or keep quoted names' width
SEPARATOR_WORDS = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": SPACE,
}
LEGACY_ENCODING = "cp1252"
# Above this share of non-ASCII characters among the letters, cp1252 text is taken for another
# script in a legacy encoding (Western European text has a few accents among ASCII letters).
FOREIGN_SHARE = 0.5
FOREIGN_LEAST = 8
# The options the reader sets itself: pandas.read_csv's own ones that must not be given.
READER_OPTIONS = ("filepath_or_buffer", "chunksize", "iterator")
# The options detected when not given (null in configs/data/csv.yaml means: detect it).
DETECTED = ("sep", "decimal", "encoding", "quotechar")
DEFAULT_QUOTE = '"'  # pandas' and the csv module's
# Options that change where rows and the header are: the header is then not read by hand, so the
# duplicate-name and ragged-row checks are left to pandas (which mangles duplicates as `a.1`).
LAYOUT_OPTIONS = (
    "header",
    "names",
    "skiprows",
    "skipfooter",
    "comment",
    "lineterminator",
    "quoting",
    "dialect",
    "engine",
    "delim_whitespace",
)
READ_CSV_DOCS = "https://pandas.pydata.org/docs/reference/api/pandas.read_csv.html"

# Numbers that only a decimal comma explains, and numbers that only a decimal point explains:
# "1,5", "0,125", "1.234,5" against "1.5", "0.125", "1,234.5" ("1,234" and "1.234" are either).
COMMA_DECIMAL = re.compile(r"[-+]?(?:\d{1,3}(?:\.\d{3})+,\d+|\d+,(?:\d{1,2}|\d{4,})|0,\d+)")
POINT_DECIMAL = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+\.\d+|\d+\.(?:\d{1,2}|\d{4,})|0\.\d+)")

SUFFIX_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".xz": "xz", ".zip": "zip"}


@dataclass
class CsvFormat:
    """The pandas.read_csv options a file is read with (the user's and the detected ones)."""

    options: dict[str, Any]
    header: list[str] | None = None  # the header's names as written, when the layout is plain
    detected: list[str] = field(default_factory=list)  # which of DETECTED were not given

    @property
    def sep(self) -> str:
        return self.options["sep"]

    @property
    def decimal(self) -> str:
        return self.options["decimal"]

    @property
    def encoding(self) -> str:
        return self.options["encoding"]

    def describe(self) -> str:
        """e.g. "';'-separated, decimal ',', cp1252"; what the user set is marked so."""

        def shown(name: str, text: str) -> str:
            return text if name in self.detected else f"{text} (set)"

        quote = self.options.get("quotechar", DEFAULT_QUOTE)
        told = quote != DEFAULT_QUOTE or "quotechar" not in self.detected  # found, or set
        quoting = [shown("quotechar", f"quoted with {quote!r}")] if told else []
        return ", ".join(
            [
                shown("sep", f"{self.sep!r}-separated"),
                *quoting,
                shown("decimal", f"decimal {self.decimal!r}"),
                shown("encoding", self.encoding),
            ]
        )


def checked_read_options(options: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    """`options` as a plain dict of pandas.read_csv options; one line naming any that is not.

    `key` is the setting they come from (`data.read` or predict's `read`). A null sep, decimal,
    encoding or quotechar means "detect it" and is left out.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise UserError(
            f"{key}={options!r} is not a mapping of pandas.read_csv options: "
            f"give them one by one, e.g. {key}.sep=';' {key}.encoding=cp1252"
        )
    known = inspect.signature(pd.read_csv).parameters
    checked = {}
    for name, value in options.items():
        if name in READER_OPTIONS:
            raise UserError(f"{key}.{name} is set by the reader itself: leave it out")
        if name == "engine" and value == "pyarrow":  # pandas reads with it in one piece only
            raise UserError(
                f"{key}.engine='pyarrow' cannot read a file in parts, as predict and large "
                f"tables are read: leave it out (pandas' own C parser) or give {key}.engine=python"
            )
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f" (did you mean {key}.{close[0]}?)" if close else ""
            raise UserError(
                f"{key}.{name} is not an option of pandas.read_csv{hint}: see {READ_CSV_DOCS}"
            )
        if value is None and name in (*DETECTED, "delimiter"):
            continue
        checked["sep" if name == "delimiter" else name] = value
    if all(options.get(name) is not None for name in ("sep", "delimiter")):
        raise UserError(f"{key}.sep and {key}.delimiter are the same option: give one of them")
    if checked.get("sep") in SEPARATOR_WORDS:  # a tab is hard to type on a command line
        checked["sep"] = SEPARATOR_WORDS[checked["sep"]]
    sep = checked.get("sep")
    if isinstance(sep, str) and len(sep) > 1 and sep.isalpha():  # a word, not pandas' regex
        raise UserError(
            f"{key}.sep={sep!r} is not a separator: give one character (e.g. {key}.sep=';'), "
            f"one of {', '.join(SEPARATOR_WORDS)} or a regular expression such as '\\s+'"
        )
    # The separator may be a regular expression; the others are one character each.
    characters = (("sep", ";"), ("decimal", ","), ("quotechar", "'"), ("escapechar", "\\"))
    for name, example in characters:
        value = checked.get(name)
        if name in checked and not (
            isinstance(value, str) and value and (len(value) == 1 or name == "sep")
        ):
            raise UserError(
                f"{key}.{name}={checked[name]!r} is not allowed: expected a character, "
                f"e.g. {key}.{name}={example!r}"
            )
    if "encoding" in checked:
        try:
            codecs.lookup(str(checked["encoding"]))
        except LookupError:
            raise UserError(
                f"{key}.encoding={checked['encoding']!r} is not an encoding Python knows: "
                "e.g. utf-8, cp1252, latin-1, cp1251, shift_jis"
            ) from None
    return checked


def compression_of(file: Path, compression: Any = "infer") -> str | None:
    """The compression pandas reads `file` with: `compression` (a method or pandas' mapping of
    one), by the file's extension when "infer", None when it is plain."""
    if isinstance(compression, Mapping):
        compression = compression.get("method")
    if compression == "infer":
        return SUFFIX_COMPRESSION.get(file.suffix.lower())
    return compression


@contextmanager
def open_decompressed(file: Path, compression: Any = "infer") -> Iterator[BinaryIO]:
    """The file's bytes as pandas reads them: decompressed by its extension (or `compression`)."""
    import pyarrow as pa

    kind = compression_of(file, compression)
    if kind == "zip":  # pandas reads a zip archive's only member
        with zipfile.ZipFile(file) as archive, archive.open(archive.namelist()[0]) as member:
            yield member
    elif kind == "xz":
        with lzma.open(file) as stream:
            yield stream
    else:
        with pa.input_stream(str(file), compression=kind) as stream:
            yield stream


def _samples(file: Path, compression: Any) -> tuple[bytes, bytes]:
    """The head of the file's (decompressed) bytes, and the tail of an uncompressed file."""
    try:
        with open_decompressed(file, compression) as stream:
            head = stream.read(HEAD_BYTES)
    except (OSError, ValueError, EOFError, IndexError, zipfile.BadZipFile, lzma.LZMAError):
        return b"", b""  # pandas' own reading says what is wrong with it
    tail = b""
    size = file.stat().st_size
    if compression_of(file, compression) is None and size > HEAD_BYTES:
        with open(file, "rb") as raw:
            raw.seek(max(HEAD_BYTES, size - TAIL_BYTES))
            tail = raw.read()
    return head, tail


def _decodes(sample: bytes, encoding: str, cut_start: bool = False) -> bool:
    """Whether `sample`, possibly cut mid-character at its end (and its start), decodes."""
    if cut_start and encoding == "utf-8":  # skip the continuation bytes of a cut character
        sample = sample[next((i for i, b in enumerate(sample[:4]) if b & 0xC0 != 0x80), 0) :]
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(head: bytes, tail: bytes, where: str, key: str) -> str:
    """UTF-8 (with or without its byte-order mark), UTF-16 by its mark, else cp1252 / Latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(head, "utf-8") and _decodes(tail, "utf-8", cut_start=True):
        return "utf-8"
    encoding = LEGACY_ENCODING
    if not (_decodes(head, encoding) and _decodes(tail, encoding)):
        encoding = "latin-1"  # every byte is a character
    text = head.decode(encoding)
    ascii_letters = sum(1 for c in text if c.isascii() and c.isalpha())
    others = sum(1 for c in text if not c.isascii())
    if others >= FOREIGN_LEAST and others > FOREIGN_SHARE * (ascii_letters + others):
        raise UserError(
            f"{where} is not UTF-8, and read as {encoding} (Western European) most of its "
            f"letters would be accented or symbols: give its encoding, e.g. {key}.encoding=cp1251 "
            "(Cyrillic), cp1253 (Greek), shift_jis, gbk, or re-save it as UTF-8"
        )
    return encoding


def _first_record(text: str, sep: str, dialect: dict[str, Any]) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=sep, **dialect), [])
    except csv.Error:
        return []


def detect_delimiter(text: str, dialect: dict[str, Any]) -> str:
    """The delimiter of `text` (the head of the file) among DELIMITERS; `,` for one column."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # e.g. a single column, or too few lines to compare
        sniffed = None
    if sniffed and len(_first_record(sample, sniffed, dialect)) > 1:
        return sniffed
    widths = {sep: len(_first_record(sample, sep, dialect)) for sep in DELIMITERS}
    widest = max(DELIMITERS, key=lambda sep: widths[sep])  # ties: the first in DELIMITERS
    if widths[widest] > 1:
        return widest
    return SPACE if _splits_alike_on_spaces(sample, dialect) else ","


def _first_lines(text: str) -> list[str]:
    """Those of the first SAMPLE_LINES lines of `text` that hold something."""
    return [line for line in text.splitlines()[:SAMPLE_LINES] if line.strip()]


def _splits_alike_on_spaces(sample: str, dialect: dict[str, Any]) -> bool:
    """Whether the first lines of `sample` all split into the same number (> 1) of fields on
    single spaces, none of them empty: columns aligned with several spaces, or lines ending in
    one, are not (they take `sep='\\s+'`). A one-column file of "first last" names would pass,
    but it cannot be trained on anyway."""
    records = [_first_record(line, SPACE, dialect) for line in _first_lines(sample)]
    widths = {len(record) for record in records}
    return len(widths) == 1 and widths.pop() > 1 and all(all(record) for record in records)


def _single_quoted(text: str, sep: str, dialect: dict[str, Any], names: list[str]) -> bool:
    """Whether the header splits into several names, each wrapped in single quotes (as in
    `'age','income'`), and the sample's first lines keep its width when `'` quotes: a value that
    starts with an apostrophe (`'90s`) would otherwise swallow the fields after it."""
    if len(names) < 2 or not all(
        len(name) >= 2 and name.startswith("'") and name.endswith("'") for name in names
    ):
        return False
    lines = _first_lines(text)
    if len(text) > SNIFF_CHARS:
        lines = lines[:-1]  # possibly cut off
    quoted = {**dialect, "quotechar": "'"}
    return all(len(_first_record(line, sep, quoted)) == len(names) for line in lines)


def detect_decimal(text: str, sep: str, dialect: dict[str, Any]) -> str:
    """ "," when the sample's numbers are written with a decimal comma (never with sep=',', nor
    with a regular expression as the separator, which the csv module cannot split by)."""
    if sep == "," or len(sep) != 1:
        return "."
    comma = point = 0
    reader = csv.reader(io.StringIO(text[: SNIFF_CHARS * 4]), delimiter=sep, **dialect)
    try:
        for number, record in enumerate(reader):
            if number > DECIMAL_ROWS:
                break
            for value in record:
                value = value.strip()
                comma += bool(COMMA_DECIMAL.fullmatch(value))
                point += bool(POINT_DECIMAL.fullmatch(value))
    except csv.Error:
        pass  # a cut-off last line in the sample: what was read so far is evidence enough
    return "," if comma > point else "."


def csv_format(file: Path, options: dict[str, Any], where: str, key: str) -> CsvFormat:
    """The read options for `file`: `options` (checked_read_options'), plus the detected sep,
    decimal and encoding where not given. `where` names the file in errors, `key` the options."""
    chosen = dict(options)
    detected = [name for name in DETECTED if name not in chosen]
    dialect = {
        name: chosen[name] for name in ("quotechar", "escapechar", "doublequote") if name in chosen
    }
    head, tail = _samples(file, chosen.get("compression", "infer"))
    if "encoding" not in chosen:
        chosen["encoding"] = detect_encoding(head, tail, where, key)
    try:
        text = codecs.getincrementaldecoder(chosen["encoding"])().decode(head, final=False)
    except UnicodeDecodeError:
        text = ""  # a given encoding that does not fit: pandas' reading names the byte
    text = text.removeprefix("\ufeff")
    if "sep" not in chosen:
        chosen["sep"] = detect_delimiter(text, dialect)
    if "decimal" not in chosen:
        chosen["decimal"] = detect_decimal(text, chosen["sep"], dialect)
    plain = not any(chosen.get(name) is not None for name in LAYOUT_OPTIONS)
    sep = chosen["sep"]
    header = _first_record(text, sep, dialect) if plain and text and len(sep) == 1 else None
    if "quotechar" not in chosen and header and _single_quoted(text, sep, dialect, header):
        chosen["quotechar"] = dialect["quotechar"] = "'"
        header = _first_record(text, sep, dialect)
    if header is not None and len(header) == 1 and "sep" not in detected:
        widths = {other: len(_first_record(text, other, dialect)) for other in DELIMITERS}
        other = max(DELIMITERS, key=lambda candidate: widths[candidate])
        if widths[other] > 1:
            raise UserError(
                f"{key}.sep={sep!r} leaves the header of {where} in one column "
                f"({shortened(header[0])!r}), which {other!r} splits into {widths[other]}: "
                f"give {key}.sep={other!r}, or {key}.sep=null to detect it"
            )
    return CsvFormat(chosen, header, detected)


def refuse_duplicate_names(names: list[str], where: str) -> None:
    """One line naming every name the header gives to more than one column, with their places
    (counted from 1); pandas would silently rename the second `a` to `a.1`."""
    places: dict[str, list[int]] = {}
    for place, name in enumerate(names, start=1):
        places.setdefault(str(name), []).append(place)
    repeated = {name: at for name, at in places.items() if len(at) > 1}
    if repeated:
        shown = "; ".join(
            f"{name!r} (columns {', '.join(map(str, at))})" for name, at in repeated.items()
        )
        raise UserError(
            f"{where} has duplicate column names: {shown}: give each column its own name"
        )
