"""Calls os._exit() in its forward: Python would end the whole process at once."""

import os

import torch
from torch import nn


class Leaver(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        os._exit(0)
        return self.fc(x)


def build_model() -> nn.Module:
    return Leaver()


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 2)
