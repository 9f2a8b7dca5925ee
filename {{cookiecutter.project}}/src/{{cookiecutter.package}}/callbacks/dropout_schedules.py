"""Dropout schedules as pure functions: where the run is -> the dropout probability to use.

Pure Python on purpose: each schedule's values can be tested without a trainer, and the config
checks can read the schedule names without importing torch. The callback that applies them to the
model is `dropout_scheduler.py`.

Time is counted in updates of the probability: epochs (`interval: epoch`) or optimizer steps
(`interval: step`). Schedules over the whole run (linear, cosine, curriculum) reach their end value
at the last update; `cutoff_epoch` is always in epochs, so early and late dropout mean the same
with either interval.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """Where the run is: this update's index (from 0), the updates in the run, and per epoch."""

    update: int
    total: int
    per_epoch: int = 1

    @property
    def fraction(self) -> float:
        """0 at the first update, 1 at the last."""
        return min(self.update / (self.total - 1), 1.0) if self.total > 1 else 0.0

    @property
    def epoch(self) -> float:
        """Epochs done so far, fractional when the interval is a step."""
        return self.update / self.per_epoch


def constant(clock: Clock, p: float) -> float:
    return p


def linear(clock: Clock, start: float, end: float) -> float:
    return start + (end - start) * clock.fraction


def cosine(clock: Clock, start: float, end: float) -> float:
    """Half a cosine from start to end: slow at both ends, fastest in the middle."""
    return end + (start - end) * (1 + math.cos(math.pi * clock.fraction)) / 2


def step(clock: Clock, start: float, factor: float, every: int) -> float:
    """Multiply by `factor` after every `every` updates (epochs or steps)."""
    return start * factor ** (clock.update // every)


def curriculum(clock: Clock, end: float, gamma: float) -> float:
    """Curriculum dropout (Morerio et al., 2017): p rises from 0 towards `end` as 1 - exp(-gamma t).

    t is the fraction of the run done, so gamma=10 is the paper's recommended 10 / (total updates)
    whatever the interval.
    """
    return end * (1 - math.exp(-gamma * clock.fraction))


def early(clock: Clock, p: float, cutoff_epoch: int, decay: str) -> float:
    """Early dropout (Liu et al., 2023): dropout only before `cutoff_epoch`, against underfitting.

    decay=constant keeps p until the cutoff; decay=linear lowers it from p to 0 at the cutoff.
    """
    if clock.epoch >= cutoff_epoch:
        return 0.0
    return p if decay == "constant" else p * (1 - clock.epoch / cutoff_epoch)


def late(clock: Clock, p: float, cutoff_epoch: int) -> float:
    """Late dropout (Liu et al., 2023): no dropout before `cutoff_epoch`, p after it."""
    return p if clock.epoch >= cutoff_epoch else 0.0


SCHEDULES: dict[str, Callable[..., float]] = {
    "constant": constant,
    "linear": linear,
    "cosine": cosine,
    "step": step,
    "curriculum": curriculum,
    "early": early,
    "late": late,
}
EARLY_DECAYS = ("constant", "linear")
INTERVALS = ("epoch", "step")
