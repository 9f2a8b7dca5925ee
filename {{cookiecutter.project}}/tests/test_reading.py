"""Done when: users' CSV files train as they come (semicolons and decimal commas, tabs, pipes,
Latin-1, a byte-order mark; amounts, shares and yes/no written as text; infinite numbers) and
predict reads the same raw rows the same way; repeated column names and bad reading settings stop
in one line."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import QUIET, compose_config, run_app
from fresh_tables import TARGET, fresh_table

from {{ cookiecutter.package }}.data.missing import (
    InfiniteValueWarning,
    infinities_as_missing,
)
from {{ cookiecutter.package }}.data.tables import TableFile, read_table
from {{ cookiecutter.package }}.data.written_values import (
    find_written_values,
    numbers_held_back,
    read_duration,
    read_number,
)
from {{ cookiecutter.package }}.predict import predict, restore_trained
from {{ cookiecutter.package }}.serve import answer
from {{ cookiecutter.package }}.support.checkpoints import load_checkpoint
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

# Text a wrong encoding would garble.
REGIONS = {
    "north": "Nord-Québec",
    "south": "Midi-Pyrénées",
    "east": "Île-de-France",
    "west": "Bretagne",
}
ADDED = ["prediction", "probability_no", "probability_yes"]


def customers(rows: int = 240) -> pd.DataFrame:
    """fresh_table's customers with accented regions, a discount share and an account balance."""
    table = fresh_table("binary", rows=rows)
    table["region"] = table["region"].map(REGIONS)
    rng = np.random.default_rng(1)
    table["discount"] = rng.integers(0, 300, rows) / 1000
    table["balance"] = rng.normal(20_000, 15_000, rows).round(2)
    return table


def train_on(path, run_dir, *overrides: str) -> dict[str, float]:
    """One short training on the file at `path`, as `data=csv data.path=... data.target=...`."""
    return train(
        compose_config(
            "train",
            [
                f"run_dir={run_dir}",
                "data=csv",
                f"data.path={path}",
                f"data.target={TARGET}",
                "trainer.max_epochs=1",
                *QUIET,
                *overrides,
            ],
        )
    )


def predicted(run_dir, rows, output, *overrides: str, **written) -> pd.DataFrame:
    """predict's output for the file `rows` with the best checkpoint of `run_dir`, read with the
    delimiter and decimal mark `written` (pandas.to_csv's) that predict writes it with."""
    predict(
        compose_config(
            "predict",
            [
                f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
                f"input={rows}",
                f"output={output}",
                f"run_dir={output.parent / 'predict'}",
                *overrides,
            ],
        )
    )
    return pd.read_csv(output, **written)


def served(run_dir, rows: pd.DataFrame) -> list[dict]:
    """serve's answers for `rows` (the target left out) with the best checkpoint of `run_dir`,
    sent as JSON rows, gaps as null, as a client sends them."""
    rows = rows.drop(columns=[TARGET]).astype(object)
    body = json.dumps({"rows": rows.where(rows.notna(), None).to_dict("records")}).encode()
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    datamodule, module = restore_trained(load_checkpoint(str(ckpt)))
    return json.loads(answer(body, module, datamodule, max_rows=100))["predictions"]


def data_state(run_dir) -> dict:
    """The data module's state in the best checkpoint, loaded as predict loads it."""
    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)
    return checkpoint["TabularDataModule"]


