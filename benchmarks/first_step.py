"""A callback that prints the seconds from process launch (BENCH_T0) to the first training step."""

import os
import time

from lightning.pytorch import Callback


class FirstStepTimer(Callback):
    def __init__(self) -> None:
        self.reported = False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self.reported:
            self.reported = True
            print(f"first_step_s={time.time() - float(os.environ['BENCH_T0']):.3f}", flush=True)
