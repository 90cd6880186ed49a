"""Run a model's forward pass under the recorder and capture its autograd graph."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._pytree import tree_leaves

from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.cuts import CutPoint, resolve_cuts
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import AutogradWalk, CaptureError, walk_autograd
from graphviz_app.core.runtime.failures import ForwardError as ForwardError  # handed on
from graphviz_app.core.runtime.user_code import ABORTS, describe_abort

LossFn = Callable[..., torch.Tensor]


@dataclass
class ForwardRun:
    """A forward pass and its captured graph. Holds live tensors: keep it in the worker.

    ``cuts`` are the ops that cut parameters off the graph (``detach()``, ``no_grad``...)
    and ``modules_run`` the module paths that ran, in order (a parameter without
    gradient is explained with them).
    """

    inputs: tuple[torch.Tensor, ...]
    outputs: tuple[torch.Tensor, ...]
    roots: tuple[torch.Tensor, ...]
    walk: AutogradWalk
    graph: AutogradGraph
    cuts: tuple[CutPoint, ...] = ()
    modules_run: tuple[str, ...] = ()


def as_input_tuple(example: Any) -> tuple[torch.Tensor, ...]:
    """A model's example input as a tuple of tensors (a single tensor is wrapped)."""
    if isinstance(example, torch.Tensor):
        return (example,)
    if isinstance(example, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in example):
        return tuple(example)
    raise TypeError(
        f"example inputs must be a tensor or a tuple of tensors, not {type(example).__name__}"
    )


def input_names(inputs: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Names for the model's inputs in graph labels: ``x`` or ``input0``, ``input1``..."""
    if len(inputs) == 1:
        return {"x": inputs[0]}
    return {f"input{i}": t for i, t in enumerate(inputs)}


def forward_and_capture(
    model: torch.nn.Module,
    inputs: tuple[torch.Tensor, ...],
    loss_fn: LossFn | None = None,
    options: CaptureOptions | None = None,
) -> ForwardRun:
    """Run ``model(*inputs)`` (and ``loss_fn(output, *inputs)``) and capture the graph.

    The roots are the loss when there is one, else every output tensor. Raises
    :class:`ForwardError` when the model or loss raises, :class:`CaptureError` when
    a root has no ``grad_fn``.
    """
    options = options or CaptureOptions()
    recorder = ForwardRecorder(
        model, options.with_values, options.preview_limit, flag_non_finite=options.flag_non_finite
    )
    with torch.enable_grad(), recorder:
        output = _call("forward", lambda: model(*inputs))
        loss = _call("loss function", lambda: loss_fn(output, *inputs)) if loss_fn else None
    outputs = tuple(t for t in tree_leaves(output) if isinstance(t, torch.Tensor))
    if not outputs:
        raise CaptureError("The forward returned no tensor, so there is no graph to show.")
    roots = (loss,) if isinstance(loss, torch.Tensor) else outputs
    walk = walk_autograd(roots)
    params = dict(model.named_parameters())
    graph = capture_walk(walk, params, input_names(inputs), options)
    notes = recorder.take_notes()  # the cut tensors (and the graphs behind them) may go
    cuts = resolve_cuts(notes.cuts, params)
    return ForwardRun(inputs, outputs, roots, walk, graph, cuts, notes.modules_run)


def _call(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except MemoryError as exc:
        summary = (
            f"The model's {what} needs more memory than this machine has ({exc}). Open it "
            "structure-only (the form's Structure only, or --structure-only): the graph "
            "without values, on the meta device; or give it smaller sizes or inputs."
        )
        raise ForwardError(summary, traceback.format_exc()) from exc
    except ABORTS as exc:  # sys.exit(), exit(), os._exit() or KeyboardInterrupt in forward
        summary = f"The model's {what} {describe_abort(exc)}: it tried to end the program."
        raise ForwardError(summary, traceback.format_exc()) from exc
    except Exception as exc:  # the user's code may raise anything: report, don't crash
        summary = f"The model's {what} raised {type(exc).__name__}: {exc}"
        raise ForwardError(summary, traceback.format_exc()) from exc


def sum_of_outputs(output: object) -> torch.Tensor:
    """One scalar for a model without a loss: the sum of every floating-point tensor
    in ``output`` (a tensor, or a tuple/list/dict of them, nested)."""
    if isinstance(output, torch.Tensor):
        return output.sum()
    tensors = [t for t in tree_leaves(output) if isinstance(t, torch.Tensor)]
    floats = [t.sum() for t in tensors if t.is_floating_point() or t.is_complex()]
    if not floats:
        raise TypeError("the model's output holds no floating-point tensor to differentiate")
    return torch.stack(floats).sum()


def loss_value(output: object, inputs: Sequence[torch.Tensor], loss: LossFn | None) -> torch.Tensor:
    """``loss(output, *inputs)``, or the outputs' sum for a model without a loss."""
    return loss(output, *inputs) if loss is not None else sum_of_outputs(output)
