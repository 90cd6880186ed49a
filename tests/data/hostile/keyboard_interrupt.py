"""Raises KeyboardInterrupt in its forward."""

import torch
from torch import nn


class Interrupting(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise KeyboardInterrupt
        return self.fc(x)


def build_model() -> nn.Module:
    return Interrupting()


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 2)
