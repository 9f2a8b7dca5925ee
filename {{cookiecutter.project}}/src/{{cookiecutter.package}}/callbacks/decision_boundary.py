"""For a classifier of two numbers (moons, circles, spirals): the decision boundary, as it bends.

Every `every_n_epochs` epochs, and after the first and the last, the predicted class is drawn over
the plane of the two inputs (as the network sees them, standardised) with that epoch's training
points on top, into TensorBoard's Images tab (`decision_boundary`); its step slider replays the
training. Any other data (more inputs, regression) is left alone, and so is a table of two
inputs that are not both numbers: a category's embedding code or one-hot column has no plane to
draw over (a grid across an embedding code would ask for rows its table does not have).

TensorBoard keeps 10 images per tag unless started with `--samples_per_plugin images=100`.
"""

import lightning as L
import numpy as np
import torch

from .figures import decision_boundary_image
from .summary_writers import summary_writers


class DecisionBoundary(L.Callback):
    """`resolution`: grid points per axis."""

    def __init__(self, every_n_epochs: int = 10, resolution: int = 200) -> None:
        self.every_n_epochs = every_n_epochs
        self.resolution = resolution
        self._points: list[tuple[torch.Tensor, torch.Tensor]] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        hparams = pl_module.hparams
        draws = (
            hparams.input_size == 2
            and hparams.numbers == 2
            and hparams.task != "regression"
            and bool(summary_writers(trainer))
        )
        # Lightning skips a hook set to None (callbacks/idle_hooks.py): nothing to keep per step.
        if draws:
            self.__dict__.pop("on_train_batch_end", None)
        else:
            self.on_train_batch_end = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._points = []

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        # Kept for every epoch: whether it is the last is known only at its end (early stopping).
        features, targets, *_ = batch
        self._points.append((features.detach(), targets.detach()))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        last = trainer.should_stop or epoch + 1 >= (trainer.max_epochs or 0)
        drawn = epoch == 0 or (epoch + 1) % self.every_n_epochs == 0 or last
        if not self._points or not drawn:
            return
        features = torch.cat([f for f, _ in self._points]).float().cpu()
        labels = torch.cat([t for _, t in self._points]).cpu().numpy()
        self._points = []
        image = self._draw(pl_module, features, labels, f"epoch {epoch}", trainer)
        for writer in summary_writers(trainer):
            writer.add_image("decision_boundary", image, trainer.global_step, dataformats="HWC")

    def _draw(
        self,
        pl_module: L.LightningModule,
        features: torch.Tensor,
        labels: np.ndarray,
        title: str,
        trainer: L.Trainer,
    ) -> np.ndarray:
        low, high = features.min(0).values, features.max(0).values
        margin = 0.1 * (high - low) + 1e-3
        axes = [
            torch.linspace(float(low[i] - margin[i]), float(high[i] + margin[i]), self.resolution)
            for i in range(2)
        ]
        grid_x, grid_y = torch.meshgrid(*axes, indexing="xy")
        grid = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
        was_training = pl_module.training
        pl_module.eval()  # no dropout: the boundary of the network as it predicts
        with torch.inference_mode():
            scores = pl_module.predict_scores(pl_module(grid.to(pl_module.device))).cpu()
        pl_module.train(was_training)
        shape = grid_x.shape
        shown = scores.reshape(shape) if scores.dim() == 1 else scores.argmax(-1).reshape(shape)
        names = trainer.datamodule.preprocessor.feature_names
        return decision_boundary_image(
            grid_x.numpy(), grid_y.numpy(), shown.numpy(), features.numpy(), labels, names, title
        )
