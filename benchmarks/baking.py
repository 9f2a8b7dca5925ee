"""Bake the template's default project, as a user would, and install it into this environment:
the first step of both benchmarks (run.py for speed, quality.py for quality)."""

import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent


def bake_and_install(workdir: Path, project_name: str) -> Path:
    """The baked project's folder, installed editable (`--no-build-isolation`: no download)."""
    from cookiecutter.main import cookiecutter

    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(workdir),
            overwrite_if_exists=True,
            extra_context={"project_name": project_name},
        )
    )
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "-e"]
    subprocess.run([*pip, str(project)], check=True)
    # pip compiles an installed package's bytecode; an editable install leaves it to the first
    # import, and an environment with PYTHONDONTWRITEBYTECODE never writes it, so every timed run
    # would compile the project's modules again (about 0.06 s of start-up, which (d) never pays).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(project / "src")], check=True)
    return project
