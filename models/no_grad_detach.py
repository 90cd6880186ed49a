"""`no_grad`, `detach()` and `.data`: what they remove from the graph.

**What to look at.** The model computes three branches and adds them. Only the plain
branch, through [main.weight](node:main.weight), has a path back to its parameters.
The branch under `torch.no_grad()` and the `detach()`ed branch are constants to
autograd: `frozen.weight` and `detached.weight` have no node at all, and
[AddBackward0](node:AddBackward0) gets a gradient only for its first input.

**Question.** When would you want a value in the forward pass but no gradient through it?
"""

from __future__ import annotations

import torch
from torch import nn


class ThreeBranches(nn.Module):
    """Plain branch + a branch under no_grad + a detached branch."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Linear(3, 2)
        self.frozen = nn.Linear(3, 2)
        self.detached = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            frozen = self.frozen(x)
        detached = self.detached(x).detach()
        return self.main(x) + frozen + detached


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return ThreeBranches()


def example_inputs() -> torch.Tensor:
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.sum()
