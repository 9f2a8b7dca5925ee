"""A callback that prints when training starts and when each epoch ends, for the benchmark.

Times are seconds since process launch (BENCH_T0): the first step shows the start-up cost, and the
gaps between epoch ends (training plus the validation pass) are the per-epoch cost. `steps_s` is
the part of an epoch from its start to the end of its last training step: the rest of the gap is
the epoch's fixed cost (validation, checkpoint writes, logging). `cpu_s` is the process's CPU
time so far (every thread): on a busy shared machine its gaps vary much less than the clock's.
On a GPU each time is read after the queued work has finished.
"""

import time

from lightning.pytorch import Callback

from devices import wait_for
from launch_clock import since_launch


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.started = False
        self.epoch_start = 0.0
        self.last_step_end = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self.started:
            self.started = True
            wait_for(pl_module.device)
            print(
                f"first_step_s={since_launch():.3f} first_step_cpu_s={time.process_time():.3f}",
                flush=True,
            )

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        wait_for(pl_module.device)
        self.epoch_start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # Only the last batch's time is kept: a wait after every step would serialise a GPU.
        if batch_idx + 1 == trainer.num_training_batches:
            wait_for(pl_module.device)
            self.last_step_end = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        wait_for(pl_module.device)
        steps = self.last_step_end - self.epoch_start
        print(
            f"epoch_end_s={since_launch():.4f} steps_s={steps:.4f} cpu_s={time.process_time():.4f}",
            flush=True,
        )
