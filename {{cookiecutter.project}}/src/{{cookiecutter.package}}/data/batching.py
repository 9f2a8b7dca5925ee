"""Mini-batches cut from in-memory tensors, one indexing operation per batch.

A per-row Dataset makes the DataLoader call `__getitem__` and collate once per row, which costs more
than the forward pass of a small MLP. `TensorTable` answers a whole batch of row indices at once
(`__getitems__`), and `EpochBatchSampler` (sampling.py) hands it those indices as one tensor, shared
out over DDP processes without repeating rows.
"""

import math

import torch
from torch.utils.data import DataLoader, Dataset

from .sampling import EpochBatchSampler


class TensorTable(Dataset):
    """Features and targets as two tensors; indexing with a list of rows returns the whole batch.

    `parts`: for a cross-fitted ensemble, each row's part (data/splits.py:member_parts), which
    then comes with every batch as its third tensor.
    """

    def __init__(
        self, features: torch.Tensor, targets: torch.Tensor, parts: torch.Tensor | None = None
    ) -> None:
        self.features = features
        self.targets = targets
        self.parts = parts

    def __len__(self) -> int:
        return len(self.targets)

    def to(self, device: torch.device) -> "TensorTable":
        """The same table on `device` (itself when already there): moved once, not per batch."""
        if self.features.device == device:
            return self
        parts = None if self.parts is None else self.parts.to(device)
        return TensorTable(self.features.to(device), self.targets.to(device), parts)

    def __getitem__(self, row: int) -> tuple[torch.Tensor, ...]:
        item = self.features[row], self.targets[row]
        return item if self.parts is None else (*item, self.parts[row])

    def __getitems__(self, rows: torch.Tensor | list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(rows, device=self.features.device)
        # index_select rather than `features[index]`: on a CPU it gathers a 1024-row batch about
        # five times faster than advanced indexing does.
        batch = self.features.index_select(0, index), self.targets.index_select(0, index)
        if self.parts is None:
            return batch
        return *batch, self.parts.index_select(0, index)


# batch_size=auto: about STEPS_PER_EPOCH steps per epoch, in powers of two from SMALLEST to LARGEST.
STEPS_PER_EPOCH = 128
SMALLEST_AUTO_BATCH, LARGEST_AUTO_BATCH = 32, 1024


def auto_batch_size(train_rows: int) -> int:
    """The batch size that data.batch_size=auto picks for a table with `train_rows` training rows.

    Small tables keep small batches (many noisy steps regularise); large ones grow them so that an
    epoch stays about STEPS_PER_EPOCH steps and a 50k-row table does not take 1,000+ steps per
    epoch. The range follows Gorishniy et al. 2021 ("Revisiting Deep Learning Models for Tabular
    Data"), who trained with batches of 128 to 1024 rows, larger for larger tables.
    """
    power = round(math.log2(max(train_rows, 1) / STEPS_PER_EPOCH))
    return min(LARGEST_AUTO_BATCH, max(SMALLEST_AUTO_BATCH, 2**power))


def keep_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """The batch is already its tensors: nothing to collate."""
    return batch


def batch_loader(
    table: TensorTable,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    epoch: int = 0,
    skip: int = 0,
) -> DataLoader:
    """A DataLoader whose every batch is a single gather from the table's tensors; its first pass
    is epoch `epoch`, without its first `skip` batches."""
    sampler = EpochBatchSampler(len(table), batch_size, shuffle, seed, rank, world_size)
    sampler.set_epoch(epoch, skip)
    return DataLoader(table, batch_sampler=sampler, collate_fn=keep_batch)
