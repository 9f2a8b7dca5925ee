"""Every demo table is a `data=` choice that trains, with no download."""

import math

import pytest
from conftest import CONFIG_DIR

from {{ cookiecutter.package }}.data.demos import DEMOS, load_demo
from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.train import train

# name: (task, input width, a test metric of that task)
EXPECTED = {
    "heart": ("binary", 29, "test/auroc"),
    "moons": ("binary", 2, "test/auroc"),
    "circles": ("binary", 2, "test/auroc"),
    "spirals": ("binary", 2, "test/auroc"),
    "breast_cancer": ("binary", 30, "test/auroc"),
    "wine": ("multiclass", 13, "test/f1"),
    "digits": ("multiclass", 64, "test/f1"),
    "diabetes": ("regression", 10, "test/r2"),
}


def test_every_demo_table_is_a_data_choice():
    choices = {f.stem for f in (CONFIG_DIR / "data").glob("*.yaml")} - {"csv"}
    assert choices == set(DEMOS) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_demo_table_trains(train_config, name, capsys):
    task, width, metric = EXPECTED[name]
    cfg = train_config(f"data={name}", "trainer.fast_dev_run=true",
                       "trainer.enable_model_summary=false",
                       "callbacks.progress_bar.refresh_rate=0")
    metrics = train(cfg)
    assert math.isfinite(metrics[metric])
    printed = capsys.readouterr().out
    assert f"task: {task} on " in printed
    assert f"input width: {width}\n" in printed


def test_generated_tables_are_the_same_in_every_run():
    assert load_demo("spirals").equals(load_demo("spirals"))
    moons = load_demo("moons", {"rows": 200, "noise": 0.1})
    assert moons.shape == (200, 3)
    assert moons["label"].value_counts().tolist() == [100, 100]


def test_a_generator_option_it_does_not_take_is_refused():
    with pytest.raises(UserError, match="data.demo_options has size.*it takes rows, noise"):
        load_demo("moons", {"size": 10})
    with pytest.raises(UserError, match="data.demo='iris' is not a demo table: choose one of"):
        load_demo("iris")
