"""Check backward against finite differences, in float64 and float32 side by side.

For each checked element ``w`` of a parameter, the central difference
``(L(w + h) - L(w - h)) / 2h`` estimates dL/dw; backward's value passes when
``|analytic - numeric| <= atol + rtol * |numeric|``, with the step and tolerances
of ``torch.autograd.gradcheck`` (h = 1e-6, atol = 1e-5, rtol = 1e-3). The model is
checked on a copy, in eval mode (dropout would make L random), so the user's model
and its ``.grad`` are never touched. Large parameters are checked on a seeded
random sample of their elements, which bounds the time: two forward passes per
checked element and dtype.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from graphviz_app.core.cancel import CancelToken
from graphviz_app.core.devices import move_tensor, parse_dtype

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
# float32 with a step and tolerance that suit its 7 digits: a teaching run showing that
# float32 gradients are fine, only the float64-sized step h was not.
WIDE_EPS, WIDE_ATOL, WIDE_RTOL = 1e-3, 1e-3, 1e-2
WIDE_FLOAT32 = "float32, h = 1e-3"
# Per parameter; beyond it a seeded random sample is checked. Large enough that a
# small layer (a 16 x 8 weight, 128 elements) is checked element by element.
MAX_ELEMENTS = 256

FLOAT64_BUG = (
    "float64 fails: your backward disagrees with finite differences. In float64 the "
    "difference quotient is good to about 10 digits, so this is a real bug in a "
    "backward (a custom autograd.Function, most likely), unless an input sits within "
    "h of a kink (relu at 0, max, abs). The rows marked FAIL under float64 point at it."
)
FLOAT32_EXPLANATION = (
    "Why float32 fails: a float32 number keeps about 7 significant digits (machine "
    "epsilon 1.2e-7). The finite difference subtracts two losses that differ only by "
    "2h x gradient, about 1e-6 of the loss: they agree in their first 6 or 7 digits, so "
    "their difference is mostly rounding error, and dividing by 2h = 2e-6 magnifies "
    "that error a million times. Even w + h itself is rounded, since 1e-6 is close to "
    "float32's spacing near 1. float64 keeps about 16 digits, so the same difference "
    "is still good to about 10 digits. A float32 failure here says nothing about your "
    "backward: check gradients in float64."
)
WIDE_PASSED = (
    " The last column proves it: float32 with a step suited to its 7 digits "
    "(h = 1e-3, pass within 1e-3 + 1e-2 x |numeric|) agrees with backward."
)
WIDE_FAILED = (
    " Even with a step suited to float32 (h = 1e-3, pass within 1e-3 + 1e-2 x "
    "|numeric|) some elements disagree: a kink (relu at 0) within h of an input, or "
    "a loss whose curvature makes h = 1e-3 too coarse."
)
BOTH_PASSED = (
    "Both dtypes pass: backward agrees with finite differences for every checked "
    "element, even in float32 with the small step (a loss this simple loses few digits)."
)

LossOf = Callable[..., torch.Tensor]  # loss(output, *inputs) -> scalar


@dataclass(frozen=True)
class ParamCheck:
    """One parameter checked in one dtype."""

    name: str
    numel: int
    checked: int  # elements compared (all of them, or a sample)
    max_abs_err: float
    max_rel_err: float
    worst_index: int  # flat index of the largest error
    passed: bool


@dataclass(frozen=True)
class Tolerance:
    """The finite-difference step and the pass test ``|a - n| <= atol + rtol * |n|``."""

    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL


@dataclass(frozen=True)
class GradcheckRun:
    """All checked parameters in one dtype, with one step and tolerance."""

    dtype: str  # the run's label: "float64", "float32" or WIDE_FLOAT32
    params: tuple[ParamCheck, ...]
    seconds: float
    tolerance: Tolerance = Tolerance()

    @property
    def passed(self) -> bool:
        """True when every checked element was within tolerance."""
        return all(p.passed for p in self.params)

    @property
    def max_abs_err(self) -> float:
        """The largest |analytic - numeric| over all checked elements."""
        return max((p.max_abs_err for p in self.params), default=0.0)


@dataclass(frozen=True)
class GradcheckReport:
    """The float64 and float32 runs side by side, and how to read them.

    The check runs on a copy of the model in eval mode (dropout would make the loss
    random); the user's model, its mode and its ``.grad`` are untouched.
    """

    runs: tuple[GradcheckRun, ...]
    sampled: bool  # some parameter had more elements than were checked
    explanation: str = ""
    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL

    def run(self, dtype: str) -> GradcheckRun:
        """The run labelled ``dtype``; ValueError when there is none."""
        for run in self.runs:
            if run.dtype == dtype:
                return run
        raise ValueError(f"no {dtype} run in this report")

    def has_run(self, dtype: str) -> bool:
        """Whether a run labelled ``dtype`` was made."""
        return any(run.dtype == dtype for run in self.runs)


def explain(runs: Sequence[GradcheckRun]) -> str:
    """What the outcomes mean: a real bug, float32's rounding, or all clear."""
    by_label = {run.dtype: run for run in runs}
    f64, f32, wide = (by_label.get(k) for k in ("float64", "float32", WIDE_FLOAT32))
    if f64 is not None and not f64.passed:
        return FLOAT64_BUG
    if f32 is not None and not f32.passed:
        if wide is None:
            return FLOAT32_EXPLANATION
        return FLOAT32_EXPLANATION + (WIDE_PASSED if wide.passed else WIDE_FAILED)
    if f64 is not None and f32 is not None:
        return BOTH_PASSED
    return "Every checked element agrees with backward." if all(r.passed for r in runs) else ""


