"""Bake the template with pytest-cookies and look at what it wrote."""

from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent


@pytest.fixture
def bake(cookies):
    """Bake with the given answers; assert it worked; return the project's path."""

    def run(**answers: str) -> Path:
        result = cookies.bake(extra_context=answers)
        assert result.exit_code == 0, result.exception
        assert result.exception is None
        return Path(result.project_path)

    return run


def files_of(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
