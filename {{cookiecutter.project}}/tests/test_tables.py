"""Files in and out: CSV and Parquet by extension, one clear line for every unusable file."""

import os

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
    frame = pd.DataFrame({"n": range(7), "label": list("abcdefg")})
    frame.to_csv(tmp_path / "t.csv", index=False)
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "t.csv")), frame, check_dtype=False)


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
