"""A refused run writes nothing misleading and never overwrites an earlier run's files; an output
folder that cannot be written is one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PACKAGE, QUIET, run_app, snapshot

QUICK = ["trainer.max_epochs=1", *QUIET]


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    result = run_app(
        "train", *QUICK, "model.dropout=0.1", f"hydra.run.dir={run_dir}", cwd=run_dir.parent
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_a_run_records_its_config_and_overrides(finished_run):
    assert "dropout: 0.1" in (finished_run / ".hydra" / "config.yaml").read_text()
    assert "- model.dropout=0.1" in (finished_run / ".hydra" / "overrides.yaml").read_text()
    assert (finished_run / ".hydra" / "hydra.yaml").is_file()


@pytest.mark.parametrize(
    "app, bad",
    [
        ("train", "model.dropout=1.5"),  # configuration
        ("train", "ckpt_path=missing.ckpt"),  # checkpoint
        ("evaluate", "ckpt_path=missing.ckpt"),
    ],
)
def test_a_refused_command_leaves_an_earlier_run_untouched(finished_run, app, bad):
    before = snapshot(finished_run)
    assert {".hydra/config.yaml", "metrics.json", "checkpoints/best.ckpt"} <= set(before)
    settings = QUICK if app == "train" else []
    result = run_app(app, *settings, bad, f"hydra.run.dir={finished_run}", cwd=finished_run.parent)
    one_error_line(result)
    assert snapshot(finished_run) == before


@pytest.mark.parametrize("bad", ["optimizer.lr=0", "ckpt_path=missing.ckpt"])
def test_a_refused_run_leaves_no_checkpoints_config_or_metrics(tmp_path, bad):
    run_dir = tmp_path / "run"
    one_error_line(run_app("train", *QUICK, bad, f"hydra.run.dir={run_dir}", cwd=tmp_path))
    assert not run_dir.exists()  # not even a folder holding only Hydra's log


def test_a_user_error_is_printed_by_the_first_process_only(tmp_path):
    """Every DDP process meets the same error; only the first one says it, all exit 2."""
    for rank, printed in (("0", True), ("1", False)):
        env = {**os.environ, "RANK": rank, "LOCAL_RANK": rank}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                f"{PACKAGE}.train",
                "model.dropout=1.5",
                f"hydra.run.dir={tmp_path / rank}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert result.returncode == 2
        assert ("error: model.dropout=1.5" in result.stderr) is printed


@pytest.mark.parametrize("app", ["train", "evaluate"])
def test_a_run_directory_under_a_file_is_one_line_naming_hydra_run_dir(tmp_path, app):
    (tmp_path / "taken").write_text("a file")
    run_dir = tmp_path / "taken" / "run"
    line = one_error_line(
        run_app(app, "ckpt_path=x.ckpt", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    )
    assert line == (
        f"error: hydra.run.dir={run_dir} cannot be created or written: "
        f"{tmp_path / 'taken'} is a file, not a directory"
    )


def test_a_file_where_the_checkpoints_go_is_one_line_before_training(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "checkpoints").write_text("a file")
    line = one_error_line(run_app("train", *QUICK, f"hydra.run.dir={run_dir}", cwd=tmp_path))
    assert f"cannot write checkpoints to {run_dir}/checkpoints" in line
    assert f"hydra.run.dir={run_dir}" in line
    assert f"{run_dir / 'checkpoints'} is a file, not a directory" in line
    assert not (run_dir / "metrics.json").exists()
