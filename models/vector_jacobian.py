"""Non-scalar outputs and `backward(gradient=v)`: a vector-Jacobian product.

**What to look at.** The model maps a point `x` in 2-D to `y` in 3-D. For a vector `y`,
"the gradient" is not defined: `y.backward()` raises "grad can be implicitly created only
for scalar outputs". What backward computes is `v^T J`, the vector-Jacobian product, for
a `v` you choose with `y.backward(gradient=v)`: it never builds the 3x2 Jacobian `J`,
it pushes `v` down the graph. The loss here is `(y * V).sum()`, and its backward is
exactly `y.backward(gradient=V)`: [MulBackward0](node:MulBackward0) sends `V` itself to
[TanhBackward0](node:TanhBackward0), the node that made `y`. With `V = (0, 1, 0)`,
[x](node:x)'s `.grad` is row 1 of the Jacobian: how output 1 moves with each input.

**Try.** Press F6, then Right: MulBackward0 runs, and the chain-rule panel shows `sent to
input 0 = [0, 1, 0]`, that is `V`. End, then click `x`: `.grad after` is `V^T J`, the numbers
`torch.autograd.functional.vjp(model, x, V)` returns. A model without a loss is seeded
with ones (`v = (1, 1, 1)`): the gradient of `y.sum()`. In a copy of this file set
`V = (1, 0, 0)`, then `(0, 0, 1)`: three backwards give the three rows of `J`.

**Question.** Building the full Jacobian of a model with a million outputs takes a
million backward passes. Why is one backward enough to train it?
"""

from __future__ import annotations

import torch
from torch import nn

V = (0.0, 1.0, 0.0)  # the `gradient=` vector: (0, 1, 0) reads row 1 of the Jacobian


class Lift(nn.Module):
    """R^2 -> R^3: `tanh(W x + b)`."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return Lift()


def example_inputs() -> torch.Tensor:
    return torch.tensor([0.5, -1.0], requires_grad=True)


def seed_vector(like: torch.Tensor) -> torch.Tensor:
    """`V` as a tensor shaped, typed and placed like the output."""
    return torch.tensor(V, dtype=like.dtype, device=like.device)


def loss_fn(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (y * seed_vector(y)).sum()  # its backward is y.backward(gradient=V)
