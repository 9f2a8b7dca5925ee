"""Checks of a chosen decision threshold, by brute force: shared by the imbalance and ensemble
tests."""

import torch
from torchmetrics.functional.classification import binary_f1_score


def by_brute_force(scores: torch.Tensor, targets: torch.Tensor, criterion: str) -> float:
    """The best value of the criterion over every way to cut the sorted rows."""
    best = 0.0
    for cut in [-1.0, *scores.tolist()]:
        predicted = scores > cut
        tp = int((predicted & (targets == 1)).sum())
        fp = int((predicted & (targets == 0)).sum())
        positives, negatives = int(targets.sum()), int((targets == 0).sum())
        if criterion == "f1":
            value = 2 * tp / (positives + tp + fp)
        else:
            value = (tp / positives + (negatives - fp) / negatives) / 2
        best = max(best, value)
    return best


def criterion_at(scores, targets, threshold: float, criterion: str) -> float:
    predicted = scores > threshold
    if criterion == "f1":
        return float(binary_f1_score(predicted.float(), targets, threshold=0.5))
    recalls = [float((predicted[targets == c] == bool(c)).float().mean()) for c in (0, 1)]
    return sum(recalls) / 2
