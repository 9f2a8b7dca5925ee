"""The networks (plain torch.nn.Modules) and the LightningModule that trains them.

The network contract: what `configs/model/<name>.yaml` may name as its `_target_`.
- Constructor: `input_size` (the width of a preprocessed row) and `output_size` (set by the loss:
  1, or one per class) as keyword arguments, then the settings of its config file. `compile`,
  `numeric_embedding`, `input_scale`, `members`, `cross_fit` and `linear_base` in that file are
  the module's (torch.compile; the embedding of numbers in model/inputs.py, which makes
  `input_size` wider; a learned factor per input column; how many copies of the network to train
  side by side and average, and whether each trains on its own share of the rows,
  model/ensemble.py; a fixed ridge regression that a regression network's output is added to,
  model/linear_base.py), not the network's, and are not passed to it.
- `forward(features)`: a float tensor (rows, input_size) in, raw outputs (rows, output_size) out:
  no sigmoid or softmax, the module applies what the loss needs (model/losses.py).
- Dropout as `torch.nn.Dropout` modules, if the dropout schedules are to reach it (a network
  without one refuses `dropout_schedule=...`; other dropout kinds are left alone).
- `model.activation`, `model.init` and `model.normalization`, if the network takes them, use the
  names of model/layers.py; the config checks also check `model.dropout` and the MLP's and
  ResNet's widths when the file has them.
- tune draws the network's settings from `configs/search_space/<name>.yaml`, one file per network.

Shipped: `mlp.py` (model=mlp) and `resnet.py` (model=resnet); add a network as a class and its
config file (README: "Change the code").
"""
