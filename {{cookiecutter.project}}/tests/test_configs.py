"""Every config composes, wrong values are refused with a clear line, and none of it needs torch."""

import importlib
import inspect
import subprocess
import sys

import pytest
from conftest import (
    CONFIG_DIR,
    PACKAGE,
    compose_config,
    data_for_loss,
    run_app,
    table_left_to_user,
)
from omegaconf import OmegaConf

from {{ cookiecutter.package }}.configs import group_choices, load_choice
from {{ cookiecutter.package }}.model.losses import CONTRACT_KEY, INPUTS
from {{ cookiecutter.package }}.model.lr_schedulers import LIGHTNING_KEYS
from {{ cookiecutter.package }}.model.metrics import TASK_METRICS
from {{ cookiecutter.package }}.support.config_checks import (
    check_class_weights,
    check_config,
    check_loss_fits_task,
)
from {{ cookiecutter.package }}.support.errors import UserError

GROUPS = [
    "data",
    "model",
    "optimizer",
    "scheduler",
    "loss",
    "dropout_schedule",
    "callbacks",
    "logger",
    "trainer",
]
CHOICES = [
    (g, f.stem)
    for g in GROUPS
    for f in sorted((CONFIG_DIR / g).glob("*.yaml"))
    if f.stem != "default" or g == "callbacks"
]


def needs(group: str, choice: str) -> list[str]:
    """What a choice needs besides itself: data of a task the loss trains; a file and its target
    for a data config that leaves them to the user (csv)."""
    if group == "loss":
        return data_for_loss(choice)
    if group == "data" and table_left_to_user(choice):
        return ["data.path=table.csv", "data.target=label"]
    return []


@pytest.mark.parametrize(("group", "choice"), CHOICES)
def test_every_choice_composes_and_passes_checks(group, choice, tmp_path):
    overrides = [f"run_dir={tmp_path}", f"{group}={choice}", *needs(group, choice)]
    cfg = compose_config("train", overrides)
    check_config(cfg)
    assert cfg[group] is not None


def signature_of(target: str) -> set[str]:
    module, name = target.rsplit(".", 1)
    return set(inspect.signature(getattr(importlib.import_module(module), name)).parameters)


@pytest.mark.parametrize("group", ["optimizer", "scheduler", "loss"])
def test_every_setting_is_an_argument_of_the_class_it_configures(group):
    """Each file mirrors its class: no key that the class would not take (a typo, a stale name)."""
    for file in sorted((CONFIG_DIR / group).glob("*.yaml")):
        settings = OmegaConf.load(file)
        if "_target_" not in settings:  # none, or loss=auto, which picks another file
            continue
        keys = {k for k in settings if not k.startswith("_")} - {*LIGHTNING_KEYS, CONTRACT_KEY}
        assert keys <= signature_of(settings["_target_"]), file.name


def test_sgd_has_momentum_nesterov_and_weight_decay(train_config):
    cfg = train_config("optimizer=sgd")
    assert {"momentum", "nesterov", "weight_decay"} <= set(cfg.optimizer)


def test_config_checks_know_every_task_metric():
    from {{ cookiecutter.package }}.model.metrics import task_metrics

    for task, names in TASK_METRICS.items():
        assert set(task_metrics(task, 3)) == set(names)


def test_defaults_are_the_lecture_network(train_config):
    cfg = train_config()
    assert cfg.model.hidden_sizes == [16]
    assert cfg.model.activation == "relu"
    assert cfg.optimizer._target_ == "torch.optim.Adam"
    assert set(cfg.callbacks) >= {"model_checkpoint", "early_stopping", "learning_rate_monitor"}


@pytest.mark.parametrize(
    ("task", "loss"),
    [
        ("binary", "torch.nn.BCEWithLogitsLoss"),
        ("multiclass", "torch.nn.CrossEntropyLoss"),
        ("regression", "torch.nn.MSELoss"),
    ],
)
def test_the_default_loss_follows_the_task(train_config, task, loss):
    from {{ cookiecutter.package }}.support.build import loss_for_task

    cfg = train_config()
    assert "by_task" in cfg.loss  # loss=auto: decided once the data (and its task) is known
    assert loss_for_task(cfg.loss, task)._target_ == loss
    chosen = train_config("loss=huber").loss
    assert loss_for_task(chosen, task) is chosen  # a loss chosen by name is kept as it is


