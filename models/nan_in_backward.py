"""NaN in backward although the forward is finite: the derivative of `sqrt` at 0.

**What to look at.** The model embeds four points and returns the mean distance of the
pairs (0, 1) and (2, 3), written out as `sqrt(sum(diff * diff))`. Points 0 and 1 are the
same, so their distance is `sqrt(0) = 0`: the loss is finite and the graph draws as
usual. Backward is another story. [SqrtBackward0](node:SqrtBackward0) multiplies the
gradient by `1 / (2 sqrt(x))`, which is infinite at 0: an Inf, and no error.
[MulBackward0](node:MulBackward0) (`diff * diff`) then sends `grad x diff`, and for the
identical points that is `inf x 0`: NaN. Every gradient below it, that of
[embed.weight](node:embed.weight) included, is NaN.

**Try.** Run > Check gradient health (Ctrl+Shift+H): the report names SqrtBackward0 as
the first Inf and MulBackward0 as the first NaN (the node `torch.autograd.detect_anomaly`
names; it says nothing about the Inf), each with this file's line. Click *Jump to first
NaN*: the stepper stops at MulBackward0 and the chain-rule panel reads
`[inf, inf, ...] x [0, 0, ...] = [nan, nan, ...]`. Press Ctrl+T: one SGD step writes NaN
into every weight, and every loss after it is NaN. In a copy of this file set
`EPS = 1e-12` (or use `torch.linalg.vector_norm`, whose backward at 0 is 0), open it and
check again: healthy.

**Question.** `sqrt(0) = 0` is a perfectly good number. Why does backward still need
something at 0 that does not exist?
"""

from __future__ import annotations

import torch
from torch import nn

EPS = 0.0  # 1e-12 keeps 1 / (2 sqrt(x)) finite at x = 0: no Inf, so no NaN


class PairDistance(nn.Module):
    """Embed points, then the Euclidean distance within each pair (rows 0-1, 2-3)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(2, 2, bias=False)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        z = self.embed(points)
        diff = z[0::2] - z[1::2]
        return torch.sqrt((diff * diff).sum(dim=1) + EPS)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return PairDistance()


def example_inputs() -> torch.Tensor:
    # Points 0 and 1 coincide: their distance is exactly 0.
    return torch.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])


def loss_fn(distances: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    return distances.mean()
