"""An LSTM cell unrolled over 4 time steps: the same weights used at every step.

**What to look at.** One `nn.LSTMCell` runs 4 times, so
[cell.weight_ih](node:cell.weight_ih) is a single leaf with 4 consumers: in backward
its AccumulateGrad waits for 4 gradients (the badge) and `.grad` is their sum, one
contribution per time step ("backpropagation through time").

**Try.** Press F6 and step with Right: the gradient leaves the read-out layer
([head.weight](node:head.weight)) and walks back through the 4 time steps, the last
step first. Press End and click `cell.weight_ih`: its `.grad after` is the sum over the
steps. Double-click the `cell` box: the 4 unrolled steps fold into one node.

**Question.** Why do gradients through many time steps tend to vanish or explode?
"""

from __future__ import annotations

import torch
from torch import nn

STEPS = 4


class UnrolledLSTM(nn.Module):
    """LSTMCell over a short sequence, then a linear read-out of the last state."""

    def __init__(self, features: int = 3, hidden: int = 5) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(features, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        h = sequence.new_zeros(sequence.shape[1], self.cell.hidden_size)
        c = torch.zeros_like(h)
        for step in range(sequence.shape[0]):
            h, c = self.cell(sequence[step], (h, c))
        return self.head(h)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return UnrolledLSTM()


def example_inputs() -> torch.Tensor:
    return torch.randn(STEPS, 2, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, sequence: torch.Tensor) -> torch.Tensor:
    return output.square().mean()
