"""Gradient checking: finite differences agree with autograd in float64, not in float32.

**What to look at.** A tiny net, `fc2(tanh(fc1(x)))` with a squared loss. Autograd's
gradient for [fc1.weight](node:fc1.weight) flows back through
[TanhBackward0](node:TanhBackward0) and [AddmmBackward0](node:AddmmBackward0); press F6,
then End, and click `fc1.weight` to read it (`.grad after`).

A gradient check nudges one weight by `eps` both ways and compares
`(loss(w + eps) - loss(w - eps)) / (2 eps)` with autograd's number. With
`torch.autograd.gradcheck`'s `eps = 1e-6` the loss (about 10) moves by about 1e-6, but
float32 numbers near 10 are spaced about 1e-6 apart: the difference is mostly rounding,
and the quotient is off by tens of percent. float64 spacing there is about 2e-15, and
the two agree to about 8 digits.

**Try.** Run > Check gradients (Ctrl+G): the Training dock's "Gradient check" tab
shows float64 and float32 side by side; float32 fails, float64 passes. The same with
torch itself: `torch.autograd.gradcheck(*check_function(model, torch.float64))` passes,
and fails for `torch.float32`. The graph is the same in both: only the numbers change.

**Question.** Why not just use a larger `eps` in float32?
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call


class SmoothNet(nn.Module):
    """fc1 -> tanh -> fc2: smooth everywhere, so finite differences are valid."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return SmoothNet()


def example_inputs() -> torch.Tensor:
    return 2.0 * torch.randn(5, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (output + 1.0).square().sum()


def check_function(
    model: nn.Module, dtype: torch.dtype
) -> tuple[Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]:
    """The loss as a function of every parameter, and those parameters in ``dtype``:
    ready for ``torch.autograd.gradcheck(fn, params)``."""
    model = copy.deepcopy(model).to(dtype)  # .to() converts in place: leave the caller's
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in model.parameters())
    x = example_inputs().to(dtype)

    def loss_of(*values: torch.Tensor) -> torch.Tensor:
        return loss_fn(functional_call(model, dict(zip(names, values, strict=True)), (x,)), x)

    return loss_of, params
