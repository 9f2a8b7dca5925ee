"""A ridge regression under a regression network (`model.linear_base`): the network learns the rest.

With `linear_base: true` (configs/model/mlp.yaml), before training, a ridge regression is fitted
in closed form on the training rows: their preprocessed inputs (the numbers as the data module
scaled them and the one-hot columns; embedding codes are left to the network) against their
standardised targets. The network's output is added to its prediction, and the ridge regression
stays as fitted: the network trains on what it leaves over, as each stage of gradient boosting
trains on what the stages before it left. The first predictions are the ridge regression's plus
the untrained network's small output; on a table whose target is nearly linear in its inputs, as
many small tables are, the network then has little to learn, and early stopping keeps it so; on
other tables the network learns the rest as it would have learned the whole.

A linear path beside the network is the wide part of Wide & Deep (Cheng et al., "Wide & Deep
Learning for Recommender Systems", 2016) and LassoNet's residual layer (Lemhadri et al., JMLR
2021); both learn it with the network, by gradient steps, and so learned it moved the benchmark's
small tables both ways (DESIGN.md, "Defaults for your own table"). Here it is the ridge regression
a statistician would fit first, its penalty chosen among RIDGE_PENALTIES by leave-one-out
cross-validation (scikit-learn's RidgeCV, which computes it in closed form), and then held fixed.

Cross-fitted ensembles (model/ensemble.py): each member has its own ridge regression, fitted on the
rows that member trains on, so the rows that validate a member are new to its base too.

The fit is least squares whatever `loss=` trains the network (l1, huber, quantile): a robust loss
does not make the base robust to outlying targets. Its inputs are the matrix the network sees, so
numbers enter it quantile-scaled (data.numeric_transform), not as a ridge regression on the raw
numbers would take them. On a large table it is fitted on a seeded sample of the rows, at most
FIT_VALUES numbers (and never fewer than FIT_MIN_ROWS rows): RidgeCV copies the matrix in float64
a few times over, which on a million rows would cost a gigabyte, and a linear model of tens of
columns is estimated as well from a hundred thousand rows.

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
# The largest matrix fitted (rows x columns, 40 MB in float64) and the rows kept whatever the width.
FIT_VALUES = 5_000_000
FIT_MIN_ROWS = 10_000


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
        import numpy as np
        from sklearn.linear_model import RidgeCV

        most_rows = max(FIT_MIN_ROWS, FIT_VALUES // max(1, self.dense_inputs))
        sample = np.random.default_rng(0)
        self.penalties = []
        for member in range(self.weight.shape[1]):
            rows = np.arange(len(targets))
            if parts is not None:
                rows = np.flatnonzero((parts != member).numpy())
            if len(rows) > most_rows:
                rows = np.sort(sample.choice(rows, most_rows, replace=False))
            picked = torch.from_numpy(rows)
            values = targets[picked].double().numpy()
            if self.dense_inputs == 0:  # only embedding codes: the base is the mean
                self.bias[member] = float(values.mean())
                self.penalties.append(None)
                continue
            inputs = features[picked, : self.dense_inputs].double().numpy()
            ridge = RidgeCV(alphas=RIDGE_PENALTIES).fit(inputs, values)
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
        if self.dense_inputs == 0:  # no columns: a product of width 0 is not worth exporting
            return self.bias.expand(features.shape[0], -1)
        return features[:, : self.dense_inputs] @ self.weight + self.bias
