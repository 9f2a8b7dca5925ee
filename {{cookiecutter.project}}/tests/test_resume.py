"""Resume: a run killed with SIGKILL continues from its last checkpoint, as if never stopped."""

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import PACKAGE, QUIET, run_app
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

TESTS = Path(__file__).resolve().parent


def curve(run_dir: Path, tag: str) -> dict[int, float]:
    """Step -> value over every event file of the run (a resumed run adds a file)."""
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {point.step: point.value for point in events.Scalars(tag)}


def start_and_kill_after_epoch(args: list[str], epoch: int, workdir: Path) -> None:
    """Run train until epoch `epoch` starts (so the ones before are saved), then SIGKILL it."""
    signal_file = workdir / "holding"
    settings = f"_target_: training_hooks.HoldAtEpoch, epoch: {epoch}, signal_file: '{signal_file}'"
    hold = "+callbacks.hold={" + settings + "}"
    python_path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": python_path}
    with open(workdir / "killed.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.train", *args, hold],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            while not signal_file.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the run never reached the epoch"
                time.sleep(0.2)
            assert process.poll() is None, (workdir / "killed.log").read_text()[-3000:]
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL


def test_sigkilled_run_resumes_with_ckpt_path_last(tmp_path):
    run_dir = tmp_path / "run"
    args = [
        "trainer.max_epochs=4",
        "optimizer.lr=0.001",
        "model.dropout=0.5",
        "dropout_schedule=linear",
        "scheduler=step",
        "scheduler.step_size=1",
        "scheduler.gamma=0.5",
        *QUIET,
        f"hydra.run.dir={run_dir}",
    ]
    start_and_kill_after_epoch(args, epoch=2, workdir=tmp_path)

    checkpoints = run_dir / "checkpoints"
    killed = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert killed["epoch"] == 1
    steps_per_epoch = killed["global_step"] // 2
    assert killed["global_step"] == 2 * steps_per_epoch > 0
    assert killed["callbacks"]["DropoutScheduler"]["p"] == pytest.approx(1 / 3)
    assert not (run_dir / "metrics.json").exists()

    result = run_app("train", *args, "ckpt_path=last", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"saved in epoch 1 at step {2 * steps_per_epoch}" in result.stdout
    assert "Trained all 4 epochs" in result.stdout

    final = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert final["epoch"] == 3
    assert final["global_step"] == 4 * steps_per_epoch
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.ckpt", "last.ckpt"]
    assert (run_dir / "metrics.json").is_file()
    # The curves carry on in the same run: one point per epoch, the schedules where they left off.
    assert len(curve(run_dir, "train/loss")) == 4
    dropout = [round(v, 4) for _, v in sorted(curve(run_dir, "dropout/p").items())]
    assert dropout == [0.5, 0.3333, 0.1667, 0.0]
    lr = [v for _, v in sorted(curve(run_dir, "lr-Adam").items())]
    assert lr == pytest.approx([1e-3, 5e-4, 2.5e-4, 1.25e-4])


def quick(train_config, *overrides: str) -> dict[str, float]:
    return train(train_config(*QUIET, *overrides))


def test_resume_from_a_checkpoint_file(train_config, tmp_path, tmp_path_factory):
    first = tmp_path_factory.mktemp("first")
    quick(train_config, "trainer.max_epochs=2", f"run_dir={first}")
    source = first / "checkpoints" / "last.ckpt"
    steps = torch.load(source, weights_only=True)["global_step"]
    with pytest.warns(UserWarning, match="dirpath has changed"):  # best-so-far stays with `first`
        quick(train_config, "trainer.max_epochs=3", f"ckpt_path={source}")  # into tmp_path
    resumed = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert (resumed["epoch"], resumed["global_step"]) == (2, steps * 3 // 2)


def test_ckpt_path_last_without_a_checkpoint_is_an_error(train_config, tmp_path):
    with pytest.raises(UserError, match="ckpt_path=last found no checkpoint.*hydra.run.dir"):
        train(train_config("ckpt_path=last"))
    assert not (tmp_path / "checkpoints").exists()


def test_step_checkpoints_overwrite_the_one_last_checkpoint(train_config, tmp_path):
    quick(
        train_config,
        "trainer.max_epochs=1",
        "callbacks.step_checkpoint.every_n_train_steps=2",
        "callbacks.last_checkpoint=null",
    )
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 6  # 7 steps in the epoch: saved at 2, 4 and 6
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
    assert math.isfinite(last["state_dict"]["net.layers.0.weight"].sum())
