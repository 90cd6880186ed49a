"""Trains on a dataset file that is not there: the script cannot reach backward."""

import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(20, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


data = torch.load("no_such_dataset.pt")
model = Classifier()
loss = model(data).sum()
loss.backward()
