"""Prints its usage and exits unless run interactively: the app must run that once."""

import sys

import torch.nn as nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


if not hasattr(sys, "ps1"):
    print("usage: run me interactively")
    sys.exit(0)
