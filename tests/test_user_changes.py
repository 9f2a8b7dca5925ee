"""The generated README's "Change the code" section, done as a user does it: every example file it
shows is written into a freshly baked project (and every "add to" added), then the project trains
with all of them and its own tests, which find the choices in configs/, stay green."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import install_editable

SECTION = "## Change the code"
# The section's examples are fenced blocks whose first line says where they go.
BLOCK = re.compile(r"```(?:python|yaml)\n# (file|add to): ([^\n]+)\n(.*?)```", re.S)


def examples(readme: str) -> list[tuple[str, str, str]]:
    """(file | add to, where, text) for every example of the section, in order."""
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return BLOCK.findall(section)


def apply(project: Path, kind: str, where: str, text: str) -> None:
    if kind == "file":
        path = project / where
        assert not path.exists(), f"the README's new file {where} would overwrite one"
        path.write_text(text)
        return
    table = re.fullmatch(r'(\w+)\["(\w+)"\] in (\S+)', where)
    if table:  # a line for a Python table, e.g. METRICS["binary"] in .../model/metrics.py
        name, key, file = table.groups()
        path = project / file
        source = path.read_text()
        opening = f'    "{key}": {{\n'
        assert name in source and opening in source, f"{file} has no {name}[{key!r}]"
        path.write_text(source.replace(opening, opening + "        " + text, 1))
        return
    path = project / where
    path.write_text(path.read_text() + text)


def churn_table(path: Path, rows: int = 240) -> None:
    """The table the README's data config names: an id, numbers, a category, a yes/no target."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    tenure = rng.integers(1, 72, rows)
    plan = rng.choice(["basic", "plus", "premium"], rows)
    spend = rng.normal(50, 15, rows).round(2)
    churned = (rng.normal(0, 1, rows) + (tenure < 12) + (plan == "basic")) > 1
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(rows)],
            "tenure": tenure,
            "plan": plan,
            "monthly_spend": spend,
            "churned": np.where(churned, "yes", "no"),
        }
    ).to_csv(path, index=False)


def train(project: Path, *overrides: str) -> subprocess.CompletedProcess:
    """The baked project's train, quietly (no progress bars, no model summary)."""
    quiet = ["callbacks.progress_bar.refresh_rate=0", "trainer.enable_model_summary=false"]
    return run([sys.executable, "-m", "change_check.train", *overrides, *quiet], cwd=project)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def test_every_change_the_readme_shows_trains_and_keeps_the_suite_green(bake):
    project = bake(project_name="Change Check")
    readme = (project / "README.md").read_text()
    changes = examples(readme)
    kinds = {where.split("/")[-2] if kind == "file" else where for kind, where, _ in changes}
    # One example of each kind of change the section's table lists.
    assert {
        "loss",
        "optimizer",
        "scheduler",
        "model",
        "search_space",
        "callbacks",
        "data",
        "experiment",
    } <= kinds, kinds
    for change in changes:
        apply(project, *change)
    churn_table(project / "data" / "churn.csv")

    install_editable(project)
    trained = train(project, "experiment=churn", "trainer.max_epochs=3", "hydra.run.dir=runs/churn")
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((project / "runs/churn/metrics.json").read_text())
    assert "test/mcc" in metrics  # the metric line
    config = (project / "runs/churn/.hydra/config.yaml").read_text()
    for used in ("WideAndDeep", "NAdam", "ExponentialLR", "EpochTimer", "data/churn.csv"):
        assert used in config, used
    check = (
        "import sys, torch\n"
        "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n"
        "run = 'runs/churn'\n"
        "torch.load(run + '/checkpoints/best.ckpt', weights_only=True)\n"
        "events = EventAccumulator(run); events.Reload()\n"
        "tags = events.Tags()['scalars']\n"
        "assert 'time/epoch_s' in tags and 'lr-NAdam' in tags, tags\n"
    )
    loaded = run([sys.executable, "-c", check], cwd=project)
    assert loaded.returncode == 0, loaded.stderr[-3000:]

    regression = train(
        project,
        "data=diabetes",
        "loss=smooth_l1",
        "trainer.max_epochs=1",
        "hydra.run.dir=runs/loss",
    )
    assert regression.returncode == 0, regression.stderr[-3000:]

    # The project's tests that go through the config folders, now with the new choices in them.
    tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "tests/test_configs.py",
            "tests/test_networks.py",
            "tests/test_experiments.py",
            "tests/test_demos.py",
            "tests/test_model.py",
        ],
        cwd=project,
    )
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]
    for new in (
        "[loss-smooth_l1] PASSED",
        "[optimizer-nadam] PASSED",
        "[scheduler-exponential] PASSED",
        "[model-wide_deep] PASSED",
        "[data-churn] PASSED",
        "test_every_experiment_composes_and_passes_checks[churn] PASSED",
        "test_every_network_trains_every_task[heart-test/auroc-wide_deep] PASSED",
        "test_tune_searches_each_network_with_its_own_space[wide_deep] PASSED",
    ):
        assert new in tests.stdout, new
