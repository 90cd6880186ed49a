"""A watched loop as a notebook shows it: the latest captured graph coloured by
gradient, and plots of the loss, the gradient norms and the update ratios.

In a Jupyter kernel the view is displayed when the watch starts and updated in
place (``display(..., display_id=True)`` and its ``update``) at most every
:data:`REFRESH_S` seconds while the loop runs, and once more at the end. The graph
is laid out once per structure; a step only recolours it.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from html import escape
from typing import Any, Protocol

from graphviz_app.api.plots import line_plot
from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.collapse import module_types, visible_graph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.core.layout.drawing import Drawer
from graphviz_app.core.layout.engine import EngineError, find_engine
from graphviz_app.core.layout.style import GraphStyle, grad_fills
from graphviz_app.core.stepping.state import drawn_norms
from graphviz_app.io.walkthrough.svg import GraphSvg, Look, marked_svg, read_graph_svg

REFRESH_S = 0.5
MAX_SERIES = 8  # parameters plotted by name (the largest now)


class Watch(Protocol):
    """What the view reads of a watch (:class:`graphviz_app.api.watch.Watch`)."""

    @property
    def name(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def records(self) -> Sequence[Any]: ...  # WatchRecord
    @property
    def graph(self) -> AutogradGraph | None: ...
    @property
    def trace(self) -> BackwardTrace | None: ...
    @property
    def model(self) -> Any: ...  # the watched nn.Module
    @property
    def layouts(self) -> dict[str, Any]: ...  # the view's cache: key -> (svg, view)


class LiveView:
    """The notebook output a watch updates in place."""

    def __init__(self, watch: Watch, handle: Any, cell: object = None) -> None:
        self.watch, self.handle, self.cell = watch, handle, cell
        self.last = time.monotonic()

    def refresh(self, force: bool = False) -> None:
        """Redraw, unless the last redraw was under :data:`REFRESH_S` ago."""
        now = time.monotonic()
        if force or now - self.last >= REFRESH_S:
            self.last = now
            self.handle.update(_Picture(self.watch))

    def in_this_cell(self) -> bool:
        """True while the cell that opened the view runs: the watch it shows as the
        cell's result (``w.start()`` last) would be the same picture twice."""
        return self.cell is not None and _cell() == self.cell


class _Picture:
    """What the view displays: the watch's HTML (the watch itself may show as text)."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def _repr_html_(self) -> str:
        return watch_html(self.watch)

    def __repr__(self) -> str:
        return repr(self.watch)


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _cell() -> object:
    """The running cell's number (None outside IPython)."""
    return getattr(_shell(), "execution_count", None)


def open_view(watch: Watch) -> LiveView | None:
    """Show ``watch`` in the running notebook (None outside a Jupyter kernel)."""
    shell = _shell()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    from IPython.display import display

    handle = display(_Picture(watch), display_id=True)  # type: ignore[no-untyped-call]
    return LiveView(watch, handle, _cell()) if handle is not None else None


def watch_html(watch: Watch) -> str:
    """The view as HTML: a status line, the latest graph, the plots."""
    records = watch.records
    last = records[-1] if records else None
    loss = f", loss {last.loss:.4g}" if last is not None and last.loss is not None else ""
    state = "watching" if watch.active else "stopped"
    head = f"<b>watch({escape(watch.name)})</b>: {len(records)} steps{loss} ({state})"
    plots = [
        line_plot({"loss": [(r.step, r.loss) for r in records if r.loss is not None]}, "loss"),
        line_plot(_series(records, "grad_norms"), "gradient norm", log=True),
        line_plot(_series(records, "update_ratios"), "update / weight", log=True),
    ]
    return (
        f'<div style="font-family:sans-serif;font-size:13px">{head}'
        f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(plots)}</div>'
        f"{_graph_html(watch)}</div>"
    )


def _series(records: Sequence[Any], field: str) -> dict[str, list[tuple[float, float]]]:
    series: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        for name, value in getattr(record, field).items():
            if math.isfinite(value) and value > 0:
                series.setdefault(name, []).append((record.step, value))
    if len(series) > MAX_SERIES:  # the largest ones by their last value
        kept = sorted(series, key=lambda n: -series[n][-1][1])[:MAX_SERIES]
        series = {n: series[n] for n in kept}
    return series


def _graph_html(watch: Watch) -> str:
    graph, trace = watch.graph, watch.trace
    if graph is None or trace is None:
        return "<p><i>No step captured yet: the graph appears after the first backward.</i></p>"
    try:
        base, view = _laid_out(watch, graph)
    except EngineError as exc:
        return f"<p>The graph could not be drawn: {escape(str(exc))}</p>"
    fills = grad_fills(drawn_norms(trace, view))
    svg = marked_svg(base, {k: Look(fill=v) for k, v in fills.items()})
    step = next((r.step for r in reversed(watch.records) if r.captured), None)
    title = f"step {step}, coloured by gradient norm (log scale)" if step else ""
    return f"<div>{escape(title)}</div><div style='overflow:auto;max-height:600px'>{svg}</div>"


def _laid_out(watch: Watch, graph: AutogradGraph) -> tuple[GraphSvg, Any]:
    """The graph's SVG, laid out once per structure (a big graph folded and collapsed
    as the window opens it)."""
    cache: dict[str, tuple[GraphSvg, Any]] = watch.layouts
    key = graph.structure_key()
    if key not in cache:
        engine = find_engine()
        drawer = Drawer(engine, watch.model)
        style = drawer.opening_style(graph, GraphStyle())
        folds = tuple(r.fold() for r in drawer.runs(graph) if r.modules[0] in style.folded)
        types = module_types(watch.model.named_modules())
        view = visible_graph(graph, style.collapsed, folds, types)
        svg = engine.run(to_dot(view.graph, style), "svg")
        cache.clear()  # one structure at a time: a dynamic graph must not pile up
        cache[key] = (read_graph_svg(svg), view)
    return cache[key]
