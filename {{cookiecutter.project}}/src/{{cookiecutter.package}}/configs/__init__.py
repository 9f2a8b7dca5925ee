"""Hydra configs, importable so that the apps find them however they are started.

Each folder is a config group and each of its files a choice (`optimizer=adam` is
`optimizer/adam.yaml`): adding a file adds a choice, and everything that lists choices (the config
checks, tune, the tests) reads them from here.
"""

from importlib.resources import files

from omegaconf import DictConfig, OmegaConf

FOLDER = files(__name__)


def group_choices(group: str) -> list[str] | None:
    """The choices of config group `group` (its files' names); None if there is no such group."""
    folder = FOLDER / group
    if "." in group or not folder.is_dir():
        return None
    return sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".yaml"))


def load_choice(group: str, name: str) -> DictConfig | None:
    """The file `<group>/<name>.yaml` as written (unresolved); None if there is none."""
    file = FOLDER / group / f"{name}.yaml"
    return OmegaConf.create(file.read_text()) if file.is_file() else None
