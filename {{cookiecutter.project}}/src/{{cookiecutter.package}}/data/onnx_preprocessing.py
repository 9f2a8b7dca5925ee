"""The fitted preprocessing as an ONNX graph: raw columns in, the network's input matrix out.

It does what `TablePreprocessor.transform` does, with ONNX operators, so that an exported model
takes the user's own columns:
- a numeric column is a float32 input of shape (rows, 1); NaN (or an infinite value, as in
  training) is a missing value. It becomes the training median (IsNaN, IsInf, Or, Where), then
  is standardised with the training mean and scale (Sub, Div), in float64 like training, so only
  the float32 input itself rounds;
- a categorical column is a string input of shape (rows, 1) holding each row's level spelled as
  `level_name` spells it ("True"/"False" for booleans, "1" for 1 or 1.0) and MISSING_LEVEL for a
  missing one. One string Equal against the known levels makes its one-hot block, so a level
  never seen in training is all zeros, as in `transform`.

Built with `onnx.helper` by hand: the converters (skl2onnx and the like) convert scikit-learn's
transformers, and the preprocessing is ours (preprocessing.py says why). `graph_feeds` turns raw
rows into those inputs, spelling levels exactly as training did.
"""

from typing import Any

import numpy as np
import pandas as pd

from ..support.errors import UserError
from .preprocessing import MISSING_LEVEL, TablePreprocessor, level_codes

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
EXPORTED_STATE = ("numeric", "categorical", "medians", "means", "scales", "categories")


def refuse_unexportable(state: dict[str, Any], input_size: int) -> None:
    """Refuse preprocessing this file cannot write: a column kind it does not know (a state key
    other than EXPORTED_STATE's), or one that makes inputs it would not make."""
    for key, value in state.items():
        if key not in EXPORTED_STATE:
            columns = value if isinstance(value, list | tuple | dict) else [value]
            raise UserError(
                f"the checkpoint's preprocessing has columns of a kind export cannot write: "
                f"{key} ({', '.join(map(repr, columns))}); it writes numeric and categorical "
                "columns only"
            )
    width = len(state["numeric"]) + sum(len(levels) for levels in state["categories"].values())
    if width != input_size:
        raise UserError(
            f"the checkpoint's network reads {input_size} inputs, but its numeric and categorical "
            f"columns make {width}: its preprocessing has steps export cannot write"
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
    blocks: list[str] = []  # the one-hot and standardised blocks, in the network's input order
    gaps: list[str] = []  # (rows, n) booleans: which values are missing

    def node(op: str, arguments: list[str], name: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, arguments, [PREFIX + name], **attributes))
        return PREFIX + name

    def constant(name: str, values: np.ndarray) -> str:
        constants.append(numpy_helper.from_array(values, PREFIX + name))
        return PREFIX + name

    numeric = preprocessor.numeric
    if numeric:
        for column in numeric:
            inputs.append(helper.make_tensor_value_info(column, TensorProto.FLOAT, [ROWS, 1]))
        numbers = node("Concat", numeric, "numbers", axis=1)
        numbers = node("Cast", [numbers], "numbers_float64", to=TensorProto.DOUBLE)
        not_a_number = node("IsNaN", [numbers], "numbers_nan")
        infinite = node("IsInf", [numbers], "numbers_infinite")
        missing = node("Or", [not_a_number, infinite], "numbers_missing")
        gaps.append(missing)

        def row_of(values: list[float], name: str) -> str:
            return constant(name, np.asarray([values], dtype=np.float64))

        imputed = node(
            "Where", [missing, row_of(preprocessor.medians, "medians"), numbers], "imputed"
        )
        centred = node("Sub", [imputed, row_of(preprocessor.means, "means")], "centred")
        standard = node("Div", [centred, row_of(preprocessor.scales, "scales")], "standardised")
        blocks.append(node("Cast", [standard], "standardised_float32", to=TensorProto.FLOAT))

    if flag_incomplete and preprocessor.categorical:
        missing_level = constant("missing_level", np.asarray([[MISSING_LEVEL]], dtype=object))
    for j, column in enumerate(preprocessor.categorical):
        inputs.append(helper.make_tensor_value_info(column, TensorProto.STRING, [ROWS, 1]))
        levels = np.asarray([preprocessor.categories[column]], dtype=object)
        matches = node("Equal", [column, constant(f"levels_{j}", levels)], f"matches_{j}")
        blocks.append(node("Cast", [matches], f"one_hot_{j}", to=TensorProto.FLOAT))
        if flag_incomplete:
            gaps.append(node("Equal", [column, missing_level], f"missing_{j}"))

    nodes.append(helper.make_node("Concat", blocks, [FEATURES], axis=1))
    width = len(numeric) + sum(len(levels) for levels in preprocessor.categories.values())
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
    """The graph's inputs for raw `rows`: numbers as float32 (NaN where missing), categories as
    their level text (MISSING_LEVEL where missing), each of shape (rows, 1)."""
    feeds = {}
    for column in preprocessor.numeric:
        numbers = pd.to_numeric(rows[column]).to_numpy("float64", na_value=np.nan)
        feeds[column] = numbers.astype(np.float32).reshape(-1, 1)
    for column in preprocessor.categorical:
        codes, names = level_codes(rows[column])  # a missing value has the last name, "missing"
        feeds[column] = np.asarray(names, dtype=object)[codes].reshape(-1, 1)
    return feeds
