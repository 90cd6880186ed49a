"""Benchmark models built from plain ``torch.nn`` (torchvision is not installable here).

Each builder returns a :class:`BenchModel`: the module (train mode, seeded) and its
example inputs. Sizes follow the published architectures where there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual alias)


@dataclass
class BenchModel:
    """A model to benchmark and the inputs of one forward pass."""

    name: str
    model: nn.Module
    inputs: tuple[torch.Tensor, ...]


# ---------------------------------------------------------------- ResNet (He et al. 2015)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions plus a (projected) skip: ResNet-18/34's block."""

    expansion = 1

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.downsample = _projection(in_ch, ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + skip)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4: ResNet-50's block (v1.5 stride)."""

    expansion = 4

    def __init__(self, in_ch: int, ch: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = ch * self.expansion
        self.conv1 = nn.Conv2d(in_ch, ch, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)
        self.conv3 = nn.Conv2d(ch, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.downsample = _projection(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        skip = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + skip)


def _projection(in_ch: int, out_ch: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class ResNet(nn.Module):
    """The ImageNet ResNet: 7x7 stem, max-pool, four stages, average pool, 1000 classes."""

    def __init__(self, block: type[BasicBlock | Bottleneck], depths: list[int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, in_ch = [], 64
        for i, (ch, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            blocks = []
            for j in range(depth):
                blocks.append(block(in_ch, ch, 2 if i > 0 and j == 0 else 1))
                in_ch = ch * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(in_ch, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DeepResNet(nn.Module):
    """Many 8-channel basic blocks on an 8x8 image: a very deep, very cheap graph."""

    def __init__(self, blocks: int, channels: int = 8) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*(BasicBlock(channels, channels) for _ in range(blocks)))
        self.fc = nn.Linear(channels, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------- GPT-2 small (124M)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused QKV projection, as in GPT-2."""

    def __init__(self, d_model: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)
        mask = torch.tril(torch.ones(max_len, max_len, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, max_len, max_len), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
        scores = scores.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
        out = F.softmax(scores, dim=-1) @ v
        return self.c_proj(out.transpose(1, 2).contiguous().view(b, t, c))


class GPT2Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, d_model: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads, max_len)
        self.ln_2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU("tanh"), nn.Linear(4 * d_model, d_model)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    """GPT-2 small: token + position embeddings, 12 blocks, final norm, tied LM head."""

    def __init__(
        self,
        vocab: int = 50257,
        d_model: int = 768,
        layers: int = 12,
        heads: int = 12,
        max_len: int = 1024,
    ) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(max_len, d_model)
        self.h = nn.ModuleList(GPT2Block(d_model, heads, max_len) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(positions)
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # weights tied, as in GPT-2


# ------------------------------------------------------------------------------ builders


# ----------------------------------------------- ViT-S/16 (Dosovitskiy et al. 2020)


class ViT(nn.Module):
    """A vision transformer built from ``nn.TransformerEncoderLayer`` (pre-norm, GELU):
    16x16 patches by a strided convolution, a class token, learned positions."""

    def __init__(
        self, size: int = 224, patch: int = 16, d_model: int = 384, layers: int = 12, heads: int = 6
    ) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, d_model, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model, heads, 4 * d_model, 0.0, "gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.head(self.norm(self.encoder(x))[:, 0])


# ------------------------------------- an LSTM language model (Zaremba et al. 2014)


class LSTMLanguageModel(nn.Module):
    """Embedding, two ``nn.LSTMCell`` layers stepped through the sequence in Python (as
    char-RNN tutorials write it: every step is in the graph) and a decoder tied to the
    embedding."""

    def __init__(self, vocab: int = 10_000, d_model: int = 650, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.cells = nn.ModuleList(nn.LSTMCell(d_model, d_model) for _ in range(layers))
        self.decoder = nn.Linear(d_model, vocab)
        self.decoder.weight = self.embed.weight  # tied, as the paper's medium model

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        states = [(x.new_zeros(x.shape[0], c.hidden_size),) * 2 for c in self.cells]
        outputs = []
        for t in range(x.shape[1]):
            step = x[:, t]
            for i, cell in enumerate(self.cells):
                states[i] = cell(step, states[i])
                step = states[i][0]
            outputs.append(step)
        return self.decoder(torch.stack(outputs, 1))


def _image(batch: int, size: int) -> tuple[torch.Tensor, ...]:
    return (torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(1)),)


def mlp() -> BenchModel:
    """A 4-layer MLP on flattened 28x28 images, batch 32."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 1024),
        nn.ReLU(),
        nn.Linear(1024, 1024),
        nn.ReLU(),
        nn.Linear(1024, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )
    return BenchModel("mlp", model, (torch.randn(32, 784),))


def resnet18() -> BenchModel:
    """ResNet-18 on one 224x224 image."""
    torch.manual_seed(0)
    return BenchModel("resnet18", ResNet(BasicBlock, [2, 2, 2, 2]), _image(1, 224))


def resnet50() -> BenchModel:
    """ResNet-50 on one 224x224 image."""
    torch.manual_seed(0)
    return BenchModel("resnet50", ResNet(Bottleneck, [3, 4, 6, 3]), _image(1, 224))


def gpt2() -> BenchModel:
    """GPT-2 small on 64 tokens, batch 1."""
    torch.manual_seed(0)
    idx = torch.randint(0, 50257, (1, 64), generator=torch.Generator().manual_seed(1))
    return BenchModel("gpt2", GPT2(), (idx,))


def gpt48() -> BenchModel:
    """A 48-layer GPT-2-like model (d_model 384, 6 heads) on 64 tokens: 2,845 nodes."""
    torch.manual_seed(0)
    idx = torch.randint(0, 50257, (1, 64), generator=torch.Generator().manual_seed(1))
    return BenchModel("gpt48", GPT2(d_model=384, layers=48, heads=6), (idx,))


def vit() -> BenchModel:
    """ViT-S/16 (12 pre-norm encoder layers, d_model 384, 6 heads) on one 224x224 image."""
    torch.manual_seed(0)
    return BenchModel("vit", ViT(), _image(1, 224))


def lstm_lm() -> BenchModel:
    """A 2-layer LSTM language model (vocab 10k, 650 units, tied decoder), 12 tokens
    stepped one by one."""
    torch.manual_seed(0)
    idx = torch.randint(0, 10_000, (1, 12), generator=torch.Generator().manual_seed(1))
    return BenchModel("lstm_lm", LSTMLanguageModel(), (idx,))


#: 13 grad_fn nodes per block (2 convs + weights, 2 batch norms + 4 affine params,
#: 2 relus, 1 add): 1,150 blocks give about 15,000 nodes.
DEEP_BLOCKS = 1150


def deep_resnet() -> BenchModel:
    """1,150 basic blocks of 8 channels on one 8x8 image: about 15,000 grad_fn nodes."""
    torch.manual_seed(0)
    return BenchModel("deep_resnet", DeepResNet(DEEP_BLOCKS), _image(1, 8))


BUILDERS: dict[str, Callable[[], BenchModel]] = {
    "mlp": mlp,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "gpt2": gpt2,
    "gpt48": gpt48,
    "deep_resnet": deep_resnet,
    "vit": vit,
    "lstm_lm": lstm_lm,
}
