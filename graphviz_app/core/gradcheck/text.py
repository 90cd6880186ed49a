"""What a gradient check's outcome means, in words a student can act on.

Kept apart from :mod:`graphviz_app.core.gradcheck.check` (the computation) so the wording
can be read and reviewed in one place. The order of :func:`explain` matters: a NaN
or a random forward makes every other verdict meaningless, so they speak first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from graphviz_app.core.gradcheck.results import GradcheckRun

WIDE_FLOAT32 = "float32, h = 1e-3"

NON_FINITE_LOSS = (
    "NON-FINITE: the loss is {loss} on these weights and this batch, so every finite "
    "difference is NaN or inf and nothing can be checked: finite differences cannot "
    "check a NaN. The weights (or the inputs) hold NaN or inf, typically after a "
    "learning rate too large made training diverge, or in float16, which overflows "
    "past 65504 and where Adam's eps = 1e-8 underflows to 0. Reset the weights, lower "
    "the learning rate or switch to float32, then check again."
)
NON_FINITE_VALUES = (
    "NON-FINITE: {count} checked element(s) gave NaN or inf ({where}), shown as an "
    "infinite error: finite differences cannot check a NaN or inf. Either a value "
    "overflowed in that dtype (float32 stops at 3.4e38, float16 at 65504: huge weights "
    "after a diverging run; reset them or switch dtype), or backward meets a point "
    "with an infinite slope (sqrt, log or a division at 0)."
)
NONDETERMINISTIC = (
    "Your forward is not deterministic: two forward passes on the same weights and "
    "batch gave losses {a:.17g} and {b:.17g} (random depth, sampling, torch.rand, "
    "F.dropout without training=self.training...), so finite differences compare "
    "different functions and the FAILs below say nothing about your backward. Seed "
    "the randomness inside forward or make it fixed to check gradients."
)
FLOAT64_BUG = (
    "float64 fails: your backward disagrees with finite differences. In float64 the "
    "difference quotient is good to about 10 digits, so this is a real bug in a "
    "backward (a custom autograd.Function, most likely), unless an input sits within "
    "h of a kink (relu at 0, max, abs). The rows marked FAIL under float64 point at it."
)
GRAPH_CUT = (
    "float64 fails for {names}: backward gives no gradient at all, yet the loss "
    "changes when they change. Something between them and the loss cuts the graph "
    "(.detach(), .data, torch.no_grad(), .item() or a NumPy round trip): the loss "
    "uses them, but backward cannot reach them."
)
UNUSED = (
    " No gradient reaches {names}: this loss does not use them (an unused layer, or a "
    "branch this batch does not take), so their check compares 0 with 0."
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

DTYPE_HINT = (
    " A tensor made inside forward or the loss keeps its own dtype (torch.tensor, "
    "torch.zeros or torch.linspace without dtype=x.dtype): make it with the input's "
    "dtype and device, so that the model runs in float64 too."
)


def failure_text(dtype: str, error: BaseException) -> str:
    """Why the copy in ``dtype`` could not run, with a hint for mixed dtypes."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    hint = DTYPE_HINT if any(w in text for w in ("dtype", "scalar type", "Double")) else ""
    return f"The gradient check runs a copy of your model in {dtype}, and it failed: {text}.{hint}"


def explain(
    runs: Sequence[GradcheckRun], losses: Sequence[float] = (), deterministic: bool = True
) -> str:
    """What the outcomes mean: NaN/inf, a random forward, a real bug, a cut graph,
    float32's rounding, or all clear (``losses``: the repeated forward's losses)."""
    alarm = _non_finite(runs, losses)
    if alarm:
        return alarm
    if not deterministic:
        a, b = _first_difference(losses)
        return NONDETERMINISTIC.format(a=a, b=b)
    return _verdict(runs) + _unused_note(runs)


def _non_finite(runs: Sequence[GradcheckRun], losses: Sequence[float]) -> str:
    bad_loss = next((x for x in losses if not math.isfinite(x)), None)
    if bad_loss is not None:
        return NON_FINITE_LOSS.format(loss=bad_loss)
    counts = [(run.dtype, sum(p.non_finite for p in run.params)) for run in runs]
    total = sum(n for _, n in counts)
    if not total:
        return ""
    where = ", ".join(f"{n} in {label}" for label, n in counts if n)
    return NON_FINITE_VALUES.format(count=total, where=where)


def _verdict(runs: Sequence[GradcheckRun]) -> str:
    by_label = {run.dtype: run for run in runs}
    f64, f32, wide = (by_label.get(k) for k in ("float64", "float32", WIDE_FLOAT32))
    if f64 is not None and not f64.passed:
        return _float64_failure(f64)
    if f32 is not None and not f32.passed:
        if wide is None:
            return FLOAT32_EXPLANATION
        return FLOAT32_EXPLANATION + (WIDE_PASSED if wide.passed else WIDE_FAILED)
    if f64 is not None and f32 is not None:
        return BOTH_PASSED
    return "Every checked element agrees with backward." if all(r.passed for r in runs) else ""


def _float64_failure(f64: GradcheckRun) -> str:
    """A cut graph (no gradient, yet the loss moves) is not a wrong backward formula."""
    failing = [p for p in f64.params if not p.passed]
    cut = [p.name for p in failing if not p.has_grad]
    if not cut:
        return FLOAT64_BUG
    text = GRAPH_CUT.format(names=", ".join(cut))
    return text if len(cut) == len(failing) else f"{FLOAT64_BUG} {text}"


def _unused_note(runs: Sequence[GradcheckRun]) -> str:
    unused = [p.name for p in runs[0].params if not p.has_grad and p.passed] if runs else []
    return UNUSED.format(names=", ".join(unused)) if unused else ""


def _first_difference(losses: Sequence[float]) -> tuple[float, float]:
    first = losses[0]
    return first, next((x for x in losses[1:] if x != first), first)


def tensors_text(kept: int, total: int, forward_s: float, budget_s: float) -> str:
    """Why only ``kept`` of ``total`` parameter tensors were checked."""
    return (
        f"{kept} of {total} parameter tensors, evenly spread through the model (the first "
        f"and the last among them): one forward takes {forward_s * 1e3:.3g} ms, so even one "
        f"element of every tensor would not fit the check's {budget_s:g} s."
    )


def sampling_text(
    per_param: int,
    largest: int,
    max_elements: int,
    forward_s: float,
    budget_s: float,
    deterministic: bool,
) -> str:
    """Why ``per_param`` elements per parameter were checked (``largest``: the
    biggest parameter's element count; ``max_elements``: the most ever checked)."""
    forward = f"one forward takes {forward_s * 1e3:.3g} ms"
    if not deterministic:
        return (
            f"{per_param} element(s) per parameter: the forward is not deterministic, "
            "so checking more would only repeat a meaningless comparison."
        )
    if per_param >= largest:
        return f"Every element of every checked parameter ({forward})."
    why = (
        f"at most {max_elements} per parameter"
        if per_param >= max_elements
        else f"{forward}, two per element and run, and the whole check is kept to "
        f"about {budget_s:g} s"
    )
    return (
        f"A seeded random sample of {per_param} element(s) of each larger parameter, "
        f"the same in every run: {why}."
    )
