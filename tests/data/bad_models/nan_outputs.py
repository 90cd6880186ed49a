import torch
from torch import nn


class NaNs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(self.fc(x) - 100.0)  # log of negative numbers: NaN


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return NaNs()


def example_inputs() -> torch.Tensor:
    return torch.randn(2, 3)
