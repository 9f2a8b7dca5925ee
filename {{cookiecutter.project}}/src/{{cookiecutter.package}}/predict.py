"""Predict new rows with a checkpoint: raw rows in, the same rows out with the predictions added.

    python -m {{ cookiecutter.package }}.predict \
        ckpt_path=logs/train/runs/<run>/checkpoints/best.ckpt \
        input=rows.csv output=predictions.csv

The rows are in the user's own terms (the target column may be there or not; it is ignored), and the
checkpoint holds everything needed to read them: the columns, their roles, the fitted preprocessing
and the label names. The output is the input columns, then `prediction` in the label's own values
("yes"/"no", class names, numbers), then one `probability_<class>` column per class for
classification: same rows, same order. It is written to a temporary file and renamed, so it is
never half-written, and an existing file is replaced only with `overwrite=true`.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig, OmegaConf

from .support.errors import UserError, exit_on_user_error

if TYPE_CHECKING:
    import pandas as pd

    from .data.datamodule import TabularDataModule
    from .model.module import TabularModule

PREDICTION = "prediction"
PROBABILITY = "probability_{}"
# Rows scored per forward pass: large, because the result does not depend on it.
ROWS_PER_PASS = 65536


def restore_trained(checkpoint: dict) -> tuple["TabularDataModule", "TabularModule"]:
    """The fitted data module (preprocessing, label names) and the trained module of a checkpoint
    already opened safely (support/checkpoints.load_checkpoint): what predict, serve and export
    score with."""
    from .data.datamodule import TabularDataModule
    from .model.module import TabularModule

    datamodule = TabularDataModule(**checkpoint["datamodule_hyper_parameters"])
    datamodule.load_state_dict(checkpoint[TabularDataModule.__qualname__])
    return datamodule, TabularModule.from_checkpoint(checkpoint)


def predict_rows(
    module: "TabularModule",
    datamodule: "TabularDataModule",
    rows: "pd.DataFrame",
    source: str,
    notices: dict | None = None,
) -> "pd.DataFrame":
    """`rows` with the prediction and the class probabilities added, in the same order.

    `notices`: where to add up what would otherwise be warned about and printed at once (levels
    unseen in training, infinite numbers, rows left unscored), when rows come in several parts.
    Text that training read as numbers or booleans ("$1,200", "yes") is read the same way, and an
    infinite number is a missing one; the rows written back are the rows as given."""
    import numpy as np
    import pandas as pd
    import torch

    from .data.datamodule import warn_unseen
    from .data.missing import (
        infinite_counts,
        missing_counts,
        refuse_infinite,
        refuse_missing,
        warn_infinite,
        without_infinities,
    )
    from .data.roles import require_numbers
    from .data.written_values import read_written_values

    preprocessor, encoder = datamodule.preprocessor, datamodule.target_encoder
    absent = [column for column in preprocessor.columns if column not in rows.columns]
    if absent:
        raise UserError(
            f"{source} lacks columns the model reads: {', '.join(map(repr, absent))} "
            f"(it reads {', '.join(preprocessor.columns)}; the target is optional)"
        )
    values = read_written_values(rows[preprocessor.columns], datamodule.written)
    require_numbers(values, preprocessor.numeric, "the model reads it as a number", source)
    infinite = infinite_counts(values, preprocessor.numeric)
    values = without_infinities(values, infinite)
    added_names = [PREDICTION] + [PROBABILITY.format(label) for label in encoder.classes]
    clashes = [name for name in added_names if name in rows.columns]
    if clashes:
        raise UserError(
            f"{source} already has columns named {', '.join(map(repr, clashes))}, "
            "which predict adds: rename or remove them"
        )
    policy = datamodule.hparams.missing
    if policy == "error":
        refuse_infinite(infinite, source)
        refuse_missing(missing_counts(values, preprocessor.columns), source)
    # Trained with data.missing=drop: a row with a gap gets no prediction rather than a guess.
    unscored = values.isna().any(axis=1).to_numpy() & (policy == "drop")
    unseen = preprocessor.unseen_levels(values, np.flatnonzero(~unscored))
    if notices is None:
        warn_unseen(unseen, source)
        warn_infinite(infinite, source, policy)
    else:
        for column, levels in unseen.items():
            counts = notices.setdefault("unseen", {}).setdefault(column, {})
            for level, count in levels.items():
                counts[level] = counts.get(level, 0) + count
        for column, count in infinite.items():
            counts = notices.setdefault("infinite", {})
            counts[column] = counts.get(column, 0) + count

    features = torch.from_numpy(preprocessor.transform(values))
    module.eval()
    with torch.inference_mode():
        scores = torch.cat(
            [
                module.predict_scores(module(batch)).reshape(len(batch), -1)
                for batch in features.split(ROWS_PER_PASS)
            ]
        )
    scores = scores.squeeze(1) if scores.shape[1] == 1 else scores
    # Binary: positive above the checkpoint's decision threshold (0.5 for one without).
    threshold = module.decision_threshold
    predictions, probabilities = encoder.inverse(scores.double().numpy(), threshold)

    # Labels keep their own values (text, numbers, booleans); a missing one must stay possible.
    kind = "float64" if probabilities is None else object
    added = {PREDICTION: pd.Series(predictions, index=rows.index, dtype=kind)}
    for j, name in enumerate(added_names[1:]):
        added[name] = probabilities[:, j]
    result = pd.concat([rows, pd.DataFrame(added, index=rows.index)], axis=1)
    if unscored.any():
        result.loc[unscored, added_names] = np.nan
        if notices is None:
            report_unscored(int(unscored.sum()))
        else:
            notices["unscored"] = notices.get("unscored", 0) + int(unscored.sum())
    return result


def report_unscored(count: int) -> None:
    from .support.reports import report

    report(
        [
            f"{count} rows have missing values and no prediction "
            "(the model was trained with data.missing=drop)"
        ]
    )


def input_read_options(cfg: DictConfig, datamodule: "TabularDataModule") -> dict:
    """The pandas.read_csv options for `input` (predict's and export's): the checkpoint's
    data.read, with this command's `read` on top; a null there keeps the checkpoint's value, or
    detects it (sep, decimal, encoding, quotechar) when the checkpoint has none."""
    options = dict(datamodule.hparams.get("read") or {})
    given = cfg.get("read")
    given = OmegaConf.to_container(given, resolve=True) if isinstance(given, DictConfig) else given
    if given is not None and not isinstance(given, dict):
        return given  # not a mapping: the reading refuses it in one line
    for name, value in (given or {}).items():
        if value is not None or name not in options:
            options[name] = value
    # Columns whose text training read as numbers are read as text, then as training read them:
    # alone, "1.500" would be 1.5 to pandas, where training's "1.234,5" makes it 1500.
    written = [column for column, how in datamodule.written.items() if how["kind"] == "number"]
    if written and "dtype" not in options:
        options["dtype"] = dict.fromkeys(written, "str")
    return options


def predict(cfg: DictConfig) -> Path:
    """Read the rows part by part, predict each with the checkpoint, write the result; return its
    path. Memory stays bounded whatever the input's length: `chunk_rows` rows at a time."""
    from .data.datamodule import warn_unseen
    from .data.missing import warn_infinite
    from .data.tables import TableFile, table_writer
    from .support.checkpoints import load_checkpoint
    from .support.reports import report
    from .support.run_dirs import save_run_config

    output = Path(cfg.output).expanduser()
    if output.exists() and not cfg.overwrite:
        raise UserError(
            f"output={cfg.output!r} already exists: choose another file, "
            "or add overwrite=true to replace it"
        )
    datamodule, module = restore_trained(load_checkpoint(cfg.ckpt_path))
    source = f"input={cfg.input!r}"
    notices: dict = {}
    count = 0
    # Nothing reaches `output` until every part is predicted: a refused row anywhere leaves it as
    # it was, and a kill leaves only a hidden partial file beside it.
    table = TableFile(cfg.input, "input", input_read_options(cfg, datamodule), "read")
    with table_writer(str(output), like=table.format) as write:
        for rows in table.chunks(cfg.chunk_rows):
            write(predict_rows(module, datamodule, rows, source, notices))
            count += len(rows)
        save_run_config(cfg, cfg.run_dir)  # accepted: now it may replace an earlier record
    warn_unseen(notices.get("unseen", {}), source)
    warn_infinite(notices.get("infinite", {}), source, datamodule.hparams.missing)
    if notices.get("unscored"):
        report_unscored(notices["unscored"])
    report([f"Wrote {count} predictions to {output}"])
    return output


@hydra.main(version_base="1.3", config_path="configs", config_name="predict")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        for key in ("ckpt_path", "input"):
            if OmegaConf.is_missing(cfg, key):
                raise UserError(
                    f"{key} is required: predict ckpt_path=<run>/checkpoints/best.ckpt "
                    "input=rows.csv output=predictions.csv"
                )
        predict(cfg)


if __name__ == "__main__":
    main()
