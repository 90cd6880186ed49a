"""A model with an argument that is not a size: nothing in the file gives it."""

import torch
from torch import nn


class Projection(nn.Module):
    """Projects features, then applies an activation.

    in_features: the width of the input.
    activation: the name of a torch function, such as 'tanh'.
    """

    def __init__(self, in_features: int, activation: str, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, in_features, bias=bias)
        self.activation = getattr(torch, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))
