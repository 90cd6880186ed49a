"""Like pytorch/examples' time_sequence_prediction/train.py: a plotting package it
imports is not installed, and its model works in float64 only (the script calls
.double() on it), so no float32 input the loader tries runs a forward."""

import graphviz_app_no_such_plot_package  # noqa: F401 (matplotlib, where it is missing)
import torch
from torch import nn


class Sequence(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(1, 8)
        self.linear = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.zeros(x.size(0), 8, dtype=torch.double)
        c = torch.zeros(x.size(0), 8, dtype=torch.double)
        outputs = []
        for step in x.split(1, dim=1):
            h, c = self.cell(step, (h, c))
            outputs.append(self.linear(h))
        return torch.cat(outputs, dim=1)


seq = Sequence().double()
loss = seq(torch.randn(3, 5, dtype=torch.double)).pow(2).mean()
loss.backward()
