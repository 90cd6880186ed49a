"""Mark the nodes a backward pass made: ``create_graph=True`` (a gradient penalty, a
Hessian-vector product) records the backward's own ops as a graph, and that graph's
nodes join the forward's when a loss uses the gradient.

The forward recorder sees ``torch.autograd.grad``, ``torch.autograd.backward`` and
``Tensor.backward`` (they dispatch ``__torch_function__``). For a call with
``create_graph=True``, :func:`run_marking` notes every node reachable from the
differentiated outputs before the call, runs it, then walks from what the call
produced (the returned gradients, or the leaves' ``.grad``): each node not seen before
was made by the backward, and gets an :class:`OrderMark` in its ``metadata``. This
works whatever thread the engine ran on, and whatever name the user imported.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import torch

from graphviz_app.core.autograd import intercept
from graphviz_app.core.graph.records import SourceLocation
from graphviz_app.core.graph.walk import AutogradNode, reachable_nodes

ORDER_KEY = "graphviz_app.order"
_GRAD, _BACKWARD, _TENSOR_BACKWARD = (
    "torch.autograd.grad",
    "torch.autograd.backward",
    "Tensor.backward",
)
#: The functions that run the engine, by the name used in a mark. torch hands
#: ``__torch_function__`` the function its module holds at call time: while
#: :mod:`~graphviz_app.core.autograd.intercept` has replaced them, its wrappers.
BACKWARD_FUNCS: dict[Any, str] = {
    intercept._ORIGINAL_GRAD: _GRAD,
    intercept._grad: _GRAD,
    intercept._ORIGINAL_BACKWARD: _BACKWARD,
    intercept._backward: _BACKWARD,
    torch.Tensor.backward: _TENSOR_BACKWARD,
}
_SIGNATURES = {
    _GRAD: inspect.signature(intercept._ORIGINAL_GRAD),
    _BACKWARD: inspect.signature(intercept._ORIGINAL_BACKWARD),
    _TENSOR_BACKWARD: inspect.signature(torch.Tensor.backward),
}
_ROOT_ARGUMENT = {_GRAD: "outputs", _BACKWARD: "tensors", _TENSOR_BACKWARD: "self"}


@dataclass(frozen=True)
class OrderMark:
    """A node made by a backward pass run with ``create_graph=True``.

    ``order`` is 2 for the backward of the forward, 3 for the backward of that, ...;
    ``source`` is the user's line that called it, ``call`` the function called.
    """

    order: int
    call: str
    source: SourceLocation | None


def node_order(fn: AutogradNode) -> int:
    """1 for a node of the forward pass, its mark's order for one a backward made."""
    mark = cast(dict[str, Any], fn.metadata).get(ORDER_KEY)
    return mark.order if isinstance(mark, OrderMark) else 1


def run_marking(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    source: Callable[[], SourceLocation | None],
) -> Any:
    """Call ``func`` (a backward function); with ``create_graph=True``, mark the nodes
    it made. ``source`` gives the user's line (asked only when marking)."""
    name = BACKWARD_FUNCS[func]
    try:
        bound = _SIGNATURES[name].bind(*args, **kwargs).arguments
    except TypeError:  # wrong arguments: torch's own call says so in its words
        return func(*args, **kwargs)
    if not bound.get("create_graph"):
        return func(*args, **kwargs)
    roots = _tensors(bound.get(_ROOT_ARGUMENT[name]))
    before = reachable_nodes(t.grad_fn for t in roots)
    result = func(*args, **kwargs)
    if name == _GRAD:
        made = _tensors(result)
    else:  # backward: the gradients went into .grad of the leaves (or of `inputs`)
        leaves = [getattr(fn, "variable", None) for fn in before] + list(
            _tensors(bound.get("inputs"))
        )
        made = tuple(t.grad for t in leaves if isinstance(t, torch.Tensor) and t.grad is not None)
    order = 1 + max((node_order(fn) for fn in before), default=1)
    mark = OrderMark(order, name, source())
    for fn in reachable_nodes((t.grad_fn for t in made), stop=before):
        fn.metadata.setdefault(ORDER_KEY, mark)
    return result


def _tensors(value: object) -> tuple[torch.Tensor, ...]:
    if isinstance(value, torch.Tensor):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(v for v in value if isinstance(v, torch.Tensor))
    return ()
