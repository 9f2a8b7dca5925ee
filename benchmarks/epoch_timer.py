"""A callback that prints when training starts and when each epoch ends, for the benchmark.

Times are seconds since process launch (BENCH_T0): the first step shows the start-up cost, and the
gaps between epoch ends (training plus the validation pass) are the per-epoch cost.
"""

from lightning.pytorch import Callback

from launch_clock import since_launch


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.started = False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self.started:
            self.started = True
            print(f"first_step_s={since_launch():.3f}", flush=True)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        print(f"epoch_end_s={since_launch():.4f}", flush=True)
