"""Small transformer-like and ResNet-like models for the large-graph core tests.

The same architectures as ``bench/models.py`` (which tests do not import: ``bench``
is not on pytest's path), shrunk so a test captures them in milliseconds.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual alias)


class Attention(nn.Module):
    """Causal multi-head self-attention with a fused QKV projection (GPT-2's)."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        # Written out, not F.scaled_dot_product_attention: that picks a kernel per
        # device, so a meta capture and a CPU capture would differ in their nodes.
        scores = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        out = F.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1) @ v
        return self.proj(out.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    """Pre-norm transformer layer."""

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = Attention(d_model, heads)
        self.ln_2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """Token and position embeddings, ``layers`` blocks, a final norm and a head."""

    def __init__(self, layers: int = 2, d_model: int = 16, heads: int = 2, vocab: int = 50) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(64, d_model)
        self.h = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        return self.head(self.ln_f(x))


class Bottleneck(nn.Module):
    """ResNet-50's block: 1x1 reduce, 3x3, 1x1 expand by 4, projected skip when needed."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.conv3 = nn.Conv2d(ch, 4 * ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * ch)
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, 4 * ch, 1, stride, bias=False), nn.BatchNorm2d(4 * ch))
            if stride != 1 or in_ch != 4 * ch
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        skip = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + skip)


class BasicBlock(nn.Module):
    """ResNet-18's block: two 3x3 convolutions, projected skip when needed."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.downsample = (
            nn.Sequential(nn.Conv2d(in_ch, ch, 1, stride, bias=False), nn.BatchNorm2d(ch))
            if stride != 1 or in_ch != ch
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + skip)


class ResNet(nn.Module):
    """Stem, four stages of bottleneck blocks (``depths``; basic blocks with
    ``bottleneck=False``, as ResNet-18's), pooling and a classifier."""

    def __init__(self, depths: list[int], width: int = 4, bottleneck: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        block = Bottleneck if bottleneck else BasicBlock
        stages, in_ch = [], width
        for i, depth in enumerate(depths):
            ch = width * 2**i
            blocks = []
            for j in range(depth):
                blocks.append(block(in_ch, ch, 2 if i > 0 and j == 0 else 1))
                in_ch = block.expansion * ch
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(in_ch, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
