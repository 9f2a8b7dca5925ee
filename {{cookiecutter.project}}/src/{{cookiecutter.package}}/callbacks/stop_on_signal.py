"""Ctrl-C or SIGTERM while training: finish the step, save last.ckpt there, stop cleanly.

Lightning already stops at the next step boundary on SIGTERM (and tells every DDP process), but on
Ctrl-C it abandons the step where it is and exits 1, and on either it keeps no checkpoint of the
step it stopped at. This callback turns the first Ctrl-C into the same step-boundary stop as
SIGTERM, writes `last.ckpt` at that step (atomically, like every checkpoint), and leaves `train`
to print the command that resumes the run and exit 130 (SIGINT) or 143 (SIGTERM). A resumed run
continues in the middle of the epoch where it stopped (data/sampling.py skips the batches already
done). A second Ctrl-C or SIGTERM stops at once with the default signal action: the checkpoints on
disk are whole either way, since each is written to a partial file and renamed.
"""

import signal
import threading
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ..support.errors import TrainingInterrupted
from .non_finite_loss import StopOnNonFiniteLoss


class StopOnSignal(L.Callback):
    def __init__(self) -> None:
        self.signum: int | None = None
        # Set when training stopped on a signal; `train` raises it once Lightning has cleaned up.
        self.interrupted: TrainingInterrupted | None = None
        self._lightning_sigterm: Any = None
        self._previous_sigint: Any = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning has installed its SIGTERM handler by now (it registers after on_fit_start).
        self.signum, self.interrupted = None, None
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (train() called from a thread)
        self._lightning_sigterm = signal.getsignal(signal.SIGTERM)
        self._previous_sigint = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.signum == signum:  # the same signal again: stop now, with its default action
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
            return
        if self.signum is not None:  # e.g. DDP's SIGTERM to the other processes after a Ctrl-C
            return
        self.signum = signum
        if callable(self._lightning_sigterm):  # Lightning stops at the next step boundary
            self._lightning_sigterm(signal.SIGTERM, frame)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        """At the step boundary where Lightning stopped on the signal: save last.ckpt there."""
        self._restore_sigint()
        if not isinstance(exception, SIGTERMException) or self.signum is None:
            return
        last = self._last_checkpoint_path(trainer)
        if last is not None and not _losses_finite(trainer):
            last = None  # a GPU's last steps went non-finite: keep the last good last.ckpt
        if last is not None:
            trainer.save_checkpoint(last, weights_only=False)  # the whole state, to resume
        self.interrupted = TrainingInterrupted(
            self.signum, str(last) if last else None, trainer.global_step
        )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_sigint()

    def _restore_sigint(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    @staticmethod
    def _last_checkpoint_path(trainer: L.Trainer) -> Path | None:
        """The file `ckpt_path=last` resumes from: last.ckpt of the run's last checkpoint."""
        for callback in trainer.checkpoint_callbacks:
            if getattr(callback, "filename", None) == "last" and callback.dirpath:
                return Path(callback.dirpath) / "last.ckpt"
        return None


def _losses_finite(trainer: L.Trainer) -> bool:
    """False if StopOnNonFiniteLoss holds a training loss from the device, not yet read, that was
    not finite (on a GPU it reads them only before a checkpoint could be written)."""
    return all(
        callback.training_losses_finite(trainer)
        for callback in trainer.callbacks
        if isinstance(callback, StopOnNonFiniteLoss)
    )
