"""The decision threshold of a binary classifier: the score above which a row is called positive.

0.5 suits a model whose scores are calibrated probabilities and a user who weighs both kinds of
error alike. On imbalanced data neither holds: a model that has learnt the 6% positive class
only faintly gives every row a score below 0.5, calls every row negative and still scores 94%
accuracy. The threshold is therefore chosen on the validation split (never the test split; for a
cross-fitted ensemble, model/ensemble.py, on the pooled training and validation rows, each scored
by the member that did not train on it) as the one that maximises a criterion:

- `balanced_accuracy` (the default): the mean of the recall of each class. It treats the two
  classes alike, so it does not depend on which label sorts second and is called "positive"
  (with labels fraud/ok that is "ok"), and it is the quantity `loss.pos_weight=balanced` /
  `loss.weight=balanced` make the loss care about. A model that calls every row one class has
  0.5, whatever the imbalance.
- `f1`: the F1 score of the positive class (the second sorted label). It ignores the true
  negatives, so it suits a rare positive class whose hits matter and whose false alarms cost;
  it usually picks a higher threshold (fewer false positives) than balanced accuracy.

Torch is imported only to choose, so the config checks can read CRITERIA without it.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

CRITERIA = {
    "balanced_accuracy": "the mean recall of the two classes",
    "f1": "the F1 score of the positive class",
}


def choose_threshold(
    scores: "torch.Tensor", targets: "torch.Tensor", criterion: str
) -> float | None:
    """The threshold t of the rule `score > t` that maximises `criterion` on these rows (scores:
    the positive class's probability; targets: 0/1); None when the rows lack one of the classes.

    The rule is torchmetrics' (its Binary* metrics and `confusion_matrix` call `score > t`
    positive) and predict's. Every distinct score, and a value below them all, is a candidate cut;
    the rows on each side are counted exactly. (torchmetrics' ROC and PR curves cut at
    `score >= t` instead and list the largest threshold twice, which would shift the rule by one
    row.) The threshold returned lies half-way between the chosen cut and the next score above
    it, rounded to float32: float32 scores and a float64 comparison (predict) then draw the line
    in the same place, and a new row scored between two validation rows is not decided by which
    one it happens to be closer to.
    """
    import torch

    from .ranking import counts_at_or_below

    if scores.numel() == 0:
        return None
    scores = scores.detach().flatten()
    rows, positives_at_or_below, negatives_at_or_below = counts_at_or_below(
        scores, targets.detach() == 1
    )
    positives, negatives = int(positives_at_or_below[-1]), int(negatives_at_or_below[-1])
    if positives == 0 or negatives == 0:
        return None
    distinct = scores[rows].float()  # ascending
    lowest = distinct[:1]
    below_all = torch.where(lowest > 0, torch.zeros_like(lowest), lowest - 1)
    cuts = torch.cat([below_all, distinct])  # `score > cut`: every row, ..., no row
    above = torch.cat([distinct, torch.maximum(distinct[-1:], torch.ones_like(lowest))])
    none = positives_at_or_below.new_zeros(1)  # at or below the cut below every score
    true_positives = positives - torch.cat([none, positives_at_or_below])
    false_positives = negatives - torch.cat([none, negatives_at_or_below])
    if criterion == "balanced_accuracy":
        value = (true_positives / positives + 1 - false_positives / negatives) / 2
    elif criterion == "f1":
        value = 2 * true_positives / (positives + true_positives + false_positives)
    else:
        raise ValueError(f"unknown criterion {criterion!r}: expected one of {', '.join(CRITERIA)}")
    best = int(value.argmax())  # the lowest of equally good cuts: the one that misses fewest
    half_way = (cuts[best] + above[best]) / 2  # in float32: between the two, or equal to one
    return float(half_way if half_way < above[best] else cuts[best])
