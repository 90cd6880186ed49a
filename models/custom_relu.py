"""A two-layer net whose ReLU is a custom `torch.autograd.Function`.

**What to look at.** [MyReLUBackward](node:MyReLUBackward) is purple: a user's
`autograd.Function`. Its forward saved the input (`ctx.save_for_backward`), shown under
"Saved for backward"; its backward multiplies the incoming gradient by `input > 0`.

**Try.** Step backward to it (F6, then right-click the node > Run backward to this node)
and compare "in" and "out" in the inspector: negative inputs get zero gradient.

**Question.** What would happen if backward forgot to zero the negative entries?
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class MyReLU(torch.autograd.Function):
    """ReLU written by hand, as in the PyTorch tutorial."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(grad_output.dtype)


class CustomReluNet(nn.Module):
    """Linear -> MyReLU -> Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(MyReLU.apply(self.fc1(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return CustomReluNet()


def example_inputs() -> torch.Tensor:
    return torch.randn(8, 4, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.pow(2).mean()
