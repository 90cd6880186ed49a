"""A model class and the demo that builds it and calls it: its arguments and input."""

import torch
from torch import nn


class Mixer(nn.Module):
    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(features)
        self.mix = nn.Linear(features, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(self.norm(x)).relu()


if __name__ == "__main__":
    model = Mixer(7, hidden=5)
    sample = torch.randn(3, 4, 7)
    print(model(sample).shape)