FORMATS = {
    "semicolon-decimal-comma": ({"sep": ";", "decimal": ","}, "';'-separated, decimal ',', utf-8"),
    "latin-1": ({"encoding": "latin-1"}, "','-separated, decimal '.', cp1252"),
    "utf-8-bom": ({"encoding": "utf-8-sig"}, "','-separated, decimal '.', utf-8-sig"),
    "tab": ({"sep": "\t"}, "'\\t'-separated, decimal '.', utf-8"),
    "pipe": ({"sep": "|"}, "'|'-separated, decimal '.', utf-8"),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_file_as_it_comes_trains_and_predicts_as_a_plain_csv_would(name, tmp_path, capsys):
    written, detected = FORMATS[name]
    table = customers()
    raw, plain = tmp_path / "raw.csv", tmp_path / "plain.csv"
    table.to_csv(raw, index=False, **written)
    table.to_csv(plain, index=False)
    train_on(raw, tmp_path / "run")
    assert f"\n  read: {detected}\n" in capsys.readouterr().out
    preprocessor = data_state(tmp_path / "run")["preprocessor"]
    assert preprocessor["numeric"] == ["age", "income", "children", "discount", "balance"]
    assert set(REGIONS.values()) <= set(preprocessor["categories"]["region"])
    # Written back in UTF-8 with the input's delimiter and decimal mark.
    marks = {key: value for key, value in written.items() if key in ("sep", "decimal")}
    from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv", **marks)
    from_plain = predicted(tmp_path / "run", plain, tmp_path / "from_plain.csv")
    assert list(from_raw.columns) == [*table.columns, *ADDED]
    assert from_raw["region"].tolist() == table["region"].tolist()  # decoded, passed through
    pd.testing.assert_frame_equal(from_raw[table.columns], pd.read_csv(plain))
    assert from_raw["prediction"].notna().all()
    pd.testing.assert_frame_equal(from_raw[ADDED], from_plain[ADDED])


def as_people_write_them(table: pd.DataFrame) -> pd.DataFrame:
    """The same customers as a spreadsheet export writes them: "$12,345.67", "12.5%",
    "12.345,67 €" (in a comma-separated file: quoted), "Yes"/"no"."""
    shown = table.copy()
    shown["income"] = [f"${value:,.2f}" for value in table["income"]]
    shown["discount"] = [f"{value * 100:.1f}%" for value in table["discount"]]
    european = str.maketrans(",.", ".,")
    shown["balance"] = [f"{value:,.2f}".translate(european) + " €" for value in table["balance"]]
    shown["active"] = table["active"].map({True: "Yes", False: "no"})
    return shown


def test_numbers_and_flags_written_as_text_are_read_as_what_they_mean(tmp_path, capsys):
    table = customers()
    raw, plain = tmp_path / "raw.csv", tmp_path / "plain.csv"
    shown = as_people_write_them(table)
    shown.to_csv(raw, index=False)
    table.to_csv(plain, index=False)
    train_on(raw, tmp_path / "run")
    report = capsys.readouterr().out
    assert f"income (numbers written as text: {shown['income'][0]!r})" in report
    assert f"discount (numbers written as text: {shown['discount'][0]!r})" in report
    assert f"balance (numbers written as text: {shown['balance'][0]!r})" in report
    first_flag = shown["active"].dropna().iloc[0]
    assert f"active (3 levels; yes/no as booleans: {first_flag!r})" in report
    state = data_state(tmp_path / "run")
    assert state["preprocessor"]["numeric"] == ["age", "income", "children", "discount", "balance"]
    assert state["preprocessor"]["categories"]["active"] == ["False", "True", "missing"]
    written = state["written_values"]
    assert written["income"] == {"kind": "number", "decimal": ".", "example": shown["income"][0]}
    assert written["balance"]["decimal"] == ","
    assert written["active"] == {
        "kind": "boolean",
        "true": "yes",
        "false": "no",
        "example": first_flag,
    }
    from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv")
    from_plain = predicted(tmp_path / "run", plain, tmp_path / "from_plain.csv")
    assert from_raw["income"].tolist() == shown["income"].tolist()  # written back as given
    pd.testing.assert_frame_equal(from_raw[ADDED], from_plain[ADDED])
    # serve reads the same text in JSON rows the same way.
    answered = served(tmp_path / "run", shown.head(6))
    assert [row["probability_yes"] for row in answered] == pytest.approx(
        from_raw["probability_yes"].head(6).tolist()
    )
    # Alone, "1.500" is 1.5 to pandas; training's "12.345,67 €" makes it 1500, as "1.500,00 €".
    ambiguous, spelled = tmp_path / "ambiguous.csv", tmp_path / "spelled.csv"
    few = shown.head(3).drop(columns=[TARGET])
    few.assign(balance=["1.500", "-2.000", "30"]).to_csv(ambiguous, index=False)
    few.assign(balance=["1.500,00 €", "-2.000,00 €", "30,00 €"]).to_csv(spelled, index=False)
    pd.testing.assert_frame_equal(
        predicted(tmp_path / "run", ambiguous, tmp_path / "a.csv")[ADDED],
        predicted(tmp_path / "run", spelled, tmp_path / "s.csv")[ADDED],
    )


@pytest.mark.parametrize(
    ("text", "decimal", "number"),
    [
        ("$1,200", ".", 1200.0),
        ("$1,200", ",", 1.2),
        ("1.234,5", ",", 1234.5),
        ("1 200 €", ".", 1200.0),
        ("1\u202f234,5 €", ",", 1234.5),
        ("1'234.5", ".", 1234.5),
        ("12.5%", ".", 0.125),
        ("-$5", ".", -5.0),
        ("\u22123", ".", -3.0),
        ("1,5", ".", None),  # not grouped in thousands: no decimal point either
        ("1,2345", ".", None),
        ("12,34,567", ".", None),
        ("$5 €", ".", None),
        ("5 apples", ".", None),
        ("", ".", None),
    ],
)
def test_numbers_as_people_write_them(text, decimal, number):
    assert read_number(text, decimal) == number


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("4:35", 4 * 3600 + 35 * 60),
        ("04:43:32", 4 * 3600 + 43 * 60 + 32),
        (" 04:43:32.5 ", 4 * 3600 + 43 * 60 + 32.5),
        ("-0:01:30", -90),
        ("0 days 04:43:32", 4 * 3600 + 43 * 60 + 32),  # pandas' str(Timedelta)
        ("-1 days +23:59:00", -60),  # pandas' negative Timedelta
        ("1 day, 2:03:04", 86400 + 2 * 3600 + 3 * 60 + 4),  # Python's str(timedelta)
        (pd.Timedelta(minutes=2), 120),  # a Parquet duration column's values
        ("12:60", None),  # no 60th minute
        ("3:1", None),  # a score, not a time
        ("12.30", None),
        ("2021-01-01 04:43", None),  # a date: calendar numbers, not seconds
        (45.0, None),
    ],
)
def test_durations_and_clock_times_as_seconds(value, seconds):
    assert read_duration(value) == seconds


