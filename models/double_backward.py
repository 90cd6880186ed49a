"""Higher-order gradients: a gradient penalty, and the backward-of-backward nodes it adds.

**What to look at.** A critic scores points, and its loss adds a gradient penalty (as in
WGAN-GP): how far the norm of `d score / d x` is from 1. That gradient comes from
`torch.autograd.grad(..., create_graph=True)`, which records the backward's own ops as a
graph, so that the penalty can be differentiated in turn. Those nodes are drawn with a
double border and the line "made by backward (order 2)":
[TanhBackwardBackward0](node:TanhBackwardBackward0) is the derivative of tanh's
derivative, [MmBackward0](node:MmBackward0) the backward of the matrix products
`grad @ W`. They hang on the forward's own nodes through what they saved (`fc1.weight`
feeds both the forward and the penalty).

**Try.** Count the nodes: the penalty roughly doubles the graph, and F6 runs through all
of it; stepping shows that the backward of the penalty goes through the forward's nodes
again (the gradient of a gradient needs the forward's saved values once more). That is
why double backward costs about two or three backwards, and keeps the forward's
activations alive longer. Run > Check gradient health works on it like on any model.

**Question.** The penalty needs `x.requires_grad`. Why, when `x` is data, not a
parameter?
"""

from __future__ import annotations

import torch
from torch import nn

PENALTY_WEIGHT = 10.0  # lambda of WGAN-GP


class Critic(nn.Module):
    """Scores 2-D points: `fc2(tanh(fc1(x)))`."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return Critic()


def example_inputs() -> torch.Tensor:
    points = torch.randn(3, 2, generator=torch.Generator().manual_seed(1))
    return points.requires_grad_()  # the penalty differentiates with respect to x


def gradient_penalty(score: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """`((|d score / d x| - 1)^2).mean()`, differentiable: create_graph=True."""
    (grad_x,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return ((grad_x.norm(dim=1) - 1) ** 2).mean()


def loss_fn(score: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return score.mean() + PENALTY_WEIGHT * gradient_penalty(score, x)
