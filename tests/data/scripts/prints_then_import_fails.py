"""Prints a banner, then an import fails: the script never reaches backward, so its
model class is shown instead; the banner must be printed once, not twice."""

import torch
from torch import nn

print("banner: training starts")
import graphviz_app_no_such_dataset_package  # noqa: E402, F401


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


model = Net()
loss = model(torch.randn(2, 3)).sum()
loss.backward()
