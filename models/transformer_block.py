"""A small transformer block: self-attention, residuals, LayerNorm and an MLP.

**What to look at.** A realistic graph: two residual additions
([AddBackward0](node:AddBackward0)) let the gradient skip each sub-block,
[NativeLayerNormBackward0](node:NativeLayerNormBackward0) normalises, and the MLP's
[GeluBackward0](node:GeluBackward0) sits between two linear layers. Attention itself is a
single fused node (its name depends on the device and PyTorch version).

**Try.** View > Collapse top-level modules (Ctrl+Shift+C): each sub-module becomes one
node, the way big models open. Double-click `attention` to open just that part.

**Question.** Which path carries the gradient to the first layer most directly?
"""

from __future__ import annotations

import torch
from torch import nn


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then + mlp(norm(x))."""

    def __init__(self, width: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return TransformerBlock()


def example_inputs() -> torch.Tensor:
    return torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.square().mean()
