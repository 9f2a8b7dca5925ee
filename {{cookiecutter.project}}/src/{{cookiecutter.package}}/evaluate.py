"""Test a checkpoint on its test split and write metrics.json.

    python -m {{ cookiecutter.package }}.evaluate \
        ckpt_path=logs/train/runs/<run>/checkpoints/best.ckpt

The data settings and the fitted preprocessing come from the checkpoint; a `data.*` setting given on
the command line replaces the checkpoint's (e.g. `data.batch_size=512`).
"""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .support.config_checks import check_config
from .support.errors import UserError, exit_on_user_error


def data_settings(checkpoint: dict, cfg: DictConfig, overrides: list[str]) -> dict:
    """The checkpoint's data settings, with the `data.*` keys overridden on the command line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    settings = dict(checkpoint["datamodule_hyper_parameters"])
    composed = OmegaConf.to_container(cfg.data, resolve=True)
    for override in OverridesParser.create().parse_overrides(overrides):
        key = override.key_or_group
        if key == "data":  # a whole other data set
            return composed
        if key.startswith("data."):
            name = key.split(".")[1]
            settings[name] = composed[name]
    settings["_target_"] = composed["_target_"]
    return settings


def evaluate(cfg: DictConfig, overrides: list[str]) -> dict[str, float]:
    """Rebuild the model and data from the checkpoint, test it, return the test metrics."""
    from .model.module import TabularModule
    from .support.build import build_datamodule, build_trainer, set_torch_threads
    from .support.checkpoints import load_checkpoint
    from .support.reports import one_class_note, report_metrics, write_metrics
    from .support.run_dirs import save_run_config

    set_torch_threads(cfg.torch_threads)
    checkpoint = load_checkpoint(cfg.ckpt_path)
    datamodule = build_datamodule(data_settings(checkpoint, cfg, overrides))
    datamodule.load_state_dict(checkpoint[type(datamodule).__qualname__])
    module = TabularModule.from_checkpoint(checkpoint)  # its decision threshold too, if it has one
    # Testing saves nothing: without this Lightning adds a checkpoint callback of its own (and
    # prints an advertisement for its model registry).
    trainer = build_trainer(cfg.trainer, callbacks=[], loggers=[], enable_checkpointing=False)
    if trainer.is_global_zero:
        save_run_config(cfg, cfg.run_dir)
    metrics = trainer.test(module, datamodule=datamodule, verbose=False)[0]
    if trainer.is_global_zero:
        note = one_class_note(module.test_predicted, datamodule.classes, module.decision_threshold)
        report_metrics(metrics, write_metrics(cfg.run_dir, metrics), note)
    return metrics


@hydra.main(version_base="1.3", config_path="configs", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    with exit_on_user_error():
        if OmegaConf.is_missing(cfg, "ckpt_path"):
            raise UserError("ckpt_path is required: evaluate ckpt_path=<run>/checkpoints/best.ckpt")
        check_config(cfg)
        evaluate(cfg, HydraConfig.get().overrides.task)


if __name__ == "__main__":
    main()
