"""Done when: columns with many levels are embedded (rare and unseen levels sharing row 0), dates
become calendar numbers, numbers are scaled (by quantiles, or robustly), and the ONNX graph
computes all of it as the package does, on small generated tables."""

from statistics import NormalDist

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch

from {{ cookiecutter.package }}.data.batching import auto_batch_size
from {{ cookiecutter.package }}.data.calendar import (
    TIMESTAMPS,
    calendar_numbers,
    date_format,
    date_parts,
    parse_dates,
)
from {{ cookiecutter.package }}.data.datamodule import TabularDataModule
from {{ cookiecutter.package }}.data.onnx_preprocessing import (
    FEATURES,
    MIN_OPSET,
    graph_feeds,
    preprocessing_model,
)
from {{ cookiecutter.package }}.data.preprocessing import (
    MAX_ONE_HOT_LEVELS,
    MIN_EMBEDDED_ROWS,
    TablePreprocessor,
)
from {{ cookiecutter.package }}.data.roles import IDENTIFIER_RULE, infer_role
from {{ cookiecutter.package }}.data.scaling import CLIP_AT
from {{ cookiecutter.package }}.model.inputs import (
    INPUT_SCALE_STEP,
    MAX_EMBEDDING_WIDTH,
    PERIODIC_WIDTH,
    TabularInputs,
    embedding_width,
)


def run_onnx(preprocessor: TablePreprocessor, frame: pd.DataFrame) -> np.ndarray:
    model = preprocessing_model(preprocessor, False, MIN_OPSET, onnx.IR_VERSION)
    onnx.checker.check_model(model)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    (features,) = session.run([FEATURES], graph_feeds(preprocessor, frame))
    return features


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2021-03-04", "2021-12-31", None], "%Y-%m-%d"),
        (["04/03/2021", "25/12/2021"], "%d/%m/%Y"),  # day first shows only in the second row
        (["03/04/2021", "12/25/2021"], "%m/%d/%Y"),
        (["2021-03-04 13:45:00", "2021-03-05 08:00:00"], "%Y-%m-%d %H:%M:%S"),
        (["Mar 4, 2021", "Dec 31, 2021"], "%b %d, %Y"),
        (["2020", "2021"], None),  # years are numbers
        (["12.5", "13"], None),
        (["red", "blue"], None),
        (["2021-03-04", "tomorrow"], None),  # one value that is no date: text, not dates
    ],
)
def test_text_is_read_as_dates_only_when_one_format_reads_it_all(values, expected):
    assert date_format(pd.Series(values, dtype=object)) == expected


def test_timestamps_are_dates_and_times_of_day_add_the_hour():
    stamps = pd.Series(pd.to_datetime(["2021-03-04 00:00", "2021-03-05 00:00"]))
    assert date_format(stamps) == TIMESTAMPS
    assert "hour" not in date_parts(parse_dates(stamps, TIMESTAMPS))
    timed = pd.Series(pd.to_datetime(["2021-03-04 13:00", "2021-03-05 00:00"]))
    assert "hour" in date_parts(parse_dates(timed, TIMESTAMPS))


def test_periods_are_dates_read_as_their_start():
    """A pandas period column (a monthly Parquet column, say) is a date column, not an identifier
    of distinct text; pandas' own to_datetime would make every period missing."""
    months = pd.Series(pd.period_range("2021-01", periods=4, freq="M"))
    months.iloc[2] = pd.NaT
    assert infer_role(months) == ("date", TIMESTAMPS)  # not an identifier: every value differs
    assert date_format(months) == TIMESTAMPS
    dates = parse_dates(months, TIMESTAMPS)
    assert calendar_numbers(dates, "month")[[0, 1, 3]].tolist() == [1, 2, 4]
    assert calendar_numbers(dates, "day")[[0, 1, 3]].tolist() == [1, 1, 1]
    assert np.isnan(calendar_numbers(dates, "month")[2])
    assert "hour" not in date_parts(dates)


def test_calendar_numbers_are_the_calendars():
    dates = parse_dates(pd.Series(["2024-02-29 18:30", None], dtype=object), "%Y-%m-%d %H:%M")
    numbers = {part: calendar_numbers(dates, part)[0] for part in date_parts(dates)}
    assert numbers == {
        "year": 2024,
        "month": 2,
        "day": 29,
        "weekday": 3,  # a Thursday; Monday is 0
        "day_of_year": 60,
        "hour": 18,
        "days_since_1970": pytest.approx(19782 + 18.5 / 24),
    }
    assert np.isnan(calendar_numbers(dates, "year")[1])  # a missing date stays missing


