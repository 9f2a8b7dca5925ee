"""(d) Lightning's own floor: the plain loop's network, data and batches in a bare LightningModule.

    python bare_lightning.py TABLE EPOCHS BATCH_SIZE [DEVICE]

No metrics, callbacks, logger, progress bar or checkpoints: what is left is Lightning's loop
(automatic optimization: closure, hooks, batch transfer), so (d)/(b) is the cost of the framework
itself and (a)/(d) that of the project's defaults on top of it. DEVICE (cpu, cuda): the tables
live there, as the project's do, so Lightning's per-batch transfer has nothing to move.
"""

import sys

import lightning as L
import torch
from torch import nn

from devices import torch_device
from epoch_timer import EpochTimer
from plain_loop import EVAL_BATCH_SIZE, network, training_data


class Batches:
    """Shuffled (or ordered) batches gathered from two tensors, as the plain loop gathers them."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool) -> None:
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        count, device = len(self.y), self.y.device
        order = torch.randperm(count, device=device) if self.shuffle else torch.arange(count)
        for rows in order.to(device).split(self.batch_size):
            yield self.x.index_select(0, rows), self.y.index_select(0, rows)


class Bare(L.LightningModule):
    def __init__(self, inputs: int) -> None:
        super().__init__()
        self.net = network(inputs)
        self.loss_fn = nn.BCEWithLogitsLoss()

    def training_step(self, batch, batch_idx):
        features, targets = batch
        return self.loss_fn(self.net(features).squeeze(-1), targets)

    def validation_step(self, batch, batch_idx):
        features, targets = batch
        self.loss_fn(self.net(features).squeeze(-1), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main(table: str, epochs: int, batch_size: int, device_name: str = "cpu") -> None:
    device = torch_device(device_name)
    x_train, y_train, x_val, y_val = (t.to(device) for t in training_data(table))
    trainer = L.Trainer(
        max_epochs=epochs,
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[EpochTimer()],
    )
    trainer.fit(
        Bare(x_train.shape[1]),
        Batches(x_train, y_train, batch_size, shuffle=True),
        Batches(x_val, y_val, EVAL_BATCH_SIZE, shuffle=False),
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
