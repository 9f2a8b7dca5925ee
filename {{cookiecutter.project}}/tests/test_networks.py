"""The network contract (model/__init__.py), checked for every file of configs/model/: built with
input_size and output_size, raw outputs of the right shape, trained by train, reached by the
dropout schedules, and searched by tune with its own search space."""

import math

import lightning as L
import pytest
import torch
from conftest import QUIET, compose_config
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from {{ cookiecutter.package }}.configs import FOLDER, group_choices
from {{ cookiecutter.package }}.model.module import MODULE_SETTINGS
from {{ cookiecutter.package }}.model.resnet import ResNet
from {{ cookiecutter.package }}.support.config_checks import (
    check_config,
    check_tune_config,
)
from {{ cookiecutter.package }}.support.errors import UserError
from {{ cookiecutter.package }}.train import train

NETWORKS = group_choices("model")


def network_settings(name: str) -> dict:
    """The network's settings as train composes them (a file may build on another: lecture)."""
    settings = OmegaConf.to_container(compose_config("train", [f"model={name}"]).model)
    for module_setting in MODULE_SETTINGS:  # the module's, not the network's
        settings.pop(module_setting, None)
    return settings


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("output_size", [1, 3])
def test_every_network_maps_rows_to_raw_outputs(name, output_size):
    net = instantiate(network_settings(name), input_size=7, output_size=output_size)
    net.eval()
    outputs = net(torch.randn(5, 7))
    assert outputs.shape == (5, output_size)
    assert outputs.dtype == torch.float32


@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_has_dropout_the_schedules_reach(name):
    net = instantiate(network_settings(name), input_size=7, output_size=1)
    assert any(isinstance(m, nn.Dropout) for m in net.modules())


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize(
    ("data", "metric"), [("heart", "test/auroc"), ("wine", "test/f1"), ("diabetes", "test/r2")]
)
def test_every_network_trains_every_task(train_config, name, data, metric):
    metrics = train(
        train_config(*QUIET, f"model={name}", f"data={data}", "trainer.fast_dev_run=true")
    )
    assert math.isfinite(metrics[metric])


class DropoutProbabilities(L.Callback):
    """Records the p of every Dropout module of the trained network after each training epoch."""

    def __init__(self) -> None:
        self.seen: list[list[float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seen.append([m.p for m in pl_module.modules() if isinstance(m, nn.Dropout)])


@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_follows_a_dropout_schedule(train_config, name):
    probabilities = DropoutProbabilities()
    train(
        train_config(
            *QUIET,
            f"model={name}",
            "dropout_schedule=linear",
            "dropout_schedule.start=0.4",
            "dropout_schedule.end=0.0",
            "trainer.max_epochs=3",
            "+trainer.limit_train_batches=1",
            "+trainer.limit_val_batches=1",
        ),
        callbacks=[probabilities],
    )
    for seen, expected in zip(probabilities.seen, [0.4, 0.2, 0.0], strict=True):
        assert seen == pytest.approx([expected] * len(seen))


@pytest.mark.parametrize("name", NETWORKS)
def test_tune_searches_each_network_with_its_own_space(tmp_path, name):
    assert (FOLDER / "search_space" / f"{name}.yaml").is_file(), (
        f"configs/search_space/{name}.yaml: tune's search over model={name}"
    )
    with initialize_config_dir(config_dir=str(FOLDER), version_base="1.3"):
        cfg = compose(config_name="tune", overrides=[f"run_dir={tmp_path}", f"model={name}"])
    check_tune_config(cfg, [])
    searched = {entry.key for entry in cfg.search_space.values()}
    assert "optimizer.lr" in searched
    own = {key for key in searched if key.startswith("model.")}
    assert own and own <= {f"model.{setting}" for setting in network_settings(name)}


def test_resnet_is_the_papers_block_structure():
    net = ResNet(
        input_size=10,
        output_size=2,
        width=16,
        blocks=3,
        hidden_factor=2.0,
        dropout=0.1,
        residual_dropout=0.05,
        normalization="batch_norm",
    )
    assert len(net.blocks) == 3
    branch = [type(layer).__name__ for layer in net.blocks[0].branch]
    assert branch == ["BatchNorm1d", "Linear", "ReLU", "Dropout", "Linear", "Dropout"]
    assert (net.blocks[0].branch[1].in_features, net.blocks[0].branch[1].out_features) == (16, 32)
    assert [type(layer).__name__ for layer in net.head] == ["BatchNorm1d", "ReLU", "Linear"]
    # The residual path: with the branch's last layer zeroed, a block passes its input through.
    block = net.blocks[0].eval()
    nn.init.zeros_(block.branch[4].weight)
    nn.init.zeros_(block.branch[4].bias)
    features = torch.randn(4, 16)
    assert torch.equal(block(features), features)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.width=0", "model.width"),
        ("model.blocks=-1", "model.blocks"),
        ("model.hidden_factor=0", "model.hidden_factor"),
        ("model.residual_dropout=1", "model.residual_dropout"),
        ("model.normalization=group_norm", "model.normalization"),
    ],
)
def test_resnet_settings_out_of_range_name_their_key(train_config, override, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        check_config(train_config("model=resnet", override))
