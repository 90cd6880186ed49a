"""``draw()``: the autograd graph behind live tensors, as a displayable ``Drawing``.

A thin composition of the core: capture (``core.autograd``), DOT (``core.layout.dot``)
and the picture (``core.layout.svg.graph_svg``: the layout the window makes, repeated
modules laid out once per kind, drawn as SVG; one Graphviz run for a small graph).
The ``Drawing`` keeps only frozen records, never a tensor, so the graph's saved
tensors are freed as soon as the user's own references are gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from graphviz_app.api.tensors import (
    NamedTensors,
    as_roots,
    caller_leaves,
    parameter_names,
    user_frame,
)
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.live import capture_live_soon
from graphviz_app.core.graph.collapse import module_types, modules_at_depth, visible_graph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import Marks, to_dot
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.layout.svg import graph_svg, picture_layout, to_svg
from graphviz_app.core.runtime.gc_pause import gc_paused
from graphviz_app.io.export import format_for, render, write_atomic

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardTrace
    from graphviz_app.core.graph.walk import AutogradWalk


def svg_element(svg: str) -> str:
    """The SVG without the XML prolog and doctype: the ``<svg>`` element alone,
    as notebooks embed it."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


@dataclass(frozen=True, eq=False)
class Drawing:
    """A drawn autograd graph: shows itself in Jupyter, JupyterLab, VS Code and IPython.

    ``graph`` is the captured graph (frozen records: kinds, ops, modules, shapes,
    NaN/Inf counts; with ``values=True`` also every value summary and what each node
    saved for backward), ``dot`` the DOT text of what is drawn
    (``drawn``, in ``style`` with ``marks``); ``svg`` is the picture of it (laid out
    once, when first asked for); :meth:`save` writes any format.

    >>> import torch, graphviz_app
    >>> a = torch.tensor(2.0, requires_grad=True)
    >>> d = graphviz_app.draw(a * 3)
    >>> [n.title for n in d.graph.nodes]
    ['output', 'MulBackward0', 'a']
    >>> d.save("mul.svg").stat().st_size > 0
    True
    """

    graphs: Settling = field(repr=False)
    engine: GraphvizEngine
    style: GraphStyle = field(default_factory=GraphStyle)
    marks: Marks = field(default_factory=Marks)

    @property
    def graph(self) -> AutogradGraph:
        """The captured graph."""
        return self.graphs.settle()[0]

    @property
    def drawn(self) -> AutogradGraph:
        """What the picture shows (modules collapsed by ``depth``)."""
        return self.graphs.settle()[1]

    @cached_property
    def dot(self) -> str:
        """The DOT text of the picture (made when first asked for: ``.dot`` files)."""
        marks = self.marks
        return to_dot(self.drawn, self.style, marks.highlighted, marks.fills, marks.extra_lines)

    @cached_property
    def svg(self) -> str:
        """The picture as SVG text (text stays text)."""
        graphs, style, marks = self.graphs, self.style, self.marks
        if not graphs.settled:
            # Laid out while the leaves are still being checked for NaN and Inf (the
            # check reads them without the GIL while Graphviz runs): the right picture
            # unless a leaf holds one, which makes its label longer.
            guess = graphs.drawn
            with gc_paused():
                layout = picture_layout(guess, style, self.engine, marks)
                if graphs.settle()[1] is guess:
                    return to_svg(guess, layout, style, marks)
        return graph_svg(self.drawn, style, self.engine, marks)

    def save(self, path: str | Path) -> Path:
        """Write the drawing; the format comes from the extension: ``.svg``, ``.png``,
        ``.pdf``, ``.dot`` (or ``.gv``) or ``.json`` (every record), the same files as
        ``graphviz-app export``. Written atomically; returns the path."""
        target = Path(path)
        fmt = format_for(target)
        if fmt == "svg":
            data = self.svg.encode("utf-8")
        elif fmt == "pdf":
            from graphviz_app.pdf import svg_to_pdf  # Qt draws PDFs: imported only here

            data = svg_to_pdf(self.svg.encode("utf-8"))
        else:
            data = render(self.graph, self.dot, fmt, self.engine)
        write_atomic(target, data)
        return target

    def _repr_svg_(self) -> str:
        return svg_element(self.svg)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": svg_element(self.svg), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<Drawing: {len(self.graph.nodes)} nodes, {len(self.graph.edges)} edges>"


def _record_gradients(walk: AutogradWalk) -> BackwardTrace:
    from graphviz_app.core.autograd.backward import record_gradients  # only with gradients

    return record_gradients(walk)


