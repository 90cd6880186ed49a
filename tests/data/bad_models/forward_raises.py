import torch
from torch import nn


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        raise KeyError("the forward of this model always fails")  # line 12
        return y


def build_model() -> nn.Module:
    return Raises()


def example_inputs() -> torch.Tensor:
    return torch.randn(2, 3)
