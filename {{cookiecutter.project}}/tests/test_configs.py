"""Every config composes, wrong values are refused with a clear line, and none of it needs torch."""

import subprocess
import sys

import pytest
from conftest import CONFIG_DIR, PACKAGE, compose_config, run_app

from {{ cookiecutter.package }}.config_checks import check_config, check_loss_fits_task
from {{ cookiecutter.package }}.errors import UserError

GROUPS = ["data", "model", "optimizer", "loss", "callbacks", "logger", "trainer"]
CHOICES = [(g, f.stem) for g in GROUPS for f in sorted((CONFIG_DIR / g).glob("*.yaml"))
           if f.stem != "default" or g == "callbacks"]


# data=csv names no file of its own: the user gives it.
OWN_TABLE = ["data.path=table.csv", "data.target=label"]


@pytest.mark.parametrize(("group", "choice"), CHOICES)
def test_every_choice_composes_and_passes_checks(group, choice, tmp_path):
    own_table = OWN_TABLE if (group, choice) == ("data", "csv") else []
    cfg = compose_config("train", [f"run_dir={tmp_path}", f"{group}={choice}", *own_table])
    check_config(cfg)
    assert cfg[group] is not None


def test_defaults_are_the_lecture_network(train_config):
    cfg = train_config()
    assert cfg.model.hidden_sizes == [16]
    assert cfg.model.activation == "relu"
    assert cfg.optimizer._target_ == "torch.optim.Adam"
    assert set(cfg.callbacks) >= {"model_checkpoint", "early_stopping", "learning_rate_monitor"}


@pytest.mark.parametrize(
    ("task", "loss"),
    [("binary", "torch.nn.BCEWithLogitsLoss"), ("multiclass", "torch.nn.CrossEntropyLoss"),
     ("regression", "torch.nn.MSELoss")],
)
def test_the_default_loss_follows_the_task(train_config, task, loss):
    from {{ cookiecutter.package }}.build import loss_for_task

    cfg = train_config()
    assert "by_task" in cfg.loss  # loss=auto: decided once the data (and its task) is known
    assert loss_for_task(cfg.loss, task)._target_ == loss
    chosen = train_config("loss=huber").loss
    assert loss_for_task(chosen, task) is chosen  # a loss chosen by name is kept as it is


def test_a_loss_that_does_not_fit_the_given_task_is_refused_before_training(train_config):
    with pytest.raises(UserError, match="BCEWithLogitsLoss cannot train a multiclass task"):
        check_config(train_config("data=wine", "loss=bce"))


@pytest.mark.parametrize(
    ("config_name", "overrides"),
    [
        ("evaluate", ["ckpt_path=x.ckpt"]),
        ("predict", ["ckpt_path=x.ckpt", "input=rows.csv"]),
        ("cross_validate", ["repeats=5"]),
    ],
)
def test_every_app_config_composes(tmp_path, config_name, overrides):
    cfg = compose_config(config_name, [f"run_dir={tmp_path}", *overrides])
    check_config(cfg)
    assert cfg.task_name == config_name


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.dropout=1.5", "model.dropout"),
        ("model.dropout=-0.1", "model.dropout"),
        ("optimizer.lr=0", "optimizer.lr"),
        ("data.batch_size=0", "data.batch_size"),
        ("model.hidden_sizes=[16,0]", "model.hidden_sizes"),
        ("model.activation=swish", "model.activation"),
        ("model.init=zeros", "model.init"),
        ("trainer.max_epochs=0", "trainer.max_epochs"),
        ("data.test_fraction=1.2", "data.test_fraction"),
        ("data.task=ranking", "data.task"),
        ("data.demo_options.noise=-1", "data.demo_options.noise"),
    ],
)
def test_out_of_range_values_name_their_key(train_config, override, key):
    data = ["data=moons"] if override.startswith("data.demo_options") else []
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        check_config(train_config(*data, override))


def test_hidden_sizes_may_be_empty(train_config):
    check_config(train_config("model.hidden_sizes=[]"))


def test_loss_must_fit_the_task():
    check_loss_fits_task("torch.nn.CrossEntropyLoss", "multiclass")
    with pytest.raises(UserError, match="cannot train a multiclass task"):
        check_loss_fits_task("torch.nn.BCEWithLogitsLoss", "multiclass")
    with pytest.raises(UserError, match="cannot train a regression task"):
        check_loss_fits_task("torch.nn.CrossEntropyLoss", "regression")


def test_mistyped_choice_lists_the_options(tmp_path):
    result = run_app("train", "optimizer=nonsense", cwd=tmp_path)
    assert result.returncode != 0
    assert "optimizer/nonsense" in result.stderr
    for option in ("adam", "adamw", "sgd", "adadelta", "adagrad", "rmsprop"):
        assert option in result.stderr
    assert not (tmp_path / "logs").exists()


def test_bad_value_is_one_line_without_traceback(tmp_path):
    run_dir = tmp_path / "run"
    result = run_app("train", "model.dropout=1.5", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert result.returncode == 2
    assert "model.dropout=1.5" in result.stderr
    assert "[0, 1)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.parametrize("flag", ["--help", "--cfg=job"])
def test_help_and_cfg_answer_without_importing_torch(flag):
    code = (
        "import sys\n"
        f"sys.argv = ['train', '{flag}']\n"
        f"from {PACKAGE} import train\n"
        "try:\n    train.main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "optimizer" in result.stdout