def test_a_column_of_durations_trains_as_seconds_and_predict_reads_them_so(tmp_path, capsys):
    table = customers()
    rng = np.random.default_rng(2)
    seconds = rng.integers(0, 5 * 3600, len(table))
    written = [f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in seconds]
    table["call_length"] = written
    table.loc[[3, 30], "call_length"] = "-"  # marks of missing ones
    raw = tmp_path / "raw.csv"
    table.to_csv(raw, index=False)
    train_on(raw, tmp_path / "run")
    assert "call_length (durations or clock times as seconds: " in capsys.readouterr().out
    state = data_state(tmp_path / "run")
    assert "call_length" in state["preprocessor"]["numeric"]
    assert state["written_values"]["call_length"]["kind"] == "duration"
    # predict reads the text, a Parquet duration column and the seconds themselves alike.
    as_seconds = table.assign(call_length=np.where(table["call_length"] == "-", np.nan, seconds))
    as_seconds.to_csv(tmp_path / "seconds.csv", index=False)
    durations = table.assign(call_length=pd.to_timedelta(as_seconds["call_length"], unit="s"))
    durations.to_parquet(tmp_path / "durations.parquet")
    answers = [
        predicted(tmp_path / "run", tmp_path / name, tmp_path / f"{name}.out.csv")[ADDED]
        for name in ("raw.csv", "seconds.csv", "durations.parquet")
    ]
    pd.testing.assert_frame_equal(answers[0], answers[1])
    pd.testing.assert_frame_equal(answers[0], answers[2])
    # serve reads the text in JSON rows the same way.
    answered = served(tmp_path / "run", table.head(5))
    assert [row["probability_yes"] for row in answered] == pytest.approx(
        answers[0]["probability_yes"].head(5).tolist()
    )


def with_infinities(table: pd.DataFrame) -> pd.DataFrame:
    """Three ages written as a CSV file may spell an infinite number."""
    shown = table.copy()
    shown["age"] = shown["age"].astype(object)
    shown.loc[[5, 50, 150], "age"] = ["inf", "-Infinity", "Infinity"]
    return shown


