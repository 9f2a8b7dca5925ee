"""Files in and out: CSV and Parquet by extension, one clear line for every unusable file."""

import os
import warnings

import pandas as pd
import pytest

from {{ cookiecutter.package }}.data.tables import read_table, write_table
from {{ cookiecutter.package }}.support.errors import UserError

FRAME = pd.DataFrame(
    {"x": [1.5, 2.5, None], "colour": ["red", None, "blue"], "ok": [True, False, True]}
)


@pytest.mark.parametrize("name", ["table.csv", "table.parquet", "table.pq", "table.csv.gz"])
def test_tables_round_trip_by_extension(tmp_path, name):
    written = write_table(FRAME, str(tmp_path / name))
    assert written == tmp_path / name
    read = read_table(str(written))
    assert read["x"].isna().tolist() == [False, False, True]
    assert read["colour"].tolist()[::2] == ["red", "blue"]
    assert read["ok"].tolist() == [True, False, True]


def test_csv_is_read_in_chunks_that_join_into_one_table(tmp_path, monkeypatch):
    from {{ cookiecutter.package }}.data import tables

    monkeypatch.setattr(tables, "CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr(tables, "ONE_READ_BYTES", 0)  # every file counts as large
    frame = pd.DataFrame({"n": range(7), "label": list("abcdefg")})
    frame.to_csv(tmp_path / "t.csv", index=False)
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "t.csv")), frame, check_dtype=False)


@pytest.mark.parametrize(
    ("name", "large", "chunked"),
    [("t.csv", False, False), ("t.csv", True, True), ("t.csv.gz", False, True)],
)
def test_a_small_plain_csv_is_parsed_in_one_call(tmp_path, monkeypatch, name, large, chunked):
    from {{ cookiecutter.package }}.data import tables

    if large:
        monkeypatch.setattr(tables, "ONE_READ_BYTES", 10)
    calls = []
    read_csv = pd.read_csv

    def counted(*args, **kwargs):
        calls.append(kwargs.get("chunksize"))
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(tables.pd, "read_csv", counted)
    FRAME.to_csv(tmp_path / name, index=False)

    assert read_table(str(tmp_path / name))["colour"].tolist()[::2] == ["red", "blue"]
    assert calls == [tables.CSV_CHUNK_ROWS if chunked else None]


def test_a_column_of_numbers_then_text_reads_alike_either_way(tmp_path, monkeypatch):
    from {{ cookiecutter.package }}.data import tables
    from {{ cookiecutter.package }}.data.written_values import find_written_values

    # Long enough that pandas' one call guesses the column's type block by block, as parts do:
    # numbers in some blocks, text in the one with "1,234", which written_values.py then reads.
    values = [str(i) for i in range(300_000)] + ["1,234"]
    pd.DataFrame({"amount": values, "y": 1}).to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DtypeWarning reaches the user
        at_once = read_table(str(tmp_path / "t.csv"))
    monkeypatch.setattr(tables, "ONE_READ_BYTES", 0)
    in_chunks = read_table(str(tmp_path / "t.csv"))

    read = [find_written_values(frame, ["amount"], ".")[0] for frame in (at_once, in_chunks)]
    pd.testing.assert_frame_equal(*read)
    assert read[0]["amount"].iloc[-2:].tolist() == [299_999, 1234]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: None, "does not exist"),
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: path.write_text(""), "is an empty file"),
        (lambda path: path.write_text("a,b\n"), "holds no data rows"),
        (lambda path: path.write_bytes(b'a,b\n1,"never closed\n'), "is not a readable CSV"),
    ],
)
def test_unusable_files_name_the_setting_and_the_problem(tmp_path, make, message):
    path = tmp_path / "rows.csv"
    make(path)
    with pytest.raises(UserError, match=rf"input='.*rows\.csv' {message}"):
        read_table(str(path), key="input")


def test_a_broken_parquet_file_is_a_user_error(tmp_path):
    path = tmp_path / "table.parquet"
    path.write_text("not parquet at all")
    with pytest.raises(UserError, match=r"data.path=.* is not a readable Parquet file"):
        read_table(str(path))


def test_writing_never_leaves_half_a_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("the previous file\n")

    class Unwritable(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            with open(args[0], "w") as half:
                half.write("half a fi")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_table(Unwritable(FRAME), str(target))
    assert target.read_text() == "the previous file\n"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left behind
