"""A ridge regression under a regression network (`model.linear_base`): the network learns the rest.

With `linear_base: true` (configs/model/mlp.yaml), before training, a ridge regression is fitted
in closed form on the training rows: their preprocessed inputs (the numbers as the data module
scaled them and the one-hot columns; embedding codes are left to the network) against their
standardised targets. The network's output is added to its prediction, and the ridge regression
stays as fitted: the network trains on what it leaves over, as each stage of gradient boosting
trains on what the stages before it left. On a table whose target is nearly linear in its inputs,
as many small tables are, the network then has little to learn, and early stopping keeps it so;
on other tables the network learns the rest as it would have learned the whole.

A linear path beside the network is the wide part of Wide & Deep (Cheng et al., "Wide & Deep
Learning for Recommender Systems", 2016) and LassoNet's residual layer (Lemhadri et al., JMLR
2021); both learn it with the network, by gradient steps, and so learned it moved the benchmark's
small tables both ways (DESIGN.md, "Defaults for your own table"). Here it is the ridge regression
a statistician would fit first, its penalty chosen among RIDGE_PENALTIES by leave-one-out
cross-validation (scikit-learn's RidgeCV, which computes it in closed form), and then held fixed.

Cross-fitted ensembles (model/ensemble.py): each member has its own ridge regression, fitted on the
rows that member trains on, so the rows that validate a member are new to its base too.

Regression only: a classification network trains as before whatever the setting says (a logistic
base for classification has not been measured). The fitted numbers are buffers of the module, so
checkpoints, resuming, predict and the ONNX export carry them as they carry the weights.
"""

import torch
from torch import nn

# The ridge penalties leave-one-out cross-validation chooses from: 1e-2 to 1e3 in half-decades,
# wide enough for inputs and targets near unit scale, from nearly least squares to nearly a
# constant on a table of a few hundred rows.
RIDGE_PENALTIES = tuple(10 ** (k / 2) for k in range(-4, 7))


class LinearBase(nn.Module):
    """(rows, inputs) preprocessed matrix -> (rows, members): each member's ridge prediction.

    `dense_inputs`: the matrix's first columns that are numbers or one-hot (the rest are
    embedding codes, model/inputs.py). Zero until `fit`, or until a checkpoint's state loads.
    """

    def __init__(self, dense_inputs: int, members: int) -> None:
        super().__init__()
        self.dense_inputs = dense_inputs
        self.register_buffer("weight", torch.zeros(dense_inputs, members))
        self.register_buffer("bias", torch.zeros(members))
        # The penalty each member's fit chose (None: no columns to fit), for the run's report.
        self.penalties: list[float | None] = []

    def fit(
        self, features: torch.Tensor, targets: torch.Tensor, parts: torch.Tensor | None = None
    ) -> None:
        """Fit each member's ridge regression on its training rows: all of them, or, with
        `parts` (a cross-fitted ensemble), those outside the member's own part."""
        from sklearn.linear_model import RidgeCV

        inputs = features[:, : self.dense_inputs].double().numpy()
        values = targets.double().numpy()
        self.penalties = []
        for member in range(self.weight.shape[1]):
            rows = slice(None) if parts is None else (parts != member).numpy()
            if self.dense_inputs == 0:  # only embedding codes: the base is the mean
                self.bias[member] = float(values[rows].mean())
                self.penalties.append(None)
                continue
            ridge = RidgeCV(alphas=RIDGE_PENALTIES).fit(inputs[rows], values[rows])
            self.weight[:, member] = torch.from_numpy(ridge.coef_)
            self.bias[member] = float(ridge.intercept_)
            self.penalties.append(float(ridge.alpha_))

    def description(self) -> str:
        """The run's report line: what the base was fitted on, and the penalties chosen."""
        members = self.weight.shape[1]
        what = "a ridge regression"
        if members > 1:
            what = f"{members} ridge regressions (one per network)"
        columns = f"{self.dense_inputs} number and one-hot columns"
        if self.dense_inputs == 0:
            fitted = "the training mean: no number or one-hot column to fit"
        else:
            chosen = sorted(set(self.penalties))
            listed = ", ".join(f"{p:.3g}" for p in chosen)
            noun = "penalty" if len(chosen) == 1 else "penalties"
            fitted = f"{what} of the {columns}, {noun} {listed}"
        return f"linear base: {fitted}; the network learns what it leaves (model.linear_base)"

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, : self.dense_inputs] @ self.weight + self.bias