def test_infinite_numbers_are_imputed_like_missing_ones_with_a_warning(tmp_path, capsys):
    table = customers()
    raw, blank = tmp_path / "raw.csv", tmp_path / "blank.csv"
    with_infinities(table).to_csv(raw, index=False)
    table.assign(age=table["age"].mask(table.index.isin([5, 50, 150]))).to_csv(blank, index=False)
    with pytest.warns(InfiniteValueWarning, match=r"'age' \(3 rows\): imputed like missing"):
        metrics = train_on(raw, tmp_path / "run")
    assert np.isfinite(list(metrics.values())).all(), metrics
    assert f"Data: data.path='{raw}', 240 rows\n" in capsys.readouterr().out
    with pytest.warns(InfiniteValueWarning, match=r"input='.*raw.csv' has infinite values"):
        from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv")
    from_blank = predicted(tmp_path / "run", blank, tmp_path / "from_blank.csv")
    pd.testing.assert_frame_equal(from_raw[ADDED], from_blank[ADDED])


# Column names that are also names in Python: pandas' `assign(**columns)` takes "self" for its own
# argument, and the others are keywords or a pydantic model's attribute.
AWKWARD_NAMES = {"income": "self", "age": "class", "region": "model_config", "active": "None"}


def test_columns_named_like_python_names_train_predict_serve_and_export(tmp_path, capsys):
    from {{ cookiecutter.package }}.export import export

    raw = tmp_path / "raw.csv"
    shown = with_infinities(as_people_write_them(customers())).rename(columns=AWKWARD_NAMES)
    shown.to_csv(raw, index=False)
    with pytest.warns(InfiniteValueWarning, match="'class' \\(3 rows\\)"):
        train_on(raw, tmp_path / "run")
    report = capsys.readouterr().out
    assert "self (numbers written as text: " in report
    assert "None (3 levels; yes/no as booleans: " in report
    with pytest.warns(InfiniteValueWarning):
        from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv")
    assert from_raw["prediction"].notna().all()
    answered = served(tmp_path / "run", shown.head(3))
    assert [row["prediction"] for row in answered] == from_raw["prediction"].head(3).tolist()
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    settings = [f"ckpt_path={ckpt}", f"output={tmp_path / 'model.onnx'}", f"input={raw}"]
    with pytest.warns(InfiniteValueWarning):
        export(compose_config("export", [*settings, f"run_dir={tmp_path / 'export'}"]))
    assert "ONNX Runtime matches PyTorch on 240 rows (input=" in capsys.readouterr().out
    # An infinite number in a column named "self" is made missing too.
    frame = pd.DataFrame({"self": [1.0, np.inf, 3.0], TARGET: ["no", "yes", "no"]})
    with pytest.warns(InfiniteValueWarning, match=r"'self' \(1 row\)"):
        made_missing = infinities_as_missing(frame, ["self"], "impute", "a table")
    assert made_missing["self"].isna().tolist() == [False, True, False]


def test_marks_of_missing_numbers_are_read_as_missing_and_named(tmp_path, capsys):
    table = customers()
    # Numbers but for a word, which may be a level: text, and the report says how to make it a gap.
    table["visits"] = [str(n % 7) for n in range(len(table) - 1)] + ["n.a."]
    blanked = table.index.isin([5, 50, 150])
    files = {name: tmp_path / f"{name}.csv" for name in ("marked", "blank", "other_marks")}
    table.assign(age=table["age"].mask(blanked)).to_csv(files["blank"], index=False)
    for name, marks in (("marked", ["?", "?", "-"]), ("other_marks", ["--", ".", "?"])):
        shown = table.assign(age=table["age"].astype(object))
        shown.loc[blanked, "age"] = marks
        shown.to_csv(files[name], index=False)
    train_on(files["marked"], tmp_path / "run")
    report = capsys.readouterr().out
    assert "age (numbers; missing: '?', '-' in 3 rows)" in report
    assert re.search(
        r"visits \(\d levels; numbers but for 'n\.a\.': "
        r"'\+data\.read\.na_values=\[\"n\.a\.\"\]' reads those as missing\)",
        report,
    )
    assert data_state(tmp_path / "run")["preprocessor"]["numeric"][0] == "age"
    # predict reads any mark as missing, as training did, and imputes it the same way.
    expected = predicted(tmp_path / "run", files["blank"], tmp_path / "from_blank.csv")
    for name in ("marked", "other_marks"):
        given = predicted(tmp_path / "run", files[name], tmp_path / f"from_{name}.csv")
        pd.testing.assert_frame_equal(given[ADDED], expected[ADDED])


