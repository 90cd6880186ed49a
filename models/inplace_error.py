"""In-place operations: when they are fine, and the "modified by an inplace operation" error.

**What to look at.** `h.add_(1)` is in place, yet harmless: the linear layer's
[AddmmBackward0](node:AddmmBackward0) saved its inputs, not `h`, so changing `h` breaks
nothing; the in-place add becomes an ordinary [AddBackward0](node:AddBackward0).
[SigmoidBackward0](node:SigmoidBackward0) is different: its backward,
`grad * s * (1 - s)`, needs its own output `s`, so it saved it (click it: `result`
under "Saved for backward"). The forward then multiplies out of place, `s = s * 2`
([MulBackward0](node:MulBackward0)), leaving the saved `s` intact.

**Try: break it.** Every tensor has a version counter that each in-place op bumps, and
every saved tensor remembers the version it was saved at. In a copy of this file, set
`MODIFY_SAVED_OUTPUT = True` (the forward then runs `s.mul_(2)`), open the copy with
Ctrl+O and press F5: the forward runs and the graph draws. Press F6: backward stops with
"one of the variables needed for gradient computation has been modified by an inplace
operation: [torch.FloatTensor [4, 4]], which is output 0 of Sigmoid, is at version 1;
expected version 0 instead". Backward would otherwise compute the sigmoid's gradient
from the doubled values, a silently wrong answer.

**Question.** Would `torch.relu_` after the sigmoid be safe? (Hint: what does
`ReluBackward0` save?)
"""

from __future__ import annotations

import torch
from torch import nn

MODIFY_SAVED_OUTPUT = False  # True reproduces the error: backward needs the old `s`


class InPlaceDemo(nn.Module):
    """linear, an in-place add, a sigmoid, and a doubling (in or out of place)."""

    def __init__(self, modify_saved_output: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.modify_saved_output = modify_saved_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        h.add_(1.0)  # in place, but nothing saved h: safe
        s = torch.sigmoid(h)  # SigmoidBackward0 saves its output s
        if self.modify_saved_output:
            s.mul_(2.0)  # bumps s's version: backward will refuse the saved s
        else:
            s = s * 2.0  # a new tensor; the saved s is untouched
        return s


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return InPlaceDemo(MODIFY_SAVED_OUTPUT)


def example_inputs() -> torch.Tensor:
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.square().mean()
