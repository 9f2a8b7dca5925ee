"""Learning-rate schedules: run lengths filled from the trainer, and warm-up then cosine."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR

from {{ cookiecutter.package }}.model.lr_schedulers import (
    lr_scheduler_config,
    warmup_cosine,
)

TRAINER = SimpleNamespace(max_epochs=20, estimated_stepping_batches=140)


def optimizer(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def test_null_run_length_is_the_whole_run_in_the_interval():
    epochs = lr_scheduler_config(
        {
            "_target_": "torch.optim.lr_scheduler.CosineAnnealingLR",
            "_partial_": True,
            "T_max": None,
            "interval": "epoch",
        },
        optimizer(),
        TRAINER,
    )
    assert isinstance(epochs["scheduler"], CosineAnnealingLR)
    assert (epochs["scheduler"].T_max, epochs["interval"]) == (20, "epoch")
    steps = lr_scheduler_config(
        {
            "_target_": "torch.optim.lr_scheduler.OneCycleLR",
            "_partial_": True,
            "max_lr": 0.1,
            "total_steps": None,
            "interval": "step",
        },
        optimizer(),
        TRAINER,
    )
    assert isinstance(steps["scheduler"], OneCycleLR)
    assert steps["scheduler"].total_steps == 140


def test_monitor_goes_to_lightning_not_to_torch():
    config = lr_scheduler_config(
        {
            "_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
            "_partial_": True,
            "patience": 3,
            "interval": "epoch",
            "monitor": "val/loss",
        },
        optimizer(),
        TRAINER,
    )
    assert config["monitor"] == "val/loss"
    assert config["scheduler"].patience == 3


def test_warmup_then_cosine():
    opt = optimizer(lr=0.1)
    scheduler = warmup_cosine(opt, total_steps=20, warmup_fraction=0.2, start_factor=0.1)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert lrs[:5] == pytest.approx([0.01, 0.0325, 0.055, 0.0775, 0.1])  # linear over 4 steps
    assert lrs[4:] == sorted(lrs[4:], reverse=True)  # then only down
    assert lrs[-1] == pytest.approx(0.05 * (1 + math.cos(15 / 16 * math.pi)), rel=1e-5)