def test_a_value_with_a_letter_or_only_marks_leave_a_column_as_text():
    frame = pd.DataFrame({"grade": ["1", "2", "K", "3"], "marks": ["?", "-", "?", None]})
    read, found = find_written_values(frame, ["grade", "marks"], ".")
    assert found == {}  # 'K' is a level of its own, and marks alone are not numbers
    pd.testing.assert_frame_equal(read, frame)
    # The report points out the few words that keep a column of numbers text; words are no more.
    words = frame.assign(city=["Oslo", "Rome", "Lima", "Kiev"])
    assert numbers_held_back(words, ["grade", "marks", "city"], ".") == {"grade": ["K"]}


def test_infinite_numbers_are_left_out_with_their_rows_under_drop(tmp_path, capsys):
    table = customers()
    raw = tmp_path / "raw.csv"
    with_infinities(table).to_csv(raw, index=False)
    with pytest.warns(InfiniteValueWarning, match=r"'age' \(3 rows\): left out with their rows"):
        train_on(raw, tmp_path / "run", "data.missing=drop")
    gaps = table[["age", "plan", "active"]].isna().any(axis=1) | table.index.isin([5, 50, 150])
    assert f"{len(table) - gaps.sum()} rows ({gaps.sum()} left out" in capsys.readouterr().out
    with pytest.warns(InfiniteValueWarning):
        from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv")
    assert from_raw["prediction"].isna().tolist() == gaps.tolist()


def test_infinite_numbers_are_refused_under_error(tmp_path):
    table = customers().dropna()
    raw, complete = tmp_path / "raw.csv", tmp_path / "complete.csv"
    with_infinities(table.reset_index(drop=True)).to_csv(raw, index=False)
    table.to_csv(complete, index=False)
    refused = r"has infinite values in 'age' \(3 rows\) and data.missing=error"
    with pytest.raises(UserError, match=r"data.path='.*raw.csv' " + refused):
        train_on(raw, tmp_path / "refused", "data.missing=error")
    assert not (tmp_path / "refused" / "checkpoints").exists()
    train_on(complete, tmp_path / "run", "data.missing=error")
    output = tmp_path / "from_raw.csv"
    with pytest.raises(UserError, match=r"input='.*raw.csv' " + refused):
        predicted(tmp_path / "run", raw, output)
    assert not output.exists()


def test_export_reads_raw_rows_as_predict_does_and_its_graph_agrees(tmp_path, capsys):
    """The graph takes numbers: export reads "$1,200", "Yes" and "Infinity" as predict does, and
    the graph treats an infinite number as a missing one, as predict does."""
    from {{ cookiecutter.package }}.export import export

    raw = tmp_path / "raw.csv"
    with_infinities(as_people_write_them(customers())).to_csv(raw, index=False, sep=";")
    with pytest.warns(InfiniteValueWarning):
        train_on(raw, tmp_path / "run")
    capsys.readouterr()
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    settings = [f"ckpt_path={ckpt}", f"output={tmp_path / 'model.onnx'}", "overwrite=true"]
    settings.append(f"run_dir={tmp_path / 'export'}")
    checks = {f"input={raw}": "240 rows (input=", "input=null": "48 rows (the test rows of"}
    for rows, checked in checks.items():
        with pytest.warns(InfiniteValueWarning):
            export(compose_config("export", [*settings, rows]))
        assert f"ONNX Runtime matches PyTorch on {checked}" in capsys.readouterr().out