def test_the_graph_computes_the_calendar_numbers_pandas_does():
    """Every 97th day from 1890 to 2110 (leap years, century years, before 1970), at varied
    hours, with a missing date: the graph's whole-day arithmetic against pandas."""
    days = pd.date_range("1890-01-01", "2110-12-31", freq="97D")
    hours = pd.to_timedelta(np.arange(len(days)) % 24, unit="h")
    stamps = pd.Series(days + hours)
    stamps.iloc[5] = pd.NaT
    frame = pd.DataFrame({"when": stamps})
    preprocessor = TablePreprocessor([], [], dates={"when": TIMESTAMPS})
    preprocessor.numeric_transform = "standardize"
    # Scale 1 and centre 0, so the graph's output is the calendar numbers themselves.
    preprocessor.fit(frame)
    preprocessor.centres = [0.0] * len(preprocessor.centres)
    preprocessor.scales = [1.0] * len(preprocessor.scales)
    expected = preprocessor.transform(frame)
    got = run_onnx(preprocessor, frame)
    assert preprocessor.feature_names[-2:] == ["when.hour", "when.days_since_1970"]
    np.testing.assert_array_equal(got[:, :-1], expected[:, :-1])  # whole numbers: exactly
    np.testing.assert_allclose(got[:, -1], expected[:, -1], rtol=1e-6)


# ----------------------------------------------------------------------------- categories


