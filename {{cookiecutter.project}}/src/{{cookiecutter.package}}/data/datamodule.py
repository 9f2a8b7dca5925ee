"""The LightningDataModule: one table, split, preprocessed from its training rows, as tensors."""

from typing import Any

import lightning as L
import pandas as pd
import torch
from torch.utils.data import DataLoader

from ..errors import UserError
from .batching import TensorTable, batch_loader
from .preprocessing import TablePreprocessor
from .splits import split_rows
from .tables import read_table

# Evaluation batches do not change any result, so they are large: fewer steps, same numbers.
EVAL_BATCH_SIZE = 4096


class TabularDataModule(L.LightningDataModule):
    """Reads the table once, splits it from the seed, fits the preprocessing on training rows only.

    The fitted preprocessing and the label names are this module's checkpoint state, so evaluating a
    checkpoint transforms new rows exactly as training did.
    """

    def __init__(
        self,
        path: str | None = None,
        target: str = "target",
        task: str = "binary",
        numeric: list[str] | None = None,
        categorical: list[str] | None = None,
        categories: dict[str, list[Any]] | None = None,
        batch_size: int = 32,
        val_fraction: float = 0.15,
        test_fraction: float = 0.2,
        seed: int = 42,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.preprocessor = TablePreprocessor(numeric or [], categorical or [], categories)
        self.classes: list[Any] = []
        self._frames: dict[str, pd.DataFrame] | None = None
        self._tables: dict[str, TensorTable] = {}

    @property
    def task(self) -> str:
        return self.hparams.task

    @property
    def input_size(self) -> int:
        return len(self.preprocessor.feature_names)

    @property
    def num_classes(self) -> int | None:
        return len(self.classes) if self.task != "regression" else None

    def setup(self, stage: str | None = None) -> None:
        if self._frames is not None:
            return
        frame = read_table(self.hparams.path)
        self._check_columns(frame)
        classification = self.task != "regression"
        self._frames = split_rows(
            frame,
            self.hparams.target,
            self.hparams.val_fraction,
            self.hparams.test_fraction,
            self.hparams.seed,
            stratify=classification,
        )
        if not self.preprocessor.is_fitted:
            self.preprocessor.fit(self._frames["train"])
        if classification and not self.classes:
            self.classes = sorted(frame[self.hparams.target].unique().tolist())

    def _check_columns(self, frame: pd.DataFrame) -> None:
        source = self.hparams.path or "the embedded heart table"
        wanted = {"data.target": [self.hparams.target], "data.numeric": self.preprocessor.numeric,
                  "data.categorical": self.preprocessor.categorical}
        for key, columns in wanted.items():
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise UserError(
                    f"{key} names columns missing from {source}: {', '.join(map(str, missing))}; "
                    f"its columns are {', '.join(map(str, frame.columns))}"
                )

    def _table(self, split: str) -> TensorTable:
        """The split as tensors, built on first use and kept: each epoch only re-indexes them."""
        if split not in self._tables:
            if self._frames is None:
                self.setup()
            frame = self._frames[split]
            features = torch.from_numpy(self.preprocessor.transform(frame))
            labels = frame[self.hparams.target]
            if self.task == "regression":
                targets = torch.tensor(labels.to_numpy("float32"))
            else:
                targets = torch.tensor(pd.Index(self.classes).get_indexer(labels), dtype=torch.long)
            self._tables[split] = TensorTable(features, targets)
        return self._tables[split]

    def _loader(self, split: str, batch_size: int, shuffle: bool) -> DataLoader:
        """Each DDP process gets its own share of the rows (one process: all of them); a resumed
        run continues the sequence of shuffles from its epoch."""
        trainer = self.trainer
        if trainer is None:  # used on its own, outside a Trainer
            return batch_loader(self._table(split), batch_size, shuffle, self.hparams.seed)
        return batch_loader(self._table(split), batch_size, shuffle, self.hparams.seed,
                            trainer.global_rank, trainer.world_size, trainer.current_epoch)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.hparams.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", EVAL_BATCH_SIZE, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", EVAL_BATCH_SIZE, shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        return {"preprocessor": self.preprocessor.state_dict(), "classes": self.classes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.preprocessor.load_state_dict(state["preprocessor"])
        self.classes = list(state["classes"])
        self._tables.clear()  # tensors made with the old state are stale
