"""Check backward against finite differences, in float64 and float32 side by side.

For each checked element ``w`` of a parameter, the central difference
``(L(w + h) - L(w - h)) / 2h`` estimates dL/dw; backward's value passes when
``|analytic - numeric| <= atol + rtol * |numeric|``, with the step and tolerances
of ``torch.autograd.gradcheck`` (h = 1e-6, atol = 1e-5, rtol = 1e-3). The model is
checked on a copy, in eval mode (dropout would make L random), so the user's model
and its ``.grad`` are never touched.

Time is bounded: one forward is timed first, and every run checks the same number of
elements per parameter (a seeded random sample of larger ones), chosen so that two
forwards per element and run, and each run's own forward and backward, fit
:data:`BUDGET_S`. When even one element of every parameter would not fit (ResNet-18:
62 tensors, 0.2 s a forward), tensors evenly spread through the model are checked,
one element each, and the report says how many and why. The same repeated forward tells
whether the loss is deterministic at all: a random forward (random depth, sampling)
makes finite differences compare different functions, and the report says so first.
A NaN or inf counts as an infinite error, never a silent 0.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from graphviz_app.core.autograd.forward import loss_value
from graphviz_app.core.gradcheck.determinism import probe_forward, repeatable
from graphviz_app.core.gradcheck.results import (
    BUDGET_S,
    MAX_ELEMENTS,
    WIDE_ATOL,
    WIDE_EPS,
    WIDE_RTOL,
    GradcheckError,
    GradcheckReport,
    GradcheckRun,
    ParamCheck,
    Tolerance,
)
from graphviz_app.core.gradcheck.text import (
    WIDE_FLOAT32,
    explain,
    failure_text,
    sampling_text,
    tensors_text,
)
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.runtime.devices import is_out_of_memory, move_tensor, parse_dtype

# A forward's cost relative to float32 (float64 is about twice as slow on CPUs).
FORWARD_COST = {"float64": 2.0}
# A random forward makes the check meaningless: a few elements show it, more wastes time.
UNSTABLE_ELEMENTS = 4
PROGRESS_INTERVAL_S = 0.05  # progress calls at most this often (and at the end)
RUN_FORWARDS = 3  # each run's own forward and backward, in forwards

LossOf = Callable[..., torch.Tensor]  # loss(output, *inputs) -> scalar
Progress = Callable[[int, int], None]  # (elements done, elements total over all runs)


@dataclass(frozen=True)
class _Step:
    label: str
    dtype: str
    tolerance: Tolerance


def check_gradients(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    loss: LossOf | None,
    names: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float64", "float32"),
    max_elements: int = MAX_ELEMENTS,
    cancel: CancelToken | None = None,
    wide_float32: bool = True,
    budget_s: float = BUDGET_S,
    on_progress: Progress | None = None,
) -> GradcheckReport:
    """Finite differences against backward for parameters ``names`` (all trainable
    ones when None) of ``loss(output, *inputs)`` (the outputs' sum without one), in
    each dtype with torch.autograd.gradcheck's step and tolerances; ``wide_float32``
    adds float32 with h = 1e-3 and rtol = 1e-2 (:data:`WIDE_FLOAT32`). The elements
    per parameter fit ``budget_s`` (at least 1, at most ``max_elements``);
    ``on_progress(done, total)`` counts them over all runs (at the start, every
    :data:`PROGRESS_INTERVAL_S` and at the end). Raises :class:`GradcheckError` for
    unknown or frozen ``names``, and ``Cancelled`` between elements once ``cancel``
    is set."""
    sizes = _chosen(model, names)
    total = len(sizes)
    plan = _plan(dtypes, wide_float32)
    first = _Copy(model, inputs, loss, plan[0].dtype, list(sizes))
    losses, forward_s = probe_forward(first.objective)
    deterministic = repeatable(losses, plan[0].dtype)
    sizes, per_param = _fit_budget(sizes, plan, forward_s, deterministic, budget_s, max_elements)
    if len(sizes) < total:  # the copy holds only the parameters it checks
        first = _Copy(model, inputs, loss, plan[0].dtype, list(sizes))
    progress = _Progress(len(plan) * sum(min(n, per_param) for n in sizes.values()), on_progress)
    runs: list[GradcheckRun] = []
    for step in plan:
        work = first if not runs else _Copy(model, inputs, loss, step.dtype, list(sizes))
        runs.append(_run(work, step, per_param, cancel, progress))
    sampled = (per_param, max(sizes.values()), max_elements)
    report = _report(runs, losses, deterministic, forward_s, sampled, budget_s)
    return _said_tensors(report, len(sizes), total) if len(sizes) < total else report


def _said_tensors(report: GradcheckReport, kept: int, total: int) -> GradcheckReport:
    """``report`` saying first that only ``kept`` of ``total`` tensors were checked."""
    note = tensors_text(kept, total, report.forward_s, report.budget_s)
    return dataclasses.replace(report, sampled=True, sampling=f"{note} {report.sampling}")


def _fit_budget(
    sizes: dict[str, int],
    plan: Sequence[_Step],
    forward_s: float,
    deterministic: bool,
    budget_s: float,
    max_elements: int,
) -> tuple[dict[str, int], int]:
    """The parameters checked (evenly spread when not all fit ``budget_s``) and the
    elements of each, few when the forward is random (the check is moot then)."""
    run_dtypes = [step.dtype for step in plan]
    kept = tensors_within_budget(forward_s, plan[0].dtype, run_dtypes, len(sizes), budget_s)
    if kept < len(sizes):
        sizes = {n: sizes[n] for n in spread(list(sizes), kept)}
    per_param = elements_per_param(
        forward_s, plan[0].dtype, run_dtypes, len(sizes), budget_s, max_elements
    )
    if not deterministic:
        per_param = min(per_param, UNSTABLE_ELEMENTS)
    return sizes, per_param


def _plan(dtypes: Sequence[str], wide_float32: bool) -> list[_Step]:
    plan = [_Step(dtype, dtype, Tolerance()) for dtype in dtypes]
    if wide_float32:
        plan.append(_Step(WIDE_FLOAT32, "float32", Tolerance(WIDE_EPS, WIDE_ATOL, WIDE_RTOL)))
    return plan


def _report(
    runs: list[GradcheckRun],
    losses: tuple[float, ...],
    deterministic: bool,
    forward_s: float,
    sampled: tuple[int, int, int],  # elements per parameter, the largest, the cap
    budget_s: float,
) -> GradcheckReport:
    per_param, largest, max_elements = sampled
    why = sampling_text(per_param, largest, max_elements, forward_s, budget_s, deterministic)
    return GradcheckReport(
        tuple(runs),
        largest > per_param,
        explain(runs, losses, deterministic),
        per_param=per_param,
        budget_s=budget_s,
        forward_s=forward_s,
        deterministic=deterministic,
        losses=losses,
        sampling=why,
    )


def _float32_units(forward_s: float, measured_dtype: str, run_dtypes: Sequence[str]) -> float:
    """Seconds of one forward in every run together (a float64 one costs about two)."""
    float32_s = forward_s / FORWARD_COST.get(measured_dtype, 1.0)
    return float32_s * sum(FORWARD_COST.get(d, 1.0) for d in run_dtypes)


def tensors_within_budget(
    forward_s: float,
    measured_dtype: str,
    run_dtypes: Sequence[str],
    n_params: int,
    budget_s: float = BUDGET_S,
) -> int:
    """How many parameters fit ``budget_s`` at one element each: two forwards per
    element and run, after each run's own forward and backward (about three
    forwards). At least 1, at most ``n_params``."""
    per_forward = _float32_units(forward_s, measured_dtype, run_dtypes)
    if per_forward <= 0:
        return n_params
    fit = (budget_s - RUN_FORWARDS * per_forward) / (2 * per_forward)
    return max(1, min(n_params, int(fit)))


def spread(names: list[str], count: int) -> list[str]:
    """``count`` of ``names`` evenly spread through them, the first and last included."""
    if count >= len(names):
        return names
    if count == 1:
        return names[:1]
    step = (len(names) - 1) / (count - 1)
    return [names[round(i * step)] for i in range(count)]


def elements_per_param(
    forward_s: float,
    measured_dtype: str,
    run_dtypes: Sequence[str],
    n_params: int,
    budget_s: float = BUDGET_S,
    max_elements: int = MAX_ELEMENTS,
) -> int:
    """How many elements of each of ``n_params`` parameters fit ``budget_s``, when one
    forward in ``measured_dtype`` took ``forward_s``: each element costs two forwards
    per run, a float64 one about two float32 ones. Clamped to [1, max_elements]."""
    per_forward = _float32_units(forward_s, measured_dtype, run_dtypes)
    if per_forward <= 0:
        return max_elements
    fit = (budget_s - RUN_FORWARDS * per_forward) / (2 * per_forward * max(n_params, 1))
    return max(1, min(max_elements, int(fit)))


def _chosen(model: torch.nn.Module, names: Sequence[str] | None) -> dict[str, int]:
    """The element count of each parameter to check, or a clear ValueError."""
    known = dict(model.named_parameters())
    chosen = list(names) if names is not None else [n for n, p in known.items() if p.requires_grad]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise GradcheckError(f"No parameter called {', '.join(unknown)} in this model.")
    frozen = [n for n in chosen if not known[n].requires_grad]
    if frozen:
        raise GradcheckError(
            f"{', '.join(frozen)}: frozen (requires_grad=False), so backward computes no "
            "gradient for it and there is nothing to check."
        )
    if not chosen:
        raise GradcheckError("This model has no trainable parameters: no gradient to check.")
    return {n: known[n].numel() for n in chosen}


class _Copy:
    """The model copied in one dtype, in eval mode, with the inputs and the loss."""

    def __init__(
        self,
        model: torch.nn.Module,
        inputs: Sequence[torch.Tensor],
        loss: LossOf | None,
        dtype_name: str,
        names: list[str],
    ) -> None:
        dtype = parse_dtype(dtype_name)
        self.model = copy.deepcopy(model).to(dtype=dtype).eval()
        params = dict(self.model.named_parameters())
        self.names, self.targets = names, [params[n] for n in names]
        device = str(self.targets[0].device)
        self.inputs = tuple(move_tensor(x.detach(), device, dtype) for x in inputs)
        self.loss, self.dtype = loss, dtype_name

    def objective(self) -> torch.Tensor:
        try:
            output = self.model(*self.inputs)
            value = loss_value(output, self.inputs, self.loss)
        except (RuntimeError, TypeError) as exc:  # mostly a tensor made in float32 inside
            if is_out_of_memory(exc):
                raise
            raise GradcheckError(failure_text(self.dtype, exc)) from exc
        return value.sum()


class _Progress:
    """Counts checked elements and reports them, at most every PROGRESS_INTERVAL_S."""

    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total, self.done, self.callback = total, 0, callback
        self.last = time.perf_counter()
        if callback is not None:
            callback(0, total)

    def step(self) -> None:
        self.done += 1
        if self.callback is None:
            return
        now = time.perf_counter()
        if self.done == self.total or now - self.last >= PROGRESS_INTERVAL_S:
            self.last = now
            self.callback(self.done, self.total)


def _run(
    work: _Copy, step: _Step, per_param: int, cancel: CancelToken | None, progress: _Progress
) -> GradcheckRun:
    start = time.perf_counter()
    with torch.enable_grad():  # grad mode is per thread: the worker's may be off
        value = work.objective()
    analytic: Sequence[torch.Tensor | None] = [None] * len(work.targets)
    if value.requires_grad:  # else no chosen parameter reaches the loss
        analytic = torch.autograd.grad(value, work.targets, allow_unused=True)
    checks = tuple(
        _check_param(name, param, grad, work.objective, step.tolerance, per_param, cancel, progress)
        for name, param, grad in zip(work.names, work.targets, analytic, strict=True)
    )
    return GradcheckRun(step.label, checks, time.perf_counter() - start, step.tolerance)


class _Errors:
    """The running worst error over one parameter's checked elements."""

    def __init__(self, tolerance: Tolerance) -> None:
        self.tolerance = tolerance
        self.abs, self.rel, self.index, self.passed, self.non_finite = 0.0, 0.0, -1, True, 0

    def add(self, index: int, analytic: float, numeric: float) -> None:
        if math.isfinite(analytic) and math.isfinite(numeric):
            error = abs(analytic - numeric)
            scale = max(abs(analytic), abs(numeric))
            rel = error / scale if scale else 0.0
            ok = error <= self.tolerance.atol + self.tolerance.rtol * abs(numeric)
        else:  # nothing to compare: an infinite error, never a silent 0
            error, rel, ok = math.inf, math.inf, False
            self.non_finite += 1
        self.passed = self.passed and ok
        if error >= self.abs:
            self.abs, self.index = error, index
        self.rel = max(self.rel, rel)


def _check_param(
    name: str,
    param: torch.Tensor,
    grad: torch.Tensor | None,
    objective: Callable[[], torch.Tensor],
    tolerance: Tolerance,
    max_elements: int,
    cancel: CancelToken | None,
    progress: _Progress,
) -> ParamCheck:
    # No gradient at all means backward says dL/dw = 0: finite differences test that.
    flat_grad = (grad if grad is not None else torch.zeros_like(param)).reshape(-1)
    indices = sample_indices(param.numel(), max_elements)
    errors = _Errors(tolerance)
    for index in indices:
        if cancel is not None:
            cancel.raise_if_cancelled()
        numeric = _central_difference(param, index, objective, tolerance.eps)
        errors.add(index, float(flat_grad[index]), numeric)
        progress.step()
    return ParamCheck(
        name,
        param.numel(),
        len(indices),
        errors.abs,
        errors.rel,
        errors.index,
        errors.passed,
        errors.non_finite,
        grad is not None,
    )


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
