"""The step budget: a run trains at most `step_budget` optimizer steps, in whole epochs.

A fixed number of epochs makes a large table's run long (its epochs have many steps, even with
the larger batches of data.batch_size=auto), and an annealed learning rate needs to know the
run's length in advance. So the run's length is counted in steps and then rounded up to whole
epochs, which become the Trainer's `max_epochs`: the last epoch ends as every epoch does
(validated, checkpointed, tested from its best), the schedules end with the run, and a resumed
run counts the same epochs. Lightning's own `max_steps` would end the run inside an epoch without
validating its last steps, and it changes how Lightning restores a run.
"""

import math


def budgeted_epochs(max_epochs: int, step_budget: int | None, steps_per_epoch: int) -> int:
    """`max_epochs`, or fewer: the whole epochs that first reach `step_budget` steps."""
    if step_budget is None:
        return max_epochs
    return max(1, min(max_epochs, math.ceil(step_budget / max(1, steps_per_epoch))))


def steps_per_epoch(train_rows: int, batch_size: int, accumulate_grad_batches: int = 1) -> int:
    """Optimizer steps in one epoch of `train_rows` rows (DDP processes share out each batch)."""
    return math.ceil(math.ceil(train_rows / batch_size) / accumulate_grad_batches)
