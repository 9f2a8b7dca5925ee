"""The LightningDataModule: one table, split, preprocessed from its training rows, as tensors."""

import json
import math
import warnings
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from ..support.errors import UserError, shortened
from .batching import TensorTable, auto_batch_size, batch_loader
from .demos import load_demo
from .missing import infinities_as_missing, usable_rows
from .preprocessing import MIN_EMBEDDED_ROWS, TablePreprocessor
from .roles import IDENTIFIER_RULE, Roles, assign_roles, require_columns, require_numbers
from .splits import (
    MIN_ROWS_PER_CLASS,
    MIN_SPLIT_CLASSES,
    member_parts,
    split_rows,
    training_only_classes,
)
from .tables import TableFile
from .targets import TargetEncoder, distinct_labels, infer_task, is_whole_numbers
from .written_values import (
    describe_written,
    find_written_values,
    numbers_held_back,
    read_written_values,
)

# Evaluation batches do not change any result, so they are large: fewer steps, same numbers.
EVAL_BATCH_SIZE = 4096


class UnseenLevelWarning(UserWarning):
    """Rows whose category was never seen in training: they are encoded as all zeros."""


def warn_unseen(unseen: dict[str, dict[str, int]], where: str) -> None:
    """One warning per call, counting the rows of each column whose level training never saw."""
    if unseen:
        parts = []
        for col, levels in unseen.items():
            rows = sum(levels.values())
            shown = ", ".join(map(repr, list(levels)[:5])) + (", ..." if len(levels) > 5 else "")
            parts.append(f"{col!r}: {rows} row{'s' if rows != 1 else ''} ({shown})")
        warnings.warn(
            f"{where} has categories unseen in training, encoded as all zeros: {'; '.join(parts)}",
            UnseenLevelWarning,
            stacklevel=2,
        )


def batches_done_this_epoch(trainer: L.Trainer) -> int:
    """The training batches of the current epoch that a run resumed from a mid-epoch checkpoint
    (Ctrl-C, SIGTERM, callbacks.step_checkpoint) has already trained on, so that its epoch goes on
    with the rest of the same order instead of starting that epoch's order again."""
    if not trainer.fit_loop.restarting:
        return 0
    return int(trainer.fit_loop.epoch_loop.batch_progress.current.completed)


