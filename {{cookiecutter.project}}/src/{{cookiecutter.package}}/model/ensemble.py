"""Several copies of one network, trained side by side and averaged: a deep ensemble.

`model.members: k` builds the network k times, each from its own random initialisation, and trains
all k on the same batches. The module's loss is the mean of each member's own loss on the batch;
no parameter is shared, so each member takes the step it would take alone on that batch (Adam's
steps do not see the factor 1 / k, but for its epsilon). Predictions are the mean of the members'
probabilities (classification) or values (regression). The logged loss is the members' mean loss,
what they train on; the metrics score the averaged prediction.

This is the deep ensemble of Lakshminarayanan et al. ("Simple and Scalable Predictive Uncertainty
Estimation using Deep Ensembles", NeurIPS 2017), who use 5 members; Gorishniy et al. 2021 report
their tabular networks as ensembles of 5 too. It costs k times the arithmetic of one network per
step.

`members: auto` (the default for your own table) is AUTO_MEMBERS members for regression on up to
AUTO_MAX_TRAINING_ROWS training rows, one network otherwise. Regression, because the squared error
of the members' mean is never above their mean squared error: it is lower by the variance between
them. Small tables, because that variance is larger where there are fewer rows to agree on, and
because k networks cost least there: up to that size data.batch_size=auto picks batches of 32
rows, and 5 networks at 32 rows pass fewer rows a step than one network at the 256 rows auto
picks for a 50,000-row table of the same columns. Each step costs about 5 times one network's.
Accuracy and ROC AUC have no such guarantee, and on the benchmark's classification tables 5
members moved them either way (DESIGN.md).

Any network that follows the contract (model/__init__.py) can be a member: the module builds the
members from the network's config, so a network of your own needs no code for this.
"""

import torch
from torch import nn

AUTO = "auto"
AUTO_MEMBERS = 5
# The most training rows for which data.batch_size=auto picks its smallest batch, 32 rows
# (data/batching.py; a test holds the two together).
AUTO_MAX_TRAINING_ROWS = 5792


def resolved_members(members: int | str, task: str, training_rows: int) -> int:
    """`model.members` as a number: `auto` becomes the number the module docstring's rule gives."""
    if members != AUTO:
        return members
    small = training_rows <= AUTO_MAX_TRAINING_ROWS
    return AUTO_MEMBERS if task == "regression" and small else 1


class Ensemble(nn.Module):
    """features (rows, inputs) -> raw outputs (rows, members, outputs), one slice per member."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(features) for member in self.members], dim=1)
