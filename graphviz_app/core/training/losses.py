"""The loss a training step minimises: the model file's own, or a standard one.

A standard loss compares the model's output with the batch's target. Class-index
targets are one-hot encoded for the losses that want a target shaped like the
output (MSE, BCEWithLogits), so any classifier can be trained with any loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F  # noqa: N812 (the usual alias)

from graphviz_app.core.training.settings import (  # handed on: their home was here
    LOSS_NAMES as LOSS_NAMES,
)
from graphviz_app.core.training.settings import MODEL_LOSS as MODEL_LOSS
from graphviz_app.core.training.settings import STANDARD_LOSS_NAMES
from graphviz_app.core.training.settings import TrainingError as TrainingError

LossFn = Callable[..., torch.Tensor]

#: Name shown in the UI -> function of (output, target).
STANDARD_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = dict(
    zip(
        STANDARD_LOSS_NAMES,
        (F.cross_entropy, F.mse_loss, F.nll_loss, F.binary_cross_entropy_with_logits),
        strict=True,
    )
)
_WANTS_OUTPUT_SHAPE = ("MSE", "BCEWithLogits")


def loss_function(
    name: str, model_loss: LossFn | None, target: torch.Tensor | None
) -> LossFn | None:
    """The ``loss(output, *inputs)`` for loss ``name``.

    ``"model"`` is the model file's ``loss_fn`` (None when it has none: the graph is
    then rooted at the outputs and backward seeds them with ones). Any other name
    needs the batch's ``target``.
    """
    if name == MODEL_LOSS:
        return model_loss
    if name not in STANDARD_LOSSES:
        raise TrainingError(f"Unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}.")
    if target is None:
        raise TrainingError(
            f"The {name} loss needs a target, and this model has none: its file defines "
            "neither make_batch(step) returning (inputs, target) nor example_target()."
        )
    standard = STANDARD_LOSSES[name]

    def loss(output: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        return standard(output, _target_for(name, output, target))

    return loss


def _target_for(name: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The target as ``name`` wants it: on the output's device, and one-hot encoded
    for MSE/BCE when it holds class indices for an (N, C) output."""
    target = target.to(output.device)
    if name not in _WANTS_OUTPUT_SHAPE:
        return target
    is_index = not target.is_floating_point() and target.dim() == output.dim() - 1
    if is_index and output.dim() >= 2:
        target = F.one_hot(target.long(), output.shape[1]).movedim(-1, 1)
    return target.to(output.dtype)
