"""Does a model's forward compute one function? Finite differences and before/after
comparisons mean nothing when it does not (a random depth, sampling, torch.rand in
forward): repeat a forward on the same weights and batch, and compare."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch

# Two float64 forwards on the same weights and batch agree to the last bit on a CPU;
# 1e-12 leaves room for a GPU's atomic sums. Other dtypes keep fewer digits.
SAME_LOSS_RTOL = {"float64": 1e-12}
SAME_LOSS_RTOL_DEFAULT = 1e-5
PROBE_FORWARDS = 3  # a random depth out of 4 repeats itself 3 times in a row 1 in 16


def probe_forward(
    objective: Callable[[], torch.Tensor], repeats: int = PROBE_FORWARDS
) -> tuple[tuple[float, ...], float]:
    """The losses of ``repeats`` no-grad forwards on the same weights, and one
    forward's time (the median: the first forward may pay for one-time work)."""
    losses, times = [], []
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            losses.append(float(objective()))  # float() waits for a GPU too
            times.append(time.perf_counter() - start)
    return tuple(losses), sorted(times)[len(times) // 2]


def repeatable(losses: Sequence[float], dtype: str = "float64") -> bool:
    """Whether repeated forwards' ``losses`` are one value, to ``dtype``'s precision
    (NaN and inf count as equal to each other: they cannot tell)."""
    rtol = SAME_LOSS_RTOL.get(dtype, SAME_LOSS_RTOL_DEFAULT)
    return all(_same(losses[0], other, rtol) for other in losses[1:])


def _same(a: float, b: float, rtol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return not (math.isfinite(a) or math.isfinite(b))
    return abs(a - b) <= rtol * max(abs(a), abs(b))
