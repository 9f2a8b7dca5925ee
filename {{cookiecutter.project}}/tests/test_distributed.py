"""DDP on CPU processes gives the metrics of one process; cluster launchers get the right shape."""

import json

import pytest
from conftest import compose_config, run_app

COMMON = ["trainer.max_epochs=2", "callbacks.progress_bar.refresh_rate=0",
          "trainer.enable_model_summary=false"]


def test_two_process_ddp_matches_a_single_process_evaluate(tmp_path):
    run_dir = tmp_path / "ddp"
    result = run_app("train", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
                     *COMMON, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # One run: one metrics file, one set of checkpoints, nothing left in the working directory.
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]
    assert result.stdout.count("Test metrics:") == 1

    evaluated = run_app("evaluate", f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
                        f"hydra.run.dir={tmp_path / 'eval'}", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    ddp_metrics = json.loads((run_dir / "metrics.json").read_text())
    single = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert ddp_metrics == pytest.approx(single, abs=1e-4)


def test_slurm_launcher_follows_the_trainer_settings(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    from hydra import compose, initialize_config_module

    with initialize_config_module("{{ cookiecutter.package }}.configs", version_base="1.3"):
        cfg = compose("train", return_hydra_config=True, overrides=[
            "hydra/launcher=slurm", "trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=4",
            "trainer.num_nodes=2", "hydra.launcher.partition=gpu", "hydra.launcher.account=lab",
        ])
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
    result = run_app("train", "-m", "trainer=ddp_spawn", "trainer.accelerator=cpu",
                     "trainer.devices=2", "optimizer=sgd,adam", *COMMON,
                     f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    for job in ("0", "1"):
        assert set(json.loads((sweep / job / "metrics.json").read_text())) >= {"test/auroc"}


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_job(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    result = run_app("train", "-m", "hydra/launcher=submitit_local", *COMMON,
                     f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (sweep / "0" / "metrics.json").is_file()
