"""Calls sys.exit() while it is imported."""

import sys

import torch
from torch import nn

if __name__ != "__main__":  # imported: leave
    sys.exit(2)


def build_model() -> nn.Module:
    return nn.Linear(2, 2)


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 2)
