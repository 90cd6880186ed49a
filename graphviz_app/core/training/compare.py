"""Compare the gradients of two runs of one model (two devices, or two dtypes).

A :class:`GradSnapshot` copies every parameter's gradient to the CPU in float64, so
that runs on different devices and in different precisions compare exactly; the
comparison itself is plain numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from graphviz_app.core.autograd.forward import loss_value
from graphviz_app.core.autograd.modes import evaluating
from graphviz_app.core.graph.tensor_info import dtype_name
from graphviz_app.core.runtime.devices import made_on

# Two backward passes on one device and dtype, same weights and batch, agree to the
# last bit on a CPU; a GPU's atomic sums move the last few bits, far below this.
REPEAT_RTOL = 1e-4
_REPEAT_RTOL = {"float16": 5e-2, "bfloat16": 5e-2}  # 3 and 2 significant digits
NOT_DETERMINISTIC = (
    "Your forward is not deterministic: two backward passes on the same weights and "
    "batch, both on {where}, gave different gradients ({detail}; random depth, "
    "sampling, torch.rand...), so the differences below mix the switch with that "
    "randomness and say nothing about precision. Seed the randomness inside forward "
    "or make it fixed to compare devices and dtypes."
)


@dataclass(frozen=True)
class GradSnapshot:
    """Gradients of one run, by parameter name (CPU float64 copies; worker only)."""

    device: str
    dtype: str
    grads: tuple[tuple[str, torch.Tensor], ...]


@dataclass(frozen=True)
class ParamDiff:
    """How one parameter's gradient differs between two runs.

    ``max_abs`` is max |a - b| over elements; ``max_rel`` is the largest elementwise
    |a - b| / max(|a|, |b|) (0 where both are 0), so 1e-7 means "agrees to about
    seven digits" and 1 means "a different number altogether".
    """

    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    norm_before: float
    norm_after: float


@dataclass(frozen=True)
class GradComparison:
    """Per-parameter differences between a previous run and the current one."""

    before: str  # "cpu float32"
    after: str
    params: tuple[ParamDiff, ...]
    missing: tuple[str, ...] = ()  # parameters with a gradient in only one run
    batch: str = ""  # the batch both runs computed on: "make_batch(3)", "the example input"
    warning: str = ""  # why the differences mean nothing (see repeat_warning); "" when fine

    @property
    def max_abs(self) -> float:
        """The largest absolute difference over all parameters."""
        return max((p.max_abs for p in self.params), default=0.0)

    @property
    def max_rel(self) -> float:
        """The largest relative difference over all parameters."""
        return max((p.max_rel for p in self.params), default=0.0)


def snapshot_grads(
    named: Sequence[tuple[str, torch.Tensor]], grads: Sequence[torch.Tensor | None]
) -> GradSnapshot:
    """Copies of ``grads`` (aligned with the ``named`` parameters), CPU float64."""
    first = named[0][1] if named else torch.empty(0)
    kept = tuple(
        (name, grad.detach().to("cpu", torch.float64).clone())
        for (name, _), grad in zip(named, grads, strict=True)
        if grad is not None
    )
    return GradSnapshot(str(first.device), dtype_name(first.dtype), kept)


def gradients_of(
    model: torch.nn.Module,
    inputs: Sequence[torch.Tensor],
    loss: Callable[..., torch.Tensor] | None,
    device: str = "cpu",
) -> GradSnapshot:
    """Every parameter's gradient of ``loss(model(*inputs), *inputs)`` (the outputs'
    sum without a loss), in eval mode so that dropout does not make two devices
    compute different functions; ``.grad`` is left alone. Tensors the loss creates
    are made on ``device``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    with evaluating(model), torch.enable_grad(), made_on(device):
        output = model(*inputs)
        value = loss_value(output, inputs, loss)
        grads = torch.autograd.grad(value.sum(), [p for _, p in named], allow_unused=True)
    return snapshot_grads(named, list(grads))


def repeat_warning(first: GradSnapshot, second: GradSnapshot) -> str:
    """ "" when two snapshots of one device, dtype, weights and batch agree; otherwise
    why a before/after comparison means nothing: the forward is not deterministic."""
    a, b = dict(first.grads), dict(second.grads)
    rel, name = max(((_norm_change(a[n], b[n]), n) for n in a if n in b), default=(0.0, ""))
    only_one = sorted(set(a) ^ set(b))
    if rel <= _REPEAT_RTOL.get(first.dtype, REPEAT_RTOL) and not only_one:
        return ""
    detail = (
        f"{only_one[0]} got a gradient in only one of them"
        if only_one
        else f"{name}'s gradient differs by {rel:.2g} x its norm"
    )
    return NOT_DETERMINISTIC.format(where=f"{first.device} {first.dtype}", detail=detail)


def _norm_change(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = max(float(a.norm()), float(b.norm()))
    return float((a - b).norm()) / scale if scale > 0 else 0.0


def compare_grads(before: GradSnapshot, after: GradSnapshot, batch: str = "") -> GradComparison:
    """The per-parameter differences from ``before`` to ``after`` (both computed on
    ``batch``)."""
    old, new = dict(before.grads), dict(after.grads)
    diffs = tuple(_diff(name, old[name], new[name]) for name in old if name in new)
    missing = tuple(sorted(set(old) ^ set(new)))
    return GradComparison(
        f"{before.device} {before.dtype}", f"{after.device} {after.dtype}", diffs, missing, batch
    )


def _diff(name: str, a: torch.Tensor, b: torch.Tensor) -> ParamDiff:
    delta = (a - b).abs()
    scale = torch.maximum(a.abs(), b.abs())
    rel = torch.where(scale > 0, delta / scale.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
    return ParamDiff(
        name=name,
        shape=tuple(a.shape),
        max_abs=float(delta.max()) if delta.numel() else 0.0,
        max_rel=float(rel.max()) if rel.numel() else 0.0,
        norm_before=float(a.norm()),
        norm_after=float(b.norm()),
    )
