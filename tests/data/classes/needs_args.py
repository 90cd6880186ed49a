"""A model whose sizes nothing in the file gives."""

import torch
from torch import nn


class Projection(nn.Module):
    """Projects features.

    in_features: the width of the input.
    out_features: the width of the output.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)
