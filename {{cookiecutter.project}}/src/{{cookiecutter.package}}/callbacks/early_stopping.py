"""Lightning's EarlyStopping, except that a resumed run keeps the patience it was given.

Lightning restores `patience` from the checkpoint with the rest of the callback's state (the best
score, the epochs waited), so `ckpt_path=last callbacks.early_stopping.patience=50` would go on
with the old patience and say nothing. The count of epochs waited still comes from the checkpoint.
"""

from typing import Any

from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping


class EarlyStopping(LightningEarlyStopping):
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        patience = self.patience
        super().load_state_dict(state_dict)
        self.patience = patience
