"""Record a run's configuration in `<run_dir>/.hydra/`, once its checks have passed.

Hydra would write `.hydra/config.yaml` before the app's code runs, so a refused command pointed at
an existing run's hydra.run.dir would overwrite that run's record. `hydra.output_subdir` is null
(configs/hydra/default.yaml) and the apps write the same three files here instead, after the
configuration, the checkpoint and the data have been accepted.
"""

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf


def save_run_config(cfg: DictConfig, run_dir: str) -> None:
    """config.yaml, overrides.yaml and hydra.yaml as Hydra writes them; nothing outside a Hydra app
    (the tests' compose API)."""
    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    folder = Path(run_dir) / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create(list(hydra_cfg.overrides.task)), folder / "overrides.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), folder / "hydra.yaml")
