"""The PyTorch tutorial's first autograd example: `z = x @ w + b` and a logistic loss.

**What to look at.** `x` is an input without `requires_grad`: it has no node. The leaves
[w](node:w) and [b](node:b) require grad, so each has an AccumulateGrad node, where
backward writes `.grad`. The root is
[BinaryCrossEntropyWithLogitsBackward0](node:BinaryCrossEntropyWithLogitsBackward0).

**Try.** Press F6, then Right: watch the gradient arrive at `w` and `b`. Press F6
again: backward freed the graph's saved tensors after the first pass, so PyTorch
refuses ("backward through the graph a second time"). Turn on Run > Retain graph,
press F5 for a new graph and F6 twice: now the second pass runs, and `w`'s `.grad`
(End, then click `w`) doubles: gradients accumulate until something
(`optimizer.zero_grad()`) clears them.

**Question.** Why does PyTorch accumulate into `.grad` instead of overwriting it?
"""

from __future__ import annotations

import torch
from torch import nn


class Logistic(nn.Module):
    """`z = x @ w + b` with `w` (5x3) and `b` (3) as parameters."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(5, 3, generator=generator))
        self.b = nn.Parameter(torch.randn(3, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.w) + self.b


def build_model() -> nn.Module:
    return Logistic()


def example_inputs() -> torch.Tensor:
    return torch.ones(5)


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(output, torch.zeros(3))
