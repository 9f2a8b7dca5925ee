"""An Optuna study over `train` settings: each trial a real train run, bad ones pruned early.

    python -m {{ cookiecutter.package }}.tune n_trials=20 trainer.max_epochs=50

The search space is declared in the config (`search_space` in configs/tune.yaml). Each trial draws
its settings as command-line overrides, composes the train config with them exactly as
`train key=value ...` would, and runs `train` in `<run>/trials/<number>/` (checkpoints, metrics.json
and its own TensorBoard run, so the HParams tab compares the trials). Its result is the validation
metric of its best checkpoint; the same metric, reported every epoch, lets Optuna's pruner stop a
trial that cannot win. The study lives in `<run>/study.db` (SQLite): the same command with the same
`hydra.run.dir` continues it. At the end the best trial is printed as a ready-to-paste train command
and saved as an experiment file.

Optuna is driven directly: hydra-optuna-sweeper pins optuna<3 and hides the trial, so it cannot
prune. Heavy libraries are imported inside the functions, so `--help` answers at once.
"""

import copy
import shlex
import warnings
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .configs import group_choices
from .support.config_checks import check_config, check_monitors, check_tune_config
from .support.errors import UserError, exit_on_interrupt, exit_on_user_error
from .support.run_dirs import one_writer

# The keys of tune.yaml that train does not have: they configure the study, not the trials.
TUNE_KEYS = ("n_trials", "search_space", "sampler", "pruner")
STUDY_NAME = "tune"
TRAIN_COMMAND = "{{ cookiecutter.project }}-train"