def check_gradients(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    loss: LossOf | None,
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float64", "float32"),
    max_elements: int = MAX_ELEMENTS,
    cancel: CancelToken | None = None,
    wide_float32: bool = True,
) -> GradcheckReport:
    """Finite differences against backward for parameters ``names`` (all when None).

    ``loss(output, *inputs)`` gives the scalar checked; without one, the sum of
    the outputs is. Each dtype runs with torch.autograd.gradcheck's step and
    tolerances; ``wide_float32`` adds a float32 run with h = 1e-3 and rtol = 1e-2
    (labelled :data:`WIDE_FLOAT32`). Raises :class:`~graphviz_app.core.cancel.Cancelled`
    between elements once ``cancel`` is set.
    """
    known = dict(model.named_parameters())
    chosen = list(names) if names is not None else [n for n, p in known.items() if p.requires_grad]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ValueError(f"No parameter called {', '.join(unknown)} in this model.")
    plan = [(dtype, dtype, Tolerance()) for dtype in dtypes]
    if wide_float32:
        plan.append((WIDE_FLOAT32, "float32", Tolerance(WIDE_EPS, WIDE_ATOL, WIDE_RTOL)))
    runs = tuple(
        _run(model, inputs, loss, chosen, label, dtype, tolerance, max_elements, cancel)
        for label, dtype, tolerance in plan
    )
    sampled = any(known[n].numel() > max_elements for n in chosen)
    return GradcheckReport(runs, sampled, explain(runs))


def _run(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    loss: LossOf | None,
    names: list[str],
    label: str,
    dtype_name: str,
    tolerance: Tolerance,
    max_elements: int,
    cancel: CancelToken | None,
) -> GradcheckRun:
    start = time.perf_counter()
    dtype = parse_dtype(dtype_name)
    work = copy.deepcopy(model).to(dtype=dtype).eval()
    device = str(next(work.parameters()).device)
    xs = tuple(move_tensor(x.detach(), device, dtype) for x in inputs)

    def objective() -> torch.Tensor:
        output = work(*xs)
        value = loss(output, *xs) if loss is not None else _sum_outputs(output)
        return value.sum()

    params = dict(work.named_parameters())
    targets = [params[n] for n in names]
    analytic = torch.autograd.grad(objective(), targets, allow_unused=True)
    checks = tuple(
        _check_param(name, param, grad, objective, tolerance, max_elements, cancel)
        for name, param, grad in zip(names, targets, analytic, strict=True)
    )
    return GradcheckRun(label, checks, time.perf_counter() - start, tolerance)


def _sum_outputs(output: object) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output.sum()
    tensors = [t for t in output if isinstance(t, torch.Tensor)]  # type: ignore[attr-defined]
    return torch.stack([t.sum() for t in tensors]).sum()


def _check_param(
    name: str,
    param: torch.Tensor,
    grad: torch.Tensor | None,
    objective: Callable[[], torch.Tensor],
    tolerance: Tolerance,
    max_elements: int,
    cancel: CancelToken | None,
) -> ParamCheck:
    flat_grad = (grad if grad is not None else torch.zeros_like(param)).reshape(-1)
    indices = sample_indices(param.numel(), max_elements)
    worst_abs, worst_rel, worst_index, passed = 0.0, 0.0, -1, True
    for index in indices:
        if cancel is not None:
            cancel.raise_if_cancelled()
        numeric = _central_difference(param, index, objective, tolerance.eps)
        analytic = float(flat_grad[index])
        error = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        passed = passed and error <= tolerance.atol + tolerance.rtol * abs(numeric)
        if error >= worst_abs:
            worst_abs, worst_index = error, index
        worst_rel = max(worst_rel, error / scale if scale else 0.0)
    return ParamCheck(name, param.numel(), len(indices), worst_abs, worst_rel, worst_index, passed)


def _central_difference(
    param: torch.Tensor, index: int, objective: Callable[[], torch.Tensor], eps: float
) -> float:
    """(L(w + h) - L(w - h)) / 2h for element ``index``, computed in the param's dtype."""
    flat = param.data.view(-1)  # parameters are contiguous; a view writes through
    with torch.no_grad():
        original = flat[index].clone()
        flat[index] = original + eps
        plus = objective()
        flat[index] = original - eps
        minus = objective()
        flat[index] = original
    return float((plus - minus) / (2 * eps))


def sample_indices(numel: int, limit: int, seed: int = 0) -> list[int]:
    """Every flat index when ``numel <= limit``, else ``limit`` seeded random ones."""
    if numel <= limit:
        return list(range(numel))
    generator = torch.Generator().manual_seed(seed)
    return sorted(torch.randperm(numel, generator=generator)[:limit].tolist())
