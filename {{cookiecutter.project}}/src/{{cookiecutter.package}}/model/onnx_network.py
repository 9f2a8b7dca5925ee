"""The trained network with its head, as ONNX: the preprocessed matrix in, predict's numbers out.

torch exports it (`torch.onnx.export` with `dynamo=True`, the exporter torch develops; the older
TorchScript one warns that it will be removed), so any network that follows the contract in
model/__init__.py exports without code of ours. The head is written in torch here, from the
module's own `predict_scores`, so the exported numbers are computed as predict computes them:
- classification: `probabilities` (rows x classes), in the order of the target encoder's classes;
  a binary model's positive-class probability p becomes the two columns [1 - p, p];
- regression: `prediction` (rows, float64) in the target's own units: the standardised output
  times the training scale plus the training mean (data/targets.py), in float64 as predict does,
  so a large target mean loses no digits.
A model trained with `data.missing=drop` or `error` gives NaN for a row with a missing value
instead of a guess: predict leaves such a row's prediction empty (drop) or refuses it (error).
"""

import logging
import warnings
from typing import Any

import torch
from torch import nn

from ..support.errors import UserError
from .module import TabularModule

FEATURES = "features"
INCOMPLETE = "incomplete"
PROBABILITIES = "probabilities"
PREDICTION = "prediction"


def output_name(task: str) -> str:
    return PREDICTION if task == "regression" else PROBABILITIES


class ReportedScores(nn.Module):
    """features (rows x inputs) -> the numbers predict reports; NaN for rows flagged incomplete."""

    def __init__(self, module: TabularModule, target_mean: float, target_scale: float) -> None:
        super().__init__()
        self.module = module
        self.task = module.hparams.task
        self.target_mean = target_mean
        self.target_scale = target_scale

    def forward(
        self, features: torch.Tensor, incomplete: torch.Tensor | None = None
    ) -> torch.Tensor:
        scores = self.module.predict_scores(self.module(features))
        if self.task == "regression":
            reported = scores.double() * self.target_scale + self.target_mean
        elif self.task == "binary":
            reported = torch.stack([1.0 - scores, scores], dim=1)
        else:
            reported = scores
        if incomplete is None:
            return reported
        flags = incomplete if reported.dim() == 1 else incomplete.unsqueeze(1)
        return torch.where(flags, torch.nan, reported)


def network_model(
    module: TabularModule,
    target_mean: float,
    target_scale: float,
    flag_incomplete: bool,
    opset: int,
) -> Any:
    """An ONNX ModelProto: FEATURES (and INCOMPLETE when `flag_incomplete`) in, the task's
    output_name out; the number of rows is free."""
    scorer = ReportedScores(module, target_mean, target_scale).eval()
    rows = torch.export.Dim("rows")
    example: tuple[torch.Tensor, ...] = (torch.zeros(2, module.hparams.input_size),)
    names = [FEATURES]
    if flag_incomplete:
        example += (torch.zeros(2, dtype=torch.bool),)
        names.append(INCOMPLETE)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # e.g. that torchvision's operators are not registered
    try:
        with warnings.catch_warnings():
            # torch's own deprecation notices, about its internals, not about this model
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            # that the features' and the flags' rows share one name, which they are meant to
            warnings.filterwarnings("ignore", ".*The axis name: rows will not be used")
            program = torch.onnx.export(
                scorer,
                example,
                dynamo=True,
                input_names=names,
                output_names=[output_name(scorer.task)],
                dynamic_shapes=tuple({0: rows} for _ in example),
                opset_version=opset,
                verbose=False,
            )
    except torch.onnx.OnnxExporterError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(
            f"torch could not export the network {module.hparams.model.get('_target_')} to "
            f"ONNX: {reason}"
        ) from None
    finally:
        exporter_log.setLevel(level)
    return program.model_proto
