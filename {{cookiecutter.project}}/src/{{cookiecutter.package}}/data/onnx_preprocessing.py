"""The fitted preprocessing as an ONNX graph: raw columns in, the network's input matrix out.

It does what `TablePreprocessor.transform` does, with ONNX operators, so that an exported model
takes the user's own columns:
- a numeric column is a float32 input of shape (rows, 1); NaN (or an infinite value, as in
  training) is a missing value;
- a date column is a float64 input of shape (rows, 1): seconds since 1970-01-01 UTC, NaN where
  missing (ONNX has no date type). Its calendar numbers are computed with whole-day arithmetic on
  the proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`, written with Floor so
  that it holds before 1970 too), the numbers pandas gives in training;
- the numbers (numeric columns, then calendar numbers) become the training median where missing
  (IsNaN, IsInf, Or, Where), then are scaled as in training (Sub, Div, and the smooth clip of
  `robust`; for `quantile`, each number's knot interval is counted with GreaterOrEqual against
  its knots, and GatherElements picks the interval's ends and scores to interpolate between), in
  float64 like training, so only a float32 input itself rounds;
- a categorical column is a string input of shape (rows, 1) holding each row's level spelled as
  `level_name` spells it ("True"/"False" for booleans, "1" for 1 or 1.0) and MISSING_LEVEL for a
  missing one. One string Equal against the known levels makes its one-hot block, so a level
  never seen in training is all zeros, as in `transform`; for an embedded column the same
  matches, weighted 1, 2, ..., sum to the level's code (0 for rare and unseen levels).

Built with `onnx.helper` by hand: the converters (skl2onnx and the like) convert scikit-learn's
transformers, and the preprocessing is ours (preprocessing.py says why). `graph_feeds` turns raw
rows into those inputs, spelling levels exactly as training did.
"""

from typing import Any

import numpy as np
import pandas as pd

from ..support.errors import UserError
from .calendar import ELAPSED_PART, TIME_PART, parse_dates
from .preprocessing import MISSING_LEVEL, TablePreprocessor, level_codes
from .scaling import CLIP_AT

# Every value the graph makes is named under this prefix, so no column name can collide with it.
PREFIX = "preprocessing/"
FEATURES = PREFIX + "features"
# True for a row with a missing value (built only for models trained without imputing them).
INCOMPLETE = PREFIX + "incomplete"
# The first opset whose Equal compares strings.
MIN_OPSET = 19
# The name of the graph inputs' first dimension.
ROWS = "rows"
# The preprocessor's state, by key, that this file knows how to write as ONNX.
EXPORTED_STATE = (
    "numeric",
    "categorical",
    "embedded",
    "dates",
    "date_parts",
    "numeric_transform",
    "medians",
    "centres",
    "scales",
    "quantiles",
    "categories",
)
# Days from 0000-03-01 to 1970-01-01, and the days of a 400-year era: civil_from_days' constants.
EPOCH_SHIFT = 719468.0
ERA_DAYS = 146097.0
# Matches no level: the code column of an embedded column that kept no level is all zeros.
NO_LEVEL = PREFIX + "no level"


def refuse_unexportable(state: dict[str, Any], input_size: int) -> None:
    """Refuse preprocessing this file cannot write: a column kind it does not know (a state key
    other than EXPORTED_STATE's), or one that makes inputs it would not make."""
    for key, value in state.items():
        if key not in EXPORTED_STATE:
            columns = value if isinstance(value, list | tuple | dict) else [value]
            raise UserError(
                f"the checkpoint's preprocessing has columns of a kind export cannot write: "
                f"{key} ({', '.join(map(repr, columns))}); it writes numeric, date and "
                "categorical columns only"
            )
    fitted = TablePreprocessor([], [])
    fitted.load_state_dict(state)
    width = len(fitted.feature_names)
    if width != input_size:
        raise UserError(
            f"the checkpoint's network reads {input_size} inputs, but its numeric, date and "
            f"categorical columns make {width}: its preprocessing has steps export cannot write"
        )