class Settling:
    """A drawing's graphs (captured, drawn) while its leaves are checked for NaN and Inf
    on a thread: known at once but for the leaves' marks; :meth:`settle` waits for the
    check and redraws when a leaf holds a NaN or an Inf."""

    def __init__(
        self,
        graph: AutogradGraph,
        drawn: AutogradGraph,
        with_leaves: Callable[[], AutogradGraph] | None,
        redraw: Callable[[AutogradGraph], AutogradGraph],
    ) -> None:
        self.graph, self.drawn = graph, drawn
        self._with_leaves, self._redraw = with_leaves, redraw
        self._lock = threading.Lock()

    @property
    def settled(self) -> bool:
        """True once the leaves are marked."""
        return self._with_leaves is None

    def settle(self) -> tuple[AutogradGraph, AutogradGraph]:
        """The graphs with every mark (waits for the check once)."""
        with self._lock:
            if self._with_leaves is not None:
                final = self._with_leaves()
                if final is not self.graph:
                    self.graph, self.drawn = final, self._redraw(final)
                self._with_leaves = None  # nor the leaves nor their views held any longer
        return self.graph, self.drawn


def draw(
    *roots: torch.Tensor,
    model: torch.nn.Module | None = None,
    params: NamedTensors | None = None,
    values: bool = False,
    grads: bool = False,
    depth: int | None = None,
    rankdir: str = "TB",
) -> Drawing:
    """Draw the autograd graph behind ``roots`` (a loss, a model's output, any tensors).

    Every backward node shows its class, the module it ran in, its output's shape,
    NaN/Inf marks, and the user's line where the forward ran under
    ``torch.autograd.set_detect_anomaly(True)``. Parameters are named from
    ``model.named_parameters()`` (``0.weight``, ``fc1.bias``) or ``params`` (a dict, as
    torchviz takes it); other leaf tensors by the variables that hold them. Modules are
    boxes; ``depth`` draws modules that many levels down as one node each (0: the
    whole model). ``values`` adds a value summary line; ``grads`` adds the gradient
    that reaches each node and colours it by its norm (a backward of its own through
    ``torch.autograd.grad``, seeded with ones: ``.grad`` stays untouched and the graph
    stays usable). ``rankdir`` is ``TB`` or ``LR``.

    Nothing of the user's changes: ``requires_grad`` and ``.grad`` stay as they were,
    and the drawing holds no tensor.

    >>> import torch, graphviz_app
    >>> a = torch.tensor(2.0, requires_grad=True)
    >>> b = torch.tensor(-3.0, requires_grad=True)
    >>> c = torch.tensor(10.0, requires_grad=True)
    >>> f = torch.tensor(-2.0, requires_grad=True)
    >>> L = (a * b + c) * f
    >>> d = graphviz_app.draw(L, grads=True)
    >>> sorted(n.leaf_name for n in d.graph.nodes if n.is_leaf)
    ['a', 'b', 'c', 'f']
    >>> a.grad is None
    True
    """
    tensors = as_roots(roots)
    if not tensors:
        raise ValueError("There is nothing to draw: pass the tensor(s), e.g. draw(loss).")
    # NaN/Inf are marked either way; what each node saved is read only with values
    # (the picture's labels show none of it but batch norm's mode).
    options = CaptureOptions(with_values=values, saved_for_labels=not values)
    leaves = caller_leaves(user_frame(1))
    captured = capture_live_soon(tensors, parameter_names(model, params), leaves, options)
    collapsed = modules_at_depth(captured[1], depth) if depth is not None else frozenset()
    style = GraphStyle(rankdir=rankdir, show_values=values, collapsed=collapsed)
    types = module_types(model.named_modules()) if model is not None else None
    return _drawing(*captured, grads, (collapsed, types, style))


def _drawing(
    walk: AutogradWalk,
    graph: AutogradGraph,
    with_leaves: Callable[[], AutogradGraph],
    grads: bool,
    looks: tuple[frozenset[str], dict[str, str] | None, GraphStyle],
) -> Drawing:
    """The drawing of a captured graph, with the gradients' marks when ``grads``."""
    collapsed, types, style = looks
    pending: Callable[[], AutogradGraph] | None = with_leaves
    if grads:  # the gradients' marks are laid out with the graph: settle it first
        graph, pending = with_leaves(), None
    trace = _record_gradients(walk) if grads else None
    del walk  # the live grad_fn handles: nothing below needs them
    norms = trace.grad_norms() if trace is not None else None
    view = visible_graph(graph, collapsed, (), types, norms)
    marks = Marks()
    if trace is not None:
        from graphviz_app.core.stepping.state import grad_marks  # only with gradients

        fills, lines = grad_marks(trace, view.graph, view)
        marks = Marks(fills=fills, extra_lines=lines)

    def redraw(final: AutogradGraph) -> AutogradGraph:
        return visible_graph(final, collapsed, (), types, norms).graph

    return Drawing(Settling(graph, view.graph, pending, redraw), find_engine(), style, marks)
