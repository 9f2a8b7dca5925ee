"""Split a table's rows into train, validation and test, reproducibly from a seed.

Without folds, `test_fraction` of the rows are the test set. With `num_folds=k`, the rows are cut
into k folds (shuffled from the seed) and fold `fold` is the test set, so k runs with folds
0..k-1 test every row exactly once. Either way `val_fraction` of all rows is then taken from the
remaining rows for validation. Classification splits are stratified: each part keeps the label
proportions. Rows are returned as positions (numpy arrays), not copies of the table.
"""

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

# A stratified split puts each class in test, validation and training: fewer rows than this and
# scikit-learn refuses (or, with folds, leaves the class out of a split).
MIN_ROWS_PER_CLASS = 3


def split_rows(
    labels: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
    num_folds: int | None = None,
    fold: int = 0,
) -> dict[str, np.ndarray]:
    """{"train", "val", "test"} row positions; sklearn's ValueError when a split is impossible."""
    rows = np.arange(len(labels))
    strata = labels if stratify else None
    if num_folds:
        folds_of = StratifiedKFold if stratify else KFold
        folds = folds_of(n_splits=num_folds, shuffle=True, random_state=seed)
        rest, test = list(folds.split(rows, strata))[fold]
        test_share = 1 / num_folds
    else:
        rest, test = train_test_split(
            rows, test_size=test_fraction, random_state=seed, stratify=strata
        )
        test_share = test_fraction
    train, val = train_test_split(
        rest,
        test_size=val_fraction / (1 - test_share),
        random_state=seed,
        stratify=labels[rest] if stratify else None,
    )
    return {"train": train, "val": val, "test": test}
