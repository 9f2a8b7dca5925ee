"""Hydra configs, importable so that the apps find them however they are started."""
