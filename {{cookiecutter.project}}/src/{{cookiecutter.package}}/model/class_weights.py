"""Class weights that balance an imbalanced training split: `loss.pos_weight=balanced` (bce) and
`loss.weight=balanced` (cross_entropy).

With 6% positives, an unweighted loss is lowest when the model leans towards the majority class,
and a small model may learn nothing else: every row predicted negative, 94% accuracy. Weighting
each class's errors by how rare the class is makes every class count as much in the loss as if
the classes were equally common:

- `pos_weight` (BCEWithLogitsLoss): negatives / positives, so the positives' errors weigh as much
  in total as the negatives'.
- `weight` (CrossEntropyLoss): rows / (classes x rows of the class) for each class, scikit-learn's
  `class_weight="balanced"`: 1 for every class when they are equally common.

Counted on the training rows only (a cross-fitted ensemble's: the training and validation rows it
pools, model/ensemble.py): the rows the model is tested on stay unseen. The numbers replace
the word `balanced` in the run's config before anything is saved, so `.hydra/config.yaml`, the
checkpoint's hyperparameters (plain floats) and the HParams table hold what the loss used.
Torch-free, so the config checks can read BALANCED.
"""

from collections.abc import Sequence

BALANCED = "balanced"
# The loss settings that take a class weight, and so may be `balanced`.
WEIGHT_SETTINGS = ("pos_weight", "weight")


def balanced_pos_weight(counts: Sequence[int]) -> float:
    """negatives / positives, from the rows of class 0 and class 1 (the positive class)."""
    negatives, positives = counts
    return negatives / positives


def balanced_class_weights(counts: Sequence[int]) -> list[float]:
    """rows / (classes x rows of the class), one per class, in class order."""
    rows = sum(counts)
    return [rows / (len(counts) * count) for count in counts]


def balanced_value(setting: str, counts: Sequence[int]) -> float | list[float]:
    """The number (`pos_weight`) or list (`weight`) that `<setting>=balanced` stands for."""
    if setting == "pos_weight":
        return balanced_pos_weight(counts)
    return balanced_class_weights(counts)
