"""Two model classes and no build_model(): the user picks one and its arguments."""

import torch
from torch import nn

HIDDEN = 16


class Encoder(nn.Module):
    """Token ids -> embeddings -> one linear layer."""

    def __init__(self, vocab: int, dim: int = 8, *, scale: float = 1.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)
        self.scale = scale

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj(self.embed(ids)) * self.scale


class Net(nn.Module):
    def __init__(self, in_features: int, out_features: int, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class WiderNet(Net):
    """Inherits Net's constructor."""


class NotAModel:
    def __init__(self, size: int) -> None:
        self.size = size
