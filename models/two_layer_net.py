"""Two-layer classifier: Linear -> ReLU -> Linear, trained with cross-entropy.

**What to look at.** The blue parameter leaves such as [fc1.weight](node:fc1.weight) feed
[AddmmBackward0](node:AddmmBackward0) through [TBackward0](node:TBackward0): `nn.Linear`
computes `x @ W.T + b` in one `addmm`. Cross-entropy is two nodes:
[LogSoftmaxBackward0](node:LogSoftmaxBackward0) then [NllLossBackward0](node:NllLossBackward0).

**Try.** Press F6 and step with the Right key: the gradient starts at the loss and
reaches the weights last. At the end (End), click [fc1.weight](node:fc1.weight) to see its
`.grad`.

**Question.** Why does `TBackward0` appear, when the model never calls `.t()`?
"""

from __future__ import annotations

import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """A small multi-layer perceptron for 4 classes."""

    def __init__(self, in_features: int = 8, hidden: int = 16, classes: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return TwoLayerNet()


def example_inputs() -> torch.Tensor:
    return torch.randn(5, 8, generator=torch.Generator().manual_seed(1))


def example_target() -> torch.Tensor:
    return _labels(example_inputs())


def _labels(x: torch.Tensor) -> torch.Tensor:
    """The class of a sample: which of its first four features is largest."""
    return x[:, :4].argmax(dim=1)


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, _labels(x))


def make_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(100 + step)
    x = torch.randn(5, 8, generator=generator)
    return x, _labels(x)
