"""Imbalanced classes: class weights counted on the training rows (a cross-fitted ensemble's:
the training and validation rows it pools), a decision threshold chosen on the validation split
and used by the test metrics, the plots and predict, and the line that calls out a model
predicting one class for every row."""

import contextlib
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import QUIET, compose_config, run_app
from omegaconf import OmegaConf
from threshold_checks import by_brute_force, criterion_at
from torchmetrics.functional.classification import binary_accuracy, binary_f1_score

from {{ cookiecutter.package }} import evaluate as evaluate_app
from {{ cookiecutter.package }} import predict as predict_app
from {{ cookiecutter.package }}.callbacks import test_plots
from {{ cookiecutter.package }}.model.class_weights import (
    balanced_class_weights,
    balanced_pos_weight,
)
from {{ cookiecutter.package }}.model.ensemble import resolved_members
from {{ cookiecutter.package }}.model.epoch_outputs import PREDICTED, EpochOutputs
from {{ cookiecutter.package }}.model.thresholds import choose_threshold
from {{ cookiecutter.package }}.predict import restore_trained
from {{ cookiecutter.package }}.support.build import (
    build_datamodule,
    with_balanced_weights,
)
from {{ cookiecutter.package }}.support.checkpoints import load_checkpoint
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.support.reports import one_class_note
from {{ cookiecutter.package }}.train import train

TARGET = "label"


