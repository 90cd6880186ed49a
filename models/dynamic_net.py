"""The tutorial's dynamic net: 1 to 4 hidden layers chosen at random on every forward.

**What to look at.** The middle layer is one `nn.Linear` reused a random number of
times, so [middle.weight](node:middle.weight) is a single leaf with several consumers:
one `TBackward0` per reuse (the Inspector lists them under "Consumers"). In backward
each reuse sends its own gradient back along its own edge, and `.grad` is their sum.

**Try.** Press F5: each forward builds a new graph, and its shape changes with the
number of reuses (a new layout when it does). Press F6 and step with Right: the blue
badge on `middle.weight` counts the gradients it still waits for, one per reuse; click
it at the end to see `.grad after`. Ctrl+T trains on a new batch and draws a new
random depth too.

**Question.** Why can PyTorch build a different graph on every forward pass, and what
would a framework that compiles one fixed graph have to do instead?"""

from __future__ import annotations

import random

import torch
from torch import nn


class DynamicNet(nn.Module):
    """input -> (middle x 1-4, shared weights) -> output."""

    def __init__(self) -> None:
        super().__init__()
        self.input = nn.Linear(3, 8)
        self.middle = nn.Linear(8, 8)
        self.output = nn.Linear(8, 1)
        self.rng = random.Random(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input(x).clamp(min=0)
        for _ in range(self.rng.randint(1, 4)):
            h = self.middle(h).clamp(min=0)
        return self.output(h)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return DynamicNet()


def example_inputs() -> torch.Tensor:
    return torch.randn(5, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.square().mean()


def make_batch(step: int) -> torch.Tensor:
    return torch.randn(5, 3, generator=torch.Generator().manual_seed(100 + step))
