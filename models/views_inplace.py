"""Views and in-place operations: `t()`, `reshape`, and an in-place op on a view.

**What to look at.** [TBackward0](node:TBackward0) (yellow) only transposes the
gradient back: a view costs no copy. `reshape` of the transposed, non-contiguous result
must copy, so it appears as [UnsafeViewBackward0](node:UnsafeViewBackward0) after a
`CloneBackward0`. Writing into a slice in place (`h[:, :2] *= 2`) rewrites the history
of the whole tensor: its node becomes [CopySlices](node:CopySlices) (vermillion), which
sends the slice's part of the gradient through the multiply and the rest unchanged.
Python runs `h[:, :2] *= 2` as two in-place writes, `mul_` on the slice and then
`__setitem__` copying the result back into it, so two `CopySlices` appear, one above
the other. `x.view(2, 6)` has no node: the input does not require grad.

**Try.** Press F6 and step with Right to the lower `CopySlices` (forward op `mul_` in
the Inspector): its `out [0]` is its `in [0]` with the slice's entries (the first two
of every row of four) doubled. For an in-place op that *breaks* backward, open the
`inplace_error` lesson.

**Question.** Why must autograd know that `h[:, :2]` shares memory with `h`?
"""

from __future__ import annotations

import torch
from torch import nn


class ViewsAndInPlace(nn.Module):
    """Linear, then views and an in-place multiply on a slice."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x.view(2, 6)).clone()
        h[:, :2] *= 2  # in place, through a view: CopySlices
        return h.t().reshape(-1)


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return ViewsAndInPlace()


def example_inputs() -> torch.Tensor:
    return torch.randn(3, 4, generator=torch.Generator().manual_seed(1))


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return output.square().sum()
