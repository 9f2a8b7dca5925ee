"""k-fold cross-validation: train every fold of every repeat; mean and std of the test metrics.

    python -m {{ cookiecutter.package }}.cross_validate data.num_folds=5 repeats=5

On a small table one test split gives a noisy estimate; k folds test every row once, and repeats
with new folds average out the luck of the cut. Each fold is an ordinary `train` run in its own
subdirectory (`repeat_<r>/fold_<i>/`, with its checkpoints, metrics.json and TensorBoard curves),
and the run directory gets `cross_validation.json` with the mean, standard deviation and values of
every test metric.
"""

import copy
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from .support.config_checks import check_config
from .support.errors import UserError, exit_on_interrupt, exit_on_user_error
from .support.run_dirs import one_writer

# Lightning's per-trainer notices ("GPU available: ...") would repeat once per fold.
LIGHTNING_NOTICES = "lightning.pytorch.utilities.rank_zero"


def fold_config(cfg: DictConfig, repeat: int, fold: int) -> DictConfig:
    """The train config of one fold: its own run directory, and the repeat's own split seed."""
    run = copy.deepcopy(cfg)
    run.run_dir = str(Path(cfg.run_dir) / f"repeat_{repeat}" / f"fold_{fold}")
    run.seed = cfg.seed + repeat
    run.data.seed = cfg.data.seed + repeat
    run.data.fold = fold
    return run


def cross_validate(cfg: DictConfig) -> dict[str, dict[str, float]]:
    """Train every fold of every repeat; write and print the summary; return it."""
    from .support.reports import (
        print_view_commands,
        report,
        report_cross_validation,
        write_cross_validation,
    )
    from .support.run_dirs import save_run_config
    from .train import train

    folds, repeats = cfg.data.num_folds, cfg.repeats
    results = []
    notices = logging.getLogger(LIGHTNING_NOTICES)
    level = notices.level
    notices.setLevel(logging.WARNING)
    try:
        for repeat in range(repeats):
            for fold in range(folds):
                run = fold_config(cfg, repeat, fold)
                metrics = train(run, print_data=not results, print_results=False)
                if not results:  # the first fold accepted the settings and the data
                    save_run_config(cfg, cfg.run_dir)
                results.append(metrics)
                shown = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
                # Named as its folder and data.fold are (from 0), with the count done so far.
                done = f"{len(results)} of {repeats * folds}"
                report([f"repeat_{repeat}/fold_{fold} ({done}): {shown}"])
    finally:
        notices.setLevel(level)
    summary_file, summary = write_cross_validation(cfg.run_dir, results, folds, repeats)
    report_cross_validation(summary, summary_file)
    print_view_commands(cfg.run_dir, cfg.logger)
    return summary


@hydra.main(version_base="1.3", config_path="configs", config_name="cross_validate")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error(), exit_on_interrupt(resume_hint=False):
        check_config(cfg)
        if OmegaConf.select(cfg, "data.num_folds") is None:
            raise UserError(
                "data.num_folds=null: cross_validate needs a number of folds >= 2, "
                "e.g. data.num_folds=5"
            )
        with one_writer(cfg.run_dir):
            cross_validate(cfg)


if __name__ == "__main__":
    main()
