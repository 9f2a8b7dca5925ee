"""How an app ends when it cannot go on: one short message and a non-zero exit, never a traceback.

A mistake in a setting, a data file or a checkpoint is the user's to fix, so the apps print one line
naming the key or file, the bad value and what is allowed, once (not once per DDP process), and exit
2, leaving the run directory as it found it (support/run_dirs.undo_refused_run). Training stopped
by Ctrl-C or SIGTERM prints the command that resumes it and exits 130 or 143, as a shell reports a
process ended by that signal. Anything else is a bug of ours and keeps its traceback.
HYDRA_FULL_ERROR=1 shows the traceback of user errors too.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem the user can fix: the message says what was given and what is allowed."""


class TrainingInterrupted(Exception):
    """Training stopped on a signal (callbacks/stop_on_signal.py) at step `step`; `last_checkpoint`
    is the file it saved there (None if the run keeps no last.ckpt)."""

    def __init__(self, signum: int, last_checkpoint: str | None, step: int) -> None:
        self.signum, self.last_checkpoint, self.step = signum, last_checkpoint, step
        name = {2: "Ctrl-C (SIGINT)", 15: "SIGTERM"}.get(signum, f"signal {signum}")
        saved = f"{last_checkpoint} holds it" if last_checkpoint else "no last.ckpt was kept"
        super().__init__(f"Training stopped by {name} at step {step}; {saved}")


def shortened(text: str, most: int = 60) -> str:
    """`text` as a one-line message quotes a value: at most `most` characters, cut with "..."."""
    return text if len(text) <= most else text[: most - 3] + "..."


def is_first_process() -> bool:
    """True unless this is a DDP, torchrun or SLURM process other than the first one."""
    return all(os.environ.get(name, "0") == "0" for name in ("RANK", "LOCAL_RANK", "SLURM_PROCID"))


@contextmanager
def exit_on_user_error() -> Iterator[None]:
    """Turn a UserError raised inside the block into `error: <message>` on stderr and exit 2."""
    try:
        yield
    except UserError as error:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        if is_first_process():
            print(f"error: {error}", file=sys.stderr)
            from .run_dirs import RunDirInUse, undo_refused_run

            if not isinstance(error, RunDirInUse):  # its log is the other process's now
                undo_refused_run()
        sys.exit(EXIT_USER_ERROR)


@contextmanager
def exit_on_interrupt(resume_hint: bool = True) -> Iterator[None]:
    """Turn TrainingInterrupted into what stopped it, the command that resumes the run (when
    `resume_hint`), and exit 128 + the signal's number."""
    try:
        yield
    except TrainingInterrupted as stop:
        if is_first_process():
            print(f"\n{stop}.", file=sys.stderr)
            if resume_hint and stop.last_checkpoint:
                from .run_dirs import resume_command

                print(f"Resume with:\n  {resume_command()}", file=sys.stderr)
        sys.exit(128 + stop.signum)
