"""Damaged files are named as such, in one line, with exit 2: a checkpoint cut short or corrupted,
a Parquet file cut short, a CSV file with a row of more or fewer fields than its header."""

import pytest
from conftest import QUIET, run_app
from fresh_tables import TARGET, fresh_table


def error_line(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    return line


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("trained")
    result = run_app(
        "train", *QUIET, "trainer.max_epochs=1", f"hydra.run.dir={workdir / 'run'}", cwd=workdir
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (workdir / "run" / "checkpoints" / "best.ckpt").read_bytes()


DAMAGES = {
    "truncated": (lambda data: data[: len(data) // 2], "the file is cut short"),
    "corrupted": (
        lambda data: data[:2000] + bytes(b ^ 0xFF for b in data[2000:2400]) + data[2400:],
        "does not match its checksum",
    ),
    "empty": (lambda data: b"", "the file is empty"),
}
# Every command meets each damage once in the fast tier; the other pairs (the same check, reached
# the same way) run with the slow tier, each pair a command's start-up of several seconds.
FAST_PAIRS = {("evaluate", "truncated"), ("predict", "corrupted"), ("train", "empty")}


@pytest.mark.parametrize(
    ("app", "damaged_as"),
    [
        pytest.param(
            app,
            name,
            id=f"{app}-{name}",
            marks=() if (app, name) in FAST_PAIRS else pytest.mark.slow,
        )
        for app in ("evaluate", "predict", "train")
        for name in DAMAGES
    ],
)
def test_a_damaged_checkpoint_is_named_as_such(tmp_path, checkpoint, app, damaged_as):
    damage, said = DAMAGES[damaged_as]
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(damage(checkpoint))
    extra = {"predict": ["input=rows.csv"], "train": QUIET}.get(app, [])
    line = error_line(
        run_app(
            app, f"ckpt_path={damaged}", *extra, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path
        )
    )
    assert f"ckpt_path={str(damaged)!r}" in line or f"ckpt_path={damaged}" in line
    assert said in line
    assert not (tmp_path / "run").exists()  # nothing left behind by a refused command


def test_a_parquet_file_cut_short_is_named_as_such(tmp_path):
    whole = tmp_path / "whole.parquet"
    fresh_table("binary").to_parquet(whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    line = error_line(
        run_app(
            "train",
            "data=csv",
            f"data.path={cut}",
            f"data.target={TARGET}",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    )
    assert "is not a whole Parquet file" in line and "cut short" in line


@pytest.mark.parametrize(
    ("edit", "fields"),
    [(lambda row: row + ",extra", 9), (lambda row: row.rsplit(",", 3)[0], 5)],
    ids=["too-many-fields", "too-few-fields"],
)
def test_a_csv_row_with_more_or_fewer_fields_is_named_by_its_line(tmp_path, edit, fields):
    path = tmp_path / "table.csv"
    fresh_table("binary").to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[41] = edit(lines[41])  # the 42nd line: data row 41
    path.write_text("\n".join(lines) + "\n")
    line = error_line(
        run_app(
            "train",
            "data=csv",
            f"data.path={path}",
            f"data.target={TARGET}",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    )
    assert f"data row 41 has {fields} fields but the header has 8" in line


def test_a_short_row_after_a_column_changes_type_is_still_found(tmp_path):
    """pyarrow guesses types from the first block: the check reads every field as text."""
    path = tmp_path / "table.csv"
    rows = [f"{i},{i % 7},{i % 2}" for i in range(60_000)]
    rows[30_000] = "x,1,0"  # past the first block, text in a column of numbers
    rows[50_000] = "5,1"  # then a row cut short
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    line = error_line(
        run_app(
            "train",
            "data=csv",
            f"data.path={path}",
            "data.target=label",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    )
    assert "data row 50001 has 2 fields but the header has 3" in line


def test_a_compressed_table_cut_short_is_one_line(tmp_path):
    import gzip

    whole = gzip.compress(fresh_table("binary").to_csv(index=False).encode())
    path = tmp_path / "table.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    line = error_line(
        run_app(
            "train",
            "data=csv",
            f"data.path={path}",
            f"data.target={TARGET}",
            f"hydra.run.dir={tmp_path / 'run'}",
            cwd=tmp_path,
        )
    )
    assert "table.csv.gz" in line
