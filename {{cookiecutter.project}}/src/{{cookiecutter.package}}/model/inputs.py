"""The module's first step: the preprocessed matrix to the network's dense input.

The data module's matrix (data/preprocessing.py) ends with one column per embedded categorical
column, holding each row's level code (0 for rare and unseen levels). Here each code picks a
learned row of that column's embedding table, and the rows are laid beside the matrix's other
columns, which pass through as they are. Networks therefore see one dense float tensor and stay
free of this bookkeeping (the network contract, model/__init__.py).

The width of a column's embedding grows with its level count: round(1.6 * levels ** 0.56), at most
MAX_EMBEDDING_WIDTH, the rule of thumb of fastai (Howard and Gugger, "fastai: A Layered API for
Deep Learning", 2020), whose earlier rule capped widths at 50 too. Row 0, for rare and unseen
levels, starts at zero, so a level training never pooled there reads as "no information".
"""

import torch
from torch import nn

MAX_EMBEDDING_WIDTH = 50


def embedding_width(rows: int) -> int:
    """The embedding width of a column whose table has `rows` rows (its levels and row 0)."""
    return max(1, min(MAX_EMBEDDING_WIDTH, round(1.6 * rows**0.56)))


class TabularInputs(nn.Module):
    """`dense` matrix columns pass through; each of the last columns is embedded."""

    def __init__(self, input_size: int, embedding_rows: list[int]) -> None:
        super().__init__()
        self.dense = input_size - len(embedding_rows)
        self.tables = nn.ModuleList(
            nn.Embedding(rows, embedding_width(rows)) for rows in embedding_rows
        )
        with torch.no_grad():
            for table in self.tables:
                table.weight[0].zero_()

    @property
    def output_size(self) -> int:
        return self.dense + sum(table.embedding_dim for table in self.tables)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if not self.tables:
            return features
        codes = features[:, self.dense :].long()
        embedded = [table(codes[:, j]) for j, table in enumerate(self.tables)]
        return torch.cat([features[:, : self.dense], *embedded], dim=1)
