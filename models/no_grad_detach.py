"""`no_grad`, `detach()` and `.data`: what they remove from the graph, and why.

**What to look at.** The model computes four branches of the same shape and adds them.
Only the plain branch, through [main.weight](node:main.weight), has a path back to its
parameters. The other three are constants to autograd:

- `frozen` runs under `torch.no_grad()`: no op inside records a node;
- `detached` runs normally, then `.detach()` cuts its output off the graph;
- `via_data` reads `.data`, an older way to get the same cut-off tensor.

So `frozen.weight`, `detached.weight` and `via_data.weight` have no node at all, and the
[AddBackward0](node:AddBackward0) nodes send a gradient to their first input only (the Inspector's
`out [1]` row says no gradient flows).

**Try.** Press F6, then End: only `main.weight` and `main.bias` get a `.grad`. Ctrl+T
trains a step: SGD skips every parameter whose `.grad` is None, so only `main` changes.

**Question.** `detach()` and `.data` give the same graph here. Why is `.data` the
riskier one? (Hint: the version counter of the `inplace_error` lesson.)
"""

from __future__ import annotations

import torch
from torch import nn


class FourBranches(nn.Module):
    """Plain branch + one under no_grad + one detached + one read through .data."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Linear(3, 2)
        self.frozen = nn.Linear(3, 2)
        self.detached = nn.Linear(3, 2)
        self.via_data = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            frozen = self.frozen(x)
        detached = self.detached(x).detach()
        via_data = self.via_data(x).data
        return self.main(x) + frozen + detached + via_data


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return FourBranches()


def example_inputs() -> torch.Tensor:
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.sum()
