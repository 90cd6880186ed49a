"""A vision transformer written as a library: nothing in the file gives its sizes."""

import torch
from torch import nn


class Transformer(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, mlp_dim: int) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout=0.0, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ViT(nn.Module):
    def __init__(
        self, *, image_size, patch_size, num_classes, dim, depth, heads, mlp_dim, channels=3
    ):
        super().__init__()
        patches = (image_size // patch_size) ** 2
        self.to_patches = nn.Conv2d(channels, dim, patch_size, stride=patch_size)
        self.pos = nn.Parameter(torch.randn(1, patches + 1, dim))
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.transformer = Transformer(dim, depth, heads, mlp_dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.to_patches(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.transformer(x)[:, 0])
