"""What ``draw``, ``walkthrough`` and ``show`` take from the user: the root tensors,
the names of parameters (a model, a torchviz-style ``params`` dict) and of the other
leaf tensors (the variables that hold them in the calling code)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any

import torch

#: ``params`` as torchviz takes it (``dict(model.named_parameters())``), or pairs.
NamedTensors = Mapping[str, torch.Tensor] | Iterable[tuple[str, torch.Tensor]]


def as_roots(values: Iterable[Any]) -> tuple[torch.Tensor, ...]:
    """The tensors to draw from: tensors, or lists and tuples of them (any depth)."""
    roots: list[torch.Tensor] = []
    for value in values:
        if isinstance(value, torch.Tensor):
            roots.append(value)
        elif isinstance(value, (list, tuple)):
            roots.extend(as_roots(value))
        else:
            raise TypeError(
                f"draw() takes tensors (a loss, a model's output), not {type(value).__name__}."
                " For a model, pass its output: draw(model(x), model=model)."
            )
    return tuple(roots)


def parameter_names(
    model: torch.nn.Module | None, params: NamedTensors | None
) -> dict[str, torch.Tensor]:
    """Names for leaf tensors: ``model.named_parameters()`` and then ``params``."""
    names: dict[str, torch.Tensor] = {}
    if model is not None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model= takes an nn.Module, not {type(model).__name__}.")
        names.update(model.named_parameters())
    if params is not None:
        pairs = params.items() if isinstance(params, Mapping) else params
        for name, tensor in pairs:
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"params[{name!r}] is a {type(tensor).__name__}, not a tensor.")
            names[str(name)] = tensor
    return names


def caller_leaves(frame: FrameType | None) -> dict[str, torch.Tensor]:
    """Leaf tensors that require grad, by the variable names that hold them in the
    calling code (``a``, ``b``, ``x``): what a notebook user calls them.

    A notebook cell or a script runs at module level, where the names are globals.
    A function's own variables are read only where Python gives a live view of them
    (3.13+): before, reading them leaves a snapshot on the frame that would keep the
    user's tensors alive after ``del``.
    """
    if frame is None:
        return {}
    scope = dict(frame.f_globals)
    function = frame.f_code.co_flags & inspect.CO_OPTIMIZED
    if not function or sys.version_info >= (3, 13):
        scope.update(frame.f_locals)
    return {
        name: value
        for name, value in scope.items()
        if not name.startswith("_")
        and isinstance(value, torch.Tensor)
        and value.is_leaf
        and value.requires_grad
    }


def user_frame(depth: int) -> FrameType | None:
    """The frame ``depth`` calls up (the user's code that called the public function)."""
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None
