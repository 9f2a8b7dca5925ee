"""The LightningModule: the network, its loss, its optimizer and its metrics, and nothing else.

Every argument is a plain value or a plain dict (the Hydra config of the network, loss, optimizer
and learning-rate scheduler, with its `_target_`), so the saved hyperparameters load with
`weights_only=True`.
"""

from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from torch.nn.functional import one_hot

from .ensemble import Ensemble, members_loss, out_of_part
from .epoch_outputs import PREDICTED, EpochOutputs
from .inputs import TabularInputs
from .linear_base import LinearBase
from .losses import build_loss, loss_input, output_size
from .lr_schedulers import lr_scheduler_config
from .metrics import THRESHOLD

# The checkpoint key of the decision threshold chosen on validation (a plain float). A checkpoint
# without it (made before thresholds were chosen, or with callbacks.decision_threshold=null)
# decides at 0.5.
THRESHOLD_KEY = "decision_threshold"


# The settings of a network's file that are the module's, not the network's (model/__init__.py),
# and their value when the file leaves one out.
MODULE_SETTINGS = {
    "compile": False,
    "numeric_embedding": "none",
    "input_scale": False,
    "members": 1,
    # Read by train (the data module deals the rows out); the module follows the batches' parts.
    "cross_fit": False,
    # Regression: a fixed ridge regression whose prediction the network's output adds to.
    "linear_base": False,
}


