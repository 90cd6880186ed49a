"""How the checked backward was seeded, and the scale gradients are judged against.

A loss is a scalar: backward seeds it with 1. A model without a loss has outputs of
any size, and seeding every element with one (``out.backward(torch.ones_like(out))``)
sums over all of them: a language model's 50,304 logits for each of 64 tokens give
gradients three million times those of their mean. So the check seeds each output
with ``1 / its size``, as ``out.mean().backward()`` would. A script's call is checked
as the user's code seeded it.

Whatever the seeds, backward differentiates one scalar: the sum over the roots of
``(seed * root).sum()``, the loss itself for a scalar loss. Its size, at least 1, is
the scale exploding gradients are judged against (``RootSeed.scale``): a loss summed
over N samples makes the loss and every gradient N times larger alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from graphviz_app.core.health.report import GIVEN, LOSS, MEAN, RootSeed


def mean_seeds(roots: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Each root seeded with ``1 / its size``: ``root.mean().backward()``'s gradient (a
    scalar's seed is 1)."""
    return [torch.full_like(r, 1.0 / r.numel()) if r.numel() else torch.ones_like(r) for r in roots]


def model_seed(roots: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor]) -> RootSeed:
    """The seed of a model's check: its scalar loss, or the mean of its outputs."""
    value = differentiated(roots, seeds)
    if all(r.numel() == 1 for r in roots):
        return RootSeed(LOSS, value, _loss_text(value, len(roots)))
    what = "the output" if len(roots) == 1 else f"each of the {len(roots)} outputs"
    shapes = ", ".join(_shape(r) for r in roots)
    return RootSeed(
        MEAN,
        value,
        f"no scalar loss: {what} {shapes} with 1 / its size, as output.mean().backward() "
        f"would (mean {value:.4g})",
    )


def call_seed(
    roots: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor | None] | None
) -> RootSeed:
    """The seed of a user's own backward call: its scalar loss (torch's default seed 1),
    or the ``gradient`` / ``grad_outputs`` it gave."""
    given = [*(seeds or ()), *[None] * len(roots)][: len(roots)]
    full = [s if s is not None else torch.ones_like(r) for r, s in zip(roots, given, strict=True)]
    value = differentiated(roots, full)
    if all(s is None for s in given):
        return RootSeed(LOSS, value, _loss_text(value, len(roots)))
    return RootSeed(
        GIVEN,
        value,
        f"the gradient your call gave for {', '.join(_shape(r) for r in roots)}: it "
        f"differentiates sum(gradient * output) = {value:.4g}",
    )


def differentiated(roots: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor]) -> float:
    """``sum((seed * root).sum())`` in float64: the scalar a backward with these seeds
    differentiates (NaN when a root has no values)."""
    total = 0.0
    with torch.no_grad():
        for root, seed in zip(roots, seeds, strict=False):
            if root.is_meta or seed.is_meta or root.shape != seed.shape:
                return math.nan
            wide = torch.complex128 if root.is_complex() or seed.is_complex() else torch.float64
            product = root.detach().to(wide) * seed.detach().to(root.device, wide)
            total += float(product.sum().real)
    return total


def _loss_text(value: float, count: int) -> str:
    if count == 1:
        return f"the loss, {value:.4g} (a scalar), with 1"
    return f"{count} scalar roots, each with 1 (their sum: {value:.4g})"


def _shape(tensor: torch.Tensor) -> str:
    return "(" + ", ".join(str(d) for d in tensor.shape) + ")"
