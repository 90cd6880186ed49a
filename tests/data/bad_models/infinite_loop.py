import torch
from torch import nn


class Forever(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = 0
        while True:  # never ends: only an interrupt stops it
            steps += 1
        return self.fc(x)


def build_model() -> nn.Module:
    return Forever()


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 2)
