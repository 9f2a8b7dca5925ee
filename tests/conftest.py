"""Bake the template with pytest-cookies and look at what it wrote."""

import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the generated project's slow tier (pytest -m slow: DDP, sweeps, tune, ...)",
    )


@pytest.fixture
def bake(cookies):
    """Bake with the given answers; assert it worked; return the project's path."""

    def run(**answers: str) -> Path:
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, result.exception
        assert result.exception is None
        return Path(result.project_path)

    return run


def install_editable(project: Path, extras: str = "") -> None:
    """`pip install -e <project>[extras]` into this environment, as the generated README says."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "-e",
            f"{project}{extras}",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def files_of(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
