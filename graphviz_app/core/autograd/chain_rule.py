"""The chain rule for one backward step, in words and, for small tensors, in numbers.

Each rule says how a node turns the gradient it received (``grad``) into the
gradients it sends to its inputs. Its header depends on the node's kind: an ordinary
op multiplies by its local derivative, a view only moves the gradient's values back
into its input's layout, AccumulateGrad adds into ``.grad`` and sends nothing on.
Where every tensor involved is small and fully recorded, the numbers are shown and
the product is recomputed from them, so a learner can check the arithmetic; the
result is the one the engine actually sent (from the trace), never a re-derivation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from graphviz_app.core.graph.records import Node, NodeKind, TensorInfo

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardStep

NUMBERS_UP_TO = 8  # tensors with at most this many values are written out

#: Backward class (without its number suffix) -> how it forms each input's gradient.
RULES: dict[str, tuple[str, ...]] = {
    "Add": ("grad_self = grad", "grad_other = grad x alpha"),
    "Sub": ("grad_self = grad", "grad_other = -grad x alpha"),
    "Mul": ("grad_self = grad x other", "grad_other = grad x self"),
    "Div": ("grad_self = grad / other", "grad_other = -grad x self / other^2"),
    "Neg": ("grad_self = -grad",),
    "Pow": ("grad_self = grad x exponent x self^(exponent - 1)",),
    "Exp": ("grad_self = grad x result  (d/dx e^x = e^x)",),
    "Log": ("grad_self = grad / self",),
    "Sqrt": ("grad_self = grad / (2 x result)  (d/dx sqrt(x) = 1 / (2 sqrt(x)))",),
    "Reciprocal": ("grad_self = -grad x result^2  (d/dx 1/x = -1 / x^2)",),
    "Where": (
        "grad_self = grad where condition, 0 elsewhere",
        "grad_other = grad where not condition, 0 elsewhere",
    ),
    "Relu": ("grad_self = grad x (result > 0)",),
    "Tanh": ("grad_self = grad x (1 - result^2)",),
    "Sigmoid": ("grad_self = grad x result x (1 - result)",),
    "Sum": ("grad_self = grad broadcast to self's shape (every element counted once)",),
    "Mean": ("grad_self = grad / numel, broadcast to self's shape",),
    "Addmm": (
        "grad_bias = grad summed over the batch",
        "grad_mat1 = grad @ mat2^T",
        "grad_mat2 = mat1^T @ grad",
    ),
    "Mm": ("grad_self = grad @ mat2^T", "grad_mat2 = self^T @ grad"),
    "T": ("grad_self = grad^T (a transpose's gradient is the transposed gradient)",),
    "View": ("grad_self = grad reshaped back to self's shape",),
    "Reshape": ("grad_self = grad reshaped back to self's shape",),
    "NllLoss": ("grad_self = -grad / batch at each target class, 0 elsewhere",),
    "LogSoftmax": ("grad_self = grad - softmax(self) x sum(grad) along dim",),
    "Convolution": (
        "grad_input = conv_transpose(grad, weight)",
        "grad_weight = conv(input, grad)",
        "grad_bias = grad summed",
    ),
    "AccumulateGrad": (".grad = .grad (or 0) + grad  (gradients accumulate)",),
    "CopySlices": (
        "grad of the base = grad, with the slice's part replaced by the in-place op's gradient",
    ),
}
CHAIN_RULE = "grad in = upstream grad x local derivative"
#: The one-line summary above a node's rules, by kind (others: :data:`CHAIN_RULE`).
HEADERS: dict[NodeKind, str] = {
    NodeKind.PARAMETER: "the end of the line: .grad += upstream grad (nothing is sent on)",
    NodeKind.INPUT: "the end of the line: .grad += upstream grad (nothing is sent on)",
    NodeKind.VIEW: (
        "grad in = upstream grad moved back to the input's shape and layout"
        " (a view copies no data: the values are the same numbers)"
    ),
    NodeKind.COPY_SLICES: (
        "grad in = upstream grad for the base; the written slice's part goes"
        " through the in-place op's own backward"
    ),
    NodeKind.OUTPUT: "the root: backward starts here with the gradient given to it",
    NodeKind.MODULE: "a collapsed module: the chain rule through every node inside it",
}
_SUFFIX = re.compile(r"Backward\d*$")
#: Elementwise backward class -> per input: the formula, the saved tensor it uses, and
#: how grad and that tensor combine.
_ELEMENTWISE: dict[str, tuple[tuple[str, str, Callable[[Tensor, Tensor], Tensor]], ...]] = {
    "Mul": (("grad x other", "other", torch.mul), ("grad x self", "self", torch.mul)),
    "Div": (("grad / other", "other", torch.div),),
    "Log": (("grad / self", "self", torch.div),),
    "Sqrt": (("grad / (2 x result)", "result", lambda g, r: g / (2 * r)),),
    "Exp": (("grad x result", "result", torch.mul),),
    "Reciprocal": (("-grad x result^2", "result", lambda g, r: -g * r * r),),
}


@dataclass(frozen=True)
class ChainRule:
    """What to show for one step: the rule's lines and worked numbers."""

    title: str
    rules: tuple[str, ...]
    lines: tuple[str, ...]
    header: str = CHAIN_RULE  # what kind of rule this is, in one line


