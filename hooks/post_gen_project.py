"""Remove the files of options not chosen, then print the next steps.

Runs inside the generated project. Standard library only; it never asks a question.
"""

from pathlib import Path

LICENSE = {{ cookiecutter.license|tojson }}
PROJECT = {{ cookiecutter.project|tojson }}

if LICENSE == "none":
    Path("LICENSE").unlink()

print(
    f"""
Created {PROJECT}. Next steps:

    cd {PROJECT}
    python -m venv .venv && . .venv/bin/activate
    pip install torch --index-url https://download.pytorch.org/whl/cpu   # optional: CPU-only torch
    pip install -e ".[dev]"
    {PROJECT}-train
    tensorboard --logdir logs --host 127.0.0.1

README.md has the cookbook of settings.
"""
)
