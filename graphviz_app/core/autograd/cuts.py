"""Where a forward pass cut parameters off the graph: ``.detach()``, ``.data``,
``.item()`` and friends, and ops run under ``torch.no_grad()`` / ``inference_mode()``.

The forward recorder hands each such op to a :class:`CutRecorder` while forward runs;
it keeps the tensors involved (strong references, for the length of one forward).
After the walk, :func:`resolve_cuts` follows each cut tensor's ``grad_fn`` graph down to
its parameters and returns plain :class:`CutPoint` records that name them, so that a
parameter with no gradient can be explained by the line of code that cut it off.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

import torch

from graphviz_app.core.graph.records import SourceLocation
from graphviz_app.core.graph.walk import AutogradNode

#: Tensor methods whose result carries the values but not the graph, by what they are
#: called in a report. The recorder looks ``func`` up here once per op.
CUT_FUNCS: dict[Any, str] = {
    torch.Tensor.detach: "detach()",
    torch.Tensor.detach_: "detach_()",
    torch.detach: "detach()",
    torch.Tensor.data.__get__: ".data",  # type: ignore[attr-defined]
    torch.Tensor.item: "item()",
    torch.Tensor.tolist: "tolist()",
    torch.Tensor.numpy: "numpy()",
    torch.Tensor.__float__: "float()",
    torch.Tensor.__int__: "int()",
}
NO_GRAD = "no_grad"
INFERENCE_MODE = "inference_mode"
_OPTIM_DIR = os.path.join(os.path.dirname(torch.__file__), "optim") + os.sep
OPTIMIZER_FRAMES = 40  # frames looked through for torch.optim's (a step is not deep)


@dataclass(frozen=True)
class CutPoint:
    """One op that cut the graph, and the parameters found behind it.

    ``kind`` is the cutting call (``detach()``, ``.data``, ``item()``...) or
    :data:`NO_GRAD` / :data:`INFERENCE_MODE` for an op (``op``) that ran with grad
    mode off on a tensor that required grad.
    """

    kind: str
    op: str
    module: str | None
    source: SourceLocation | None
    params: tuple[str, ...] = ()

    def describe(self) -> str:
        """``fake.detach() at gan.py:18 (in head)`` (``detach()`` when the line does not
        tell which tensor) or ``linear under torch.no_grad() ...``."""
        if self.kind == NO_GRAD:
            what = f"{self.op} under torch.no_grad()"
        elif self.kind == INFERENCE_MODE:
            what = f"{self.op} under torch.inference_mode()"
        else:
            receiver = cut_receiver(self.kind, self.source)
            what = f"{receiver}{self.kind}" if receiver else self.kind
        where = f" at {self.source.short}" if self.source else ""
        inside = f" (in {self.module})" if self.module else ""
        return f"{what}{where}{inside}"


#: kind, op, module, source, the tensors that were cut (live, until resolved).
RawCut = tuple[str, str, str | None, SourceLocation | None, tuple[torch.Tensor, ...]]


class CutRecorder:
    """Notes cutting ops during one forward; only tensors that required grad count."""

    def __init__(self) -> None:
        self.raw: list[RawCut] = []
        self._seen: set[int] = set()  # tensors already noted under no_grad

    def cut(
        self, kind: str, tensor: object, where: tuple[str | None, SourceLocation | None]
    ) -> None:
        """``tensor.detach()`` (or ``.data``, ``.item()``...) ran: note it if it cut a graph."""
        if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
            self.raw.append((kind, kind, where[0], where[1], (tensor,)))

    def no_grad_inputs(self, args: Sequence[object]) -> tuple[torch.Tensor, ...]:
        """The tensors in ``args`` that require grad and were not noted yet (called for
        every op run with grad mode off, so kept to one cheap pass)."""
        seen, found = self._seen, []
        for arg in args:
            if isinstance(arg, torch.Tensor):
                if arg.requires_grad and id(arg) not in seen:
                    found.append(arg)
            elif isinstance(arg, (list, tuple)):  # torch.cat([...]) and the like
                found += [a for a in arg if _new_grad_tensor(a, seen)]
        return tuple(found)

    def no_grad(
        self,
        op: str,
        tensors: tuple[torch.Tensor, ...],
        where: tuple[str | None, SourceLocation | None],
    ) -> None:
        """Op ``op`` ran with grad mode off on ``tensors`` (which require grad)."""
        kind = INFERENCE_MODE if torch.is_inference_mode_enabled() else NO_GRAD
        self._seen.update(id(t) for t in tensors)
        self.raw.append((kind, op, where[0], where[1], tensors))


#: A cutting call's method name, to find what it was called on in the source line.
_METHODS = {"detach()": "detach", "detach_()": "detach_", ".data": "data", "item()": "item"}
_METHODS |= {"tolist()": "tolist", "numpy()": "numpy"}
RECEIVER_CHARS = 40  # a longer expression is not repeated in the report


def cut_receiver(kind: str, source: SourceLocation | None) -> str:
    """``fake.`` for ``critic(fake.detach())``: what the cutting call was made on, with
    its dot, when the line holds exactly one such call ("" when it does not tell)."""
    method = _METHODS.get(kind)
    if method is None or source is None or not source.text:
        return ""
    text = source.text.strip()
    try:
        found = [
            ast.unparse(node.value)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Attribute) and node.attr == method
        ]
    except SyntaxError:  # a line of a statement that goes on: the plain names in it
        found = re.findall(rf"([A-Za-z_][\w.]*)\.{method}\b", text)
    if len(found) != 1 or len(found[0]) > RECEIVER_CHARS:
        return ""
    return found[0] if kind.startswith(".") else f"{found[0]}."


def in_optimizer_step() -> bool:
    """True when the op running now was called from ``torch.optim`` (an optimizer's
    step or its weight decay): it updates parameters, it does not cut them off."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(OPTIMIZER_FRAMES):
        if frame is None:
            return False
        if frame.f_code.co_filename.startswith(_OPTIM_DIR):
            return True
        frame = frame.f_back
    return False


def _new_grad_tensor(value: object, seen: set[int]) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad and id(value) not in seen


def resolve_cuts(raw: Sequence[RawCut], params: Mapping[str, torch.Tensor]) -> tuple[CutPoint, ...]:
    """Plain records of the cut points behind which parameters lie, in forward order.

    A parameter behind several cut points is named by the first. Each ``grad_fn``
    node is walked once over all cut points (a shared seen-set), so resolving costs
    at most one walk of what forward built.
    """
    names = {id(t): name for name, t in params.items()}
    seen: set[AutogradNode] = set()
    taken: set[str] = set()
    points = []
    for kind, op, module, source, tensors in raw:
        found = [n for t in tensors for n in _params_behind(t, names, seen) if n not in taken]
        taken.update(found)
        if found:
            points.append(CutPoint(kind, op, module, source, tuple(dict.fromkeys(found))))
    return tuple(points)


def _params_behind(
    tensor: torch.Tensor, names: dict[int, str], seen: set[AutogradNode]
) -> list[str]:
    if id(tensor) in names:
        return [names[id(tensor)]]
    if tensor.grad_fn is None:
        return []
    found, stack = [], [tensor.grad_fn]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        variable = getattr(fn, "variable", None)
        if variable is not None and id(variable) in names:
            found.append(names[id(variable)])
        stack.extend(next_fn for next_fn, _ in fn.next_functions if next_fn is not None)
    return found
