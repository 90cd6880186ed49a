"""A small CNN with a residual block: convolution, batch norm, pooling and a skip.

**What to look at.** The skip connection: [AddBackward0](node:AddBackward0) adds the
block's input to its output, so in backward the gradient is copied to both paths, and
the stem's [ReluBackward0](node:ReluBackward0) waits for 2 gradients (its badge shows 2)
before it runs. [NativeBatchNormBackward0](node:NativeBatchNormBackward0) saved the
batch statistics (see "Saved for backward" in the inspector).

**Try.** Double-click the `block` box to collapse it into one node, and again to open it.

**Question.** Why does a skip connection help gradients reach early layers?
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """conv-bn-relu-conv-bn plus the input, then relu."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


class ResidualCNN(nn.Module):
    """stem conv -> residual block -> pool -> linear head."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block = ResidualBlock(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(torch.relu(self.stem(x)))
        return self.head(torch.flatten(self.pool(x), 1))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return ResidualCNN()


def example_inputs() -> torch.Tensor:
    return torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, torch.tensor([3, 7]))
