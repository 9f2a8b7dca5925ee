"""Every row once per epoch, on one process or shared over several, in a new order each epoch."""

import pytest
import torch

from {{ cookiecutter.package }}.data.sampling import EpochBatchSampler


@pytest.mark.parametrize(
    ("rows", "batch_size", "world_size"),
    [(197, 32, 1), (197, 32, 2), (2049, 1024, 2), (10, 1, 3), (303, 32, 4), (5, 4, 2)],
)
def test_every_row_once_and_the_same_batch_count_on_every_rank(rows, batch_size, world_size):
    shares = [
        list(EpochBatchSampler(rows, batch_size, True, seed=3, rank=r, world_size=world_size))
        for r in range(world_size)
    ]
    assert len({len(share) for share in shares}) == 1  # DDP needs equal step counts
    every = torch.cat([batch for share in shares for batch in share])
    assert sorted(every.tolist()) == list(range(rows))
    # A share one row longer than the others spreads that row: a batch may hold one extra.
    assert all(0 < len(batch) <= batch_size + 1 for share in shares for batch in share)
    assert len(shares[0]) == len(EpochBatchSampler(rows, batch_size, True, world_size=world_size))


def test_one_process_gets_full_batches_then_the_remainder():
    sizes = [len(b) for b in EpochBatchSampler(197, 32, shuffle=False)]
    assert sizes == [32] * 6 + [5]


def test_each_epoch_has_a_new_order_reproducible_from_the_seed():
    sampler = EpochBatchSampler(100, 100, shuffle=True, seed=7)
    first, second = next(iter(sampler)), next(iter(sampler))
    assert not torch.equal(first, second)
    resumed = EpochBatchSampler(100, 100, shuffle=True, seed=7)
    resumed.set_epoch(1)
    assert torch.equal(next(iter(resumed)), second)


def test_ranks_agree_on_the_order():
    ranks = [EpochBatchSampler(50, 50, True, seed=1, rank=r, world_size=2) for r in range(2)]
    first, second = (next(iter(s)) for s in ranks)
    assert set(first.tolist()).isdisjoint(second.tolist())
