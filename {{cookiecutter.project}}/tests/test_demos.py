"""Every demo table is a `data=` choice that trains, with no download; every other data choice is a
file of the user's."""

import math

import pytest
from conftest import CONFIG_DIR, QUIET
from omegaconf import OmegaConf

from {{ cookiecutter.package }}.data.demos import DEMOS, load_demo
from {{ cookiecutter.package }}.support.config_checks import check_config
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

# name: (task, input width, a test metric of that task)
EXPECTED = {
    "heart": ("binary", 29, "test/auroc"),
    "moons": ("binary", 2, "test/auroc"),
    "circles": ("binary", 2, "test/auroc"),
    "spirals": ("binary", 2, "test/auroc"),
    "breast_cancer": ("binary", 30, "test/auroc"),
    "wine": ("multiclass", 13, "test/f1"),
    "digits": ("multiclass", 61, "test/f1"),  # 3 of the 64 pixels are blank in every image
    "diabetes": ("regression", 10, "test/r2"),
}


DATA_CHOICES = sorted(f.stem for f in (CONFIG_DIR / "data").glob("*.yaml"))


def test_every_demo_table_is_a_data_choice():
    assert set(DEMOS) == set(EXPECTED)
    assert set(DEMOS) <= set(DATA_CHOICES)


@pytest.mark.parametrize("name", sorted(set(DATA_CHOICES) - set(DEMOS)))
def test_every_other_data_choice_reads_a_file(train_config, name):
    """csv and the data configs users add (README: "Change the code") name a file, not a demo."""
    cfg = train_config(f"data={name}")
    assert cfg.data.get("demo") is None
    if OmegaConf.is_missing(cfg.data, "path") or OmegaConf.is_missing(cfg.data, "target"):
        cfg = train_config(f"data={name}", "data.path=table.csv", "data.target=label")
    check_config(cfg)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_demo_table_trains(train_config, name, capsys):
    task, width, metric = EXPECTED[name]
    cfg = train_config(f"data={name}", "trainer.fast_dev_run=true", *QUIET)
    metrics = train(cfg)
    assert math.isfinite(metrics[metric])
    printed = capsys.readouterr().out
    assert f"task: {task} on " in printed
    assert f"input width: {width} (" in printed
    # model=mlp's ridge regression under the network: regression only, and said so.
    assert ("linear base: " in printed) == (task == "regression")


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