def test_predict_reads_its_input_with_the_checkpoints_read_settings_and_its_own(tmp_path):
    table = customers()
    raw = tmp_path / "raw.csv"
    table.to_csv(raw, index=False, sep=";", na_rep="unknown")
    train_on(raw, tmp_path / "run", "data.read.sep=';'", "+data.read.na_values=[unknown]")
    assert data_state(tmp_path / "run")["preprocessor"]["numeric"][0] == "age"  # a gap, not text
    from_raw = predicted(tmp_path / "run", raw, tmp_path / "from_raw.csv", sep=";")
    assert from_raw["age"].isna().tolist() == table["age"].isna().tolist()
    with pytest.raises(
        UserError,
        match=r"read.sep=',' leaves the header of input='.*raw.csv' in one column "
        r"\('customer_id;age;.*'\), which ';' splits into 10: give read.sep=';'",
    ):
        predicted(tmp_path / "run", raw, tmp_path / "wrong.csv", "read.sep=','")


def test_a_row_cut_short_is_found_with_the_detected_delimiter_and_encoding(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes("ville;prix;état\nMontréal;12,5;élevé\nQuébec;15\n".encode("latin-1"))
    with pytest.raises(
        UserError,
        match=r"data row 2 has 2 fields but the header has 3 \(.Québec;15.\)",
    ):
        read_table(str(path))


def test_repeated_column_names_are_refused_naming_them(tmp_path):
    path = tmp_path / "repeated.csv"
    path.write_text("age,plan,age,outcome,plan\n1,a,2,yes,b\n3,b,4,no,c\n")
    with pytest.raises(
        UserError,
        match=r"^input='.*repeated.csv' has duplicate column names: 'age' \(columns 1, 3\); "
        r"'plan' \(columns 2, 5\): give each column its own name$",
    ):
        read_table(str(path), key="input")


@pytest.mark.parametrize(
    ("text", "detected"),
    [
        ("id,note,x\n1,a;b,2\n2,c;d,3\n", "','-separated"),
        ("id;note;x\n1;hello, world;2,5\n2;foo, bar;3,25\n", "';'-separated, decimal ','"),
        ("id|x\n1|1.234,5\n2|2,5\n", "'|'-separated, decimal ','"),
        ("id;x\n1;1,234.5\n2;2.5\n", "';'-separated, decimal '.'"),
        ("only\n1\n2\n", "','-separated"),
        # a space only when no other delimiter splits the header, and every line splits alike
        ("a b y\n1 2,5 0\n3 4,5 1\n", "' '-separated, decimal ','"),
        ("first name,age\nAnn Lee,3\nBo Ek,4\n", "','-separated, decimal '.'"),
        ("id,note,x\n1,it was 'so' then,2\n", "','-separated, decimal '.'"),
        ("a b y\n1 2 0\n3 4\n", "','-separated"),
        ("a  b  y\n1  2  0\n", "','-separated"),  # aligned: data.read.sep='\s+' reads it
        # single quotes only when every name of the header is written so
        ("'a'\t'b'\t'y'\n1\t2\t0\n", "'\\t'-separated, quoted with \"'\", decimal '.'"),
        ("'a','b',y\n1,2,0\n", "','-separated, decimal '.'"),
        # ... and the rows keep the header's width under them: here '90s is a value
        ("'name','decade','y'\nBob,'90s,1\nAl,'80s,0\n", "','-separated, decimal '.'"),
    ],
)
def test_delimiters_and_decimal_marks_are_told_apart(tmp_path, text, detected):
    path = tmp_path / "table.csv"
    path.write_text(text)
    assert TableFile(str(path)).describe().startswith(detected)


@pytest.mark.parametrize("name", ["quotechar", "escapechar", "decimal"])
def test_a_quote_escape_or_decimal_mark_is_one_character(tmp_path, name):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1,0\n")
    with pytest.raises(
        UserError, match=rf"^data.read.{name}='ab' is not allowed: expected a character"
    ):
        TableFile(str(path), options={name: "ab"})


def test_a_regular_expression_separates_columns_aligned_with_spaces(tmp_path):
    path = tmp_path / "aligned.txt"
    path.write_text("age   income  y\n31    2500,5  0\n4     310     1\n")
    table = TableFile(str(path), options={"sep": r"\s+"})
    assert table.describe() == "'\\\\s+'-separated (set), decimal '.', utf-8"
    assert table.read()["income"].tolist() == ["2500,5", "310"]  # no decimal comma guessed


def test_a_space_separated_file_with_quoted_names_reads_as_written(tmp_path):
    """As statsmodels ships spector.csv: names in single quotes, fields split by one space."""
    path = tmp_path / "spector.csv"
    path.write_text("'OBS' 'GPA' 'GRADE'\n1 2.66 'no'\n2 2.89 'yes'\n3 3.28 yes\n")
    table = TableFile(str(path))
    assert table.describe() == "' '-separated, quoted with \"'\", decimal '.', utf-8"
    read = table.read()
    assert list(read.columns) == ["OBS", "GPA", "GRADE"]
    assert read["GPA"].tolist() == [2.66, 2.89, 3.28]
    assert read["GRADE"].tolist() == ["no", "yes", "yes"]  # quotes gone from values too
    given = TableFile(str(path), options={"sep": "space", "quotechar": '"'})
    assert given.describe() == "' '-separated (set), quoted with '\"' (set), decimal '.', utf-8"
    assert list(given.read().columns) == ["'OBS'", "'GPA'", "'GRADE'"]


def test_a_legacy_encoding_is_found_at_either_end_and_named_when_it_is_not(tmp_path):
    """Detection reads the head and the tail of a large file, not all of it."""
    lines = ["city,n"] + ["Paris,1"] * 200_000
    at_end, in_middle = tmp_path / "end.csv", tmp_path / "middle.csv"
    at_end.write_bytes("\n".join([*lines, "Zürich,2", ""]).encode("latin-1"))
    assert read_table(str(at_end))["city"].iloc[-1] == "Zürich"
    middle = [*lines[:150_000], "Zürich,2", *lines[1:50_000], ""]  # after the head, before the tail
    in_middle.write_bytes("\n".join(middle).encode("latin-1"))
    with pytest.raises(
        UserError,
        match=r"is not utf-8 text: its start reads as utf-8, but byte 0xfc further on does not; "
        r"give its encoding, e.g. data.read.encoding=cp1252",
    ):
        read_table(str(in_middle))


def test_text_in_another_script_asks_for_its_encoding(tmp_path):
    path = tmp_path / "cities.csv"
    path.write_bytes("город,цена\nМосква,12\nКазань,9\nСамара,7\n".encode("cp1251"))
    with pytest.raises(UserError, match=r"is not UTF-8.*data.read.encoding=cp1251 \(Cyrillic\)"):
        read_table(str(path))
    read = read_table(str(path), options={"encoding": "cp1251"})
    assert read["город"].tolist() == ["Москва", "Казань", "Самара"]


def test_the_pyarrow_engine_is_refused_as_it_cannot_read_in_parts(tmp_path):
    customers().to_csv(tmp_path / "plain.csv", index=False)
    with pytest.raises(UserError, match=r"^data.read.engine='pyarrow' cannot read a file in parts"):
        read_table(str(tmp_path / "plain.csv"), options={"engine": "pyarrow"})
    read = read_table(str(tmp_path / "plain.csv"), options={"engine": "python"})
    assert len(read) == len(customers())


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "data.read.sep=';'",
            r"error: data.read.sep=';' leaves the header of data.path='.*plain.csv' in one "
            r"column \('customer_id,age,.*'\), which ',' splits into 10: give data.read.sep=',', "
            r"or data.read.sep=null to detect it",
        ),
        (
            "data.read.sep=spaces",
            r"error: data.read.sep='spaces' is not a separator: give one character \(e.g. "
            r"data.read.sep=';'\), one of tab, .*, space or a regular expression such as '\\s\+'$",
        ),
        (
            "+data.read.encodng=utf-8",
            r"error: data.read.encodng is not an option of pandas.read_csv \(did you mean "
            r"data.read.encoding\?\): see https://pandas.pydata.org/.*",
        ),
    ],
)
def test_a_bad_reading_setting_is_one_line_exit_2_nothing_written(setting, message, tmp_path):
    customers().to_csv(tmp_path / "plain.csv", index=False)
    result = run_app(
        "train",
        "data=csv",
        f"data.path={tmp_path / 'plain.csv'}",
        f"data.target={TARGET}",
        setting,
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(message, lines[0]), lines
    assert not (tmp_path / "run" / "checkpoints").exists()
