"""CrossEntropyLoss is LogSoftmax followed by NLLLoss: two graphs, the same gradient.

**What to look at.** The model outputs two losses of the same logits: `F.cross_entropy`
and `F.nll_loss(F.log_softmax(...))`. Both roots end in
[NllLossBackward0](node:NllLossBackward0) after [LogSoftmaxBackward0](node:LogSoftmaxBackward0):
cross-entropy is literally the composition.

**Try.** Press F6, then End (the finished pass), and compare, in the inspector, the
gradients the two `LogSoftmaxBackward0` nodes send to the logits: they are equal.

**Question.** Why do classifiers output logits instead of probabilities?
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

TARGETS = torch.tensor([0, 2, 1])


class TwoLosses(nn.Module):
    """A linear classifier returning both formulations of its loss."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.fc(x)
        return functional.cross_entropy(logits, TARGETS), functional.nll_loss(
            functional.log_softmax(logits, 1), TARGETS
        )


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return TwoLosses()


def example_inputs() -> torch.Tensor:
    return torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
