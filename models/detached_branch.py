"""A detached branch: parameters that never learn, and how to find the line that cut them off.

**What to look at.** A small classifier with a gate: `head(relu(features(x)) * gate)`,
divided by a learned temperature. Three bugs are hiding, each common in real code.
The gate is `.detach()`ed (copied from code that meant to stop a gradient elsewhere),
so `gate.weight` and `gate.bias` have no node in the graph; the temperature goes through
`.item()`, which turns it into a Python number, so `log_temperature` has no node either;
and `aux_head` is built but never called. Only [features.weight](node:features.weight)
and [head.weight](node:head.weight) and their biases are connected to the loss
([NllLossBackward0](node:NllLossBackward0)). Nothing fails: the model trains, just not
all of it.

**Try.** Run > Check gradient health (Ctrl+Shift+H): *Parameters without gradient*
lists the five, each with its reason: `detach()` and `item()` at this file's lines, and
"module aux_head never ran". On the command line, `graphviz-app check detached_branch`
prints the same and exits with status 1, so a CI job can catch it. In a copy of this
file remove `.detach()`, divide by `self.log_temperature.exp()` (the tensor) and check
again: only `aux_head` is left.

**Question.** `.item()` returns exactly the same number as the tensor it came from. Why
does the temperature then never learn?
"""

from __future__ import annotations

import torch
from torch import nn


class GatedClassifier(nn.Module):
    """Features times a gate, a head, a temperature; and an auxiliary head never used."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Linear(4, 8)
        self.gate = nn.Linear(4, 8)
        self.head = nn.Linear(8, 3)
        self.aux_head = nn.Linear(8, 3)  # meant for an auxiliary loss that was never added
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.features(x))
        gate = torch.sigmoid(self.gate(x)).detach()  # the bug: no gradient reaches the gate
        logits = self.head(h * gate)
        return logits / self.log_temperature.exp().item()  # the bug: a Python float


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return GatedClassifier()


def example_inputs() -> torch.Tensor:
    return torch.randn(8, 4, generator=torch.Generator().manual_seed(1))


def example_target() -> torch.Tensor:
    return torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


def loss_fn(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, example_target())
