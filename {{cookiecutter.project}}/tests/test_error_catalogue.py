"""Every user error is one `error:` line naming the key or file and the value, exit 2, no
traceback (unless HYDRA_FULL_ERROR=1); a bug of ours keeps its traceback; typos keep Hydra's
own message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import PACKAGE, run_app

TESTS = Path(__file__).resolve().parent


def user_error(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "override, expected",
    [
        ("model.dropout=1.0", "model.dropout=1.0 is not allowed: expected a number in [0, 1)"),
        ("optimizer.lr=-0.1", "optimizer.lr=-0.1 is not allowed: expected a number > 0"),
        ("model.hidden_sizes=[16,0]", "model.hidden_sizes=[16, 0] is not allowed"),
        (
            "loss=quantile",
            "loss=quantile ({{ cookiecutter.package }}.model.quantile_loss.QuantileLoss) "
            "cannot train a binary task (it trains regression); losses for binary: "
            "bce, cross_entropy, huber, l1, mse",
        ),
        # A network file naming a class that does not follow the network contract, or none.
        (
            "model._target_=torch.nn.Linear",
            "model._target_='torch.nn.Linear' does not take input_size and output_size as "
            "keywords and the settings of its file (hidden_sizes, activation, dropout, init): "
            "missing a required argument: 'in_features'",
        ),
        ("model._target_=no_such_package.Net", "model._target_='no_such_package.Net' cannot be"),
    ],
)
def test_configuration_errors(tmp_path, override, expected):
    line = user_error(run_app("train", override, f"hydra.run.dir={tmp_path}", cwd=tmp_path))
    assert expected in line


def checkpoint_case(tmp_path: Path, case: str) -> Path:
    if case == "missing":
        return tmp_path / "missing.ckpt"
    if case == "directory":
        (tmp_path / "folder.ckpt").mkdir()
        return tmp_path / "folder.ckpt"
    if case == "garbage":
        (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint at all")
        return tmp_path / "garbage.ckpt"
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.ckpt")  # a checkpoint, not ours
    return tmp_path / "foreign.ckpt"


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "is not a file"),
        ("directory", "is not a file"),
        ("garbage", "is not a readable checkpoint"),
        ("foreign", "is not a checkpoint written by this project's train"),
    ],
)
def test_checkpoint_errors(tmp_path, case, expected):
    path = checkpoint_case(tmp_path, case)
    line = user_error(
        run_app("evaluate", f"ckpt_path={path}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    )
    assert f"ckpt_path={str(path)!r}" in line and expected in line


def test_hydra_full_error_shows_the_traceback_of_a_user_error(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.train",
            "model.dropout=1.0",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HYDRA_FULL_ERROR": "1"},
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "UserError: model.dropout=1.0" in result.stderr


def test_a_bug_keeps_its_traceback(tmp_path):
    python_path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.train",
            "trainer.max_epochs=1",
            "callbacks.progress_bar.refresh_rate=0",
            f"hydra.run.dir={tmp_path / 'run'}",
            "+callbacks.bug={_target_: training_hooks.RaiseBug}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": python_path},
    )
    assert result.returncode not in (0, 2)
    assert "Traceback" in result.stderr
    assert "RuntimeError: a bug, not the user's mistake" in result.stderr


@pytest.mark.parametrize("app", ["train", "evaluate"])
def test_configuration_is_refused_before_torch_is_imported(tmp_path, app):
    code = (
        f"import sys; sys.argv = ['{app}', 'ckpt_path=x.ckpt', 'seed=-1', "
        "'hydra.run.dir=' + sys.argv[1]]\n"
        f"from {PACKAGE}.{app} import main\n"
        "try:\n    main()\nexcept SystemExit as stop:\n"
        "    print('exit', stop.code, 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "seed=-1 is not allowed" in result.stderr
    assert result.stdout.strip() == "exit 2 False"


def test_a_mistyped_key_keeps_hydras_message(tmp_path):
    result = run_app("train", "model.dropuot=0.2", f"hydra.run.dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 1
    assert "Could not override 'model.dropuot'" in result.stderr


def test_a_mistyped_choice_keeps_hydras_message(tmp_path):
    result = run_app("train", "optimizer=adamm", f"hydra.run.dir={tmp_path}", cwd=tmp_path)
    assert result.returncode == 1
    assert "Could not find 'optimizer/adamm'" in result.stderr
    assert "Available options" in result.stderr and "adamw" in result.stderr
