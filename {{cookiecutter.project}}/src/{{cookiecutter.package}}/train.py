"""Train the MLP, test its best checkpoint and write metrics.json.

    python -m {{ cookiecutter.package }}.train \
        optimizer=sgd optimizer.lr=0.05 'model.hidden_sizes=[32,16]'

Heavy libraries are imported inside `train`, so `--help`, `--cfg job` and a mistyped choice answer
at once.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig, OmegaConf

from .support.config_checks import check_config, check_monitors
from .support.errors import UserError, exit_on_interrupt, exit_on_user_error
from .support.run_dirs import one_writer

if TYPE_CHECKING:
    from lightning import Callback

    from .data.datamodule import TabularDataModule


def checkpoint_dir(cfg: DictConfig) -> str:
    """Where this run's last.ckpt lives, so that `ckpt_path=last` can find it."""
    configured = OmegaConf.select(cfg, "callbacks.last_checkpoint.dirpath", default=None)
    return configured or f"{cfg.run_dir}/checkpoints"


def checkpoint_dirs(cfg: DictConfig) -> dict[str, str]:
    """`callbacks.<name>.dirpath` -> the folder, for every checkpoint callback of the run."""
    return {
        f"callbacks.{name}.dirpath": str(callback.dirpath)
        for name, callback in (cfg.callbacks or {}).items()
        if callback is not None and callback.get("dirpath")
    }


def set_up_data(cfg: DictConfig) -> "TabularDataModule":
    """The run's data module, set up, with `model.members=auto` resolved for its table.

    A cross-fitted ensemble (model.cross_fit, model/ensemble.py) fits the preprocessing again on
    the pooled training and validation rows. The first fit's warnings (levels the training rows
    never saw, for one) are then about a fit that is not kept, so they are shown only when it is.
    """
    import warnings

    from .model.ensemble import resolved_members
    from .support.build import build_datamodule

    def show(notes: list[warnings.WarningMessage]) -> None:
        for note in notes:
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)

    datamodule = build_datamodule(cfg.data)
    first_fit: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as first_fit:
            datamodule.setup("fit")  # the input width and the task come from the data
    except Exception:
        show(first_fit)  # what led up to a refusal
        raise
    members = cfg.model.get("members")
    if members is not None:
        members = resolved_members(members, len(datamodule.split_rows["train"]))
        cfg.model.members = members
    if members is not None and members > 1 and cfg.model.get("cross_fit"):
        datamodule.cross_fit(members)  # warns afresh, about the fit it keeps
    else:
        show(first_fit)
    return datamodule


