"""Live objects of the user's own code, open in a session as a model file would be.

Three kinds, made by ``graphviz_app.show()`` (and the watch's live feed):

- a model and its inputs: forward, capture, backward and training run on the very
  objects the user holds (the window's steps change the user's ``.grad`` and weights);
- the graph behind live tensors: no forward to run again, backward runs from them;
- a finished graph without tensors (a ``Drawing``, a walk-through, a watched step),
  with its recorded backward when it has one.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import ForwardRun, as_input_tuple
from graphviz_app.core.autograd.live import capture_live
from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.graph.walk import AutogradWalk
from graphviz_app.io.model_file import LoadedModel

SHOWN = (
    "Opened from your own code with `graphviz_app.show()`: these are your live objects. "
    "**Backward** (F6) runs from your tensors and adds into your `.grad`; "
)
LESSONS = {
    "model": SHOWN + "the **Training** tab trains your model on the inputs you gave.",
    "tensors": SHOWN + "training needs a model and its inputs: `show(model=model, inputs=x)`.",
    "watched": (
        "The latest captured step of your training loop, watched with `graphviz_app.watch()`:"
        " its graph coloured by gradient and its recorded backward (step through it in the "
        "Backward pass tab). The **Training** tab plots every step's loss, gradient norms "
        "and update ratios."
    ),
    "graph": (
        "A finished graph (a drawing or a walk-through): it keeps no tensors, so backward "
        "runs here only if it was recorded. `graphviz_app.show(tensor)` opens the live graph."
    ),
}
NOT_TRAINABLE = (
    "Training needs a model and its inputs; this window shows {what}. "
    "Call graphviz_app.show(model=model, inputs=x) to train from the window."
)


@dataclass
class LiveModel(LoadedModel):
    """A :class:`LoadedModel` made from live objects instead of a file."""

    roots: tuple[torch.Tensor, ...] = ()  # the tensors whose graph is shown
    params: dict[str, torch.Tensor] = field(default_factory=dict)  # parameter names
    leaves: dict[str, torch.Tensor] = field(default_factory=dict)  # other leaves' names
    frozen: AutogradGraph | None = None  # a graph without live tensors
    trace: BackwardTrace | None = None  # its recorded backward, if any

    @property
    def trainable(self) -> bool:
        """A model with inputs (not a tensor's graph, not a frozen one)."""
        return not self.roots and self.frozen is None

    def not_trainable(self) -> str:
        """Why the Training dock cannot train this."""
        what = "a finished graph" if self.frozen is not None else "the graph of live tensors"
        return NOT_TRAINABLE.format(what=what)


def live_model(model: torch.nn.Module, inputs: object, name: str = "") -> LiveModel:
    """``model`` run on ``inputs`` (a tensor or a tuple of tensors)."""
    title = name or type(model).__name__
    return LiveModel(
        name=title,
        path=Path(f"<live {title} {id(model):x}>"),
        model=model,
        inputs=as_input_tuple(inputs),
        loss_fn=None,
        make_batch=None,
        doc=_lesson(model) or LESSONS["model"],
        format="live",
    )


def _lesson(model: torch.nn.Module) -> str:
    """The model class's docstring as its lesson (torch's own classes: none)."""
    kind = type(model)
    return inspect.getdoc(kind) or "" if not kind.__module__.startswith("torch.") else ""


def live_tensors(
    roots: tuple[torch.Tensor, ...],
    params: dict[str, torch.Tensor],
    leaves: dict[str, torch.Tensor],
    model: torch.nn.Module | None = None,
) -> LiveModel:
    """The graph behind ``roots``; ``model`` (if given) names modules' types."""
    title = type(model).__name__ if model is not None else "your tensors"
    return LiveModel(
        name=title,
        path=Path(f"<live tensors {id(roots[0]):x}>"),
        model=model if model is not None else torch.nn.Module(),
        inputs=(),
        loss_fn=None,
        make_batch=None,
        doc=LESSONS["tensors"],
        format="live",
        roots=roots,
        params=params,
        leaves=leaves,
    )


def live_graph(
    graph: AutogradGraph, name: str, trace: BackwardTrace | None = None, key: str = ""
) -> LiveModel:
    """A graph without tensors; ``key`` keeps one identity across updates (a watch)."""
    return LiveModel(
        name=name,
        path=Path(f"<{key or f'graph {id(graph):x}'}>"),
        model=torch.nn.Module(),
        inputs=(),
        loss_fn=None,
        make_batch=None,
        doc=LESSONS["watched" if key.startswith("watch") else "graph"],
        format="live",
        frozen=graph,
        trace=trace,
    )


def live_run(live: LiveModel, options: CaptureOptions) -> ForwardRun:
    """The "forward" of a tensor's graph (captured again, the same live graph) or of
    a frozen graph (nothing to run)."""
    if live.frozen is not None:
        return ForwardRun((), (), (), AutogradWalk(outputs=[]), live.frozen)
    walk, graph = capture_live(live.roots, live.params, live.leaves, options)
    return ForwardRun((), live.roots, live.roots, walk, graph)


def graph_parameters(graph: AutogradGraph) -> int:
    """How many parameter values the graph's parameter leaves hold."""
    return sum(
        math.prod(n.tensor.shape)
        for n in graph.nodes
        if n.kind is NodeKind.PARAMETER and n.tensor is not None
    )
