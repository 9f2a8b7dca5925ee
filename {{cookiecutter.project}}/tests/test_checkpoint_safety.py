"""Every checkpoint loads with torch's safe `weights_only=True`, whatever the config held: every
choice of every group that ends up in a checkpoint, and a user's own config file with list and
dict arguments (Hydra would hand those to torch as OmegaConf containers without `_convert_`)."""

import pytest
import torch
from conftest import CONFIG_DIR, QUIET, data_for_loss, table_left_to_user

from {{ cookiecutter.package }}.model.module import TabularModule
from {{ cookiecutter.package }}.support.checkpoints import load_checkpoint
from {{ cookiecutter.package }}.train import train

# The groups whose objects (or their state) a checkpoint holds.
GROUPS = ["data", "model", "optimizer", "scheduler", "loss", "dropout_schedule", "callbacks"]
# Every choice, but a data config that leaves its file to the user (data=csv: every user table,
# trained in test_own_tables.py).
CHOICES = [
    (group, f.stem)
    for group in GROUPS
    for f in sorted((CONFIG_DIR / group).glob("*.yaml"))
    if group != "data" or not table_left_to_user(f.stem)
]
ONE_STEP = [
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=1",
    "+trainer.limit_val_batches=1",
]
# What a user writes when copying optimizer/adam.yaml for another class, or adding a scheduler
# with a list argument: the lists reach torch, and torch keeps them in the checkpoint.
USER_FILES = {
    "optimizer": "_target_: torch.optim.NAdam\n_partial_: true\nlr: 0.01\nbetas: [0.9, 0.99]\n",
    "scheduler": (
        "_target_: torch.optim.lr_scheduler.MultiStepLR\n_partial_: true\nmilestones: [1, 2]\n"
        "gamma: 0.5\ninterval: epoch\n"
    ),
}


def assert_loads_safely(run_dir) -> None:
    for name in ("best.ckpt", "last.ckpt"):
        checkpoint = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        TabularModule.from_checkpoint(checkpoint)
        load_checkpoint(str(run_dir / "checkpoints" / name))


@pytest.mark.parametrize(("group", "choice"), CHOICES)
def test_every_choice_saves_a_checkpoint_that_loads_safely(train_config, tmp_path, group, choice):
    overrides = [*QUIET, *ONE_STEP, f"{group}={choice}"]
    if group == "loss":
        overrides += data_for_loss(choice)
    train(train_config(*overrides))
    assert_loads_safely(tmp_path)


@pytest.mark.parametrize("group", sorted(USER_FILES))
def test_a_users_config_file_with_list_arguments_saves_safely(train_config, tmp_path, group):
    """The user's file sits in a config folder of their own, added to Hydra's search path."""
    own = tmp_path / "own_configs" / group
    own.mkdir(parents=True)
    (own / "mine.yaml").write_text(USER_FILES[group])
    searchpath = f"hydra.searchpath=[file://{tmp_path / 'own_configs'}]"
    run_dir = tmp_path / "run"
    train(train_config(*QUIET, *ONE_STEP, searchpath, f"{group}=mine", f"run_dir={run_dir}"))
    assert_loads_safely(run_dir)
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    if group == "optimizer":
        assert list(saved["optimizer_states"][0]["param_groups"][0]["betas"]) == [0.9, 0.99]
    else:
        assert sorted(saved["lr_schedulers"][0]["milestones"]) == [1, 2]
