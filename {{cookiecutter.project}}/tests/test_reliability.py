"""Faults lose nothing: a kill or a full disk during a checkpoint save leaves the previous
checkpoint whole, and the next run cleans up after it."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import torch
from conftest import PACKAGE, QUIET

TESTS = Path(__file__).resolve().parent
QUICK = ["trainer.max_epochs=2", *QUIET]


def train_with_hooks(run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`train` in a subprocess that can import tests/training_hooks.py."""
    python_path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.train", *QUICK, f"hydra.run.dir={run_dir}", *args],
        cwd=run_dir.parent,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": python_path},
    )


def partial_files(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").glob(".*partial*"))


def test_a_kill_during_a_save_leaves_the_previous_checkpoint_and_resume_cleans_up(tmp_path):
    run_dir = tmp_path / "run"
    kill = "+callbacks.kill={_target_: training_hooks.KillDuringSave, filename: last.ckpt, nth: 2}"
    killed = train_with_hooks(run_dir, kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert len(partial_files(run_dir)) == 1  # killed half-way through epoch 1's last.ckpt
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 0  # epoch 0's, whole

    resumed = train_with_hooks(run_dir, "ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert partial_files(run_dir) == []
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
    assert (run_dir / "metrics.json").is_file()


def test_only_partial_files_are_removed_at_the_start_of_a_run(tmp_path):
    run_dir = tmp_path / "run"
    checkpoints = run_dir / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / ".last.ckpt.partial-123").write_bytes(b"half")
    (checkpoints / "notes.txt").write_text("mine")
    result = train_with_hooks(run_dir, "trainer.max_epochs=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.ckpt", "last.ckpt", "notes.txt"]


def test_a_full_disk_is_one_line_naming_the_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    result = train_with_hooks(run_dir, "+callbacks.full={_target_: training_hooks.FullDiskAtSave}")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line == (
        f"error: could not write the checkpoint {run_dir / 'checkpoints' / 'best.ckpt'}"
        ": No space left on device"
    )
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == []
    assert not (run_dir / "metrics.json").exists()
