"""DDP on CPU processes gives the metrics of one process; cluster launchers get the right shape."""

import json
import math

import pytest
import torch
from conftest import PACKAGE, QUIET, compose_config, run_app

COMMON = ["trainer.max_epochs=2", *QUIET]


def test_two_process_ddp_matches_a_single_process_evaluate(tmp_path):
    from importlib.resources import files

    table = tmp_path / "patients.csv"  # a user's own CSV file: the heart table under another name
    table.write_bytes((files(PACKAGE) / "data" / "heart.csv").read_bytes())
    run_dir = tmp_path / "ddp"
    result = run_app(
        "train",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "data=csv",
        f"data.path={table}",
        "data.target=target",
        *COMMON,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # One run: one metrics file, one set of checkpoints, nothing left in the working directory.
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "patients.csv"]
    assert result.stdout.count("Test metrics:") == 1

    evaluated = run_app(
        "evaluate",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
        f"hydra.run.dir={tmp_path / 'eval'}",
        cwd=tmp_path,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    ddp_metrics = json.loads((run_dir / "metrics.json").read_text())
    single = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert ddp_metrics == pytest.approx(single, abs=1e-4)


def test_slurm_launcher_follows_the_trainer_settings(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    from hydra import compose, initialize_config_module

    with initialize_config_module(f"{PACKAGE}.configs", version_base="1.3"):
        cfg = compose(
            "train",
            return_hydra_config=True,
            overrides=[
                "hydra/launcher=slurm",
                "trainer=ddp",
                "trainer.accelerator=gpu",
                "trainer.devices=4",
                "trainer.num_nodes=2",
                "hydra.launcher.partition=gpu",
                "hydra.launcher.account=lab",
            ],
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 4, 4)
    assert (launcher.partition, launcher.account) == ("gpu", "lab")


def test_multi_node_trainer_composes():
    cfg = compose_config("train", ["run_dir=.", "trainer=multi_node", "trainer.num_nodes=3"])
    assert (cfg.trainer.strategy, cfg.trainer.num_nodes) == ("ddp", 3)


@pytest.mark.slow
def test_multirun_with_ddp_spawn_runs_each_job_once(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_app(
        "train",
        "-m",
        "trainer=ddp_spawn",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "optimizer=sgd,adam",
        *COMMON,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_optimizer=sgd,trainer.max_epochs=2", "1_optimizer=adam,trainer.max_epochs=2"]
    for job in jobs:
        assert set(json.loads((sweep / job / "metrics.json").read_text())) >= {"test/auroc"}
    assert (sweep / "summary.csv").is_file()


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_job(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    result = run_app(
        "train",
        "-m",
        "hydra/launcher=submitit_local",
        *COMMON,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (sweep / "0_trainer.max_epochs=2" / "metrics.json").is_file()


def test_batch_size_is_shared_by_the_ddp_processes(tmp_path):
    from types import SimpleNamespace

    from hydra.utils import instantiate

    def per_process(world_size: int, *overrides: str) -> int:
        cfg = compose_config("train", [f"run_dir={tmp_path}", "data.batch_size=32", *overrides])
        datamodule = instantiate(cfg.data, _convert_="all")
        datamodule.trainer = SimpleNamespace(world_size=world_size)
        return datamodule.per_process_batch_size()

    assert [per_process(n) for n in (1, 2, 4, 3)] == [32, 16, 8, 11]
    assert per_process(4, "data.batch_size_per_device=true") == 32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed"])
def test_one_gpu_trains_with_each_precision(train_config, precision):
    from {{ cookiecutter.package }}.train import train

    metrics = train(
        train_config(
            "trainer=gpu",
            f"trainer.precision={precision}",
            "trainer.fast_dev_run=true",
            *COMMON[1:],
        )
    )
    assert math.isfinite(metrics["test/loss"])
