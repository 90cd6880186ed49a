import torch
from torch import nn


class NoGrad(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.fc(x)


def build_model() -> nn.Module:
    return NoGrad()


def example_inputs() -> torch.Tensor:
    return torch.randn(2, 3)
