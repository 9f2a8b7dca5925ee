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

`members: auto` (the default for your own table) is AUTO_MEMBERS members on up to
AUTO_MAX_TRAINING_ROWS rows in the training split, one network otherwise. Small tables, because
the members disagree most where there are fewer rows to agree on, which is where averaging them
gains most, and because k networks cost least there: up to that size data.batch_size=auto picks
batches of 32 rows for the training split (64 from about 4,700 such rows once cross-fitting adds the
validation rows to an epoch), and 5 networks at 32 or 64 rows pass fewer rows a step than one
network at the 256 rows auto picks for a 50,000-row table of the same columns. Each step costs about
5 times one network's. Every task: the squared error of the members' mean is never above their mean
squared error (lower by the variance between them), and accuracy and ROC AUC have no such
guarantee, but with cross-fitting the benchmark's classification tables of this size gained as its
regression tables did (DESIGN.md, "Defaults for your own table").

Cross-fitting (`model.cross_fit: true`, the default of configs/model/mlp.yaml): the training and
validation rows are pooled and dealt into k parts (data/splits.py:member_parts); member m trains
on every part but m (`members_loss`), and the validation scores each pooled row with the member
that did not train on it (`out_of_part`). So every member trains on (k-1)/k of the pooled rows
where one network would train on the training split alone, the members see different rows, and
the best epoch and early stopping follow out-of-part predictions of all the pooled rows, not of
the validation split's few. This is the k-fold bagging of AutoGluon-Tabular (Erickson et al.
2020, "AutoGluon-Tabular: Robust and Accurate AutoML for Structured Data"), done inside one run:
the members train side by side, on the same batches, each ignoring its own part's rows. The
test rows are scored by the mean of all members, as without cross-fitting. The preprocessing is
fitted on the pooled rows, so a member's validation part has shaped its quantiles and levels
(AutoGluon's bagging fits its features so too). A binary decision threshold is chosen on the
out-of-part probabilities, of one member each, and applied to the members' mean, whose
probabilities spread less: a small bias toward the middle.

Any network that follows the contract (model/__init__.py) can be a member: the module builds the
members from the network's config, so a network of your own needs no code for this.
"""

from collections.abc import Callable

import torch
from torch import nn

AUTO = "auto"
AUTO_MEMBERS = 5
# The most training rows for which data.batch_size=auto picks its smallest batch, 32 rows
# (data/batching.py; a test holds the two together).
AUTO_MAX_TRAINING_ROWS = 5792


def resolved_members(members: int | str, training_rows: int) -> int:
    """`model.members` as a number: `auto` becomes the number the module docstring's rule gives."""
    if members != AUTO:
        return members
    return AUTO_MEMBERS if training_rows <= AUTO_MAX_TRAINING_ROWS else 1


def members_loss(
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    outputs: torch.Tensor,
    targets: torch.Tensor,
    parts: torch.Tensor,
) -> torch.Tensor:
    """The mean over the members of each one's loss on the batch's rows outside its own part.

    outputs (rows, members, ...), parts (rows,). A member none of whose training rows is in the
    batch (a last batch of a row or two) adds no loss of no rows: it gets no gradient from the
    batch, though its optimizer still steps (momentum, weight decay).
    """
    losses = []
    for member in range(outputs.shape[1]):
        rows = parts != member
        if rows.any():
            losses.append(loss(outputs[rows, member], targets[rows]))
    return torch.stack(losses).mean()


def out_of_part(outputs: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
    """Each row's output from the member that did not train on it: (rows, members, ...) ->
    (rows, ...)."""
    return outputs[torch.arange(len(parts), device=parts.device), parts]


class Ensemble(nn.Module):
    """features (rows, inputs) -> raw outputs (rows, members, outputs), one slice per member."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(features) for member in self.members], dim=1)