class TabularModule(L.LightningModule):
    def __init__(
        self,
        input_size: int,
        task: str,
        num_classes: int | None,
        model: dict[str, Any],
        loss: dict[str, Any],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        embedding_rows: list[int] | None = None,
        numbers: int = 0,
        prediction_range: list[float] | None = None,
        target_scale: float | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.loss_fn = build_loss(loss)
        # What the loss compares with the targets (its config's `trains`), which sets the width of
        # the output layer: e.g. one logit for bce, one per class for cross-entropy.
        self.loss_input = loss_input(loss, task)
        if self.loss_input is None:
            raise ValueError(f"the loss {loss.get('_target_')} does not train a {task} task")
        network = dict(model)
        settings = {key: network.pop(key, off) for key, off in MODULE_SETTINGS.items()}
        compile_network = settings["compile"]
        # The first step, the module's own: numeric and categorical embeddings (model/inputs.py).
        self.inputs = TabularInputs(
            input_size,
            embedding_rows or [],
            numbers,
            settings["numeric_embedding"],
            settings["input_scale"],
        )
        # Without embeddings the inputs pass through unchanged: calling the module anyway would
        # cost about 5 us a step, half a percent of a small MLP's step on a CPU.
        self._inputs_pass_through = self.inputs.passes_through
        sizes = {
            "input_size": self.inputs.output_size,
            "output_size": output_size(self.loss_input, task, num_classes),
        }
        networks = [
            instantiate(network, _convert_="all", **sizes) for _ in range(settings["members"])
        ]
        # More than one: a deep ensemble (model/ensemble.py), outputs (rows, members, outputs).
        self.net = networks[0] if len(networks) == 1 else Ensemble(networks)
        # Regression: the ridge regression under the network (model/linear_base.py), one per
        # member, fitted by build_module before training (zeros until then).
        self.linear_base = None
        if settings["linear_base"] and task == "regression":
            # The matrix's numbers and one-hot columns: those before the embedding codes.
            self.linear_base = LinearBase(self.inputs.codes_from, settings["members"])
        if compile_network:
            # In place: checkpoints keep the plain network's parameter names either way.
            self.net.compile()
        # Each stage's outputs, for its loss and metrics (model/metrics.py) once per epoch;
        # regression's mse and mae in the target's own units (`target_scale`, the training
        # targets' standard deviation; None in checkpoints made before it: standardised units).
        self.train_outputs = EpochOutputs(task, num_classes, target_scale=target_scale)
        self.val_outputs = EpochOutputs(task, num_classes, target_scale=target_scale)
        self.test_outputs = EpochOutputs(
            task, num_classes, count_predictions=True, target_scale=target_scale
        )
        # Binary: the score above which a row is called positive, chosen on each validation
        # epoch while `threshold_criterion` is set (callbacks/decision_threshold.py), so the
        # checkpoint saved after it holds the threshold of its own validation predictions; the
        # test metrics `*_at_threshold`, the test plots and predict use it. Learnt state, not a
        # hyperparameter: saved under THRESHOLD_KEY. None: 0.5.
        self.decision_threshold: float | None = None
        self.threshold_criterion: str | None = None
        # Rows of the last test predicted as each class (epoch_outputs.PREDICTED), for the line
        # that calls out a model predicting one class for every row.
        self.test_predicted: dict[str, list[int]] = {}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> "TabularModule":
        """The trained module from a checkpoint already opened safely (checkpoints.py)."""
        module = cls(**checkpoint["hyper_parameters"])
        module.load_state_dict(checkpoint["state_dict"])
        module.on_load_checkpoint(checkpoint)
        return module

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.decision_threshold is not None:
            checkpoint[THRESHOLD_KEY] = float(self.decision_threshold)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        threshold = checkpoint.get(THRESHOLD_KEY)
        self.decision_threshold = None if threshold is None else float(threshold)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Raw network outputs (logits for classification), plus the linear base's prediction."""
        outputs = self.net(features if self._inputs_pass_through else self.inputs(features))
        if self.linear_base is None:
            return outputs
        base = self.linear_base(features)  # (rows, members)
        # One network: (rows, outputs) + (rows, 1); an ensemble: (rows, members, outputs).
        return outputs + (base.unsqueeze(-1) if outputs.dim() == 3 else base)

    def predict_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities (the positive class's when binary), or regression values held
        within the training targets' range when `prediction_range` is set."""
        task = self.hparams.task
        if outputs.dim() == 3:  # an ensemble's members: the mean of their scores
            members = outputs.shape[1]
            return self.predict_scores(outputs.flatten(0, 1)).unflatten(0, (-1, members)).mean(1)
        if task == "regression":
            values = outputs.squeeze(-1)
            held = self.hparams.prediction_range
            return values if held is None else values.clamp(held[0], held[1])
        if outputs.shape[-1] == 1:
            return torch.sigmoid(outputs.squeeze(-1))
        probabilities = torch.softmax(outputs, dim=-1)
        return probabilities[:, 1] if task == "binary" else probabilities

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if outputs.dim() == 3:  # an ensemble: the mean of each member's own loss
            members = outputs.shape[1]
            outputs, targets = outputs.flatten(0, 1), targets.repeat_interleave(members, dim=0)
        given = self.loss_input  # model/losses.py: INPUTS
        if given == "logits":
            return self.loss_fn(outputs, targets)
        if given in ("logit", "values"):
            # One output: a binary logit, or a regression value as the network gives it (held
            # within the training range, it would pass no gradient back from the rows beyond).
            return self.loss_fn(outputs.squeeze(-1), targets.float())
        scores = self.predict_scores(outputs)
        if given == "probabilities" and scores.dim() == 2:  # multiclass: against one-hot labels
            return self.loss_fn(scores, one_hot(targets, scores.shape[-1]).to(scores.dtype))
        # The predicted probability of a binary label.
        return self.loss_fn(scores, targets.float())

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        # A cross-fitted ensemble's batches carry each row's part (model/ensemble.py): a member
        # trains on the rows outside its part and validates those inside it.
        features, targets, *parts = batch
        outputs = self(features)
        if parts and stage == "train":
            loss = members_loss(self._loss, outputs, targets, parts[0])
        else:
            if parts:
                outputs = out_of_part(outputs, parts[0])
            loss = self._loss(outputs, targets)
        # Only keep the outputs here: logging every step costs more than a small MLP's step, and
        # updating the metrics every step a tenth of it (DESIGN.md, "Speed"). The scores for the
        # metrics come from detached outputs: no graph is recorded for them.
        scores = self.predict_scores(outputs.detach())
        getattr(self, f"{stage}_outputs").update(scores, targets, loss.detach())
        return loss

    def _log_epoch(self, stage: str) -> None:
        """Log the epoch's loss and metrics once, as plain numbers, and start afresh."""
        kept = getattr(self, f"{stage}_outputs")
        if stage == "val" and self.threshold_criterion is not None:
            results = kept.compute(criterion=self.threshold_criterion)
            # The sanity check's few batches of an untrained model choose nothing.
            if THRESHOLD in results and not self.trainer.sanity_checking:
                self.decision_threshold = float(results[THRESHOLD])
        elif stage == "test":
            results = kept.compute(threshold=self.decision_threshold)
            self.test_predicted = results.pop(PREDICTED)
        else:
            results = kept.compute()
        self.log(f"{stage}/loss", results.pop("loss"), prog_bar=True)
        self.log_dict({f"{stage}/{name}": value for name, value in results.items()})
        kept.reset()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self) -> torch.optim.Optimizer | dict[str, Any]:
        # The optimizer config is `_partial_`: Hydra returns the class with its settings bound,
        # as plain lists and dicts (`_convert_`), which the optimizer's state and so every
        # checkpoint keep: an OmegaConf list there (e.g. `betas`) would not load with
        # weights_only=True.
        optimizer = instantiate(self.hparams.optimizer, _convert_="all")(params=self.parameters())
        if not self.hparams.scheduler:
            return optimizer
        scheduler = lr_scheduler_config(self.hparams.scheduler, optimizer, self.trainer)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
