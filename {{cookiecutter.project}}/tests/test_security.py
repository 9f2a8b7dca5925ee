"""Checkpoints are data: a file that would run code when unpickled is refused, and its code never
runs. Every load in the package goes through torch's safe `weights_only=True`."""

import ast
import os
import pickle
from importlib.resources import files
from pathlib import Path

import pytest
import torch
from conftest import PACKAGE, run_app


class Payload:
    """Unpickling this runs `touch <marker>`: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted_checkpoint(path: Path, marker: Path, writer: str) -> Path:
    """A .ckpt shaped like ours whose state_dict runs the payload, written by torch or by pickle
    (protocol 2, the one torch writes, so that the refusal names the call it would make)."""
    contents = {
        "state_dict": Payload(marker),
        "hyper_parameters": {},
        "datamodule_hyper_parameters": {},
        "epoch": 0,
        "global_step": 0,
    }
    if writer == "torch":
        torch.save(contents, path)
    else:
        path.write_bytes(pickle.dumps(contents, protocol=2))
    return path


def assert_refused(result, path: Path, marker: Path) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(path) in lines[0] and "refused" in lines[0]
    assert "GLOBAL posix.system" in lines[0]  # torch's own reason, naming what it would call
    assert "Traceback" not in result.stderr
    assert not marker.exists(), "the checkpoint's code ran"


def test_the_payload_runs_when_loaded_unsafely(tmp_path):
    """Guards the tests below: the crafted file really would run its code."""
    marker = tmp_path / "ran"
    path = crafted_checkpoint(tmp_path / "evil.ckpt", marker, "torch")
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_evaluate_refuses_a_checkpoint_that_would_run_code(tmp_path, writer):
    marker = tmp_path / "ran"
    path = crafted_checkpoint(tmp_path / "evil.ckpt", marker, writer)
    result = run_app(
        "evaluate", f"ckpt_path={path}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path
    )
    assert_refused(result, path, marker)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_train_refuses_to_resume_from_a_checkpoint_that_would_run_code(tmp_path):
    marker = tmp_path / "ran"
    path = crafted_checkpoint(tmp_path / "evil.ckpt", marker, "torch")
    run_dir = tmp_path / "run"
    result = run_app("train", f"ckpt_path={path}", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert_refused(result, path, marker)
    assert not (run_dir / "checkpoints").exists()


def test_train_refuses_a_crafted_last_checkpoint_in_its_own_run(tmp_path):
    marker = tmp_path / "ran"
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    path = crafted_checkpoint(run_dir / "checkpoints" / "last.ckpt", marker, "pickle")
    result = run_app("train", "ckpt_path=last", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert_refused(result, path, marker)


def package_calls() -> list[tuple[str, ast.Call]]:
    """Every call expression in the package's sources, with the file it is in."""
    root = Path(str(files(PACKAGE)))
    calls = []
    for source in sorted(root.rglob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        calls += [(source.name, node) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return calls


def weights_only(call: ast.Call) -> object:
    keyword = next((k for k in call.keywords if k.arg == "weights_only"), None)
    return keyword.value.value if keyword and isinstance(keyword.value, ast.Constant) else None


def test_every_torch_load_in_the_package_is_weights_only():
    loads = [
        (name, call)
        for name, call in package_calls()
        if ast.unparse(call.func) in ("torch.load", "load")
    ]
    assert loads, "no torch.load found: the test would pass for nothing"
    for name, call in loads:
        assert weights_only(call) is True, f"{name}:{call.lineno} {ast.unparse(call)}"


def test_every_trainer_call_with_a_checkpoint_is_weights_only():
    """trainer.fit / test / validate / predict open `ckpt_path` through Lightning's torch.load."""
    runs = [
        (name, call)
        for name, call in package_calls()
        if isinstance(call.func, ast.Attribute)
        and call.func.attr in ("fit", "test", "validate", "predict")
        and any(k.arg == "ckpt_path" for k in call.keywords)
    ]
    assert runs, "no trainer call with ckpt_path found: the test would pass for nothing"
    for name, call in runs:
        assert weights_only(call) is True, f"{name}:{call.lineno} {ast.unparse(call)}"
