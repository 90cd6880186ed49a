"""Dropout and BatchNorm: the same model draws a different graph in train and eval mode.

**What to look at.** The model starts in training mode (`model.train()`, the default).
Dropout is a [MulBackward0](node:MulBackward0) by a random mask (saved as `other`):
click it and compare its first values (Inspector, "Tensor") with those of the
[ReluBackward0](node:ReluBackward0) below it: each is either 0 (dropped) or doubled
(kept, scaled by 1 / (1 - p)). [NativeBatchNormBackward0](node:NativeBatchNormBackward0)
saved `training = True` and this batch's mean and inverse std (`result1`, `result2`):
it normalises with the batch's statistics, and every forward nudges its running
averages.

**Try.** Press F5 a few times: each forward draws a new dropout mask (other values
become 0). Then untick "train() mode" in the Training dock and train one step
(Ctrl+T), which calls `model.eval()` before its forward: in the step's graph the
`MulBackward0` is gone (dropout is the identity), and the batch norm node (its label
now reads "running stats") saved `training = False` and empty batch statistics
(shape `(0,)`): it now uses the running averages, so each sample's output no longer
depends on the rest of the batch.

**Question.** Why would you get worse test accuracy if you forgot `model.eval()`?"""

from __future__ import annotations

import torch
from torch import nn

FEATURES, HIDDEN, CLASSES, BATCH = 4, 8, 3, 6


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(FEATURES, HIDDEN),
        nn.BatchNorm1d(HIDDEN),
        nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(HIDDEN, CLASSES),
    )


def label_of(x: torch.Tensor) -> torch.Tensor:
    """The synthetic class: which of the first three features is largest."""
    return x[:, :CLASSES].argmax(dim=1)


def example_inputs() -> torch.Tensor:
    return torch.randn(BATCH, FEATURES, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, label_of(x))


def make_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(BATCH, FEATURES, generator=torch.Generator().manual_seed(100 + step))
    return x, label_of(x)