def test_a_loss_that_does_not_fit_the_given_task_is_refused_before_training(train_config):
    with pytest.raises(UserError, match="loss=bce .* cannot train a multiclass task"):
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
        ("model.compile=maybe", "model.compile"),
        ("data.clip_predictions=maybe", "data.clip_predictions"),
        ("trainer.max_epochs=0", "trainer.max_epochs"),
        ("step_budget=0", "step_budget"),
        ("torch_threads=0", "torch_threads"),
        ("data.test_fraction=1.2", "data.test_fraction"),
        ("data.task=ranking", "data.task"),
        ("data=moons data.demo_options.noise=-1", "data.demo_options.noise"),
        ("optimizer=sgd optimizer.momentum=-0.5", "optimizer.momentum"),
        ("optimizer.weight_decay=-1", "optimizer.weight_decay"),
        ("optimizer.betas=[0.9,1.5]", "optimizer.betas"),
        ("scheduler=step scheduler.step_size=0", "scheduler.step_size"),
        ("scheduler=step scheduler.interval=batch", "scheduler.interval"),
        ("scheduler=cosine scheduler.T_max=0", "scheduler.T_max"),
        ("scheduler=reduce_on_plateau scheduler.factor=1.5", "scheduler.factor"),
        ("scheduler=one_cycle scheduler.pct_start=1", "scheduler.pct_start"),
        ("scheduler=warmup_cosine scheduler.warmup_fraction=1", "scheduler.warmup_fraction"),
        ("loss=bce loss.pos_weight=0", "loss.pos_weight"),
        ("loss=cross_entropy loss.weight=[1,-1]", "loss.weight"),
        ("loss=cross_entropy loss.label_smoothing=1", "loss.label_smoothing"),
        ("loss=huber loss.delta=0", "loss.delta"),
        ("loss=quantile data.task=regression loss.quantile=1", "loss.quantile"),
        ("dropout_schedule=linear dropout_schedule.start=1", "dropout_schedule.start"),
        ("dropout_schedule=linear dropout_schedule.interval=batch", "dropout_schedule.interval"),
        ("dropout_schedule=step dropout_schedule.every=0", "dropout_schedule.every"),
        ("dropout_schedule=step dropout_schedule.factor=2", "dropout_schedule.factor"),
        ("dropout_schedule=curriculum dropout_schedule.gamma=0", "dropout_schedule.gamma"),
        ("dropout_schedule=early dropout_schedule.cutoff_epoch=0", "dropout_schedule.cutoff_epoch"),
        ("dropout_schedule=early dropout_schedule.decay=cosine", "dropout_schedule.decay"),
        ("dropout_schedule=late dropout_schedule.p=-0.1", "dropout_schedule.p"),
        ("callbacks.early_stopping.patience=-1", "callbacks.early_stopping.patience"),
        ("callbacks.early_stopping.min_delta=-0.1", "callbacks.early_stopping.min_delta"),
        ("callbacks.early_stopping.monitor=val/accuracy", "callbacks.early_stopping.monitor"),
        ("callbacks.early_stopping.monitor=val/mse", "callbacks.early_stopping.monitor"),
        ("callbacks.early_stopping.monitor=val/auroc", "callbacks.early_stopping.mode"),
        ("callbacks.model_checkpoint.mode=lowest", "callbacks.model_checkpoint.mode"),
        ("callbacks.model_checkpoint.monitor=val/r2", "callbacks.model_checkpoint.monitor"),
        (
            "callbacks.step_checkpoint.every_n_train_steps=-1",
            "callbacks.step_checkpoint.every_n_train_steps",
        ),
        ("trainer.gradient_clip_val=-1", "trainer.gradient_clip_val"),
        (
            "callbacks.decision_boundary.every_n_epochs=0",
            "callbacks.decision_boundary.every_n_epochs",
        ),
        ("callbacks.decision_boundary.resolution=1", "callbacks.decision_boundary.resolution"),
        ("callbacks.test_plots.num_thresholds=1", "callbacks.test_plots.num_thresholds"),
        ("callbacks.progress_bar.min_interval=abc", "callbacks.progress_bar.min_interval"),
        ("callbacks.progress_bar.min_interval=-1", "callbacks.progress_bar.min_interval"),
        ("callbacks.progress_bar.refresh_rate=-1", "callbacks.progress_bar.refresh_rate"),
        ("trainer.gradient_clip_algorithm=l2", "trainer.gradient_clip_algorithm"),
    ],
)
def test_out_of_range_values_name_their_key(train_config, override, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        check_config(train_config(*override.split()))


def test_monitored_metric_and_mode_must_fit(train_config):
    check_config(
        train_config(
            "callbacks.early_stopping.monitor=val/auroc", "callbacks.early_stopping.mode=max"
        )
    )
    check_config(
        train_config(
            "data.task=regression",
            "loss=mse",
            "callbacks.early_stopping.monitor=val/r2",
            "callbacks.early_stopping.mode=max",
        )
    )
    with pytest.raises(UserError, match="higher: use callbacks.early_stopping.mode=max"):
        check_config(train_config("callbacks.early_stopping.monitor=val/auroc"))
    # mode=auto follows the metric; monitor=auto waits for the task (support/build.py)
    check_config(train_config("callbacks.model_checkpoint.monitor=val/auroc"))
    check_config(train_config("callbacks.model_checkpoint.mode=max"))


def test_nesterov_needs_momentum(train_config):
    with pytest.raises(UserError, match="optimizer.nesterov=true needs momentum"):
        check_config(
            train_config("optimizer=sgd", "optimizer.nesterov=true", "optimizer.momentum=0")
        )


def test_one_cycle_momentum_needs_an_optimizer_with_momentum(train_config):
    check_config(train_config("scheduler=one_cycle", "optimizer=sgd"))
    with pytest.raises(UserError, match="scheduler.cycle_momentum=false"):
        check_config(train_config("scheduler=one_cycle", "optimizer=adagrad"))
    check_config(
        train_config("scheduler=one_cycle", "optimizer=adagrad", "scheduler.cycle_momentum=false")
    )


def test_class_weights_must_match_the_classes():
    check_class_weights([1.0, 2.0], [0, 1])
    check_class_weights(None, [0, 1])
    with pytest.raises(UserError, match="loss.weight has 3 values but the data has 2 classes"):
        check_class_weights([1.0, 2.0, 3.0], [0, 1])


def test_fractions_must_leave_training_rows(train_config):
    with pytest.raises(UserError, match="too few training rows"):
        check_config(train_config("data.val_fraction=0.5", "data.test_fraction=0.45"))


def test_hidden_sizes_may_be_empty(train_config):
    check_config(train_config("model.hidden_sizes=[]"))


def test_loss_must_fit_the_task():
    check_loss_fits_task(load_choice("loss", "cross_entropy"), "multiclass")
    with pytest.raises(UserError, match="loss=bce .* cannot train a multiclass task"):
        check_loss_fits_task(load_choice("loss", "bce"), "multiclass")
    with pytest.raises(
        UserError,
        match="cannot train a regression task.*losses for regression: huber, l1, mse, quantile",
    ):
        check_loss_fits_task(load_choice("loss", "cross_entropy"), "regression")


def test_a_loss_file_must_say_what_it_trains():
    with pytest.raises(UserError, match="does not say what it trains: its file needs `trains`"):
        check_loss_fits_task({"_target_": "torch.nn.SmoothL1Loss"}, "regression")
    with pytest.raises(UserError, match="does not say what it trains"):
        check_loss_fits_task(
            {"_target_": "torch.nn.MSELoss", "trains": {"regression": "y"}}, "regression"
        )


@pytest.mark.parametrize("name", [n for n in group_choices("loss") if n != "auto"])
def test_every_loss_file_says_what_it_trains(name):
    """Each task a loss file lists is a task, given one of the inputs the module knows."""
    trains = load_choice("loss", name)[CONTRACT_KEY]
    assert set(trains) <= set(TASK_METRICS)
    assert set(trains.values()) <= set(INPUTS)


def test_auto_picks_a_loss_file_that_trains_each_task():
    for task, name in load_choice("loss", "auto").by_task.items():
        assert task in load_choice("loss", name)[CONTRACT_KEY]


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


@pytest.mark.parametrize("app", ["train", "tune"])
@pytest.mark.parametrize("flag", ["--help", "--cfg=job"])
def test_help_and_cfg_answer_without_importing_torch(app, flag):
    code = (
        "import sys\n"
        f"sys.argv = ['{app}', '{flag}']\n"
        f"from {PACKAGE} import {app}\n"
        f"try:\n    {app}.main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "optimizer" in result.stdout


@pytest.mark.parametrize("command", ["predict", "export"])
def test_predict_and_export_take_every_detected_reading_option_without_a_plus(command):
    """`read.quotechar='"'` must work as `data.read.quotechar` does: the same null keys."""
    from {{ cookiecutter.package }}.data.csv_format import DETECTED

    detected = set(OmegaConf.load(CONFIG_DIR / "data" / "csv.yaml").read)
    assert detected == set(DETECTED)
    assert set(OmegaConf.load(CONFIG_DIR / f"{command}.yaml").read) == detected
