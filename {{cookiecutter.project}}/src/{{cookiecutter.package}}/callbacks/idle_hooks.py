"""Keep Lightning from calling callback hooks that have nothing to do, at every batch.

Lightning calls each per-batch hook of every callback at every batch (`on_train_batch_start`,
`on_before_backward`, ... six per training step), the empty ones a callback inherits from
`Callback` included, and each call costs about 2 us even with no profiler: the callback's
`state_key` is formatted into a profiler label and a context manager is entered. The project's
13 callbacks made that about 80 calls a step, 0.2 ms, a sixth of a batch-32 step on a CPU.
Lightning skips a hook that is not callable (`lightning.pytorch.trainer.call._call_callback_hooks`),
so each idle hook is set to None on the callback object. Nothing else changes: the other hooks,
`state_dict` and the checkpoint hooks are called as before. Idle means a per-batch hook inherited
unchanged from `Callback`, one named by the callback's own `idle_batch_hooks(trainer)` (a project
callback whose hook has work only on some devices), or a hook of Lightning's own callbacks in a
setting where it only returns:

- a `ModelCheckpoint` that saves neither every N steps nor every T seconds (`best.ckpt`,
  `last.ckpt` and the step checkpoint at its default of 0 steps), in `on_train_batch_end`; one
  that saves at no epoch either (the dormant step checkpoint) also in `on_train_epoch_end` and
  `on_validation_end`, where it would only copy every logged metric to decide not to save;
- a `LearningRateMonitor` that logs once per epoch, in `on_train_batch_start`.

Those two read the callbacks' own settings; the private names they read are checked with a default
that keeps the hook, so a later Lightning that renames them is only slower, never wrong.
"""

import lightning as L
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint

# The callback hooks Lightning calls at every training step, then those of the other loops.
TRAINING_STEP_HOOKS = (
    "on_train_batch_start",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_train_batch_end",
)
BATCH_HOOKS = (
    *TRAINING_STEP_HOOKS,
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_test_batch_start",
    "on_test_batch_end",
    "on_predict_batch_start",
    "on_predict_batch_end",
)


def idle_batch_hooks(callback: Callback, trainer: L.Trainer) -> list[str]:
    """The per-batch hooks of `callback` that would do nothing if called in this trainer (and the
    epoch hooks of a checkpoint that never saves)."""
    idle = [hook for hook in BATCH_HOOKS if _inherited(callback, hook)]
    if callable(own := getattr(callback, "idle_batch_hooks", None)):
        idle += own(trainer)
    if isinstance(callback, ModelCheckpoint) and _saves_only_at_epochs(callback):
        idle.append("on_train_batch_end")
        if getattr(callback, "_every_n_epochs", 1) < 1:  # nor at epochs: it never saves
            idle += ["on_train_epoch_end", "on_validation_end"]
    if isinstance(callback, LearningRateMonitor) and callback.logging_interval == "epoch":
        idle.append("on_train_batch_start")
    return idle


def silence_idle_hooks(trainer: L.Trainer) -> None:
    """Set every idle per-batch hook of the trainer's callbacks to None, so Lightning skips it."""
    for callback in trainer.callbacks:
        for hook in idle_batch_hooks(callback, trainer):
            setattr(callback, hook, None)


def may_save_at_step(checkpoint: ModelCheckpoint, step: int) -> bool:
    """Whether `checkpoint` may save at the end of training step `step` (every N steps, or every T
    seconds); True when its settings cannot be read."""
    if getattr(checkpoint, "_train_time_interval", 0) is not None:
        return True
    every = getattr(checkpoint, "_every_n_train_steps", 1)
    return every >= 1 and step % every == 0


def _inherited(callback: Callback, hook: str) -> bool:
    """True when the callback's hook is `Callback`'s own empty method (not overridden in its class
    or set on the object), or already silenced."""
    method = getattr(callback, hook, None)
    return method is None or getattr(method, "__func__", None) is getattr(Callback, hook)


def _saves_only_at_epochs(checkpoint: ModelCheckpoint) -> bool:
    # Lightning 2.6 keeps both settings as private attributes only; unknown reads "may save".
    return (
        getattr(checkpoint, "_every_n_train_steps", 1) < 1
        and getattr(checkpoint, "_train_time_interval", 0) is None
    )
