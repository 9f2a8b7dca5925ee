"""What the template writes, for every answer it offers, and the answers it refuses."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import TEMPLATE, files_of, install_editable

CHOICES = json.loads((TEMPLATE / "cookiecutter.json").read_text())
TEMPLATE_FILES = files_of(TEMPLATE / "{{cookiecutter.project}}")


def expected_files(package: str, license_name: str) -> set[str]:
    files = {f.replace("{{cookiecutter.package}}", package) for f in TEMPLATE_FILES}
    return files - {"LICENSE"} if license_name == "none" else files


def jinja_left_in(root: Path) -> list[str]:
    leftovers = []
    for path in root.rglob("*"):
        if path.is_file() and ("{{" in path.read_text() or "{%" in path.read_text()):
            leftovers.append(str(path.relative_to(root)))
    return leftovers


def test_default_bake(bake):
    project = bake()
    assert project.name == "tabular-mlp"
    assert files_of(project) == expected_files("tabular_mlp", "MIT")
    assert "src/tabular_mlp/train.py" in files_of(project)
    assert "src/tabular_mlp/data/heart.csv" in files_of(project)
    assert (project / "src/tabular_mlp/data/heart.csv").read_bytes() == (
        TEMPLATE / "{{cookiecutter.project}}/src/{{cookiecutter.package}}/data/heart.csv"
    ).read_bytes()
    assert jinja_left_in(project) == []


@pytest.mark.parametrize("license_name", CHOICES["license"])
def test_every_license(bake, license_name):
    project = bake(project_name="Licence Check", license=license_name)
    assert files_of(project) == expected_files("licence_check", license_name)
    assert jinja_left_in(project) == []
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    if license_name == "none":
        assert "license" not in metadata
    else:
        assert metadata["license"] == license_name
        first_line = (project / "LICENSE").read_text().strip().splitlines()[0]
        title = {
            "MIT": "MIT License",
            "BSD-3-Clause": "BSD 3-Clause License",
            "Apache-2.0": "Apache License",
        }[license_name]
        assert title in first_line


@pytest.mark.parametrize("version", CHOICES["python_version"])
def test_every_python_version(bake, version):
    project = bake(python_version=version)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert jinja_left_in(project) == []


def test_names_are_derived(bake):
    project = bake(project_name="Heart Study 2")
    assert project.name == "heart-study-2"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "heart-study-2"
    assert pyproject["project"]["scripts"]["heart-study-2-train"] == "heart_study_2.train:main"
    assert (project / "src/heart_study_2/train.py").is_file()


def test_awkward_answers_render_into_valid_files(bake):
    answers = {
        "project_name": 'Zoë\'s "Quoted" \\ Études',
        "author": 'Seán O\'Brien "the \\ Great"',
        "email": "sean@example.com",
        "description": 'Says "hi", uses a back\\slash and {braces} and ünïcödé.',
    }
    project = bake(**answers)
    assert project.name == "zoe-s-quoted-etudes"
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == answers["description"]
    assert metadata["authors"] == [{"name": answers["author"], "email": answers["email"]}]
    assert answers["project_name"] in (project / "README.md").read_text()
    assert answers["author"] in (project / "LICENSE").read_text()
    assert jinja_left_in(project) == []
    for source in (project / "src").rglob("*.py"):
        compile(source.read_text(), str(source), "exec")


@pytest.mark.parametrize(
    ("answers", "named"),
    [
        ({"package": "1-bad name"}, "package='1-bad name'"),
        ({"package": "class"}, "keyword"),
        ({"package": "json"}, "standard-library"),
        ({"package": "Heart"}, "lowercase"),
        ({"project": "Bad Name"}, "project='Bad Name'"),
        # An empty project names no folder: cookiecutter itself stops before the hook runs.
        ({"project": ""}, "already exists"),
        ({"project_name": "   "}, "has no letter or digit"),
        ({"project_name": "!!!"}, "has no letter or digit"),
        # Code smuggled into an answer must stay text: it would create the file `pwned`.
        ({"package": 'x"; import os; os.system("touch ../../pwned") #'}, "not a valid Python"),
    ],
)
def test_hook_refuses_bad_answers_and_writes_nothing(tmp_path, answers, named):
    """As a user meets it: the cookiecutter command, one clear line, an exit code, no files."""
    output = tmp_path / "out"
    output.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(output),
            str(TEMPLATE),
            *(f"{key}={value}" for key, value in answers.items()),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert named in result.stderr + result.stdout
    assert list(output.iterdir()) == []
    assert list(tmp_path.iterdir()) == [output]


@pytest.mark.parametrize("project_name", ["Lint Check", "A Rather Long Project Name For Lint"])
def test_generated_code_passes_its_own_ci_lint(bake, project_name):
    """What the generated CI workflow and pre-commit run: ruff's lint and format check (with a
    short and a long package name, which changes line lengths), and the file-hygiene hooks."""
    project = bake(project_name=project_name)
    for command in (["ruff", "check", "--no-cache"], ["ruff", "format", "--check", "--no-cache"]):
        result = run([sys.executable, "-m", *command, str(project)])
        assert result.returncode == 0, result.stdout + result.stderr
    excluded = re.compile(
        yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["exclude"]
    )
    files = sorted(
        str(p) for p in project.rglob("*") if p.is_file() and not excluded.search(str(p))
    )
    for hook in ("trailing-whitespace-fixer", "end-of-file-fixer"):
        result = run([str(Path(sys.executable).parent / hook), *files])
        assert result.returncode == 0, f"{hook}: {result.stdout}"
    configs = [f for f in files if f.endswith((".yaml", ".yml"))]
    result = run([str(Path(sys.executable).parent / "check-yaml"), *configs])
    assert result.returncode == 0, result.stdout
    result = run([str(Path(sys.executable).parent / "check-toml"), str(project / "pyproject.toml")])
    assert result.returncode == 0, result.stdout


def test_generated_repository_is_ready_to_push(bake):
    """A CI workflow that installs torch's CPU build, lints and runs the fast tier as the README
    says, and a pre-commit configuration that pre-commit accepts."""
    project = bake(python_version="3.12")
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    assert {"push", "pull_request"} <= set(workflow[True])  # YAML 1.1 reads `on` as True
    assert steps[1]["with"]["python-version"] == "3.12"
    commands = "\n".join(step.get("run", "") for step in steps)
    for command in (
        "download.pytorch.org/whl/cpu",
        'pip install -e ".[dev]"',
        "ruff check .",
        "ruff format --check .",
        "pytest",
    ):
        assert command in commands, command
    readme = (project / "README.md").read_text()
    assert "pre-commit install" in readme and ".github/workflows/ci.yml" in readme
    result = run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "validate-config",
            str(project / ".pre-commit-config.yaml"),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    ids = {hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "trailing-whitespace", "end-of-file-fixer"} <= ids


def install_and_test(bake, marker: str) -> subprocess.CompletedProcess:
    """Install the baked project as its README says and run one tier of its own tests inside it."""
    project = bake(project_name="Bake Check")
    install_editable(project, "[dev]")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            marker,
            "--durations=5",
        ],
        cwd=project,
        env=env,
    )
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
    return tests


def test_generated_fast_tier_passes(bake):
    """The generated README's `pytest`: every test not marked slow."""
    install_and_test(bake, "not slow")


def test_generated_slow_tier_passes(bake, request):
    """The generated `pytest -m slow`, only with `pytest tests --slow` (make test-slow)."""
    if not request.config.getoption("--slow"):
        pytest.skip("the generated project's slow tier runs with --slow (make test-slow)")
    install_and_test(bake, "slow")


def run(args: list[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, **options)
