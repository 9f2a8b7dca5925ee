"""Callbacks that Lightning does not ship: dropout scheduling and stopping on a non-finite loss.

Lightning's own callbacks (checkpoints, early stopping, learning-rate monitor) are used as they are,
straight from `configs/callbacks/default.yaml`.
"""
