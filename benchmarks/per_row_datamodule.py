"""(c) The usual template pipeline: the project's own data module, but batches come from a per-row
TensorDataset through the DataLoader's default fetch-and-collate, as most templates do it.

Selected with `data._target_=per_row_datamodule.PerRowDataModule` (benchmarks/ on PYTHONPATH).
"""

import os
from importlib import import_module

from torch.utils.data import DataLoader, TensorDataset

PACKAGE = os.environ.get("BENCH_PACKAGE", "bench_project")
TabularDataModule = import_module(f"{PACKAGE}.data.datamodule").TabularDataModule


class PerRowDataModule(TabularDataModule):
    def _loader(self, split: str, batch_size: int, shuffle: bool) -> DataLoader:
        table = self.table(split)
        dataset = TensorDataset(table.features, table.targets)
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.hparams.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", self.hparams.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", self.hparams.batch_size, shuffle=False)
