"""Split a table's rows into train, validation and test, reproducibly from a seed.

Without folds, `test_fraction` of the rows are the test set. With `num_folds=k`, the rows are cut
into k folds (shuffled from the seed) and fold `fold` is the test set, so k runs with folds
0..k-1 test every row exactly once. Either way `val_fraction` of all rows is then taken from the
remaining rows for validation. Classification splits are stratified: each part keeps the label
proportions. Rows are returned as positions (numpy arrays), not copies of the table.

With `groups` (data.group: a patient, a customer, a store), every group's rows go to one part,
so the test measures the model on groups it never saw, as it will meet them: k group folds (k =
num_folds, or about 1 / test_fraction), one of them the test set, then validation one of about
(1 - 1/k) / val_fraction group folds of the rest; stratified by class as far as the groups allow.
The fractions are then those of whole groups, near the ones asked for.

A class with too few rows to be in every part (`training_only_classes`) is trained on and never
validated or tested: its rows all go to training, and the other rows are split as above. So a
4-class table with one class of 2 rows trains, where a stratified split would refuse it; with
folds those rows are in every fold's training rows and in no fold's test rows.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    train_test_split,
)

# A stratified split puts each class in test, validation and training: fewer rows than this and
# scikit-learn refuses (or, with folds, leaves the class out of a split).
MIN_ROWS_PER_CLASS = 3
# ... and at least this many classes must have enough rows for the split to mean anything: a binary
# target whose second class has 2 rows cannot be validated or tested, so it is still refused.
MIN_SPLIT_CLASSES = 2


def training_only_classes(labels: Sequence, stratify: bool, grouped: bool = False) -> dict:
    """Class -> row count, for the classes with fewer than MIN_ROWS_PER_CLASS rows, when the others
    are enough to split. {} for a split that is not by class, a grouped one (a class's rows belong
    to groups, which stay whole) or labels the split refuses."""
    if not stratify or grouped:
        return {}
    counts = pd.Series(labels).value_counts()
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(counts) - len(rare) < MIN_SPLIT_CLASSES:
        return {}
    return rare.to_dict()


def split_rows(
    labels: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
    num_folds: int | None = None,
    fold: int = 0,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """{"train", "val", "test"} row positions; sklearn's ValueError when a split is impossible."""
    if groups is not None:
        return _grouped_split(
            labels, val_fraction, test_fraction, seed, stratify, num_folds, fold, groups
        )
    rows = np.arange(len(labels))
    training_only = rows[:0]
    rare = training_only_classes(labels, stratify)
    if rare:
        is_rare = pd.Series(labels).isin(list(rare)).to_numpy()
        training_only, rows = rows[is_rare], rows[~is_rare]
    strata = labels[rows] if stratify else None
    if num_folds:
        folds_of = StratifiedKFold if stratify else KFold
        folds = folds_of(n_splits=num_folds, shuffle=True, random_state=seed)
        rest, test = (rows[part] for part in list(folds.split(rows, strata))[fold])
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
    return {"train": np.concatenate([train, training_only]), "val": val, "test": test}


def member_parts(
    labels: np.ndarray,
    members: int,
    seed: int,
    stratify: bool,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's part, 0 .. members-1, for a cross-fitted ensemble: member m is validated on the
    rows of part m and trained on the others (model/ensemble.py).

    Shuffled from the seed, then dealt out in turn: class by class when stratified, so that every
    part keeps the label proportions (parts differ by at most one row per class), or, with
    `groups`, group by group, so that a group's rows are all in one part (parts then differ by at
    most one group, and `stratify` is not followed). Written here rather than taken from
    scikit-learn's (Stratified/Group)KFold, which warn on a class with fewer rows than parts and
    refuse fewer groups than parts: here a part may then be empty, and its member trains on every
    row and validates none.
    """
    rng = np.random.default_rng(seed)
    if groups is not None:
        names, group_of_row = np.unique(groups, return_inverse=True)
        part_of_group = np.empty(len(names), dtype=np.int64)
        part_of_group[rng.permutation(len(names))] = np.arange(len(names)) % members
        return part_of_group[group_of_row]
    order = rng.permutation(len(labels))
    if stratify:  # the shuffled rows, class by class: each class is dealt out across the parts
        codes = pd.factorize(pd.Series(labels))[0]
        order = order[np.argsort(codes[order], kind="stable")]
    parts = np.empty(len(labels), dtype=np.int64)
    parts[order] = np.arange(len(labels)) % members
    return parts


def _grouped_split(
    labels: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    stratify: bool,
    num_folds: int | None,
    fold: int,
    groups: np.ndarray,
) -> dict[str, np.ndarray]:
    """split_rows with every group in one part (the module's docstring says how)."""
    folds_of = StratifiedGroupKFold if stratify else GroupKFold

    def held_out(rows: np.ndarray, count: int, which: int) -> tuple[np.ndarray, np.ndarray]:
        folds = folds_of(n_splits=count, shuffle=True, random_state=seed)
        strata = labels[rows] if stratify else None
        rest, held = list(folds.split(rows, strata, groups[rows]))[which]
        return rows[rest], rows[held]

    count = num_folds or max(2, round(1 / test_fraction))
    rest, test = held_out(np.arange(len(labels)), count, fold if num_folds else 0)
    train, val = held_out(rest, max(2, round((1 - 1 / count) / val_fraction)), 0)
    return {"train": train, "val": val, "test": test}
