"""Cross-validation trains each fold of each repeat through train, then sums up the test metrics."""

import contextlib
import io
import json
import statistics

import pytest
from conftest import compose_config

from {{ cookiecutter.package }}.cross_validate import cross_validate, fold_config
from {{ cookiecutter.package }}.support.reports import report_cross_validation


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The run directory, the summary and what cross_validate printed."""
    run_dir = tmp_path_factory.mktemp("cv")
    cfg = compose_config(
        "cross_validate",
        [
            f"run_dir={run_dir}",
            "data.num_folds=2",
            "repeats=2",
            "trainer.max_epochs=2",
        ],
    )
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        summary = cross_validate(cfg)
    return run_dir, summary, printed.getvalue()


def test_each_fold_is_a_train_run_with_its_own_curves(finished):
    run_dir, _, printed = finished
    folds = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("repeat_*/fold_*"))
    assert folds == ["repeat_0/fold_0", "repeat_0/fold_1", "repeat_1/fold_0", "repeat_1/fold_1"]
    # Each fold's line names it as its folder does, and data.fold, with the count done so far.
    lines = [line.split(":")[0] for line in printed.splitlines() if line.startswith("repeat_")]
    assert lines == [f"{fold} ({done} of 4)" for done, fold in enumerate(folds, 1)]
    assert "fold 0 of 2 as test" in printed  # the first fold's data summary says the same
    for fold in folds:
        assert list((run_dir / fold).glob("events.out.tfevents.*"))
        assert (run_dir / fold / "checkpoints" / "best.ckpt").is_file()
        assert (run_dir / fold / "metrics.json").is_file()


def test_summary_has_mean_and_std_of_every_test_metric(finished):
    run_dir, summary, _ = finished
    report = json.loads((run_dir / "cross_validation.json").read_text())
    assert (report["num_folds"], report["repeats"], report["runs"]) == (2, 2, 4)
    assert report["metrics"] == summary
    assert set(summary) == {
        "test/loss",
        "test/acc",
        "test/auroc",
        "test/f1",
        "test/threshold",
        "test/acc_at_threshold",
        "test/f1_at_threshold",
    }
    folds = sorted(run_dir.glob("repeat_*/fold_*/metrics.json"))
    aurocs = [json.loads(f.read_text())["test/auroc"] for f in folds]
    assert summary["test/auroc"]["values"] == pytest.approx(aurocs)
    assert summary["test/auroc"]["mean"] == pytest.approx(statistics.fmean(aurocs))
    assert summary["test/auroc"]["std"] == pytest.approx(statistics.stdev(aurocs))


def test_each_repeat_cuts_new_folds_into_its_own_directory(tmp_path):
    cfg = compose_config("cross_validate", [f"run_dir={tmp_path}", "seed=7"])
    run = fold_config(cfg, repeat=2, fold=3)
    assert run.run_dir == str(tmp_path / "repeat_2" / "fold_3")
    assert (run.seed, run.data.seed, run.data.fold) == (9, 9, 3)
    assert (cfg.seed, cfg.data.fold) == (7, 0)  # the base config is left as it was


def test_the_printed_table_lists_mean_and_std(finished, capsys):
    run_dir, summary, _ = finished
    report_cross_validation(summary, run_dir / "cross_validation.json")
    lines = capsys.readouterr().out.splitlines()
    assert "(4 runs)" in lines[1]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:-1]}
    assert rows == {
        name: [f"{stats['mean']:.4f}", f"{stats['std']:.4f}"] for name, stats in summary.items()
    }
