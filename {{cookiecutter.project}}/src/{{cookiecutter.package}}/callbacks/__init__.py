"""Callbacks that Lightning does not ship: dropout scheduling, stopping on a non-finite loss, and
the TensorBoard pictures (train-vs-val charts, best validation metrics, test plots, decision
boundary).

Lightning's own callbacks (checkpoints, early stopping, learning-rate monitor) are used as they are,
straight from `configs/callbacks/default.yaml`.
"""