def imbalanced_table(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """About 8% "yes" (the positive class: it sorts second), with a real but faint signal in two
    of three inputs: a short training calls every row "no" at 0.5."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(rows, 3))
    logit = 1.5 * inputs[:, 0] - 1.0 * inputs[:, 1] - 3.5
    positive = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(inputs, columns=["a", "b", "c"])
    frame[TARGET] = np.where(positive, "yes", "no")
    return frame


def train_on(table: Path, run_dir: Path, *overrides: str) -> tuple[dict, str]:
    """Train in this process; the test metrics and what it printed."""
    cfg = compose_config(
        "train",
        [
            f"run_dir={run_dir}",
            "data=csv",
            f"data.path={table}",
            f"data.target={TARGET}",
            *QUIET,
            *overrides,
        ],
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics = train(cfg)
    return metrics, printed.getvalue()


def scores_of(ckpt: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The checkpoint's model's positive-class probabilities on a split, and its targets,
    computed here from the checkpoint alone."""
    datamodule, module = restore_trained(load_checkpoint(ckpt))
    datamodule.setup()
    table = datamodule.table(split)
    module.eval()
    with torch.inference_mode():
        return module.predict_scores(module(table.features)), table.targets


def predictions(ckpt: Path, table: Path, workdir: Path) -> pd.DataFrame:
    """What the predict app writes for every row of the table."""
    output = workdir / "predictions.csv"
    config = [f"ckpt_path={ckpt}", f"input={table}", f"output={output}", f"run_dir={workdir}"]
    predict_app.predict(compose_config("predict", config))
    return pd.read_csv(output)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("imbalanced") / "imbalanced.csv"
    imbalanced_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(table, tmp_path_factory):
    """The default settings (no class weights) for five epochs, with the test plots' inputs
    recorded on their way to the pictures."""
    run_dir = tmp_path_factory.mktemp("run")
    drawn = {}

    def record(name, draw):
        def recorded(*args):
            drawn[name] = args
            return draw(*args)

        return recorded

    with pytest.MonkeyPatch.context() as patch:
        for name in ("confusion_matrix_image", "precision_recall_image"):
            patch.setattr(test_plots, name, record(name, getattr(test_plots, name)))
        # One network: the threshold mechanics on the validation split. A cross-fitted ensemble's
        # threshold, chosen on its pooled rows, is test_ensemble.py's.
        metrics, printed = train_on(table, run_dir, "trainer.max_epochs=5", "model.members=1")
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    return SimpleNamespace(
        run_dir=run_dir, ckpt=ckpt, metrics=metrics, printed=printed, drawn=drawn
    )


# Class weights -------------------------------------------------------------------------------


@pytest.mark.parametrize("counts", [[90, 10], [5, 5, 5], [50, 7, 300]])
def test_balanced_weights_are_scikit_learns(counts):
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.repeat(np.arange(len(counts)), counts)
    expected = compute_class_weight("balanced", classes=np.arange(len(counts)), y=labels)
    assert balanced_class_weights(counts) == pytest.approx(expected.tolist())
    if len(counts) == 2:
        assert balanced_pos_weight(counts) == counts[0] / counts[1]


def training_counts(table: Path, cfg) -> tuple[list[int], list[int]]:
    """Rows per class ("no", "yes") among the rows the run trains on, and among all: its training
    split, or, when its ensemble is cross-fitted (model/ensemble.py), the training and validation
    splits together."""
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")
    trained_on = datamodule.split_rows["train"]
    if resolved_members(cfg.model.members, len(trained_on)) > 1 and cfg.model.cross_fit:
        trained_on = np.concatenate([trained_on, datamodule.split_rows["val"]])
    labels = pd.read_csv(table)[TARGET]
    training = labels.iloc[trained_on]
    return [int((training == c).sum()) for c in ("no", "yes")], [
        int((labels == c).sum()) for c in ("no", "yes")
    ]


def balanced_expectation(table: Path, setting: str, *overrides: str):
    """What `<setting>=balanced` should become, from the rows the run trains on; and what it
    would be from all rows, which must differ for a test to tell them apart."""
    table_at = ["data=csv", f"data.path={table}", f"data.target={TARGET}"]
    (no, yes), (all_no, all_yes) = training_counts(
        table, compose_config("train", [*table_at, *overrides])
    )
    if setting == "pos_weight":
        return no / yes, all_no / all_yes
    return [(no + yes) / (2 * no), (no + yes) / (2 * yes)], [
        (all_no + all_yes) / (2 * all_no),
        (all_no + all_yes) / (2 * all_yes),
    ]


# The default (a cross-fitted ensemble on a table this small: the pooled training and validation
# rows), for either loss, and one network (the training split).
@pytest.mark.parametrize(
    ("loss", "setting", "members"),
    [
        ("bce", "pos_weight", "model.members=auto"),
        ("cross_entropy", "weight", "model.members=auto"),
        ("bce", "pos_weight", "model.members=1"),
    ],
)
def test_balanced_weights_are_counted_on_the_training_rows_only(
    table, tmp_path, loss, setting, members
):
    expected, from_all_rows = balanced_expectation(table, setting, members)
    assert expected != pytest.approx(from_all_rows)  # else the test could not tell them apart
    if members.endswith("auto"):
        from_training_split, _ = balanced_expectation(table, setting, "model.members=1")
        assert expected != pytest.approx(from_training_split)
    cfg = compose_config(
        "train",
        [
            f"run_dir={tmp_path}",
            "data=csv",
            f"data.path={table}",
            f"data.target={TARGET}",
            f"loss={loss}",
            f"loss.{setting}=balanced",
            members,
            "trainer.max_epochs=1",
            *QUIET,
        ],
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        train(cfg)
    assert ("cross-fit:" in printed.getvalue()) == members.endswith("auto")
    # The config the run records (support/run_dirs.save_run_config writes this one).
    assert OmegaConf.to_container(cfg.loss)[setting] == pytest.approx(expected)
    saved = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)
    hyper = saved["hyper_parameters"]["loss"][setting]
    assert hyper == pytest.approx(expected)
    assert all(type(v) is float for v in (hyper if isinstance(hyper, list) else [hyper]))


def test_the_run_records_the_balanced_weight_it_used(table, tmp_path):
    run_dir = tmp_path / "run"
    result = run_app(
        "train",
        "data=csv",
        f"data.path={table}",
        f"data.target={TARGET}",
        "loss=bce",
        "loss.pos_weight=balanced",
        "trainer.max_epochs=1",
        *QUIET,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert record.loss.pos_weight == pytest.approx(balanced_expectation(table, "pos_weight")[0])


def test_balanced_weights_need_every_class_among_the_training_rows():
    lacking = SimpleNamespace(
        task="binary",
        classes=["no", "yes"],
        table=lambda split: SimpleNamespace(targets=torch.tensor([0, 0, 0])),
    )
    loss = compose_config("train", ["loss=bce", "loss.pos_weight=balanced"]).loss
    with pytest.raises(UserError, match="loss.pos_weight=balanced: the training rows hold no yes"):
        with_balanced_weights(loss, lacking)


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        (["loss=bce", "loss.pos_weight=balanced"], None),
        (["loss=cross_entropy", "loss.weight=balanced"], None),
        (["callbacks.decision_threshold.criterion=f1"], None),
        (["callbacks.decision_threshold=null"], None),
        (["loss=bce", "loss.pos_weight=balance"], "loss.pos_weight='balance' is not allowed"),
        (["loss=cross_entropy", "loss.weight=even"], "loss.weight='even' is not allowed"),
        (
            ["callbacks.decision_threshold.criterion=accuracy"],
            "callbacks.decision_threshold.criterion='accuracy' is not allowed: expected one "
            "of balanced_accuracy",
        ),
    ],
)
def test_the_settings_are_checked(tmp_path, overrides, refused):
    cfg = compose_config("train", [f"run_dir={tmp_path}", *overrides])
    if refused is None:
        check_config(cfg)
    else:
        with pytest.raises(UserError, match=refused.replace(".", r"\.").replace("(", r"\(")):
            check_config(cfg)