def explain_step(node: Node, step: BackwardStep) -> ChainRule:
    """The chain rule of ``node`` at ``step``, with numbers where they are small."""
    op = "AccumulateGrad" if node.is_leaf else _SUFFIX.sub("", node.name)
    rules = RULES.get(
        op,
        ("grad_inputs = (d output / d inputs)^T . grad  (this op's rule is not spelled out here)",),
    )
    lines = [f"grad = {values_text(g)}" for g in step.grad_outputs if g is not None]
    lines += _sent_lines(step)
    lines += _worked_product(op, node, step)
    if node.is_leaf:
        lines.append(f".grad before = {values_text(step.leaf_grad_before)}")
        lines.append(f".grad after  = {values_text(step.leaf_grad_after)}")
    title = f"{node.title}: {node.name}" if node.leaf_name else node.name
    return ChainRule(title, rules, tuple(lines), rule_header(node))


def rule_header(node: Node) -> str:
    """The one-line rule for ``node``'s kind (a leaf accumulates, a view reshapes)."""
    return HEADERS.get(node.kind, CHAIN_RULE)


def _sent_lines(step: BackwardStep) -> list[str]:
    return [
        f"sent to input {i} = {values_text(g)}"
        for i, g in enumerate(step.grad_inputs)
        if g is not None
    ]


def _worked_product(op: str, node: Node, step: BackwardStep) -> list[str]:
    """For elementwise ops (Mul, Div, Log, Sqrt, Exp...): the rule recomputed from the
    recorded numbers, so ``[inf] x [0] = [nan]`` can be read where a NaN starts."""
    grad = step.grad_outputs[0] if step.grad_outputs else None
    if op not in _ELEMENTWISE or grad is None or not _full(grad):
        return []
    saved = {s.name: s.tensor for s in node.saved}
    lines = []
    for index, (formula, name, combine) in enumerate(_ELEMENTWISE[op]):
        factor = saved.get(name)
        if factor is None or not _full(factor) or len(factor.preview) not in (1, len(grad.preview)):
            continue
        with torch.no_grad():  # IEEE arithmetic: 1 / 0 = inf, 0 / 0 = nan (Python raises)
            g = torch.tensor(grad.preview, dtype=torch.float64)
            f = torch.tensor(factor.preview, dtype=torch.float64)
            result = combine(g, f.expand_as(g)).tolist()
        lines.append(
            f"input {index}: {formula} = {_numbers(grad.preview)} {_operator(formula)} "
            f"{_numbers(factor.preview)} = {_numbers(result)}"
        )
        lines += _non_finite_notes(grad.preview, factor.preview, result, formula)
    return lines


def _operator(formula: str) -> str:
    return "/" if " / " in formula else "x"


def _non_finite_notes(
    grad: tuple[float, ...], factor: tuple[float, ...], result: list[float], formula: str
) -> list[str]:
    """Say which arithmetic made the first NaN / Inf of a product: ``inf x 0 = nan``."""
    factors = factor * len(grad) if len(factor) == 1 else factor
    op = _operator(formula)
    for g, f, r in zip(grad, factors, result, strict=True):
        made = f"  {_value(g)} {op} {_value(f)} = {_value(r)}"
        if math.isnan(r) and not (math.isnan(g) or math.isnan(f)):
            return [f"{made}: the NaN starts here"]
        if math.isinf(r) and math.isfinite(g) and math.isfinite(f):
            return [f"{made}: the Inf starts here"]
    return []


def _value(v: float) -> str:
    return f"{v:.4g}"


def _full(info: TensorInfo | None) -> bool:
    return (
        info is not None
        and info.stats is not None
        and not info.preview_truncated
        and 0 < len(info.preview) <= NUMBERS_UP_TO
    )


def values_text(info: TensorInfo | None) -> str:
    """A tensor's values when it is small and fully recorded, else its shape and norm."""
    if info is None:
        return "None"
    if _full(info):
        return _numbers(info.preview)
    if info.stats is None:
        return f"{info.shape_text} (values not recorded)"
    return f"{info.shape_text} with norm {info.stats.norm:.4g}"


def _numbers(values: tuple[float, ...] | list[float]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
