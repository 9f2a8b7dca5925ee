"""Export a checkpoint as one ONNX file that takes the raw columns and preprocesses them itself.

    python -m {{ cookiecutter.package }}.export \
        ckpt_path=logs/train/runs/<run>/checkpoints/best.ckpt output=model.onnx

The graph has one input per raw column the model reads, named by the column, of shape (rows, 1):
float32 for a numeric column (NaN where a value is missing), string for a categorical one, holding
the level as training spells it ("True"/"False" for booleans, "1" for 1 or 1.0, the text itself
otherwise, "missing" where the value is missing). Its output is `probabilities` (rows x classes,
float32, in the order of predict's `probability_<class>` columns; the model's metadata `classes`
lists them) for classification, or `prediction` (rows, float64, in the target's own units) for
regression. A binary model's metadata `decision_threshold` says where predict's `prediction`
turns positive: the second class where its probability is above it.
data/onnx_preprocessing.py builds the preprocessing, torch exports the network and its head
(model/onnx_network.py), and onnx.compose joins the two into one graph.

The graph checks itself before it is kept: ONNX Runtime runs the written file on the checkpoint's
own test rows (its table read and split again as training did) or on `input=rows.csv`, and its
numbers are compared with predict's for the same raw rows. Above `tolerance` the file is removed
and export exits with an error. A regression prediction is compared in standard deviations of the
target (the units of test/mse), so that the check does not depend on the target's unit. The file
is written beside the target and renamed; an existing output is replaced only with
`overwrite=true`.
"""

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from .support.errors import UserError, exit_on_user_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .data.datamodule import TabularDataModule
    from .model.module import TabularModule

# The network's values are named under this prefix in the joined graph, so that no column's
# name can collide with one of them.
NETWORK_PREFIX = "network/"
# float32 rounds a value by at most 6e-8 of itself, so near a column's mean it moves the
# standardised value by about 1e-7 or less; a column rounded ten times more is named when the check
# fails, as the likely cause.
ROUNDING_NOTED = 1e-6
# The program named in the ONNX file as the one that wrote it.
PRODUCER = "{{ cookiecutter.project }}-export"


def check_settings(cfg: DictConfig) -> None:
    """The export's own settings, before anything heavy is loaded."""
    from onnx.defs import onnx_opset_version

    from .data.onnx_preprocessing import MIN_OPSET

    tolerance = cfg.tolerance
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise UserError(f"tolerance={tolerance!r} is not allowed: expected a number >= 0")
    newest = onnx_opset_version()
    if (
        isinstance(cfg.opset, bool)
        or not isinstance(cfg.opset, int)
        or not (MIN_OPSET <= cfg.opset <= newest)
    ):
        raise UserError(
            f"opset={cfg.opset!r} is not allowed: expected a whole number from {MIN_OPSET} "
            f"(strings compared in the graph) to {newest} (the newest this onnx knows)"
        )


def joined_graph(module: "TabularModule", datamodule: "TabularDataModule", opset: int) -> Any:
    """One ONNX model: the raw columns in, the numbers predict reports out."""
    from onnx import checker, compose, helper

    from .data.onnx_preprocessing import FEATURES, INCOMPLETE, PREFIX, preprocessing_model
    from .model import onnx_network

    preprocessor, encoder = datamodule.preprocessor, datamodule.target_encoder
    output = onnx_network.output_name(encoder.task)
    for column in preprocessor.columns:
        if column == output or column.startswith((PREFIX, NETWORK_PREFIX)):
            raise UserError(
                f"column {column!r} cannot be an input of the ONNX graph: its name is taken by "
                f"the graph ({output!r}, or a name starting {PREFIX!r} or {NETWORK_PREFIX!r}); "
                "rename the column and train again"
            )
    # Trained without imputation: a row with a gap gets NaN, as predict gives it no prediction.
    flag_incomplete = datamodule.hparams.missing != "impute"
    network = onnx_network.network_model(
        module, encoder.mean, encoder.scale, flag_incomplete, opset
    )
    preprocessing = preprocessing_model(preprocessor, flag_incomplete, opset, network.ir_version)
    io_map = [(FEATURES, onnx_network.FEATURES)]
    if flag_incomplete:
        io_map.append((INCOMPLETE, onnx_network.INCOMPLETE))
    model = compose.merge_models(
        preprocessing, network, io_map, prefix2=NETWORK_PREFIX, producer_name=PRODUCER
    )
    # The prefix renamed every name of the network, its output too: an Identity gives the
    # graph's output its plain name back.
    (prefixed,) = model.graph.output
    model.graph.node.append(helper.make_node("Identity", [prefixed.name], [output]))
    renamed = type(prefixed)()
    renamed.CopyFrom(prefixed)
    renamed.name = output
    model.graph.output.pop()
    model.graph.output.append(renamed)
    described = {
        "task": encoder.task,
        "target": datamodule.hparams.target,
        "numeric_columns": json.dumps(preprocessor.numeric),
        "date_columns": json.dumps(list(preprocessor.dates)),
        "categorical_columns": json.dumps(preprocessor.categorical + preprocessor.embedded),
    }
    if encoder.task != "regression":
        described["classes"] = json.dumps(encoder.classes)  # the columns of `probabilities`
    if encoder.task == "binary":
        # The graph gives probabilities only; predict's `prediction` is the second class where
        # its probability is above this (chosen on validation; 0.5 for a checkpoint without).
        threshold = module.decision_threshold
        described["decision_threshold"] = repr(0.5 if threshold is None else threshold)
    kept = {entry.key: entry.value for entry in model.metadata_props}
    helper.set_model_props(model, kept | described)
    checker.check_model(model, full_check=True)
    return model


