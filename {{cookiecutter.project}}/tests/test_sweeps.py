"""Multiruns: one run per job, named by its overrides, and one summary table of every job."""

import csv
import json
import re

from {{ cookiecutter.package }}.support.sweep_summary import (
    markdown_table,
    read_jobs,
    summary_rows,
)

JOBS = [
    "0_model.hidden_sizes=[8],optimizer=sgd,trainer.max_epochs=2",
    "1_model.hidden_sizes=[8],optimizer=adam,trainer.max_epochs=2",
]


def test_every_job_is_a_run_named_by_its_overrides(finished_sweep):
    sweep, _ = finished_sweep
    # The progress bar and model summary settings are left out of the names.
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == JOBS
    for job in JOBS:
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        assert {"test/loss", "test/auroc"} <= set(metrics)
        assert list((sweep / job).glob("events.out.tfevents.*"))
        # Its log keeps what it printed: the data, why training ended, the test metrics.
        log = (sweep / job / "train.log").read_text()
        for said in ("Data: the heart demo table", "Trained all 2 epochs", "Test metrics:"):
            assert said in log, said
        assert re.search(rf"\n  test/auroc +{metrics['test/auroc']:.4f}\n", log)


def test_the_sweep_writes_a_summary_table_of_every_job(finished_sweep):
    sweep, result = finished_sweep
    with (sweep / "summary.csv").open() as file:
        rows = list(csv.DictReader(file))
    # Only the setting that differs gets a column: the job's name shows the shared ones.
    assert [(row["job"], row["optimizer"]) for row in rows] == list(
        zip(JOBS, ["sgd", "adam"], strict=True)
    )
    assert "model.hidden_sizes" not in rows[0]
    for row, job in zip(rows, JOBS, strict=True):
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        assert float(row["test/auroc"]) == metrics["test/auroc"]
    table = (sweep / "summary.md").read_text()
    header = (
        "| job | optimizer | test/loss | test/acc | test/auroc | test/f1 | test/threshold "
        "| test/acc_at_threshold | test/f1_at_threshold |"
    )
    assert table.splitlines()[0] == header
    assert table in result.stdout


def write_job(sweep, name, number, overrides, metrics=None):
    hydra_dir = sweep / name / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (hydra_dir / "hydra.yaml").write_text(f"hydra:\n  job:\n    num: {number}\n")
    if metrics is not None:
        (sweep / name / "metrics.json").write_text(json.dumps(metrics))


def test_summary_keeps_unfinished_jobs_and_orders_jobs_by_number(tmp_path):
    write_job(tmp_path, "10_lr=0.1", 10, ["optimizer.lr=0.1", "seed=1"], {"test/loss": 0.25})
    write_job(tmp_path, "2_lr=0.2", 2, ["optimizer.lr=0.2", "seed=1"])  # failed: no metrics
    # A value with a slash nests the job's directory; a pipe must not break the Markdown table.
    write_job(tmp_path, "3_monitor=val/a|b", 3, ["optimizer.lr=0.3", "seed=1"], {"test/loss": 0.5})
    rows = summary_rows(read_jobs(tmp_path))
    assert rows == [
        {"job": "2_lr=0.2", "optimizer.lr": "0.2"},
        {"job": "3_monitor=val/a|b", "optimizer.lr": "0.3", "test/loss": 0.5},
        {"job": "10_lr=0.1", "optimizer.lr": "0.1", "test/loss": 0.25},
    ]
    assert markdown_table(rows).splitlines() == [
        "| job | optimizer.lr | test/loss |",
        "|---|---|---|",
        "| 2_lr=0.2 | 0.2 |  |",
        "| 3_monitor=val/a\\|b | 0.3 | 0.5000 |",
        "| 10_lr=0.1 | 0.1 | 0.2500 |",
    ]


def test_a_single_job_shows_all_its_settings(tmp_path):
    write_job(tmp_path, "0_seed=1", 0, ["seed=1", "optimizer=sgd"], {"test/loss": 0.5})
    assert summary_rows(read_jobs(tmp_path)) == [
        {"job": "0_seed=1", "seed": "1", "optimizer": "sgd", "test/loss": 0.5}
    ]
