"""A tutorial-style script: a model, an optional import for its data, and training at
top level with no __main__ guard."""

import os
from pathlib import Path

import torch
from torch import nn

try:
    import graphviz_app_no_such_vision_package as vision  # optional: only for the data
except ImportError:
    vision = None
import graphviz_app_no_such_dataset_package  # fails: reported, not fatal

EPOCHS = 3
LEARNING_RATE = 0.1


class SmallNet(nn.Module):
    def __init__(self, width: int = 6) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, width)
        self.fc2 = nn.Linear(width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def data_loader() -> object:
    return graphviz_app_no_such_dataset_package.load()


model = SmallNet()
optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
for _epoch in range(EPOCHS):
    Path(os.environ.get("GRAPHVIZ_APP_TEST_MARKER", os.devnull)).write_text("trained")
    loss = model(torch.randn(8, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()
print("done")
