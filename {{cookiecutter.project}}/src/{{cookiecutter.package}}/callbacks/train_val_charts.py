"""Train and validation curves of each metric on one chart: TensorBoard's Custom Scalars tab.

The Scalars tab draws one chart per tag, so `train/loss` and `val/loss` would sit side by side
instead of on top of each other, where overfitting shows as the validation curve turning up while
the training curve goes on down. Renaming the tags (or writing them into `train/` and `val/`
sub-runs, as Keras does) would break what reads them: early stopping, the checkpoints, the
config checks and metrics.json. A custom-scalars layout keeps every tag and adds the pairs.
"""

import lightning as L

from ..model.metrics import TASK_METRICS
from .summary_writers import summary_writers

CATEGORY = "train vs val"


def train_val_layout(task: str) -> dict[str, dict[str, list]]:
    """One multiline chart per metric, e.g. `loss: ^train/loss$ and ^val/loss$` (regular
    expressions, anchored so that `val/loss` does not also match `best_val/loss`)."""
    charts = {
        name: ["Multiline", [f"^train/{name}$", f"^val/{name}$"]]
        for name in ("loss", *TASK_METRICS[task])
    }
    return {CATEGORY: charts}


class TrainValCharts(L.Callback):
    """Writes the layout once per run; TensorBoard merges the identical layouts of many runs into
    one set of charts, with a line per run and tag."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for writer in summary_writers(trainer):
            writer.add_custom_scalars(train_val_layout(pl_module.hparams.task))
