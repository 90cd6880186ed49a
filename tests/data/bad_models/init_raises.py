import torch
from torch import nn


class Broken(nn.Module):
    def __init__(self, width: int = 4) -> None:
        super().__init__()
        raise ValueError(f"width {width} is not supported")


def build_model() -> nn.Module:
    return Broken()


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 4)
