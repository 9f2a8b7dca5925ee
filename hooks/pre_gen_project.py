"""Refuse answers that would generate a broken project, before any file is written.

Cookiecutter renders this file with the answers and deletes the new project folder when it exits
non-zero. Standard library only: it runs in whatever Python runs cookiecutter, before anything is
installed. It never asks a question, so it works with --no-input.
"""

import keyword
import re
import sys

# tojson writes each answer as a valid Python string literal, whatever quotes or backslashes it holds.
PROJECT = {{ cookiecutter.project|tojson }}
PACKAGE = {{ cookiecutter.package|tojson }}
PROJECT_NAME = {{ cookiecutter.project_name|tojson }}

# A distribution and directory name that pip, PyPI and every shell accept without quoting.
PROJECT_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def problem() -> str | None:
    """Return one sentence naming the wrong answer and what is allowed, or None when all is well."""
    if not any(character.isalnum() for character in PROJECT_NAME):
        return (
            f"project_name={PROJECT_NAME!r} has no letter or digit: give the project a "
            "human-readable name, e.g. 'Heart Study'."
        )
    if not PROJECT_PATTERN.match(PROJECT):
        return (
            f"project={PROJECT!r} is not usable: use lowercase ASCII letters, digits and single "
            "hyphens, starting with a letter (e.g. 'heart-study')."
        )
    if not PACKAGE.isidentifier() or not PACKAGE.isascii():
        return (
            f"package={PACKAGE!r} is not a valid Python import name: use ASCII letters, digits and "
            "underscores, not starting with a digit (e.g. 'heart_study')."
        )
    if keyword.iskeyword(PACKAGE):
        return f"package={PACKAGE!r} is a Python keyword: choose another import name."
    if PACKAGE in sys.stdlib_module_names:
        return (
            f"package={PACKAGE!r} shadows the standard-library module of that name: "
            "choose another import name."
        )
    if PACKAGE != PACKAGE.lower():
        return f"package={PACKAGE!r} must be lowercase (PEP 8 module names), e.g. {PACKAGE.lower()!r}."
    return None


if __name__ == "__main__":
    message = problem()
    if message:
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