# Choosing the threshold ----------------------------------------------------------------------


@pytest.mark.parametrize("criterion", ["balanced_accuracy", "f1"])
@pytest.mark.parametrize("seed", range(5))
def test_the_threshold_is_the_best_cut_of_the_rows(criterion, seed):
    generator = torch.Generator().manual_seed(seed)
    targets = (torch.rand(200, generator=generator) < 0.1).long()
    scores = torch.sigmoid(torch.randn(200, generator=generator) + targets - 2.0)
    scores[:20] = scores[20]  # ties are common in small validation splits

    threshold = choose_threshold(scores, targets, criterion)

    assert criterion_at(scores, targets, threshold, criterion) == pytest.approx(
        by_brute_force(scores, targets, criterion)
    )
    assert threshold not in scores.tolist()  # half-way between two scores, not on one
    assert np.float32(threshold) == threshold  # float32 and float64 cut in the same place


def test_f1_and_balanced_accuracy_choose_differently():
    # Balanced accuracy buys the last positive with two false alarms; f1 does not.
    scores = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    targets = torch.tensor([0, 0, 0, 0, 0, 1, 0, 0, 1, 1])
    assert choose_threshold(scores, targets, "balanced_accuracy") == pytest.approx(0.55)
    assert choose_threshold(scores, targets, "f1") == pytest.approx(0.85)


def test_no_threshold_is_chosen_without_both_classes():
    assert choose_threshold(torch.rand(10), torch.zeros(10, dtype=torch.long), "f1") is None


def test_the_epoch_reports_its_metrics_at_the_threshold_too():
    generator = torch.Generator().manual_seed(3)
    scores = torch.rand(97, generator=generator)
    targets = (torch.rand(97, generator=generator) < 0.2).long()
    outputs = EpochOutputs("binary", 2, count_predictions=True)
    outputs.update(scores, targets, torch.tensor(1.0))

    result = outputs.compute(threshold=0.3)

    assert float(result["threshold"]) == pytest.approx(0.3)
    assert float(result["acc"]) == pytest.approx(float(binary_accuracy(scores, targets)))
    assert float(result["acc_at_threshold"]) == pytest.approx(
        float(binary_accuracy(scores, targets, threshold=0.3))
    )
    assert float(result["f1_at_threshold"]) == pytest.approx(
        float(binary_f1_score(scores, targets, threshold=0.3))
    )
    above = int((scores > 0.3).sum())
    assert result[PREDICTED] == {
        "usual": [int((scores <= 0.5).sum()), int((scores > 0.5).sum())],
        "at_threshold": [97 - above, above],
    }


# A real run ----------------------------------------------------------------------------------


def test_the_threshold_is_chosen_on_the_best_checkpoints_validation_predictions(trained):
    saved = torch.load(trained.ckpt, weights_only=True)
    threshold = saved["decision_threshold"]
    assert type(threshold) is float
    scores, targets = scores_of(trained.ckpt, "val")
    assert criterion_at(scores, targets, threshold, "balanced_accuracy") == pytest.approx(
        by_brute_force(scores, targets, "balanced_accuracy")
    )
    assert "decision_threshold" in torch.load(
        trained.run_dir / "checkpoints" / "last.ckpt", weights_only=True
    )


def test_the_test_metrics_are_reported_at_0_5_and_at_the_threshold(trained):
    threshold = torch.load(trained.ckpt, weights_only=True)["decision_threshold"]
    scores, targets = scores_of(trained.ckpt, "test")
    assert not (scores > 0.5).any() and (scores > threshold).any()  # the case at hand
    metrics = trained.metrics
    assert metrics["test/threshold"] == pytest.approx(threshold)
    assert metrics["test/acc"] == pytest.approx(float((targets == 0).float().mean()))
    assert metrics["test/f1"] == 0.0
    expected = ((scores > threshold).long() == targets).float().mean()
    assert metrics["test/acc_at_threshold"] == pytest.approx(float(expected))
    assert metrics["test/f1_at_threshold"] == pytest.approx(
        float(binary_f1_score(scores, targets, threshold=threshold))
    )
    assert "test/acc_at_threshold" in (trained.run_dir / "metrics.json").read_text()