def check_rows(cfg: DictConfig, datamodule: "TabularDataModule") -> tuple["pd.DataFrame", str]:
    """The rows the graph is checked on, and how messages name them: `input` (read as predict
    reads it), or the checkpoint's test split, read again from its table and split as training
    did. Text that training read as numbers or booleans is read so: the graph takes numbers."""
    from .data.missing import InfiniteValueWarning
    from .data.tables import read_table
    from .data.written_values import read_written_values
    from .predict import input_read_options

    columns = datamodule.preprocessor.columns
    if cfg.input is not None:
        rows = read_table(cfg.input, "input", input_read_options(cfg, datamodule), "read")
        return read_written_values(rows, datamodule.written), f"input={cfg.input!r}"
    try:
        datamodule.setup()  # the checkpoint's table, with its checks, and the split's positions
        with warnings.catch_warnings():  # setup has warned about them once
            warnings.simplefilter("ignore", InfiniteValueWarning)
            usable, _ = datamodule.usable_table()
    except UserError as error:
        raise UserError(
            f"{error} (export checks the graph on the checkpoint's test rows: give "
            "input=rows.csv to check it on rows of your own)"
        ) from None
    test = usable.iloc[datamodule.split_rows["test"]]
    return test[columns].reset_index(drop=True), f"the test rows of {datamodule.source}"


def reference_numbers(
    module: "TabularModule", datamodule: "TabularDataModule", rows: "pd.DataFrame", source: str
) -> "np.ndarray":
    """What predict writes for `rows`: the probability columns, or the prediction."""
    from . import predict

    encoder = datamodule.target_encoder
    # Only the columns the model reads (predict names any that are absent), since predict refuses
    # other columns named like the ones it adds.
    read = [column for column in datamodule.preprocessor.columns if column in rows.columns]
    result = predict.predict_rows(module, datamodule, rows[read], source)
    if encoder.task == "regression":
        return result[predict.PREDICTION].to_numpy("float64")
    names = [predict.PROBABILITY.format(label) for label in encoder.classes]
    return result[names].to_numpy("float64")


def largest_difference(exported: "np.ndarray", reference: "np.ndarray") -> float:
    """The largest absolute difference; infinite where one side is NaN and the other is not."""
    import numpy as np

    exported = np.asarray(exported, dtype=np.float64)
    gaps = np.isnan(reference)
    if exported.shape != reference.shape or (np.isnan(exported) != gaps).any():
        return float("inf")
    return float(np.abs(exported - reference)[~gaps].max(initial=0.0))


def coarse_columns(preprocessor: Any, rows: "pd.DataFrame") -> dict[str, float]:
    """Numeric columns that float32, the graph's input type, rounds by more than ROUNDING_NOTED of
    their standard deviation on `rows` (values large against their spread, such as timestamps),
    with that largest rounding."""
    import numpy as np
    import pandas as pd

    if preprocessor.numeric_transform == "quantile":
        return {}  # it rounds its inputs to float32 itself, as the graph does (data/scaling.py)
    coarse = {}
    # The numeric columns come first among the scaled numbers (date columns are float64 inputs).
    for column, scale in zip(preprocessor.numeric, preprocessor.scales, strict=False):
        values = pd.to_numeric(rows[column]).to_numpy("float64", na_value=np.nan)
        rounded = values.astype(np.float32).astype(np.float64)
        rounding = float(np.nanmax(np.abs(rounded - values), initial=0.0)) / scale
        if rounding > ROUNDING_NOTED:
            coarse[column] = rounding
    return coarse


