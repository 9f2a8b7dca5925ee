"""Split a table into train, validation and test rows, reproducibly from a seed."""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def split_rows(
    frame: pd.DataFrame,
    target: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
) -> dict[str, pd.DataFrame]:
    """Return {"train", "val", "test"} frames; classification splits keep the label proportions."""
    index = np.arange(len(frame))
    labels = frame[target].to_numpy() if stratify else None
    rest, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=labels
    )
    rest_labels = labels[rest] if stratify else None
    train, val = train_test_split(
        rest,
        test_size=val_fraction / (1 - test_fraction),
        random_state=seed,
        stratify=rest_labels,
    )
    return {"train": frame.iloc[train], "val": frame.iloc[val], "test": frame.iloc[test]}
