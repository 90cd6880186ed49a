"""Leaf and non-leaf tensors: who gets a `.grad`, and what `retain_grad()` changes.

**What to look at.** Leaves are tensors you made yourself: the parameters
[fc.weight](node:fc.weight) and [fc.bias](node:fc.bias) (blue) and the input
[x](node:x) (orange: it was created with `requires_grad=True`). Each ends in an
AccumulateGrad node, which writes `.grad`. Everything computed from them is a non-leaf:
`hidden` comes out of [AddmmBackward0](node:AddmmBackward0) and `activated` out of
[TanhBackward0](node:TanhBackward0). After `backward()` their `.grad` is `None`
(PyTorch warns if you read it): their gradient passes through and is freed. The forward
calls `hidden.retain_grad()`, so `hidden.grad` is kept; `activated.grad` is not.

**Try.** Press F6, then End, and click `fc.weight`: the Inspector's `.grad before` /
`.grad after` rows show the leaf's `.grad`. Click `AddmmBackward0`: a non-leaf has no
`.grad` row, but its `in [0]` row is the gradient that reached `hidden`, exactly what
`retain_grad()` keeps in `hidden.grad`. Click `TanhBackward0`: its `in [0]` is the
gradient `activated.grad` would hold, had you asked for it. Turn on Run > Retain graph
and press F6 twice: the leaves' `.grad after` doubles (`.grad` accumulates).

**Question.** Why would keeping `.grad` on every intermediate tensor be a bad default?
"""

from __future__ import annotations

import torch
from torch import nn


class LeafDemo(nn.Module):
    """tanh(x @ W.T + b), summed over features; keeps its intermediates to inspect."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.hidden: torch.Tensor | None = None  # kept only so tests can read .grad
        self.activated: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.fc(x)
        hidden.retain_grad()  # a non-leaf that keeps its .grad after backward
        activated = torch.tanh(hidden)  # a non-leaf whose .grad stays None
        self.hidden, self.activated = hidden, activated
        return activated.sum(dim=1)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return LeafDemo()


def example_inputs() -> torch.Tensor:
    # An input that requires grad is a leaf too: backward writes x.grad.
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1)).requires_grad_()


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.square().mean()
