"""The architecture that state_dict_mismatch.pt's weights almost fit."""

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def build_model() -> nn.Module:
    return Tiny()


def example_inputs() -> torch.Tensor:
    return torch.randn(2, 4)
