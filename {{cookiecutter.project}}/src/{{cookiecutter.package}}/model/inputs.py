"""The module's first step: the preprocessed matrix to the network's dense input.

The data module's matrix (data/preprocessing.py) is [scaled numbers | one-hot blocks | embedding
codes]. Here:
- with `numeric_embedding: periodic`, each number becomes a small learned vector: the periodic
  embedding of Gorishniy et al. ("On Embeddings for Numerical Features in Tabular Deep Learning",
  NeurIPS 2022), in the variant RealMLP-TD uses by default (Holzmueller et al. 2024): sin and cos
  of the number times PERIODIC_FREQUENCIES learned frequencies (drawn from N(0, PERIODIC_SIGMA)),
  a linear map per column to PERIODIC_WIDTH values and a ReLU, with the number itself kept beside
  them. It lets the first layer bend each number's effect without more depth;
- each embedding code picks a learned row of its column's table, and one-hot columns pass through;
- with `input_scale: true`, each column of the result is multiplied by a learned factor that
  starts at 1: RealMLP-TD's "front scale" (Holzmueller et al. 2024), a soft selection of the
  inputs that matter. RealMLP-TD gives it a step 6 times its weights'; INPUT_SCALE_STEP keeps that
  ratio here (InputScale says how).
Networks therefore see one dense float tensor and stay free of this bookkeeping (the network
contract, model/__init__.py).

The width of a column's embedding grows with its level count: round(1.6 * levels ** 0.56), at most
MAX_EMBEDDING_WIDTH, the rule of thumb of fastai (Howard and Gugger, "fastai: A Layered API for
Deep Learning", 2020), whose earlier rule capped widths at 50 too. Row 0, for rare and unseen
levels, starts at zero, so a level training never pooled there reads as "no information".
"""

import math

import torch
from torch import nn

MAX_EMBEDDING_WIDTH = 50
# RealMLP-TD's periodic embedding: 16 frequencies of scale 0.1, 4 outputs per column.
PERIODIC_FREQUENCIES = 16
PERIODIC_SIGMA = 0.1
PERIODIC_WIDTH = 4
# RealMLP-TD's front scale steps 6 x its lr of 0.04 = 0.24 a step with Adam; the weights here take
# lr 0.0025 (configs/optimizer/adamw.yaml says why), so the factor moves 0.24 / 0.0025 = 96 times
# as fast as a parameter of its own would.
INPUT_SCALE_STEP = 96.0


def embedding_width(rows: int) -> int:
    """The embedding width of a column whose table has `rows` rows (its levels and row 0)."""
    return max(1, min(MAX_EMBEDDING_WIDTH, round(1.6 * rows**0.56)))


class PeriodicEmbeddings(nn.Module):
    """(rows, columns) numbers -> (rows, columns * (1 + PERIODIC_WIDTH)): each number, then
    ReLU(linear(sin, cos of its learned frequencies)), one linear map per column."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(columns, PERIODIC_FREQUENCIES) * PERIODIC_SIGMA)
        bound = 1 / math.sqrt(2 * PERIODIC_FREQUENCIES)  # nn.Linear's initialisation
        self.weight = nn.Parameter(
            torch.empty(columns, 2 * PERIODIC_FREQUENCIES, PERIODIC_WIDTH).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(columns, PERIODIC_WIDTH).uniform_(-bound, bound))

    @property
    def output_size(self) -> int:
        return self.frequencies.shape[0] * (1 + PERIODIC_WIDTH)

    def forward(self, numbers: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * numbers.unsqueeze(-1) * self.frequencies
        periodic = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
        mapped = torch.relu(torch.einsum("rcf,cfw->rcw", periodic, self.weight) + self.bias)
        return torch.cat([numbers.unsqueeze(-1), mapped], dim=-1).flatten(1)


class InputScale(nn.Module):
    """(rows, width) -> the same, each column times its learned factor (1 at the start).

    The factor is stored divided by INPUT_SCALE_STEP: Adam moves a parameter by about its
    learning rate a step whatever the gradient's size, so the factor moves INPUT_SCALE_STEP times
    the optimizer's step, with no parameter group of its own for the optimizer configs to know of.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.stored = nn.Parameter(torch.full((width,), 1.0 / INPUT_SCALE_STEP))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * (self.stored * INPUT_SCALE_STEP)


class TabularInputs(nn.Module):
    """The first `numbers` matrix columns are numbers, then `dense` columns pass through, and each
    of the last `len(embedding_rows)` columns is a code into an embedding table."""

    def __init__(
        self,
        input_size: int,
        embedding_rows: list[int],
        numbers: int = 0,
        numeric_embedding: str = "none",
        input_scale: bool = False,
    ) -> None:
        super().__init__()
        self.codes_from = input_size - len(embedding_rows)
        self.numbers = numbers if numeric_embedding == "periodic" else 0
        self.periodic = PeriodicEmbeddings(self.numbers) if self.numbers else None
        self.tables = nn.ModuleList(
            nn.Embedding(rows, embedding_width(rows)) for rows in embedding_rows
        )
        with torch.no_grad():
            for table in self.tables:
                table.weight[0].zero_()
        self.scale = InputScale(self.output_size) if input_scale else None

    @property
    def passes_through(self) -> bool:
        """Whether `forward` returns its input unchanged (no numeric embedding, codes or scale)."""
        return self.periodic is None and not self.tables and self.scale is None

    @property
    def output_size(self) -> int:
        numbers = self.periodic.output_size if self.periodic is not None else 0
        widths = sum(table.embedding_dim for table in self.tables)
        return numbers + (self.codes_from - self.numbers) + widths

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.passes_through:
            return features
        parts = []
        if self.periodic is not None:
            parts.append(self.periodic(features[:, : self.numbers]))
        parts.append(features[:, self.numbers : self.codes_from])
        codes = features[:, self.codes_from :].long()
        parts += [table(codes[:, j]) for j, table in enumerate(self.tables)]
        dense = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        return dense if self.scale is None else self.scale(dense)