def test_the_confusion_matrix_and_the_pr_curve_show_both_thresholds(trained):
    threshold = torch.load(trained.ckpt, weights_only=True)["decision_threshold"]
    scores, targets = scores_of(trained.ckpt, "test")
    matrices, classes = trained.drawn["confusion_matrix_image"]
    assert classes == ["no", "yes"]
    at_half, at_threshold = matrices.values()
    assert at_half.tolist() == [[int((targets == 0).sum()), 0], [int(targets.sum()), 0]]
    predicted = (scores > threshold).long()
    assert at_threshold.tolist() == [
        [int(((targets == t) & (predicted == p)).sum()) for p in (0, 1)] for t in (0, 1)
    ]
    _, _, points, positive = trained.drawn["precision_recall_image"]
    assert positive == "yes"
    recall, precision = list(points.values())[1]
    hits = int((predicted & targets).sum())
    assert recall == pytest.approx(hits / int(targets.sum()))
    assert precision == pytest.approx(hits / int(predicted.sum()))


def test_a_model_that_calls_every_row_one_class_is_called_out(trained):
    lines = trained.printed.splitlines()
    [note] = [line for line in lines if line.startswith("Note: ")]
    assert "at 0.5 the model predicts 'no' for every test row" in note
    where = lines.index(note)  # right after the test metrics
    assert lines[where - 1].lstrip().startswith("test/") and lines[where + 1].startswith("Saved ")


def test_predict_answers_at_the_checkpoints_threshold(trained, table, tmp_path):
    threshold = torch.load(trained.ckpt, weights_only=True)["decision_threshold"]
    predicted = predictions(trained.ckpt, table, tmp_path)
    above = predicted["probability_yes"] > threshold
    assert (predicted["prediction"] == np.where(above, "yes", "no")).all()
    assert (predicted["prediction"] == "yes").any()
    assert not (predicted["probability_yes"] > 0.5).any()  # at 0.5 every answer would be "no"


def test_a_checkpoint_without_a_threshold_decides_at_0_5(trained, table, tmp_path):
    old = torch.load(trained.ckpt, weights_only=True)
    del old["decision_threshold"]
    ckpt = tmp_path / "old.ckpt"
    torch.save(old, ckpt)

    cfg = compose_config("evaluate", [f"ckpt_path={ckpt}", f"run_dir={tmp_path}"])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics = evaluate_app.evaluate(cfg, [])
    assert set(metrics) == {"test/loss", "test/acc", "test/auroc", "test/f1"}
    assert metrics["test/acc"] == pytest.approx(trained.metrics["test/acc"])
    assert "Warning: the model predicts 'no' for every test row" in printed.getvalue()

    assert (predictions(ckpt, table, tmp_path)["prediction"] == "no").all()


def test_evaluate_uses_the_checkpoints_threshold(trained, tmp_path):
    cfg = compose_config("evaluate", [f"ckpt_path={trained.ckpt}", f"run_dir={tmp_path}"])
    with contextlib.redirect_stdout(io.StringIO()):
        metrics = evaluate_app.evaluate(cfg, [])
    assert metrics == pytest.approx(trained.metrics, abs=1e-6)


def test_without_the_callback_nothing_is_chosen(table, tmp_path):
    metrics, _ = train_on(
        table, tmp_path, "callbacks.decision_threshold=null", "trainer.max_epochs=1"
    )
    assert set(metrics) == {"test/loss", "test/acc", "test/auroc", "test/f1"}
    saved = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)
    assert "decision_threshold" not in saved


@pytest.mark.parametrize(
    ("predicted", "threshold", "expected"),
    [
        ({"usual": [50, 0]}, None, "Warning: the model predicts 'no' for every test row, so"),
        (
            {"usual": [50, 0], "at_threshold": [50, 0]},
            0.2,
            "Warning: the model predicts 'no' for every test row, at 0.5 and at its decision "
            "threshold 0.2",
        ),
        (
            {"usual": [40, 10], "at_threshold": [0, 50]},
            0.01,
            "Warning: at its decision threshold 0.01 the model predicts 'yes' for every test row",
        ),
        (
            {"usual": [50, 0], "at_threshold": [45, 5]},
            0.2,
            "Note: at 0.5 the model predicts 'no' for every test row",
        ),
        ({"usual": [40, 10], "at_threshold": [45, 5]}, 0.6, None),
        ({}, None, None),
    ],
)
def test_the_one_class_line(predicted, threshold, expected):
    note = one_class_note(predicted, ["no", "yes"], threshold)
    assert note == expected if expected is None else note.startswith(expected)


def test_a_multiclass_model_of_one_class_is_called_out():
    note = one_class_note({"usual": [0, 30, 0]}, ["a", "b", "c"], None)
    assert note.startswith("Warning: the model predicts 'b' for every test row")
    assert note.endswith("loss=cross_entropy loss.weight=balanced")