def preprocessing_model(
    preprocessor: TablePreprocessor, flag_incomplete: bool, opset: int, ir_version: int
) -> Any:
    """An ONNX ModelProto: one input per raw column, FEATURES (rows x features, float32) out, and
    INCOMPLETE (rows, bool) too when `flag_incomplete`."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    constants: list[Any] = []
    inputs: list[Any] = []
    blocks: list[str] = []  # the scaled, one-hot and code blocks, in the network's input order
    gaps: list[str] = []  # (rows, n) booleans: which values are missing
    named = iter(range(1_000_000))  # a fresh suffix for every intermediate value

    def node(op: str, arguments: list[str], name: str, **attributes: Any) -> str:
        output = f"{PREFIX}{name}_{next(named)}"
        nodes.append(helper.make_node(op, arguments, [output], **attributes))
        return output

    def constant(name: str, values: np.ndarray) -> str:
        constants.append(numpy_helper.from_array(values, PREFIX + name))
        return PREFIX + name

    def number(value: float) -> str:
        return constant(f"number_{next(named)}", np.asarray(value, dtype=np.float64))

    def floor_div(value: str, by: float) -> str:
        return node("Floor", [node("Div", [value, number(by)], "quotient")], "floor")

    def plus(value: str, other: str | float) -> str:
        other = number(other) if isinstance(other, float) else other
        return node("Add", [value, other], "sum")

    def minus(value: str, other: str | float) -> str:
        other = number(other) if isinstance(other, float) else other
        return node("Sub", [value, other], "difference")

    def times(value: str, factor: float) -> str:
        return node("Mul", [value, number(factor)], "product")

    def calendar(seconds: str, parts: list[str]) -> list[str]:
        """The calendar numbers `parts` of float64 seconds since 1970 (calendar.py's parts)."""
        days = floor_div(seconds, 86400.0)
        z = plus(days, EPOCH_SHIFT)
        era = floor_div(z, ERA_DAYS)
        day_of_era = minus(z, times(era, ERA_DAYS))
        leap_days = minus(
            plus(floor_div(day_of_era, 36524.0), minus(day_of_era, floor_div(day_of_era, 1460.0))),
            floor_div(day_of_era, 146096.0),
        )
        year_of_era = floor_div(leap_days, 365.0)
        day_of_march_year = minus(
            day_of_era,
            minus(
                plus(times(year_of_era, 365.0), floor_div(year_of_era, 4.0)),
                floor_div(year_of_era, 100.0),
            ),
        )
        month_from_march = floor_div(plus(times(day_of_march_year, 5.0), 2.0), 153.0)
        day = plus(
            minus(day_of_march_year, floor_div(plus(times(month_from_march, 153.0), 2.0), 5.0)),
            1.0,
        )
        past_december = node(
            "Cast",
            [node("GreaterOrEqual", [month_from_march, number(10.0)], "past_december")],
            "past_december_number",
            to=TensorProto.DOUBLE,
        )
        month = minus(plus(month_from_march, 3.0), times(past_december, 12.0))
        year = plus(plus(year_of_era, times(era, 400.0)), past_december)
        # January 1st of that year, as days since 1970, for the day of the year.
        before = minus(year, 1.0)
        era_before = floor_div(before, 400.0)
        year_of_era_before = minus(before, times(era_before, 400.0))
        days_to_january = plus(
            minus(
                plus(times(year_of_era_before, 365.0), floor_div(year_of_era_before, 4.0)),
                floor_div(year_of_era_before, 100.0),
            ),
            306.0,
        )
        january_first = minus(plus(times(era_before, ERA_DAYS), days_to_january), EPOCH_SHIFT)
        shifted = plus(days, 3.0)  # 1970-01-01 was a Thursday: weekday 3, Monday being 0
        numbers = {
            "year": year,
            "month": month,
            "day": day,
            "weekday": minus(shifted, times(floor_div(shifted, 7.0), 7.0)),
            "day_of_year": plus(minus(days, january_first), 1.0),
            TIME_PART: floor_div(minus(seconds, times(days, 86400.0)), 3600.0),
            ELAPSED_PART: node("Div", [seconds, number(86400.0)], "elapsed"),
        }
        return [numbers[part] for part in parts]

    def quantile(values: str, quantiles: list) -> str:
        """The normal scores of `values` (rows, numbers), as scaling.quantile_scores gives them.
        Each number's knots and scores are a column of two (knots, numbers) tables, padded past
        its last knot with knots that no value reaches."""
        longest = max(len(column_knots) for column_knots, _ in quantiles)
        knots = np.full((longest, len(quantiles)), np.inf)
        scores = np.zeros((longest, len(quantiles)))
        for j, (column_knots, column_scores) in enumerate(quantiles):
            knots[: len(column_knots), j] = column_knots
            scores[: len(column_scores), j] = column_scores
        ends = np.asarray([[k[0] for k, _ in quantiles], [k[-1] for k, _ in quantiles]])
        lowest, highest = constant("lowest_knots", ends[:1]), constant("highest_knots", ends[1:])
        # Within the knots (beyond them: the end scores), then the inner knots each value has
        # reached, counted over (rows, inner knots, numbers): its interval, 0 .. knots - 2.
        # Rounded to float32 as in training (scaling.as_float32): dates' numbers too.
        rounded = node(
            "Cast",
            [node("Cast", [values], "float32", to=TensorProto.FLOAT)],
            "rounded",
            to=TensorProto.DOUBLE,
        )
        inside = node("Min", [node("Max", [rounded, lowest], "above_lowest"), highest], "inside")
        axis = constant("knot_axis", np.asarray([1], dtype=np.int64))
        reached = node(
            "GreaterOrEqual",
            [
                node("Unsqueeze", [inside, axis], "inside_3d"),
                constant("inner_knots", knots[np.newaxis, 1:-1]),
            ],
            "reached",
        )
        counted = node("Cast", [reached], "reached_count", to=TensorProto.INT64)
        below = node("ReduceSum", [counted, axis], "interval", keepdims=0)
        above = node("Add", [below, constant("next_knot", np.ones((1, 1), np.int64))], "next")
        knot_table, score_table = constant("knots", knots), constant("scores", scores)

        def pick(table: str, index: str, name: str) -> str:
            return node("GatherElements", [table, index], name, axis=0)

        low, high = pick(knot_table, below, "low_knot"), pick(knot_table, above, "high_knot")
        low_score = pick(score_table, below, "low_score")
        high_score = pick(score_table, above, "high_score")
        share = node("Div", [minus(inside, low), minus(high, low)], "share")
        return plus(low_score, node("Mul", [share, minus(high_score, low_score)], "rise"))

    numbers: list[str] = []
    numeric = preprocessor.numeric
    if numeric:
        for column in numeric:
            inputs.append(helper.make_tensor_value_info(column, TensorProto.FLOAT, [ROWS, 1]))
        numbers.append(
            node(
                "Cast",
                [node("Concat", numeric, "numeric", axis=1)],
                "numeric",
                to=TensorProto.DOUBLE,
            )
        )
    for column in preprocessor.dates:
        inputs.append(helper.make_tensor_value_info(column, TensorProto.DOUBLE, [ROWS, 1]))
        numbers += calendar(column, preprocessor.date_parts[column])
    if numbers:
        values = node("Concat", numbers, "numbers", axis=1) if len(numbers) > 1 else numbers[0]
        not_a_number = node("IsNaN", [values], "numbers_nan")
        infinite = node("IsInf", [values], "numbers_infinite")
        missing = node("Or", [not_a_number, infinite], "numbers_missing")
        gaps.append(missing)

        def row_of(values: list[float], name: str) -> str:
            return constant(name, np.asarray([values], dtype=np.float64))

        imputed = node(
            "Where", [missing, row_of(preprocessor.medians, "medians"), values], "imputed"
        )
        if preprocessor.numeric_transform == "quantile":  # its centres and scales are 0 and 1
            scaled = quantile(imputed, preprocessor.quantiles)
        else:
            centred = node("Sub", [imputed, row_of(preprocessor.centres, "centres")], "centred")
            scaled = node("Div", [centred, row_of(preprocessor.scales, "scales")], "scaled")
        if preprocessor.numeric_transform == "robust":  # x / sqrt(1 + (x / CLIP_AT)^2)
            ratio = node("Div", [scaled, number(CLIP_AT)], "ratio")
            bend = node("Sqrt", [plus(node("Mul", [ratio, ratio], "square"), 1.0)], "bend")
            scaled = node("Div", [scaled, bend], "clipped")
        blocks.append(node("Cast", [scaled], "scaled_float32", to=TensorProto.FLOAT))

    categorical = preprocessor.categorical + preprocessor.embedded
    if flag_incomplete and categorical:
        missing_level = constant("missing_level", np.asarray([[MISSING_LEVEL]], dtype=object))
    codes: list[str] = []
    for j, column in enumerate(categorical):
        inputs.append(helper.make_tensor_value_info(column, TensorProto.STRING, [ROWS, 1]))
        known = preprocessor.categories[column] or [NO_LEVEL]
        levels = constant(f"levels_{j}", np.asarray([known], dtype=object))
        matches = node(
            "Cast", [node("Equal", [column, levels], "matches")], "hits", to=TensorProto.FLOAT
        )
        if column in preprocessor.embedded:
            weights = np.arange(1, len(known) + 1, dtype=np.float32).reshape(-1, 1)
            weights *= bool(preprocessor.categories[column])  # no kept level: every code 0
            codes.append(node("MatMul", [matches, constant(f"codes_{j}", weights)], "code"))
        else:
            blocks.append(matches)
        if flag_incomplete:
            gaps.append(node("Equal", [column, missing_level], "missing"))
    blocks += codes

    nodes.append(helper.make_node("Concat", blocks, [FEATURES], axis=1))
    width = len(preprocessor.feature_names)
    outputs = [helper.make_tensor_value_info(FEATURES, TensorProto.FLOAT, [ROWS, width])]
    if flag_incomplete:
        # Any missing value in the row: the largest of its 0/1 gap flags.
        flags = node(
            "Cast", [node("Concat", gaps, "gaps", axis=1)], "gap_flags", to=TensorProto.FLOAT
        )
        axis = constant("row_axis", np.asarray([1], dtype=np.int64))
        anywhere = node("ReduceMax", [flags, axis], "any_gap", keepdims=0)
        nodes.append(helper.make_node("Cast", [anywhere], [INCOMPLETE], to=TensorProto.BOOL))
        outputs.append(helper.make_tensor_value_info(INCOMPLETE, TensorProto.BOOL, [ROWS]))

    graph = helper.make_graph(nodes, "preprocessing", inputs, outputs, initializer=constants)
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version
    )


def graph_feeds(preprocessor: TablePreprocessor, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """The graph's inputs for raw `rows`: numbers as float32 (NaN where missing), dates as
    float64 seconds since 1970 (NaN where missing or unreadable), categories as their level text
    (MISSING_LEVEL where missing), each of shape (rows, 1)."""
    feeds = {}
    for column in preprocessor.numeric:
        numbers = pd.to_numeric(rows[column]).to_numpy("float64", na_value=np.nan)
        feeds[column] = numbers.astype(np.float32).reshape(-1, 1)
    for column, how in preprocessor.dates.items():
        dates = parse_dates(rows[column], how)
        seconds = dates.to_numpy("datetime64[ns]").astype("int64") / 1e9
        feeds[column] = np.where(dates.isna(), np.nan, seconds).reshape(-1, 1)
    for column in preprocessor.categorical + preprocessor.embedded:
        codes, names = level_codes(rows[column])  # a missing value has the last name, "missing"
        feeds[column] = np.asarray(names, dtype=object)[codes].reshape(-1, 1)
    return feeds
