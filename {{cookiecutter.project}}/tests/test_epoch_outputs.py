"""The loss and metrics of an epoch, computed once from the kept outputs of its batches."""

import pytest
import torch
from torchmetrics import MeanMetric

from {{ cookiecutter.package }}.model.epoch_outputs import EpochOutputs
from {{ cookiecutter.package }}.model.metrics import task_metrics


def batches(scores: torch.Tensor, targets: torch.Tensor, losses: list[float], size: int):
    """The rows cut into batches of `size` (the last one shorter), each with its mean loss."""
    return zip(scores.split(size), targets.split(size), map(torch.tensor, losses), strict=True)


def epoch_of(outputs: EpochOutputs, scores, targets, losses, size) -> dict[str, float]:
    for batch in batches(scores, targets, losses, size):
        outputs.update(*batch)
    return {name: float(value) for name, value in outputs.compute().items()}


TASKS = {
    "binary": (
        2,
        lambda g: torch.rand(103, generator=g),
        lambda g: torch.randint(2, (103,), generator=g),
    ),
    "multiclass": (
        3,
        lambda g: torch.softmax(torch.randn(103, 3, generator=g), -1),
        lambda g: torch.randint(3, (103,), generator=g),
    ),
    "regression": (
        None,
        lambda g: torch.randn(103, generator=g),
        lambda g: torch.randn(103, generator=g),
    ),
}


def updated_per_batch(task, num_classes, scores, targets, losses, size) -> dict[str, float]:
    """What the module used to do: update checked metrics and a MeanMetric at every batch."""
    metrics, mean_loss = task_metrics(task, num_classes), MeanMetric()
    for batch_scores, batch_targets, loss in batches(scores, targets, losses, size):
        metrics.update(batch_scores, batch_targets)
        mean_loss.update(loss, weight=len(batch_targets))
    return {
        "loss": float(mean_loss.compute()),
        **{name: float(value) for name, value in metrics.compute().items()},
    }


@pytest.mark.parametrize("task", TASKS)
def test_the_epoch_metrics_are_those_of_per_batch_updates(task):
    num_classes, make_scores, make_targets = TASKS[task]
    generator = torch.Generator().manual_seed(0)
    scores, targets = make_scores(generator), make_targets(generator)
    losses = [0.5, 1.0, 2.0, 4.0]  # batches of 32, 32, 32 and 7 rows

    result = epoch_of(EpochOutputs(task, num_classes), scores, targets, losses, 32)

    expected = updated_per_batch(task, num_classes, scores, targets, losses, 32)
    assert set(result) == set(expected)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, rel=1e-5), name
    # The mean loss per row: the short last batch counts for its 7 rows only.
    assert result["loss"] == pytest.approx((32 * (0.5 + 1.0 + 2.0) + 7 * 4.0) / 103)


def test_a_half_precision_loss_does_not_overflow():
    outputs = EpochOutputs("binary", 2)
    outputs.update(torch.rand(1024), torch.randint(2, (1024,)), torch.tensor(80.0).half())
    assert float(outputs.compute()["loss"]) == pytest.approx(80.0)


def test_reset_starts_a_new_epoch():
    outputs = EpochOutputs("binary", 2)
    generator = torch.Generator().manual_seed(1)
    first = torch.rand(64, generator=generator), torch.randint(2, (64,), generator=generator)
    second = torch.rand(64, generator=generator), torch.randint(2, (64,), generator=generator)
    epoch_of(outputs, *first, [9.0, 9.0], 32)
    outputs.reset()

    again = epoch_of(outputs, *second, [1.0, 3.0], 32)

    fresh = epoch_of(EpochOutputs("binary", 2), *second, [1.0, 3.0], 32)
    assert again == fresh
    assert again["loss"] == pytest.approx(2.0)


def test_the_kept_outputs_stay_out_of_checkpoints():
    from {{ cookiecutter.package }}.model.module import TabularModule

    module = TabularModule(
        input_size=4,
        task="binary",
        num_classes=2,
        model={
            "_target_": "{{ cookiecutter.package }}.model.mlp.MLP",
            "hidden_sizes": [3],
        },
        loss={"_target_": "torch.nn.BCEWithLogitsLoss", "trains": {"binary": "logit"}},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
    )
    module.training_step((torch.randn(8, 4), torch.randint(2, (8,))), 0)
    assert all(key.startswith("net.") for key in module.state_dict())


def test_each_epoch_is_measured_at_its_own_threshold():
    """The threshold's metrics are built once and serve every epoch: each epoch's values are
    those of metrics built afresh at that epoch's threshold."""
    from torchmetrics.functional.classification import binary_accuracy, binary_f1_score

    outputs = EpochOutputs("binary", 2)
    generator = torch.Generator().manual_seed(2)
    for threshold in (0.3, 0.7, 0.45):
        scores = torch.rand(90, generator=generator)
        targets = torch.randint(2, (90,), generator=generator)
        outputs.update(scores, targets, torch.tensor(1.0))

        result = outputs.compute(threshold=threshold)
        outputs.reset()

        at = {"threshold": threshold}
        assert float(result["acc_at_threshold"]) == float(binary_accuracy(scores, targets, **at))
        assert float(result["f1_at_threshold"]) == float(binary_f1_score(scores, targets, **at))
        assert float(result["acc"]) == float(binary_accuracy(scores, targets))


def test_an_update_keeps_a_loss_per_batch_and_counts_itself():
    outputs = EpochOutputs("regression", None)
    outputs.update(torch.randn(5), torch.randn(5), torch.tensor(2.0))
    outputs.update(torch.randn(0), torch.randn(0), torch.tensor(float("nan")))  # an empty share

    assert outputs.update_called and outputs._update_count == 2
    assert [float(loss) for loss in outputs.row_losses] == [10.0]
    assert float(outputs.compute()["loss"]) == pytest.approx(2.0)


def test_regression_errors_are_in_the_targets_own_units():
    """The network's standardised outputs, times the training targets' deviation: mse and mae in
    the target's units, r2 unchanged, the loss as trained."""
    generator = torch.Generator().manual_seed(3)
    scores, targets = torch.randn(103, generator=generator), torch.randn(103, generator=generator)
    losses = [0.5, 1.0, 2.0, 4.0]
    standardised = epoch_of(EpochOutputs("regression", None), scores, targets, losses, 32)
    scaled = epoch_of(
        EpochOutputs("regression", None, target_scale=250.0), scores, targets, losses, 32
    )

    assert scaled["mse"] == pytest.approx(float(((scores - targets) * 250.0).pow(2).mean()))
    assert scaled["mse"] == pytest.approx(standardised["mse"] * 250.0**2, rel=1e-5)
    assert scaled["mae"] == pytest.approx(standardised["mae"] * 250.0, rel=1e-5)
    assert scaled["r2"] == pytest.approx(standardised["r2"], rel=1e-5)
    assert scaled["loss"] == standardised["loss"]
    # A scale means nothing to classification's metrics.
    assert EpochOutputs("binary", 2, target_scale=250.0).target_scale is None
