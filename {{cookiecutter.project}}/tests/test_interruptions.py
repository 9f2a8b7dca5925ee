"""The faults that hit a run in the middle of its life: Ctrl-C and SIGTERM, a second process on
the same run directory, a resume with settings that cannot continue the checkpoint, a save that
fails. Each leaves the run's files whole and says what to do in one line."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import PACKAGE, QUIET, run_app, snapshot

TESTS = Path(__file__).resolve().parent
# The runs import the test-only callbacks of training_hooks.py from here.
WITH_HOOKS = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
}
# Heart: 196 training rows, batch 32: 7 steps an epoch. Without dropout, so that a run resumed in
# the middle of an epoch can be compared number for number with one that was never stopped.
SHORT = ["trainer.max_epochs=3", "model.dropout=0.0", *QUIET]
STEPS_PER_EPOCH = 7


def hold(signal_file: Path, step: int, until_stopped: bool = True) -> str:
    settings = (
        f"_target_: training_hooks.HoldAtStep, step: {step}, signal_file: '{signal_file}', "
        f"until_stopped: {str(until_stopped).lower()}"
    )
    return "+callbacks.hold={" + settings + "}"


def start(args: list[str], workdir: Path, name: str = "run") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", f"{PACKAGE}.train", *args],
        cwd=workdir,
        env=WITH_HOOKS,
        stdout=open(workdir / f"{name}.out", "w"),  # noqa: SIM115 - closed with the process
        stderr=open(workdir / f"{name}.err", "w"),  # noqa: SIM115
    )


def wait_for(path: Path, process: subprocess.Popen, workdir: Path, name: str = "run") -> None:
    deadline = time.monotonic() + 300
    while not path.exists():
        assert process.poll() is None, (workdir / f"{name}.err").read_text()[-3000:]
        assert time.monotonic() < deadline, "the run never reached the held step"
        time.sleep(0.1)


def finish(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize(
    ("signum", "code"),
    # SIGTERM (a scheduler's stop) takes the same path as Ctrl-C: the slow tier runs it.
    [(signal.SIGINT, 130), pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)],
)
def test_a_signal_stops_at_the_step_saves_it_and_the_printed_command_resumes_it(
    tmp_path, signum, code
):
    run_dir = tmp_path / "run"
    held = tmp_path / "held"
    process = start([*SHORT, hold(held, step=10), f"hydra.run.dir={run_dir}"], tmp_path)
    wait_for(held, process, tmp_path)
    process.send_signal(signum)
    assert finish(process) == code
    stderr = (tmp_path / "run.err").read_text()
    assert "Traceback" not in stderr
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 11  # step 10 finished, then stopped: mid-epoch 1
    assert not (run_dir / "metrics.json").exists()
    assert not (run_dir / ".lock").exists()
    # The rest of the stopped epoch needs the batch size it started with.
    other_batches = run_app(
        "train",
        *SHORT,
        "ckpt_path=last",
        "data.batch_size=64",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert other_batches.returncode == 2
    assert "stopped in the middle of an epoch (after 4 of its 7 batches)" in other_batches.stderr
    command = stderr.split("Resume with:\n", 1)[1].strip().splitlines()[0]
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", f"{PACKAGE}.train"]
    assert "ckpt_path=last" in words and f"hydra.run.dir={run_dir}" in words

    resumed = subprocess.run(
        [sys.executable, *words[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    end = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert end["global_step"] == 3 * STEPS_PER_EPOCH
    # The epoch went on with the batches it had not trained on yet: the same model as a run that
    # was never stopped.
    never_stopped = tmp_path / "never_stopped"
    whole = run_app("train", *SHORT, f"hydra.run.dir={never_stopped}", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    reference = torch.load(never_stopped / "checkpoints" / "last.ckpt", weights_only=True)
    for name, tensor in reference["state_dict"].items():
        torch.testing.assert_close(end["state_dict"][name], tensor, msg=name)
    assert json.loads((run_dir / "metrics.json").read_text()) == pytest.approx(
        json.loads((never_stopped / "metrics.json").read_text())
    )


def test_a_second_ctrl_c_stops_at_once_and_the_checkpoints_stay_whole(tmp_path):
    run_dir = tmp_path / "run"
    held = tmp_path / "held"
    args = [*SHORT, hold(held, step=10, until_stopped=False), f"hydra.run.dir={run_dir}"]
    process = start(args, tmp_path)
    wait_for(held, process, tmp_path)
    process.send_signal(signal.SIGINT)
    time.sleep(1)
    assert process.poll() is None  # the first one waits for the step to end
    process.send_signal(signal.SIGINT)
    assert finish(process) == -signal.SIGINT  # the default action: stopped at once
    for name in ("best.ckpt", "last.ckpt"):
        saved = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        assert saved["global_step"] == STEPS_PER_EPOCH  # the end of epoch 0, as it was
    resumed = run_app("train", *SHORT, "ckpt_path=last", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]


def test_a_second_process_on_a_run_in_use_is_refused_and_the_first_is_unharmed(tmp_path):
    run_dir = tmp_path / "run"
    held = tmp_path / "held"
    first = start([*SHORT, hold(held, step=3), f"hydra.run.dir={run_dir}"], tmp_path)
    wait_for(held, first, tmp_path)
    try:
        for app, extra in (
            ("train", ["ckpt_path=last"]),
            ("train", []),
            ("cross_validate", ["data.num_folds=2"]),
        ):
            second = run_app(app, *QUIET, *extra, f"hydra.run.dir={run_dir}", cwd=tmp_path)
            assert second.returncode == 2, second.stderr[-3000:]
            lines = [line for line in second.stderr.splitlines() if line.startswith("error:")]
            assert len(lines) == 1
            assert f"hydra.run.dir={run_dir} is in use by process {first.pid}" in lines[0]
            assert "train" in lines[0]
    finally:
        first.send_signal(signal.SIGINT)
    assert finish(first) == 130
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4


def test_a_lock_left_by_a_killed_process_does_not_block_a_resume(tmp_path):
    run_dir = tmp_path / "run"
    held = tmp_path / "held"
    process = start(
        [*SHORT, hold(held, step=10, until_stopped=False), f"hydra.run.dir={run_dir}"], tmp_path
    )
    wait_for(held, process, tmp_path)
    process.kill()
    process.wait()
    assert (run_dir / ".lock").is_file()  # left behind, but no longer held
    resumed = run_app("train", *SHORT, "ckpt_path=last", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not (run_dir / ".lock").exists()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    result = run_app(
        "train", *QUIET, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}", cwd=run_dir.parent
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            ["model.hidden_sizes=[64,64]"],
            "model.hidden_sizes is [16] in the checkpoint and [64, 64] now",
        ),
        # The same comparison for each group: one per kind of change in the fast tier, the
        # rest (each a command's start-up of several seconds) in the slow one.
        pytest.param(["model=resnet"], "model._target_ is", marks=pytest.mark.slow),
        (
            ["optimizer=sgd"],
            "optimizer._target_ is torch.optim.Adam in the checkpoint and torch.optim.SGD now",
        ),
        pytest.param(
            ["loss=cross_entropy"],
            "loss._target_ is torch.nn.BCEWithLogitsLoss in the checkpoint",
            marks=pytest.mark.slow,
        ),
        (["data.drop=[chol]"], "the numeric inputs (data.numeric) is"),
        pytest.param(
            ["data=breast_cancer"], "the numeric inputs (data.numeric) is", marks=pytest.mark.slow
        ),
        pytest.param(
            ["scheduler=cosine"],
            "scheduler._target_ is none in the checkpoint",
            marks=pytest.mark.slow,
        ),
        # Restored from the checkpoint after the new settings are built: a change would be undone.
        (["optimizer.lr=0.05"], "optimizer.lr is 0.003 in the checkpoint and 0.05 now"),
        (["loss=bce", "loss.pos_weight=2.0"], "loss.pos_weight is none in the checkpoint and 2.0"),
    ],
)
def test_a_resume_that_cannot_continue_is_refused_and_changes_nothing(finished_run, changes, named):
    before = snapshot(finished_run)
    result = run_app(
        "train",
        *QUIET,
        "trainer.max_epochs=3",
        "ckpt_path=last",
        *changes,
        f"hydra.run.dir={finished_run}",
        cwd=finished_run.parent,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "cannot be continued with these settings" in lines[0]
    assert named in lines[0]
    assert snapshot(finished_run) == before  # every file, the log included, byte for byte


def test_a_resume_with_a_max_epochs_it_has_passed_is_refused(finished_run):
    """The finished run trained epochs 0 and 1; a run of one epoch cannot continue it."""
    before = snapshot(finished_run)
    result = run_app(
        "train",
        *QUIET,
        "trainer.max_epochs=1",
        "ckpt_path=last",
        f"hydra.run.dir={finished_run}",
        cwd=finished_run.parent,
    )
    assert result.returncode == 2
    assert "has trained 2 epochs, more than trainer.max_epochs=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(finished_run) == before


def test_settings_that_may_change_on_resume_are_accepted_and_recorded(tmp_path):
    run_dir = tmp_path / "run"
    first = run_app(
        "train", *QUIET, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = run_app(
        "train",
        *QUIET,
        "trainer.max_epochs=3",
        "callbacks.early_stopping.patience=5",
        "ckpt_path=last",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "changed on resume: trainer.max_epochs: 2 -> 3" in resumed.stdout
    from omegaconf import OmegaConf

    [entry] = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "resumes.yaml"))
    assert entry["changed"]["trainer.max_epochs"] == [2, 3]
    assert entry["changed"]["callbacks.early_stopping.patience"] == [20, 5]
    assert entry["global_step"] == 2 * STEPS_PER_EPOCH
    assert "max_epochs: 3" in (run_dir / ".hydra" / "config.yaml").read_text()
    # Lightning would restore the checkpoint's patience (20): the one given now is kept.
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    [stopper] = [state for name, state in last["callbacks"].items() if "EarlyStopping" in name]
    assert stopper["patience"] == 5


def test_a_save_that_loses_its_permission_keeps_the_previous_checkpoints(tmp_path):
    run_dir = tmp_path / "run"
    first = run_app(
        "train", *QUIET, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoints = run_dir / "checkpoints"
    saved = {name: (checkpoints / name).read_bytes() for name in ("best.ckpt", "last.ckpt")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.train",
            *QUIET,
            "trainer.max_epochs=4",
            "ckpt_path=last",
            f"hydra.run.dir={run_dir}",
            "+callbacks.denied={_target_: training_hooks.NoPermissionAtSave, step: 14}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=WITH_HOOKS,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith("error: could not write the checkpoint")
    )
    assert "Permission denied" in result.stderr
    for name, content in saved.items():
        assert (checkpoints / name).read_bytes() == content
    assert not list(checkpoints.glob(".*partial*"))


def test_a_job_that_slurm_requeued_resumes_from_its_last_checkpoint(tmp_path):
    """SLURM starts a preempted (or timed-out) job again with the same command and run directory,
    and counts the restart: the run goes on from last.ckpt instead of starting over."""
    run_dir = tmp_path / "run"
    args = [*QUIET, "trainer.max_epochs=3", f"hydra.run.dir={run_dir}"]
    first = run_app(
        "train", *QUIET, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr[-3000:]
    requeued = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.train", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SLURM_RESTART_COUNT": "1"},
    )
    assert requeued.returncode == 0, requeued.stderr[-3000:]
    assert "SLURM requeued this job: resuming from its last.ckpt" in requeued.stdout
    assert "Resuming from" in requeued.stdout
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 3 * STEPS_PER_EPOCH