def run_graph(path: Path, feeds: dict[str, Any]) -> "np.ndarray":
    """The graph's one output for `feeds`, computed by ONNX Runtime from the file itself."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # small graphs; the result does not depend on it
    try:
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # ONNX Runtime's errors have no common base class
        reason = str(error).strip().splitlines()[0]
        raise UserError(
            f"ONNX Runtime {onnxruntime.__version__} cannot load the exported graph: {reason}; "
            "a lower opset=... may suit it"
        ) from None
    return session.run(None, feeds)[0]


def listed(names: list[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def export(cfg: DictConfig) -> Path:
    """Build the graph, check it against predict on raw rows, keep it; return its path."""
    check_settings(cfg)
    output = Path(cfg.output).expanduser()
    if output.exists() and not cfg.overwrite:
        raise UserError(
            f"output={cfg.output!r} already exists: choose another file, "
            "or add overwrite=true to replace it"
        )

    from .data.datamodule import TabularDataModule, UnseenLevelWarning
    from .data.onnx_preprocessing import graph_feeds, refuse_unexportable
    from .predict import restore_trained
    from .support.checkpoints import load_checkpoint, partial_path
    from .support.reports import report
    from .support.run_dirs import save_run_config

    checkpoint = load_checkpoint(cfg.ckpt_path)
    state = checkpoint[TabularDataModule.__qualname__]
    refuse_unexportable(state["preprocessor"], checkpoint["hyper_parameters"]["input_size"])
    datamodule, module = restore_trained(checkpoint)
    module.eval()
    preprocessor, encoder = datamodule.preprocessor, datamodule.target_encoder

    with warnings.catch_warnings():  # counted in the line printed below instead
        warnings.simplefilter("ignore", UnseenLevelWarning)
        rows, source = check_rows(cfg, datamodule)
        reference = reference_numbers(module, datamodule, rows, source)
    model = joined_graph(module, datamodule, cfg.opset)

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(output)
    try:
        with open(partial, "wb") as file:
            file.write(model.SerializeToString())
            file.flush()
            os.fsync(file.fileno())
        exported = run_graph(partial, graph_feeds(preprocessor, rows))
        difference = largest_difference(exported, reference)
        unit = ""
        if encoder.task == "regression":  # in standard deviations of the target, as learnt
            difference /= encoder.scale
            unit = " standard deviations of the target"
        gaps = int(rows[preprocessor.columns].isna().any(axis=1).sum())
        unseen = sum(sum(c.values()) for c in preprocessor.unseen_levels(rows).values())
        checked = (
            f"{len(rows)} rows ({source}; {gaps} with missing values, {unseen} "
            f"categor{'y' if unseen == 1 else 'ies'} unseen in training)"
        )
        if not difference <= cfg.tolerance:
            coarse = coarse_columns(preprocessor, rows)
            cause = "".join(
                f"; float32 rounds {column!r} by up to {rounding:.2g} of its standard deviation"
                for column, rounding in coarse.items()
            )
            if coarse:
                cause += " (values large against their spread: store them from an offset)"
            raise UserError(
                f"the ONNX graph differs from the PyTorch model by up to {difference:.3g}"
                f"{unit} on {checked}, more than tolerance={cfg.tolerance}{cause}: "
                f"{output} was not written"
            )
        report(
            [
                f"ONNX Runtime matches PyTorch on {checked}: largest difference "
                f"{difference:.3g}{unit} (tolerance {cfg.tolerance})"
            ]
        )
        save_run_config(cfg, cfg.run_dir)  # accepted: now it may replace an earlier record
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)

    lines = [f"Wrote {output}"]
    kinds = []
    if preprocessor.numeric:
        kinds.append(f"{listed(preprocessor.numeric)} (float32, NaN where missing)")
    if preprocessor.dates:
        kinds.append(
            f"{listed(list(preprocessor.dates))} (float64: seconds since 1970-01-01 UTC, "
            "NaN where missing)"
        )
    categorical = preprocessor.categorical + preprocessor.embedded
    if categorical:
        kinds.append(
            f"{listed(categorical)} (string: the level as training spells it, "
            "'missing' where missing)"
        )
    lines.append(f"  inputs, each (rows, 1): {'; '.join(kinds)}")
    if encoder.task == "regression":
        target = datamodule.hparams.target
        lines.append(f"  output: prediction (rows, float64), {target!r} in its units")
    else:
        shown = ", ".join(map(str, encoder.classes))
        lines.append(f"  output: probabilities (rows x {len(encoder.classes)}, float32): {shown}")
    if encoder.task == "binary":
        threshold = 0.5 if module.decision_threshold is None else module.decision_threshold
        lines.append(
            f"  decision: {encoder.classes[1]} where its probability is above {threshold:.6g} "
            "(metadata decision_threshold), as predict decides"
        )
    report(lines)
    return output


@hydra.main(version_base="1.3", config_path="configs", config_name="export")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        if OmegaConf.is_missing(cfg, "ckpt_path"):
            raise UserError(
                "ckpt_path is required: export ckpt_path=<run>/checkpoints/best.ckpt "
                "output=model.onnx"
            )
        export(cfg)


if __name__ == "__main__":
    main()
