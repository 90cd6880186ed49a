"""The tutorial's two-layer net written four ways, side by side, from the same weights.

**What to look at.** Each module box is the same net, `relu(x @ w1) @ w2`, with a
squared-error loss; the four losses are stacked and summed.

1. `manual` has no box at all: its weights are plain tensors without `requires_grad`,
   so autograd records nothing. Its gradients are written by hand
   (`ManualNet.grads_by_hand`, the tutorial's numpy-style backward).
2. `autograd` uses raw parameters such as [autograd.w1](node:autograd.w1):
   [MmBackward0](node:MmBackward0) and
   [ClampBackward1](node:ClampBackward1) are the recorded ops.
3. `custom` replaces the ReLU with a hand-written `autograd.Function`:
   [MyReLUBackward](node:MyReLUBackward) (purple).
4. `sequential` is `nn.Sequential(Linear, ReLU, Linear)`:
   [sequential.0.weight](node:sequential.0.weight) reaches its `MmBackward0` through a
   `TBackward0` (`Linear` computes `x @ W.T`); the ReLU is a
   [ReluBackward0](node:ReluBackward0).

**Try.** Press F6, then End, and click `autograd.w1`, `custom.w1` and `sequential.0.weight`:
their `.grad after` norms are equal (the hand-written backward gives the same numbers
too). Ctrl+T trains a step: SGD moves the three autograd versions identically, so their
gradients stay equal step after step, while `manual`'s weights are buffers, not
parameters: the optimizer never sees them and they keep their initial values.

**Question.** [StackBackward0](node:StackBackward0) stacks four losses in the code, but only
three edges come into it: which one is missing, and why?
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

IN, HIDDEN, OUT, BATCH = 4, 6, 2, 8


def _initial_weights() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    w1 = torch.randn(IN, HIDDEN, generator=generator) / IN**0.5
    return w1, torch.randn(HIDDEN, OUT, generator=generator) / HIDDEN**0.5


class ManualNet(nn.Module):
    """Plain tensors, no autograd: the forward leaves no graph behind."""

    w1: torch.Tensor
    w2: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        w1, w2 = _initial_weights()
        self.register_buffer("w1", w1)  # buffers: saved with the model, never trained
        self.register_buffer("w2", w2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mm(self.w1).clamp(min=0).mm(self.w2)

    def grads_by_hand(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """d loss / d (w1, w2) for ``loss = (forward(x) - y).pow(2).sum()``, by hand."""
        h = x.mm(self.w1)
        h_relu = h.clamp(min=0)
        grad_y = 2.0 * (h_relu.mm(self.w2) - y)
        grad_h = grad_y.mm(self.w2.t()) * (h > 0)
        return x.t().mm(grad_h), h_relu.t().mm(grad_y)


class AutogradNet(nn.Module):
    """The same maths on parameters: autograd records every op."""

    def __init__(self) -> None:
        super().__init__()
        w1, w2 = _initial_weights()
        self.w1 = nn.Parameter(w1)
        self.w2 = nn.Parameter(w2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mm(self.w1).clamp(min=0).mm(self.w2)


class MyReLU(torch.autograd.Function):
    """ReLU with a hand-written backward, as in the tutorial."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0).to(grad_output.dtype)


class CustomFunctionNet(AutogradNet):
    """Autograd, with the ReLU replaced by :class:`MyReLU`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return MyReLU.apply(x.mm(self.w1)).mm(self.w2)


def sequential_net() -> nn.Sequential:
    """``nn.Sequential``: modules own the parameters (``Linear`` stores ``W.T``)."""
    first, second = nn.Linear(IN, HIDDEN, bias=False), nn.Linear(HIDDEN, OUT, bias=False)
    w1, w2 = _initial_weights()
    with torch.no_grad():
        first.weight.copy_(w1.t())
        second.weight.copy_(w2.t())
    return nn.Sequential(first, nn.ReLU(), second)


class FourWays(nn.Module):
    """The four versions of one net; the forward returns their four predictions."""

    def __init__(self) -> None:
        super().__init__()
        self.manual = ManualNet()
        self.autograd = AutogradNet()
        self.custom = CustomFunctionNet()
        self.sequential = sequential_net()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.manual(x), self.autograd(x), self.custom(x), self.sequential(x)


def build_model() -> nn.Module:
    return FourWays()


def target_of(x: torch.Tensor) -> torch.Tensor:
    """The synthetic regression target: a fixed smooth function of the input."""
    return torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3]], dim=1)


def example_inputs() -> torch.Tensor:
    return torch.randn(BATCH, IN, generator=torch.Generator().manual_seed(1))


def loss_fn(outputs: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
    y = target_of(x)
    return torch.stack([(out - y).pow(2).sum() for out in outputs]).sum()


def make_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(BATCH, IN, generator=torch.Generator().manual_seed(100 + step))
    return x, target_of(x)
