"""Scores in rank order (model/ranking.py): the integer keys, the counts per distinct score and the
exact AUROC computed from them, against torchmetrics' and scikit-learn's."""

import pytest
import torch
from sklearn.metrics import roc_auc_score
from torchmetrics.classification import BinaryAUROC as TorchmetricsBinaryAUROC

from {{ cookiecutter.package }}.model.metrics import task_metrics
from {{ cookiecutter.package }}.model.ranking import (
    BinaryAUROC,
    counts_at_or_below,
    order_keys,
)


def test_the_keys_sort_as_the_floats_do():
    tiny = torch.finfo(torch.float32).tiny
    floats = torch.tensor(
        [-float("inf"), -3e38, -2.0, -1.0, -tiny, -1e-45, 0.0, 1e-45, tiny, 0.5, 1.0, 3e38]
        + [float("inf")]
    )
    shuffled = floats[torch.randperm(len(floats), generator=torch.Generator().manual_seed(0))]

    assert torch.equal(shuffled[torch.sort(order_keys(shuffled)).indices], floats)


def test_negative_zero_ties_with_zero():
    assert order_keys(torch.tensor([-0.0])) == order_keys(torch.tensor([0.0]))


def test_a_nan_of_either_sign_sorts_above_everything_as_torch_sorts_it():
    nan = torch.tensor([float("nan")])
    negative_nan = -nan  # the sign bit set: what sigmoid(nan) gives on x86
    assert negative_nan.view(torch.int32) < 0
    keys = order_keys(torch.cat([nan, negative_nan, torch.tensor([float("inf"), 1.0])]))
    assert keys[0] == keys[1] > keys[2] > keys[3]
    scores = torch.tensor([0.1, 0.9, 0.3, float("nan"), 0.6, 0.2])
    targets = torch.tensor([0, 1, 0, 1, 1, 0])
    for shown in (scores, torch.where(scores.isnan(), negative_nan, scores)):
        assert auroc(shown, targets) == auroc(shown, targets, TorchmetricsBinaryAUROC)


def test_the_counts_are_cumulative_per_distinct_score():
    scores = torch.tensor([0.7, 0.2, 0.7, 0.1, 0.2, 0.9])
    positive = torch.tensor([True, False, False, True, True, False])

    rows, positives, negatives = counts_at_or_below(scores, positive)

    assert scores[rows].tolist() == pytest.approx([0.1, 0.2, 0.7, 0.9])
    assert positives.tolist() == [1, 2, 3, 3]
    assert negatives.tolist() == [0, 1, 2, 3]


def auroc(scores: torch.Tensor, targets: torch.Tensor, metric=BinaryAUROC) -> float:
    computed = metric(validate_args=False)
    for batch_scores, batch_targets in zip(scores.split(64), targets.split(64), strict=True):
        computed.update(batch_scores, batch_targets)
    return float(computed.compute())


@pytest.mark.parametrize("levels", [None, 2, 9])  # continuous scores, or heavy ties
@pytest.mark.parametrize("seed", range(3))
def test_the_auroc_is_exact(levels, seed):
    generator = torch.Generator().manual_seed(seed)
    targets = (torch.rand(1000, generator=generator) < 0.2).long()
    scores = torch.sigmoid(torch.randn(1000, generator=generator) + targets)
    if levels is not None:
        scores = (scores * levels).round() / levels

    expected = roc_auc_score(targets.numpy(), scores.numpy())
    assert auroc(scores, targets) == pytest.approx(expected, abs=1e-6)
    assert auroc(scores, targets) == pytest.approx(
        auroc(scores, targets, TorchmetricsBinaryAUROC), abs=1e-6
    )


def test_a_perfect_and_a_reversed_ranking():
    scores, targets = torch.tensor([0.1, 0.4, 0.6, 0.8]), torch.tensor([0, 0, 1, 1])
    assert auroc(scores, targets) == 1.0
    assert auroc(scores, 1 - targets) == 0.0
    assert auroc(torch.full((4,), 0.3), targets) == 0.5  # every pair tied


def test_float64_scores_keep_their_own_ties():
    scores = 0.5 + torch.tensor([0.0, 1e-12, 2e-12, 3e-12], dtype=torch.float64)
    targets = torch.tensor([0, 1, 0, 1])
    assert auroc(scores, targets) == auroc(scores, targets, TorchmetricsBinaryAUROC) == 0.75


def test_the_binary_tasks_auroc_is_this_one_unchecked():
    metric = task_metrics("binary", None, validate_args=False)["auroc"]
    assert isinstance(metric, BinaryAUROC)
    assert metric.validate_args is False


def test_one_class_gives_what_torchmetrics_gives():
    scores = torch.rand(20, generator=torch.Generator().manual_seed(1))
    for targets in (torch.zeros(20, dtype=torch.long), torch.ones(20, dtype=torch.long)):
        assert auroc(scores, targets) == auroc(scores, targets, TorchmetricsBinaryAUROC) == 0.0


def test_binned_and_partial_areas_stay_torchmetrics_own():
    generator = torch.Generator().manual_seed(2)
    scores, targets = torch.rand(300, generator=generator), torch.randint(2, (300,))
    for options in ({"thresholds": 11}, {"max_fpr": 0.3}):
        ours, theirs = BinaryAUROC(**options), TorchmetricsBinaryAUROC(**options)
        ours.update(scores, targets)
        theirs.update(scores, targets)
        assert float(ours.compute()) == float(theirs.compute())
