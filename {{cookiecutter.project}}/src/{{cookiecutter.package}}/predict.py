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


def predict_rows(
    module: "TabularModule", datamodule: "TabularDataModule", rows: "pd.DataFrame", source: str
) -> "pd.DataFrame":
    """`rows` with the prediction and the class probabilities added, in the same order."""
    import numpy as np
    import pandas as pd
    import torch

    from .data.datamodule import warn_unseen
    from .data.missing import missing_counts, refuse_missing
    from .data.roles import require_numbers

    preprocessor, encoder = datamodule.preprocessor, datamodule.target_encoder
    absent = [column for column in preprocessor.columns if column not in rows.columns]
    if absent:
        raise UserError(
            f"{source} lacks columns the model reads: {', '.join(map(repr, absent))} "
            f"(it reads {', '.join(preprocessor.columns)}; the target is optional)"
        )
    require_numbers(rows, preprocessor.numeric, "the model reads it as a number", source)
    added_names = [PREDICTION] + [PROBABILITY.format(label) for label in encoder.classes]
    clashes = [name for name in added_names if name in rows.columns]
    if clashes:
        raise UserError(
            f"{source} already has columns named {', '.join(map(repr, clashes))}, "
            "which predict adds: rename or remove them"
        )
    policy = datamodule.hparams.missing
    if policy == "error":
        refuse_missing(missing_counts(rows, preprocessor.columns), source)
    # Trained with data.missing=drop: a row with a gap gets no prediction rather than a guess.
    unscored = rows[preprocessor.columns].isna().any(axis=1).to_numpy() & (policy == "drop")
    warn_unseen(preprocessor.unseen_levels(rows, np.flatnonzero(~unscored)), source)

    features = torch.from_numpy(preprocessor.transform(rows))
    module.eval()
    with torch.inference_mode():
        scores = torch.cat(
            [
                module.predict_scores(module(batch)).reshape(len(batch), -1)
                for batch in features.split(ROWS_PER_PASS)
            ]
        )
    scores = scores.squeeze(1) if scores.shape[1] == 1 else scores
    predictions, probabilities = encoder.inverse(scores.double().numpy())

    # Labels keep their own values (text, numbers, booleans); a missing one must stay possible.
    kind = "float64" if probabilities is None else object
    added = {PREDICTION: pd.Series(predictions, index=rows.index, dtype=kind)}
    for j, name in enumerate(added_names[1:]):
        added[name] = probabilities[:, j]
    result = pd.concat([rows, pd.DataFrame(added, index=rows.index)], axis=1)
    if unscored.any():
        result.loc[unscored, added_names] = np.nan
        print(
            f"{int(unscored.sum())} rows have missing values and no prediction "
            "(the model was trained with data.missing=drop)"
        )
    return result


def predict(cfg: DictConfig) -> Path:
    """Read the rows, predict them with the checkpoint, write the result; return its path."""
    from .data.datamodule import TabularDataModule
    from .data.tables import read_table, write_table
    from .model.module import TabularModule
    from .support.checkpoints import load_checkpoint
    from .support.run_dirs import save_run_config

    output = Path(cfg.output).expanduser()
    if output.exists() and not cfg.overwrite:
        raise UserError(
            f"output={cfg.output!r} already exists: choose another file, "
            "or add overwrite=true to replace it"
        )
    checkpoint = load_checkpoint(cfg.ckpt_path)
    datamodule = TabularDataModule(**checkpoint["datamodule_hyper_parameters"])
    datamodule.load_state_dict(checkpoint[TabularDataModule.__qualname__])
    module = TabularModule.from_checkpoint(checkpoint)
    rows = read_table(cfg.input, key="input")
    result = predict_rows(module, datamodule, rows, source=f"input={cfg.input!r}")
    save_run_config(cfg, cfg.run_dir)  # accepted: now it may replace an earlier record
    written = write_table(result, str(output))
    print(f"Wrote {len(result)} predictions to {written}")
    return written


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