def city_table(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """30 cities, the last 10 of which fewer than MIN_EMBEDDED_ROWS rows name; 3 plans."""
    rng = np.random.default_rng(seed)
    common = [f"c{i}" for i in range(20)]
    rare = [f"r{i}" for i in range(10)]
    cities = list(rng.choice(common, rows - 20)) + [city for city in rare for _ in range(2)]
    return pd.DataFrame({"city": cities, "plan": rng.choice(["a", "b", "c"], rows)})


def test_many_levels_are_embedded_with_rare_and_unseen_levels_on_row_zero():
    frame = city_table()
    preprocessor = TablePreprocessor([], ["city", "plan"]).fit(frame)
    assert preprocessor.categorical == ["plan"] and preprocessor.embedded == ["city"]
    assert preprocessor.categories["city"] == sorted(f"c{i}" for i in range(20))
    assert preprocessor.embedding_rows == [21]
    assert preprocessor.feature_names == ["plan=a", "plan=b", "plan=c", "city"]
    new = pd.DataFrame({"city": ["c0", "c19", "r3", "atlantis", None], "plan": ["a"] * 5})
    codes = preprocessor.transform(new)[:, -1]
    expected_first = preprocessor.categories["city"].index("c0") + 1
    assert codes.tolist() == [
        expected_first,
        preprocessor.categories["city"].index("c19") + 1,
        0,
        0,
        0,
    ]
    # Embedded columns are made for levels they never saw: no warning counts them.
    assert preprocessor.unseen_levels(new) == {}


def test_one_hot_and_embed_choose_the_encoding_whatever_the_level_count():
    frame = city_table()
    preprocessor = TablePreprocessor([], ["city", "plan"], one_hot=["city"], embed=["plan"])
    preprocessor.fit(frame)
    assert preprocessor.categorical == ["city"] and preprocessor.embedded == ["plan"]
    assert len(preprocessor.categories["city"]) == 30  # one-hot keeps every level, rare ones too
    assert MAX_ONE_HOT_LEVELS < 30 and MIN_EMBEDDED_ROWS > 2


def test_the_graph_gives_the_codes_and_one_hot_blocks_the_package_does():
    frame = city_table()
    preprocessor = TablePreprocessor(["x"], ["city", "plan"], numeric_transform="robust")
    frame["x"] = np.random.default_rng(1).lognormal(0, 2, len(frame))  # a heavy right tail
    preprocessor.fit(frame)
    new = pd.DataFrame(
        {"x": [0.5, 1e6, np.nan], "city": ["c3", "atlantis", None], "plan": ["b", "z", "a"]}
    )
    np.testing.assert_allclose(run_onnx(preprocessor, new), preprocessor.transform(new), atol=1e-6)


def test_robust_scaling_keeps_outliers_within_the_clip():
    values = np.r_[np.random.default_rng(0).normal(0, 1, 500), 1e9]
    frame = pd.DataFrame({"x": values})
    robust = TablePreprocessor(["x"], [], numeric_transform="robust").fit(frame)
    scaled = robust.transform(frame)[:, 0]
    assert np.abs(scaled).max() <= CLIP_AT  # reached only by the 1e9 outlier, in float32
    assert np.all(np.diff(scaled[np.argsort(values)]) >= 0)  # the order of values is kept
    assert np.abs(scaled[:500]).mean() > 0.4  # the ordinary values are not squashed by the outlier
    standard = TablePreprocessor(["x"], [], numeric_transform="standardize").fit(frame)
    # Standardised, the ordinary values collapse onto one point: why robust scaling exists.
    assert standard.transform(frame)[:500, 0].std() < 1e-3


def test_quantile_scores_match_scikit_learns_quantile_transformer():
    from sklearn.preprocessing import QuantileTransformer

    rng = np.random.default_rng(2)
    # A heavy tail, and a count whose 0 fills half of the rows (ties across many quantiles).
    frame = pd.DataFrame(
        {"tail": rng.lognormal(0, 2, 3000), "count": rng.poisson(0.7, 3000).astype(float)}
    )
    ours = TablePreprocessor(["tail", "count"], [], numeric_transform="quantile").fit(frame)
    # Between the tails, scikit-learn's scores (it interpolates levels, then takes their normal
    # score; here the scores themselves are interpolated, which differs only where they curve).
    inner = np.quantile(frame["tail"], np.linspace(0.05, 0.95, 37))
    new = pd.DataFrame({"tail": inner, "count": 1.0})
    theirs = QuantileTransformer(n_quantiles=1000, output_distribution="normal")
    expected = theirs.fit(frame[["tail"]].to_numpy()).transform(new[["tail"]].to_numpy())[:, 0]
    np.testing.assert_allclose(ours.transform(new)[:, 0], expected, atol=0.01)
    # Beyond the knots: the end scores, about +-5.2 (levels 1e-7 from 0 and 1).
    ends = ours.transform(pd.DataFrame({"tail": [-1.0, 1e9], "count": 1.0}))[:, 0]
    np.testing.assert_allclose(ends, [-5.199, 5.199], atol=0.001)
    # A tied value gets the mean score of the levels it fills: for the count's 0, filling the
    # lowest share p, the mean of a standard normal below its p-quantile, -pdf(z) / p.
    share = float((frame["count"] == 0).mean())
    z = NormalDist().inv_cdf(share)
    zero = ours.transform(pd.DataFrame({"tail": [1.0], "count": [0.0]}))[0, 1]
    assert zero == pytest.approx(-NormalDist().pdf(z) / share, abs=0.02)


def test_quantile_scores_of_a_constant_column_are_zero_and_the_state_is_plain_lists():
    frame = pd.DataFrame({"same": [4.0] * 50, "x": np.arange(50.0)})
    fitted = TablePreprocessor(["same", "x"], [], numeric_transform="quantile").fit(frame)
    assert np.all(
        fitted.transform(pd.DataFrame({"same": [3.0, 4.0, 9.0], "x": [1, 2, 3]}))[:, 0] == 0
    )
    state = fitted.state_dict()
    assert all(type(v) is float for pair in state["quantiles"] for part in pair for v in part)
    loaded = TablePreprocessor([], [])
    loaded.load_state_dict(state)
    np.testing.assert_array_equal(loaded.transform(frame), fitted.transform(frame))


def test_the_graph_gives_the_quantile_scores_the_package_does():
    frame = city_table()
    rng = np.random.default_rng(3)
    frame["x"] = rng.lognormal(0, 2, len(frame))
    frame["few"] = rng.integers(0, 3, len(frame)).astype(float)  # 3 distinct values: 3 knots
    frame.loc[::7, "x"] = np.nan
    preprocessor = TablePreprocessor(["x", "few"], ["city"], numeric_transform="quantile")
    preprocessor.fit(frame)
    new = pd.DataFrame(
        {
            "x": [-5.0, 0.0, 0.5, 3.0, 1e6, np.nan, float(frame["x"].max())],
            "few": [0.0, 1.0, 1.5, 2.0, 7.0, -1.0, np.nan],
            "city": ["c3"] * 7,
        }
    )
    np.testing.assert_allclose(run_onnx(preprocessor, new), preprocessor.transform(new), atol=1e-6)


# ----------------------------------------------------------------------------- the module's side


def test_embedding_tables_start_row_zero_at_zero_and_widen_with_levels():
    widths = [embedding_width(rows) for rows in (2, 10, 100, 1000, 100_000)]
    assert widths == sorted(widths) and widths[-1] == MAX_EMBEDDING_WIDTH
    inputs = TabularInputs(input_size=5, embedding_rows=[21, 1000])
    assert inputs.output_size == 3 + embedding_width(21) + embedding_width(1000)
    features = torch.tensor([[0.5, -1.0, 2.0, 0.0, 999.0], [0.0, 0.0, 0.0, 7.0, 0.0]])
    out = inputs(features)
    assert out.shape == (2, inputs.output_size)
    assert torch.equal(out[:, :3], features[:, :3])  # the dense columns pass through
    assert torch.all(out[0, 3 : 3 + embedding_width(21)] == 0)  # code 0: the zero row


def test_periodic_embeddings_widen_each_number_and_keep_it():
    inputs = TabularInputs(
        input_size=4, embedding_rows=[6], numbers=2, numeric_embedding="periodic"
    )
    assert inputs.output_size == 2 * (1 + PERIODIC_WIDTH) + 1 + embedding_width(6)
    features = torch.tensor([[0.5, -1.0, 1.0, 3.0], [2.0, 0.0, 0.0, 0.0]])
    out = inputs(features)
    assert out.shape == (2, inputs.output_size)
    assert torch.equal(out[:, 0], features[:, 0])  # each number is kept beside its embedding
    assert torch.equal(out[:, 1 + PERIODIC_WIDTH], features[:, 1])
    assert torch.equal(out[:, 2 * (1 + PERIODIC_WIDTH)], features[:, 2])  # one-hot passes through
    out.sum().backward()
    assert inputs.periodic.frequencies.grad.abs().sum() > 0  # the frequencies are learned


def test_the_input_scale_starts_at_one_and_steps_faster_than_the_weights():
    inputs = TabularInputs(input_size=3, embedding_rows=[], input_scale=True)
    assert not inputs.passes_through
    features = torch.tensor([[0.5, -1.0, 2.0], [1.5, 3.0, -1.0]])
    assert torch.equal(inputs(features), features)  # every factor starts at 1
    # Adam's first step moves each parameter by its learning rate, whatever the gradient's size:
    # the factor the column is multiplied by moves INPUT_SCALE_STEP times that.
    optimizer = torch.optim.Adam(inputs.parameters(), lr=1e-3)
    (inputs(features) * torch.tensor([1.0, -1.0, 2.0])).sum().backward()
    optimizer.step()
    factors = inputs(torch.ones(1, 3))[0]
    expected = 1 + INPUT_SCALE_STEP * 1e-3 * torch.tensor([-1.0, 1.0, -1.0])  # against the gradient
    assert torch.allclose(factors, expected, atol=1e-4)


@pytest.mark.parametrize(
    ("train_rows", "batch"), [(196, 32), (5_000, 32), (32_500, 256), (240_000, 1024)]
)
def test_auto_batches_grow_with_the_table(train_rows, batch):
    assert auto_batch_size(train_rows) == batch


def test_the_summary_says_what_each_column_became(tmp_path):
    frame = city_table()
    frame["when"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    frame["ticket"] = [f"T{i}" for i in range(len(frame))]
    frame["batch"] = [f"B{i // 2}" for i in range(len(frame))]  # every level in 2 rows: all rare
    frame["y"] = np.arange(len(frame)) % 2
    frame.to_csv(tmp_path / "t.csv", index=False)
    datamodule = TabularDataModule(path=str(tmp_path / "t.csv"), target="y", batch_size="auto")
    datamodule.setup()
    summary = "\n".join(datamodule.describe())
    assert "one-hot (1): plan (3 levels)" in summary
    assert "embedded (2): city (" in summary
    assert "batch (every level in under 5 training rows: all share one row" in summary
    assert "dates (1): when (year, month, day, weekday, day_of_year, days_since_1970)" in summary
    assert "ticket (identifier: every value distinct)" in summary
    assert IDENTIFIER_RULE in summary
    assert "batches of 32 (auto)" in summary
    assert "task: binary on 'y', classes 0, 1\n" in summary


@pytest.mark.parametrize(("given", "hinted"), [(None, True), ("multiclass", False)])
def test_a_count_read_as_classes_says_how_to_read_it_as_amounts(tmp_path, given, hinted):
    frame = city_table()
    frame["y"] = [0, 1, 2, 3, 7, 12] * (len(frame) // 6) + [0] * (len(frame) % 6)
    frame.to_csv(tmp_path / "t.csv", index=False)
    datamodule = TabularDataModule(path=str(tmp_path / "t.csv"), target="y", task=given)
    datamodule.setup()
    summary = "\n".join(datamodule.describe())
    assert "task: multiclass on 'y', classes 0, 1, 2, 3, 7, 12" in summary
    hint = "(few whole numbers, read as classes; data.task=regression for amounts)"
    assert (hint in summary) == hinted
