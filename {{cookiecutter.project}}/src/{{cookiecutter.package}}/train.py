"""Train the MLP, test its best checkpoint and write metrics.json.

    python -m {{ cookiecutter.package }}.train optimizer=sgd optimizer.lr=0.05 'model.hidden_sizes=[32,16]'

Heavy libraries are imported inside `train`, so `--help`, `--cfg job` and a mistyped choice answer
at once.
"""

import hydra
from omegaconf import DictConfig

from .config_checks import check_config
from .errors import exit_on_user_error


def train(cfg: DictConfig, print_data: bool = True, print_results: bool = True) -> dict[str, float]:
    """Fit, then test the best checkpoint; write metrics.json; return the test metrics.

    cross_validate calls this once per fold and prints its own summary instead.
    """
    import lightning as L

    from .build import (
        build_callbacks,
        build_datamodule,
        build_loggers,
        build_module,
        build_trainer,
        loss_for_task,
    )
    from .hparams import flat_hparams, log_hparams
    from .run_outputs import print_metrics, print_tensorboard_command, report_data, write_metrics

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = build_datamodule(cfg.data)
    datamodule.setup("fit")  # the input width and the task come from the data
    if print_data:
        report_data(datamodule.describe())
    cfg.loss = loss_for_task(cfg.loss, datamodule.task)  # recorded as the loss actually used
    module = build_module(cfg, datamodule)
    trainer = build_trainer(cfg.trainer, build_callbacks(cfg.callbacks), build_loggers(cfg.logger))
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)

    checkpoint = trainer.checkpoint_callback
    best = "best" if checkpoint is not None and checkpoint.best_model_path else None
    metrics = trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False)[0]
    if trainer.is_global_zero:
        metrics_file = write_metrics(cfg.run_dir, metrics)
        log_hparams(trainer.loggers, flat_hparams(cfg), sorted(metrics))
        if print_results:
            print_metrics(metrics, metrics_file)
            print_tensorboard_command(cfg.run_dir)
    return metrics


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        check_config(cfg)
        train(cfg)


if __name__ == "__main__":
    main()