class TabularDataModule(L.LightningDataModule):
    """Reads the table once, splits it from the seed, fits the preprocessing on training rows only.

    The table is `path` (CSV or Parquet, read with the pandas.read_csv options `read` on top of
    what csv_format.py detects) or, when `path` is null, the demo table named `demo`.
    Roles and the task are inferred unless given (see roles.py and targets.py). The fitted
    preprocessing, target encoding and the columns whose text is read as numbers or booleans
    (written_values.py) are this module's checkpoint state, so evaluating or predicting with a
    checkpoint reads and transforms new rows exactly as training did.
    """

    def __init__(
        self,
        path: str | None = None,
        demo: str | None = None,
        demo_options: dict[str, Any] | None = None,
        target: str = "target",
        task: str | None = None,
        numeric: list[str] | None = None,
        categorical: list[str] | None = None,
        drop: list[str] | None = None,
        categories: dict[str, list[Any]] | None = None,
        one_hot: list[str] | None = None,
        embed: list[str] | None = None,
        numeric_transform: str = "standardize",
        missing: str = "impute",
        clip_predictions: bool = True,
        batch_size: int | str = 32,
        batch_size_per_device: bool = False,
        val_fraction: float = 0.15,
        test_fraction: float = 0.2,
        num_folds: int | None = None,
        fold: int = 0,
        group: str | None = None,
        seed: int = 42,
        read: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.preprocessor: TablePreprocessor | None = None
        self.target_encoder: TargetEncoder | None = None
        # Column -> how its text is read (written_values.py): fitted with the preprocessing.
        self.written: dict[str, dict[str, str]] = {}
        # Text columns of numbers but for a few words, for the report (not kept in checkpoints).
        self.held_back: dict[str, list[str]] = {}
        self.file: TableFile | None = None  # the file as last read: how, for the report
        self.dropped: dict[str, str] = {}
        self.rows_left_out = 0
        self.split_rows: dict[str, np.ndarray] = {}
        # Classes too rare to validate and test, trained on only (data/splits.py): class -> rows.
        self.training_only: dict[Any, int] = {}
        self.group_count = 0  # data.group's distinct values, for the report
        # A cross-fitted ensemble's parts, one per member (cross_fit); 1: no cross-fitting.
        self.cross_fit_parts = 1
        self.member_parts: np.ndarray | None = None  # each of training_rows' part, 0 .. parts-1
        self._tables: dict[str, TensorTable] = {}

    @property
    def source(self) -> str:
        """How error messages and the summary name the table."""
        if self.hparams.path:
            return f"data.path={self.hparams.path!r}"
        return f"the {self.hparams.demo} demo table"

    @property
    def task(self) -> str:
        return self.target_encoder.task if self.target_encoder else self.hparams.task

    @property
    def classes(self) -> list[Any]:
        return self.target_encoder.classes

    @property
    def input_size(self) -> int:
        return len(self.preprocessor.feature_names)

    @property
    def training_rows(self) -> np.ndarray:
        """The rows an epoch trains on: the training split's, or, for a cross-fitted ensemble,
        the training and validation splits' together (cross_fit)."""
        if self.cross_fit_parts > 1:
            return np.concatenate([self.split_rows["train"], self.split_rows["val"]])
        return self.split_rows["train"]

    @property
    def batch_size(self) -> int:
        """`data.batch_size`, or the one `auto` picks for this table's training rows."""
        if self.hparams.batch_size == "auto":
            return auto_batch_size(len(self.training_rows))
        return self.hparams.batch_size

    @property
    def embedding_rows(self) -> list[int]:
        """The size of each embedded column's table (model/inputs.py), in input order."""
        return self.preprocessor.embedding_rows

    @property
    def prediction_range(self) -> list[float] | None:
        """Regression: the training targets' range in the network's standardised units, which
        the module holds its predictions within (`data.clip_predictions`); otherwise None."""
        if not self.hparams.clip_predictions:
            return None
        return self.target_encoder.standardised_range()

    @property
    def target_scale(self) -> float | None:
        """Regression: the training targets' standard deviation, by which the module's metrics
        turn the network's standardised errors into the target's own units; otherwise None."""
        if self.task != "regression":
            return None
        return self.target_encoder.scale

    @property
    def num_classes(self) -> int | None:
        return len(self.classes) if self.task != "regression" else None

    def read(self) -> pd.DataFrame:
        """The raw table, as the file holds it."""
        if self.hparams.path:
            self.file = TableFile(self.hparams.path, options=self.hparams.read)
            return self.file.read()
        if self.hparams.demo:
            return load_demo(self.hparams.demo, self.hparams.demo_options)
        raise UserError(
            "data.path is not set: data=csv data.path=FILE data.target=COLUMN, "
            "or choose a demo table, e.g. data=heart"
        )

    def setup(self, stage: str | None = None) -> None:
        if self._tables:
            return
        hp = self.hparams
        frame, roles = self.usable_table()
        labels = frame[hp.target]
        if self.target_encoder:
            task = self.target_encoder.task
        else:
            task = infer_task(labels, hp.task, self.source)
        groups = self._groups(frame)
        self.split_rows = self._split(labels, task, groups)
        if self.cross_fit_parts > 1:
            pooled = self.training_rows
            self.member_parts = member_parts(
                labels.to_numpy()[pooled],
                self.cross_fit_parts,
                hp.seed,
                stratify=task != "regression",
                groups=groups[pooled] if groups is not None else None,
            )
        if self.preprocessor is None:  # not restored from a checkpoint: fit on the training rows
            training = self.training_rows
            self.preprocessor = TablePreprocessor(
                roles.numeric,
                roles.categorical,
                hp.categories,
                dates=roles.dates,
                embed=hp.embed,
                one_hot=hp.one_hot,
                numeric_transform=hp.numeric_transform,
            )
            self.preprocessor.fit(frame, training)
            self.target_encoder = TargetEncoder(task).fit(labels, training)
        self._build_tables(frame, labels)

    def usable_table(self) -> tuple[pd.DataFrame, Roles]:
        """The table whose rows the splits number, and the columns' roles: read, its text read
        as numbers or booleans where it is written so, infinite numbers made missing, and the
        rows data.missing leaves out left out."""
        hp = self.hparams
        frame = self.read()
        if self.preprocessor is None:  # not restored from a checkpoint: find what text to read
            declared = {*(hp.categorical or []), *(hp.one_hot or []), *(hp.embed or [])}
            declared |= {*(hp.drop or [])}
            candidates = [column for column in frame.columns if column not in declared]
            found = self.file.format if self.file is not None else None
            decimal = found.decimal if found is not None else "."
            frame, self.written = find_written_values(frame, candidates, decimal, (hp.target,))
            inputs = [column for column in candidates if column != hp.target]
            self.held_back = numbers_held_back(frame, inputs, decimal)
        else:
            frame = read_written_values(frame, self.written)
        roles = self._roles(frame)
        inputs = [*roles.numeric, *roles.dates, *roles.categorical]
        numbers = [*roles.numeric]
        if hp.target in frame.columns and pd.api.types.is_float_dtype(frame[hp.target]):
            numbers.append(hp.target)
        frame = infinities_as_missing(frame, numbers, hp.missing, self.source)
        frame, self.rows_left_out = usable_rows(frame, inputs, hp.target, hp.missing, self.source)
        return frame, roles

    def _groups(self, frame: pd.DataFrame) -> np.ndarray | None:
        """data.group's value in every row (None without data.group); refused where missing."""
        group = self.hparams.group
        if group is None:
            return None
        values = frame[group]
        missing = int(values.isna().sum())
        if missing:
            raise UserError(
                f"data.group={group!r} has no value in {missing} of the {len(values)} usable rows "
                f"of {self.source}: every row needs its group; fill them in or leave those rows out"
            )
        self.group_count = int(values.nunique())
        return values.to_numpy()

    def _split(
        self, labels: pd.Series, task: str, groups: np.ndarray | None
    ) -> dict[str, np.ndarray]:
        hp = self.hparams
        stratify = task != "regression"
        grouped = groups is not None
        self.training_only = training_only_classes(labels.to_numpy(), stratify, grouped)
        try:
            return split_rows(
                labels.to_numpy(),
                hp.val_fraction,
                hp.test_fraction,
                hp.seed,
                stratify=stratify,
                num_folds=hp.num_folds,
                fold=hp.fold,
                groups=groups,
            )
        except ValueError as error:
            if grouped:
                raise UserError(
                    f"cannot split the {len(labels)} usable rows of {self.source} into train, "
                    f"validation and test by data.group={hp.group!r} ({self.group_count} "
                    f"groups): {error}"
                ) from None
            counts = labels.value_counts()
            rare = counts[counts < MIN_ROWS_PER_CLASS]
            # An inferred task of whole numbers may be a count or a year rather than classes.
            amounts = (
                "; or, if they are amounts, data.task=regression"
                if hp.task is None and is_whole_numbers(distinct_labels(labels))
                else ""
            )
            if "least populated class" in str(error) and len(rare):
                shown = ", ".join(f"{shortened(str(name))}: {n}" for name, n in rare.items())
                common = len(counts) - len(rare)
                raise UserError(
                    f"cannot split the {len(labels)} usable rows of {self.source} into train, "
                    f"validation and test: {common} of the {len(counts)} classes of "
                    f"{hp.target!r} {'has' if common == 1 else 'have'} {MIN_ROWS_PER_CLASS} rows "
                    f"or more and a split needs {MIN_SPLIT_CLASSES} (the others: "
                    f"{shortened(shown, 200)}); merge classes or add rows{amounts}"
                ) from None
            raise UserError(
                f"cannot split the {len(labels)} usable rows of {self.source} "
                f"into train, validation and test: {error}{amounts}"
            ) from None

    def cross_fit(self, members: int) -> None:
        """Cross-fit `members` networks (model.cross_fit, model/ensemble.py): pool the training
        and validation rows, deal them into `members` parts (data/splits.py:member_parts), and
        train member m on every part but m. Validation is then on all the pooled rows, each
        scored by the member that did not train on it. The preprocessing is fitted again, on the
        pooled rows; the test rows stay as they are."""
        self.cross_fit_parts = members
        self.preprocessor, self.target_encoder, self._tables = None, None, {}
        self.setup("fit")

    def _build_tables(self, frame: pd.DataFrame, labels: pd.Series) -> None:
        """Each split's matrix straight from the table's columns: the frame is never copied."""
        targets = torch.from_numpy(self.target_encoder.transform(labels, self.source))

        def table(rows: np.ndarray, parts: np.ndarray | None = None) -> TensorTable:
            features = torch.from_numpy(self.preprocessor.transform(frame, rows))
            kept = targets[torch.from_numpy(rows)]
            return TensorTable(features, kept, None if parts is None else torch.from_numpy(parts))

        # The splits the preprocessing was not fitted on may hold levels it never saw.
        for split in ("test",) if self.cross_fit_parts > 1 else ("val", "test"):
            unseen = self.preprocessor.unseen_levels(frame, self.split_rows[split])
            warn_unseen(unseen, f"the {split} split of {self.source}")
        if self.cross_fit_parts > 1:  # one table, trained on and validated on by parts
            pooled = table(self.training_rows, self.member_parts)
            self._tables = {"train": pooled, "val": pooled, "test": table(self.split_rows["test"])}
        else:
            self._tables = {split: table(rows) for split, rows in self.split_rows.items()}

    def _roles(self, frame: pd.DataFrame) -> Roles:
        """Assigned and inferred before fitting; the fitted preprocessor's own once restored."""
        hp = self.hparams
        if self.preprocessor is None:
            declared = {
                "data.numeric": hp.numeric or [],
                "data.categorical": hp.categorical or [],
                "data.one_hot": hp.one_hot or [],
                "data.embed": hp.embed or [],
            }
            roles = assign_roles(
                frame,
                hp.target,
                declared,
                hp.drop or [],
                self.source,
                list(hp.categories or {}),
                group=hp.group,
            )
            self.dropped = roles.dropped
            return roles
        fitted = self.preprocessor
        wanted = {"data.target": [hp.target], "the checkpoint's model": fitted.columns}
        if hp.group is not None:
            wanted["data.group"] = [hp.group]
        require_columns(frame, wanted, self.source)
        require_numbers(
            frame, fitted.numeric, "the checkpoint's model reads it as a number", self.source
        )
        return Roles(fitted.numeric, fitted.categorical + fitted.embedded, dict(fitted.dates))

    def describe(self) -> list[str]:
        """What was read and how the network sees it: the lines train prints and logs."""
        hp, pre, encoder = self.hparams, self.preprocessor, self.target_encoder
        sizes = {split: len(rows) for split, rows in self.split_rows.items()}
        left_out = f" ({self.rows_left_out} left out: missing values)" if self.rows_left_out else ""
        fold = f", fold {hp.fold} of {hp.num_folds} as test" if hp.num_folds else ""
        if hp.group is not None:
            fold += f", by data.group={hp.group!r} ({self.group_count} groups, each in one part)"
        task = f"  task: {encoder.task} on {hp.target!r}"
        if hp.target in self.written:
            task += f" ({describe_written(self.written[hp.target])})"
        if encoder.task != "regression":
            task += f", classes {', '.join(map(str, encoder.classes))}"
        elif self.prediction_range is not None:
            task += (
                f", predictions held within its training range {encoder.low:.4g} to "
                f"{encoder.high:.4g} (data.clip_predictions)"
            )
        if hp.task is None and encoder.task == "multiclass" and is_whole_numbers(encoder.classes):
            task += " (few whole numbers, read as classes; data.task=regression for amounts)"

        def shown(col: str, *notes: str) -> str:
            if col in self.written:
                notes = (*notes, describe_written(self.written[col]))
            if col in self.held_back:
                words = self.held_back[col]
                notes = (
                    *notes,
                    f"numbers but for {', '.join(map(repr, words))}: "
                    f"'+data.read.na_values=[{','.join(map(json.dumps, words))}]' reads those "
                    "as missing",
                )
            return f"{col} ({'; '.join(notes)})" if notes else col

        numeric = [shown(col) for col in pre.numeric]
        dates = [shown(col, ", ".join(pre.date_parts[col])) for col in pre.dates]

        def levels(col: str) -> str:
            count = len(pre.categories[col])
            return f"{count} level{'' if count == 1 else 's'}"

        categorical = [shown(col, levels(col)) for col in pre.categorical]
        embedded = [
            shown(col, f"{levels(col)} + 1 row for rare and unseen ones")
            if pre.categories[col]
            else shown(
                col,
                f"every level in under {MIN_EMBEDDED_ROWS} training rows: all share one row, "
                "so it reads the same for every row; data.drop may list it",
            )
            for col in pre.embedded
        ]
        lines = [f"Data: {self.source}, {sum(sizes.values())} rows{left_out}"]
        if self.file is not None:
            lines.append(f"  read: {self.file.describe()}")
        lines += [
            f"  split: {sizes['train']} train, {sizes['val']} validation, "
            f"{sizes['test']} test{fold}; batches of {self.batch_size}"
            + (" (auto)" if hp.batch_size == "auto" else ""),
        ]
        if self.cross_fit_parts > 1:
            lines.append(
                f"  cross-fit: the {len(self.training_rows)} training and validation rows in "
                f"{self.cross_fit_parts} parts; each network trains on the others and is "
                "validated on its own (model.cross_fit)"
            )
        if self.training_only:
            rare = ", ".join(f"{name} ({count})" for name, count in self.training_only.items())
            lines.append(
                f"    training only, too few rows to validate and test (under "
                f"{MIN_ROWS_PER_CLASS}): {shortened(rare, 200)}"
            )
        lines += [
            task,
            f"  numeric ({len(numeric)}): {', '.join(numeric) or '-'}",
            f"  one-hot ({len(categorical)}): {', '.join(categorical) or '-'}",
        ]
        if embedded:
            lines.append(f"  embedded ({len(embedded)}): {', '.join(embedded)}")
        if dates:
            lines.append(f"  dates ({len(dates)}): {', '.join(dates)}")
        if self.dropped:
            dropped = [f"{col} ({why})" for col, why in self.dropped.items()]
            lines.append(f"  not used ({len(dropped)}): {', '.join(dropped)}")
            if any(why.startswith("identifier") for why in self.dropped.values()):
                lines.append(f"    ({IDENTIFIER_RULE})")
        one_hot = self.input_size - len(pre.number_names) - len(pre.embedded)
        embedded = f", {len(pre.embedded)} embedding codes" if pre.embedded else ""
        lines.append(
            f"  input width: {self.input_size} ({len(pre.number_names)} numbers scaled by "
            f"{pre.numeric_transform}, {one_hot} one-hot{embedded})"
        )
        return lines

    def table(self, split: str) -> TensorTable:
        """The split ("train", "val" or "test") as tensors; reads the table first if needed.

        Cross-fitted (cross_fit), "train" and "val" are both the pooled training and validation
        rows, with each row's part: scoring "val" yourself, take each row's member (out_of_part).
        """
        if not self._tables:  # not set up yet, or cleared by restoring a checkpoint's state
            self.setup()
        return self._tables[split]

    def _loader(self, split: str, batch_size: int, shuffle: bool) -> DataLoader:
        """Each DDP process gets its own share of the rows (one process: all of them); a resumed
        run continues the sequence of shuffles from its epoch."""
        table, trainer = self.table(split), self.trainer
        if trainer is None:  # used on its own, outside a Trainer
            return batch_loader(table, batch_size, shuffle, self.hparams.seed)
        # The tensors go to the training device once; Lightning's per-batch copy is then a no-op.
        # (Cross-fitted, "train" and "val" are one table: moved once for both.)
        moved = table.to(trainer.strategy.root_device)
        for name, kept in self._tables.items():
            if kept is table:
                self._tables[name] = moved
        table = moved
        return batch_loader(
            table,
            batch_size,
            shuffle,
            self.hparams.seed,
            trainer.global_rank,
            trainer.world_size,
            trainer.current_epoch,
            skip=batches_done_this_epoch(trainer) if split == "train" else 0,
        )

    def per_process_batch_size(self) -> int:
        """`data.batch_size` is the whole step's batch, shared by the DDP processes, unless
        `data.batch_size_per_device`: so moving to more devices keeps the effective batch size."""
        processes = self.trainer.world_size if self.trainer is not None else 1
        if self.hparams.batch_size_per_device:
            return self.batch_size
        return math.ceil(self.batch_size / processes)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", self.per_process_batch_size(), shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", EVAL_BATCH_SIZE, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", EVAL_BATCH_SIZE, shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        """The fitted preprocessing, target encoding and text reading, as plain containers."""
        return {
            "preprocessor": self.preprocessor.state_dict(),
            "target_encoder": self.target_encoder.state_dict(),
            "written_values": {column: dict(how) for column, how in self.written.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # A checkpoint written before text was read as numbers has no written_values.
        restored = {**state, "written_values": state.get("written_values", {})}
        if self._tables and self.preprocessor is not None and restored == self.state_dict():
            # The state these tables were made with, e.g. `trainer.test(ckpt_path=best)` right
            # after fit: keep them rather than read and transform the whole file again.
            return
        self.preprocessor = TablePreprocessor([], [])
        self.preprocessor.load_state_dict(state["preprocessor"])
        self.target_encoder = TargetEncoder(state["target_encoder"]["task"])
        self.target_encoder.load_state_dict(state["target_encoder"])
        self.written = {column: dict(how) for column, how in restored["written_values"].items()}
        self._tables.clear()  # tensors made with the old state are stale
