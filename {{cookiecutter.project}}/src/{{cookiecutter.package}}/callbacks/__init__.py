"""Callbacks that Lightning does not ship: dropout scheduling, stopping on a non-finite loss, and
the TensorBoard pictures (train-vs-val charts, best validation metrics, test plots, decision
boundary).

Lightning's own callbacks (checkpoints, early stopping, learning-rate monitor) are used straight
from `configs/callbacks/default.yaml`; two are subclassed for one change each: the best checkpoint
tells epochs tied for the best apart by their val/loss (model_checkpoint.py), early stopping keeps
a resumed run's patience (early_stopping.py).
"""
