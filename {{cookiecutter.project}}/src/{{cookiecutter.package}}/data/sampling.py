"""Which rows make each mini-batch: every row once per epoch, shared out over DDP processes.

Lightning's own DistributedSampler pads the last shard with repeated rows so that every process gets
as many; repeated rows would be counted twice by the validation and test metrics. This sampler gives
each process every `world_size`-th row of the epoch's order instead (no row dropped or repeated) and
cuts every process's share into the same number of batches, which DDP's gradient synchronisation
needs. Batches are index tensors, so the table answers each with one indexing operation.
"""

import itertools
import math
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochBatchSampler(Sampler[torch.Tensor]):
    def __init__(
        self,
        num_rows: int,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.num_rows = num_rows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Start counting epochs here (e.g. where a resumed run left off), leaving out the first
        `skip` batches of that epoch (those a run stopped mid-epoch had already trained on)."""
        self.epoch = epoch
        self.skip = skip

    def __len__(self) -> int:
        # Counted on the smallest share, so that no process ever gets an empty batch.
        smallest_share = self.num_rows // self.world_size
        return max(1, math.ceil(smallest_share / self.batch_size))

    def __iter__(self) -> Iterator[torch.Tensor]:
        # One pass per epoch: a new order each time, the same on every rank, from seed and epoch.
        # (Lightning's set_epoch reaches a batch sampler's inner sampler only, so count here.)
        epoch, self.epoch = self.epoch, self.epoch + 1
        skip, self.skip = self.skip, 0
        yield from itertools.islice(self._batches(epoch), skip, None)

    def _batches(self, epoch: int) -> Iterator[torch.Tensor]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(self.num_rows, generator=generator)
        else:
            order = torch.arange(self.num_rows)
        if self.world_size == 1:
            yield from order.split(self.batch_size)  # full batches, then the remainder
            return
        share = order[self.rank :: self.world_size]
        # The same number of near-equal batches on every rank, even when shares differ by one row.
        yield from torch.tensor_split(share, len(self))
