"""The thresholds of the gradient health check, in one place (CLI flags and the window
fill the same dataclass)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class HealthSettings:
    """When a module's gradient or an activation is flagged.

    Attributes
    ----------
    vanishing_ratio:
        A module whose gradient RMS (its norm over the square root of its number of
        values, so that a bias and a large weight compare fairly) is below this
        fraction of the largest module's is *vanishing* (relative: a loss's scale moves
        every gradient alike). A 12-layer sigmoid stack is at 5e-8; a freshly
        initialised ResNet-50's smallest is 4e-4.
    exploding_ratio:
        A module whose gradient RMS is above this many times the loss's scale is
        *exploding*. The scale is ``max(1, |loss|)`` (for a model without a loss, the
        check seeds each output with 1 / its size, as ``output.mean()`` would, and the
        scale is ``max(1, |their mean|)``): a loss summed over N samples makes the
        loss and every gradient N times larger alike, so a sum loss is judged as its
        mean is. Fresh models are far below: the built-ins at 5 at most, GPT-2 small
        (no loss) at 7e-4, the polynomial tutorial (sum loss over 2,000 points) at 2.
        Deep chains whose gradient grows layer by layer are caught by the growth rule
        even where their loss grew as fast.
    growth_factor, growth_layers:
        Norms that grow by at least ``growth_factor`` from each module to the one
        before it (in backward order: output layers first), ``growth_layers`` times in
        a row, are *growing layer by layer*: the explosion that clipping hides.
    dead_fraction:
        A ReLU is flagged when more than this share of its units output 0 for every
        sample of the batch (dead units get no gradient). Batches of one sample are
        not judged: a unit that is 0 once is not dead.
    """

    vanishing_ratio: float = 1e-4
    exploding_ratio: float = 1e3
    growth_factor: float = 4.0
    growth_layers: int = 3
    dead_fraction: float = 0.5

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{field.name} must be a positive number, not {value!r}")
        if self.dead_fraction > 1:
            raise ValueError(
                f"dead_fraction is a share of units (0 to 1], not {self.dead_fraction}"
            )
        if self.growth_factor <= 1:
            raise ValueError(f"growth_factor must be above 1, not {self.growth_factor}")

    def describe(self) -> str:
        """One line of the thresholds in use."""
        return (
            f"vanishing < {self.vanishing_ratio:g} x the largest module's gradient RMS; "
            f"exploding: gradient RMS > {self.exploding_ratio:g} x max(1, |loss|), or "
            f"x{self.growth_factor:g} per layer for {self.growth_layers} layers; "
            f"dead ReLU > {self.dead_fraction:.0%} of units"
        )
