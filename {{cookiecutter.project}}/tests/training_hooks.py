"""Callbacks the tests add to a run from the command line, to bring it to a chosen state.

    +callbacks.hold={_target_: training_hooks.HoldAtEpoch, epoch: 2, signal_file: ...}

The tests put this folder on the run's PYTHONPATH (pytest already has it on sys.path).
"""

import errno
import os
import signal
import time
from pathlib import Path

import lightning as L
import torch


class HoldAtEpoch(L.Callback):
    """At the start of `epoch`, write `signal_file` and wait to be killed.

    The epochs before it are then complete: trained, validated, checkpointed and logged. Waiting
    here, rather than racing a timer, makes the kill land at the same point on a slow machine.
    """

    def __init__(self, epoch: int, signal_file: str, wait_s: float = 300) -> None:
        self.epoch = epoch
        self.signal_file = Path(signal_file)
        self.wait_s = wait_s

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            self.signal_file.write_text(str(trainer.global_step))
            time.sleep(self.wait_s)
            raise RuntimeError("HoldAtEpoch was never killed")


class HoldAtStep(L.Callback):
    """Before optimizer step `step`, write `signal_file` and wait: until Lightning has been asked
    to stop (a Ctrl-C or SIGTERM reached the run), or, with `until_stopped=False`, for `wait_s`
    whatever happens, so that a second signal finds the run still busy."""

    def __init__(
        self, step: int, signal_file: str, until_stopped: bool = True, wait_s: float = 300
    ) -> None:
        self.step = step
        self.signal_file = Path(signal_file)
        self.until_stopped = until_stopped
        self.wait_s = wait_s

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step != self.step:
            return
        self.signal_file.write_text(str(os.getpid()))
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            if self.until_stopped and trainer.received_sigterm:
                return
            time.sleep(0.05)
        raise RuntimeError("HoldAtStep waited in vain")


class BreakWeightsAtStep(L.Callback):
    """Fill the first layer's weights with NaN before optimizer step `step`, as a diverging run."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.parameters()).fill_(float("nan"))


class BreakWeightsBeforeValidation(L.Callback):
    """Fill the first layer's weights with NaN as epoch `epoch`'s validation starts: the training
    losses were all finite, only the validation loss shows it."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and not trainer.sanity_checking:
            with torch.no_grad():
                next(pl_module.parameters()).fill_(float("nan"))


class KillDuringSave(L.Callback):
    """SIGKILL the run in the middle of writing `filename` for the `nth` time: the partial file is
    on disk, half written, the target not yet replaced. Wraps the run's AtomicCheckpointIO.write."""

    def __init__(self, filename: str, nth: int) -> None:
        self.filename = filename
        self.nth = nth
        self.count = 0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        checkpoint_io = trainer.strategy.checkpoint_io
        write = checkpoint_io.write

        def write_then_die(checkpoint: dict, partial: Path) -> None:
            write(checkpoint, partial)
            if partial.name.startswith(f".{self.filename}."):
                self.count += 1
                if self.count == self.nth:
                    os.truncate(partial, partial.stat().st_size // 2)
                    os.kill(os.getpid(), signal.SIGKILL)

        checkpoint_io.write = write_then_die


class NoPermissionAtSave(L.Callback):
    """From optimizer step `step` on, every checkpoint write fails as when the folder's write
    permission is lost (the tests run as root, where chmod would not stop a write)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        checkpoint_io = trainer.strategy.checkpoint_io
        write = checkpoint_io.write

        def write_unless_denied(checkpoint: dict, partial: Path) -> None:
            if trainer.global_step >= self.step:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(partial))
            write(checkpoint, partial)

        checkpoint_io.write = write_unless_denied


class FullDiskAtSave(L.Callback):
    """Every checkpoint write fails as on a full disk, after a first chunk reached the file."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        def write_until_full(checkpoint: dict, partial: Path) -> None:
            partial.write_bytes(b"PK" + bytes(4096))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))

        trainer.strategy.checkpoint_io.write = write_until_full


class RaiseBug(L.Callback):
    """A bug of ours: a plain RuntimeError as training starts, which must keep its traceback."""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        raise RuntimeError("a bug, not the user's mistake")