def override_text(value: Any) -> str:
    """A value as it is typed on the command line: [64,32], true, null, 0.001, adam."""
    if isinstance(value, list | tuple):
        return "[" + ",".join(override_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def suggest(trial: Any, search_space: DictConfig) -> list[str]:
    """Draw one value per entry of the search space; return them as `key=value` overrides."""
    overrides = []
    for name, entry in search_space.items():
        if "choices" in entry:
            choices = [override_text(c) for c in OmegaConf.to_container(entry.choices)]
            value = trial.suggest_categorical(name, choices)
        elif isinstance(entry.low, int) and isinstance(entry.high, int):
            value = trial.suggest_int(
                name,
                entry.low,
                entry.high,
                step=entry.get("step") or 1,
                log=entry.get("log", False),
            )
        else:
            value = trial.suggest_float(
                name, entry.low, entry.high, step=entry.get("step"), log=entry.get("log", False)
            )
        overrides.append(
            f"{entry.key}={value}" if isinstance(value, str) else f"{entry.key}={value!r}"
        )
    return overrides


def train_overrides(task_overrides: list[str]) -> list[str]:
    """The command line's settings that every trial shares (the study's own keys left out)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(task_overrides)
    return [o.input_line for o in parsed if o.key_or_group.split(".")[0] not in TUNE_KEYS]


def experiment_yaml(overrides: list[str], header: str) -> str:
    """The overrides as an experiment file (`# @package _global_`): a group choice becomes an
    `override /group: choice` entry, `experiment=X` includes X, a value becomes a key. A deletion
    (`~key`) has no place in a config file and is left to the printed command line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    defaults: list[str] = []
    body = OmegaConf.create()
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.key_or_group
        if override.is_delete():
            continue
        if key == "experiment":
            defaults.insert(0, f"/experiment/{override.value()}")
        elif group_choices(key) is not None:
            defaults.append(f"override /{key}: {override.value()}")
        else:
            OmegaConf.update(body, key, override.value(), force_add=True)
    config = OmegaConf.create({"defaults": [*defaults, "_self_"], **OmegaConf.to_container(body)})
    return f"# @package _global_\n{header}{OmegaConf.to_yaml(config)}"


def trial_config(shared: list[str], drawn: list[str], run_dir: Path) -> DictConfig:
    """The train config of one trial: composed as `train <shared> <drawn>` would compose it."""
    from hydra import compose

    cfg = compose(config_name="tune", overrides=[*shared, *drawn])
    cfg.run_dir = str(run_dir)  # the callbacks and the logger follow: ${run_dir}/checkpoints
    return cfg


def record_trial_overrides(trial_dir: Path, overrides: list[str]) -> None:
    """train records the running Hydra job's overrides, tune's, in `<trial>/.hydra/`; a trial's own
    are the shared ones and those it drew, what `train` needs to run it again."""
    folder = trial_dir / ".hydra"
    if folder.is_dir():  # only inside a Hydra app (not the tests' compose API)
        OmegaConf.save(OmegaConf.create(overrides), folder / "overrides.yaml")


def judged_by(cfg: DictConfig) -> tuple[str, str]:
    """The metric trials are judged by and its direction: the best checkpoint's monitor and mode,
    with `auto` resolved and checked as train does it, for the task of the data (read here once
    when data.task is null; its warnings come again with the first trial)."""
    from .model.metrics import AUTO
    from .support.build import build_datamodule, with_task_monitors

    resolved = copy.deepcopy(cfg)
    checkpoint = resolved.callbacks.model_checkpoint
    if AUTO in (checkpoint.monitor, checkpoint.mode) and resolved.data.get("task") is None:
        datamodule = build_datamodule(resolved.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datamodule.setup("fit")
        resolved.data.task = datamodule.task
    if resolved.data.get("task") is not None:
        with_task_monitors(resolved, resolved.data.task)
        check_monitors(resolved)
    return checkpoint.monitor, checkpoint.mode


def open_study(cfg: DictConfig, run_dir: Path, monitor: str, mode: str) -> Any:
    """The study in `<run_dir>/study.db`: new, or the one an earlier run there started."""
    import optuna
    from hydra.utils import instantiate

    direction = "minimize" if mode == "min" else "maximize"
    run_dir.mkdir(parents=True, exist_ok=True)
    # A trial whose process was killed stops its heartbeat and is marked failed by the next run.
    # (Optuna still calls heartbeats experimental, a warning that would repeat on every run.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            f"sqlite:///{(run_dir / 'study.db').resolve()}", heartbeat_interval=60, grace_period=120
        )
    study = optuna.create_study(
        storage=storage,
        study_name=STUDY_NAME,
        direction=direction,
        load_if_exists=True,
        pruner=instantiate(cfg.pruner),
    )
    known = study.user_attrs.get("monitor")
    if known is None:
        study.set_user_attr("monitor", monitor)
    elif (known, study.direction.name.lower()) != (monitor, direction):
        raise UserError(
            f"the study in {run_dir} was judged by {known} ({study.direction.name.lower()}); this "
            f"command asks for {monitor} ({direction}): use the same "
            "callbacks.model_checkpoint.monitor and .mode, or another hydra.run.dir"
        )
    # Seeded past the trials already there, so that a continued study draws new settings.
    study.sampler = instantiate(cfg.sampler, seed=cfg.seed + len(study.trials))
    return study


def tune(cfg: DictConfig, task_overrides: list[str]) -> Any:
    """Run `n_trials` more trials of the study in `cfg.run_dir`; save and print the best one."""
    import optuna

    from .callbacks.prune_trial import PruneTrial
    from .train import train

    run_dir = Path(cfg.run_dir)
    shared = train_overrides(task_overrides)
    monitor, mode = judged_by(cfg)
    study = open_study(cfg, run_dir, monitor, mode)

    def objective(trial: optuna.Trial) -> float:
        drawn = suggest(trial, cfg.search_space)
        trial_dir = run_dir / "trials" / f"{trial.number:03d}"
        trial.set_user_attr("overrides", drawn)
        trial.set_user_attr("run_dir", str(trial_dir))
        trial_cfg = trial_config(shared, drawn, trial_dir)
        check_config(trial_cfg)
        pruning = PruneTrial(trial, monitor, mode)
        try:
            metrics = train(trial_cfg, callbacks=[pruning])
        finally:
            record_trial_overrides(trial_dir, [*shared, *drawn])
        for name, value in metrics.items():
            trial.set_user_attr(name, float(value))
        if pruning.best is None:
            raise UserError(
                f"callbacks.model_checkpoint.monitor={monitor} was never logged in "
                f"trial {trial.number}: tune judges trials by their validation"
            )
        return pruning.best

    study.optimize(objective, n_trials=cfg.n_trials)
    report(study, run_dir, shared, monitor)
    return study


def report(study: Any, run_dir: Path, shared: list[str], monitor: str) -> None:
    """Print the study's counts and its best trial as a train command; save it as an experiment."""
    from optuna.trial import TrialState

    counts = {state: len(study.get_trials(states=(state,))) for state in TrialState}
    print(
        f"\nStudy {run_dir / 'study.db'}: {len(study.trials)} trials, "
        f"{counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, "
        f"{counts[TrialState.FAIL]} failed."
    )
    if counts[TrialState.COMPLETE] == 0:
        print("No trial has finished yet: nothing to recommend.")
        return
    best = study.best_trial
    overrides = [*shared, *best.user_attrs["overrides"]]
    command = " ".join([TRAIN_COMMAND, *map(shlex.quote, overrides)])
    experiment = run_dir / "configs" / "experiment" / "tuned.yaml"
    experiment.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# The best trial ({best.number}, {monitor} {best.value:.4f}) of the study in "
        f"{run_dir}:\n#   {command}\n"
    )
    experiment.write_text(experiment_yaml(overrides, header))
    print(f"Best: trial {best.number}, {monitor} {best.value:.4f} ({best.user_attrs['run_dir']})")
    print(f"Train it again:\n  {command}")
    print(f"or with the experiment file {experiment}:")
    print(
        f"  {TRAIN_COMMAND} --config-dir {shlex.quote(str(experiment.parent.parent))} "
        "experiment=tuned"
    )
    print("Compare the trials in TensorBoard's HParams tab (localhost only):")
    print(f"  tensorboard --logdir {(run_dir / 'trials').resolve()} --host 127.0.0.1")


@hydra.main(version_base="1.3", config_path="configs", config_name="tune")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error(), exit_on_interrupt(resume_hint=False):
        task_overrides = list(HydraConfig.get().overrides.task)
        check_config(cfg)
        check_tune_config(cfg, task_overrides)
        with one_writer(cfg.run_dir):
            tune(cfg, task_overrides)


if __name__ == "__main__":
    main()
