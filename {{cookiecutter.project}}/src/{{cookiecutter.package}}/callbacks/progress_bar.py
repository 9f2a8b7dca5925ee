"""Lightning's tqdm progress bar, redrawn by the clock instead of after every batch.

Lightning redraws the bar (and its loss postfix) every `refresh_rate` batches; a redraw costs about
0.3 ms, a tenth of a small MLP's step on a CPU. Redrawing at most every `min_interval` seconds keeps
the bar as lively for steps of a millisecond as for steps of a second, and costs nothing worth
measuring. The last batch of every loop is always drawn. One clock serves the training, validation
and test bars. `refresh_rate` still counts too (a redraw needs both `refresh_rate` batches and
`min_interval` seconds); `refresh_rate: 0` hides the bars.

The bar leaves out Lightning's `v_num`, the logger's version: a run here is named by its folder,
and with two loggers (`logger=[tensorboard,csv]`) the version read `v_num=_csv`.
"""

import time
from typing import Any

from lightning.pytorch.callbacks import TQDMProgressBar


class TimedProgressBar(TQDMProgressBar):
    def __init__(self, min_interval: float = 0.2, refresh_rate: int = 1, **kwargs) -> None:
        super().__init__(refresh_rate=refresh_rate, **kwargs)
        self.min_interval = min_interval
        self._last_redraw = float("-inf")

    def _should_update(self, current: int, total: int) -> bool:
        # Lightning's own question after each batch of every loop (train, validate, test, predict).
        if not super()._should_update(current, total):
            return False
        now = time.monotonic()
        if current != total and now - self._last_redraw < self.min_interval:
            return False
        self._last_redraw = now
        return True

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        shown = super().get_metrics(trainer, pl_module)
        shown.pop("v_num", None)
        return shown