def train(
    cfg: DictConfig,
    callbacks: Sequence["Callback"] = (),
    print_data: bool = True,
    print_results: bool = True,
) -> dict[str, float]:
    """Fit (or resume), say why training ended, test the best checkpoint; return its metrics.

    `callbacks`: Lightning callbacks besides the configured ones, e.g. tune's pruning of a trial.
    cross_validate calls this once per fold and prints its own summary instead.
    """
    import lightning as L
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from .callbacks.non_finite_loss import NonFiniteLossError
    from .callbacks.stop_on_signal import StopOnSignal
    from .support.build import (
        build_callbacks,
        build_loggers,
        build_module,
        build_trainer,
        check_network,
        loss_for_task,
        set_torch_threads,
        with_balanced_weights,
        with_task_monitors,
    )
    from .support.checkpoints import remove_partial_files, resume_checkpoint
    from .support.hparams import flat_hparams, keep_hparams, log_hparams, metric_names
    from .support.mlflow_runs import record_mlflow_run
    from .support.reports import (
        budget_line,
        one_class_note,
        print_view_commands,
        report,
        report_metrics,
        report_resume,
        stop_reason,
        write_metrics,
    )
    from .support.resume_checks import check_resumable, record_resume
    from .support.run_dirs import save_run_config, unwritable_reason
    from .support.step_budget import budgeted_epochs, steps_per_epoch

    resume = resume_checkpoint(cfg.ckpt_path, checkpoint_dir(cfg))
    for key, folder in checkpoint_dirs(cfg).items():
        reason = unwritable_reason(folder)
        if reason is not None:
            raise UserError(
                f"cannot write checkpoints to {folder} ({key}, by default "
                f"<hydra.run.dir>/checkpoints, here hydra.run.dir={cfg.run_dir}): "
                f"{reason}"
            )
    check_network(cfg.model)
    set_torch_threads(cfg.torch_threads)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = set_up_data(cfg)
    if print_data:
        report(datamodule.describe())
    # Recorded as used: the inferred task, the loss it picks (loss=auto), checked as if given, the
    # class weights `balanced` stands for, counted on the training rows, and the metric `auto`
    # monitors for this task (the best checkpoint's, by default).
    cfg.data.task = datamodule.task
    cfg.loss = with_balanced_weights(loss_for_task(cfg.loss, datamodule.task), datamodule)
    with_task_monitors(cfg, datamodule.task, resumed=resume[1] if resume is not None else None)
    check_monitors(cfg)
    # Recorded as used too: the epochs that the step budget leaves (support/step_budget.py).
    per_epoch = steps_per_epoch(
        len(datamodule.training_rows),
        datamodule.batch_size,
        cfg.trainer.get("accumulate_grad_batches") or 1,
    )
    epochs = budgeted_epochs(cfg.trainer.max_epochs, cfg.step_budget, per_epoch)
    if print_data:
        members = cfg.model.get("members", 1)
        report([budget_line(epochs, per_epoch, cfg.trainer.max_epochs, cfg.step_budget, members)])
    cfg.trainer.max_epochs = epochs
    module = build_module(cfg, datamodule)
    if print_data and module.linear_base is not None:
        report([module.linear_base.description()])
    ckpt_path = None
    if resume is not None:
        ckpt_path, contents = resume
        # Before anything is written: a refusal leaves the run as it was.
        check_resumable(ckpt_path, contents, module, datamodule, cfg.trainer.max_epochs)
    for folder in checkpoint_dirs(cfg).values():
        remove_partial_files(folder)  # what a run killed mid-save left behind
    configured = build_callbacks(cfg.callbacks, cfg.dropout_schedule)
    trainer = build_trainer(cfg.trainer, [*configured, *callbacks], build_loggers(cfg.logger))
    params = flat_hparams(cfg)  # as used: hparams.yaml now, the HParams table at the end
    keep_hparams(trainer.loggers, params)
    if trainer.is_global_zero:
        if resume is not None:
            report_resume(ckpt_path, contents, record_resume(cfg.run_dir, ckpt_path, contents, cfg))
        save_run_config(cfg, cfg.run_dir)  # accepted: now it may replace an earlier record

    diverged = None
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except NonFiniteLossError as error:
        diverged = error
    except SIGTERMException:  # Ctrl-C or SIGTERM, stopped at a step boundary
        stoppers = [c for c in trainer.callbacks if isinstance(c, StopOnSignal) and c.interrupted]
        if stoppers:
            raise stoppers[0].interrupted from None
        raise
    checkpoint = trainer.checkpoint_callback
    best = checkpoint.best_model_path if checkpoint is not None else ""
    if diverged is not None and not best:
        raise UserError(
            f"{diverged}, before any checkpoint was saved: lower optimizer.lr or clip "
            "the gradients, e.g. trainer.gradient_clip_val=1.0"
        )
    if trainer.is_global_zero and print_results:
        report([stop_reason(trainer, diverged)])

    metrics = trainer.test(
        module, datamodule=datamodule, ckpt_path=best or None, verbose=False, weights_only=True
    )[0]
    if trainer.is_global_zero:
        metrics_file = write_metrics(cfg.run_dir, metrics)
        log_hparams(trainer.loggers, params, metric_names(metrics))
        record_mlflow_run(trainer.loggers, params, cfg.run_dir, best)
        if print_results:
            note = one_class_note(
                module.test_predicted, datamodule.classes, module.decision_threshold
            )
            report_metrics(metrics, metrics_file, note)
            print_view_commands(cfg.run_dir, cfg.logger)
    return metrics


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error(), exit_on_interrupt():
        check_config(cfg)
        with one_writer(cfg.run_dir):
            train(cfg)


if __name__ == "__main__":
    main()
