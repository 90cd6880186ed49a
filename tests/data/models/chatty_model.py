"""A model file (build_model / example_inputs / loss_fn) whose code prints at import,
while building, in forward and in its loss: stdout belongs to the command's report."""

import sys

import torch
from torch import nn

print("chatty model: imported")


def build_model() -> nn.Module:
    print("chatty model: building")
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def example_inputs() -> torch.Tensor:
    print("chatty model: inputs")
    return torch.randn(32, 8)


def loss_fn(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    sys.stdout.write("chatty model: loss\n")
    return out.pow(2).mean()
