"""What is drawn of a captured graph: folded repeats, collapsed modules and the layout.

A :class:`Drawer` belongs to one open model. It knows the model's module types and
repeated blocks, chooses what a big graph opens as (folded and collapsed so that the
first picture comes quickly), never starts a layout Graphviz cannot finish, and lays
out lazily: expanding one module splices its insides into the previous layout.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphviz_app.core.graph.collapse import (
    LAYOUT_HARD_CAP,
    Fold,
    VisibleGraph,
    capped_collapse,
    fitting_collapse,
    module_types,
    visible_graph,
)
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.repeats import RepeatRun, detect_repeats, outermost_runs
from graphviz_app.core.layout.dot import GraphLayout
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.lazy import LazyLayouter, Placed
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.runtime.gc_pause import gc_paused

if TYPE_CHECKING:
    import torch

FOLD_ABOVE = 500  # nodes: a bigger graph opens with its repeated blocks folded
FOLDED_LIMIT = 400  # nodes drawn in a folded first picture (laid out well under 1 s)
AUTO_COLLAPSE_ABOVE = 1500  # nodes; without repeats, collapse to the deepest level that fits


@dataclass(frozen=True)
class Drawing:
    """One laid-out picture of a captured graph (plain data, safe across threads)."""

    view: VisibleGraph
    layout: GraphLayout
    style: GraphStyle  # as drawn: the hard cap may have collapsed more than asked
    folds: tuple[Fold, ...]  # the folds drawn
    foldable: frozenset[str]  # first modules of the outermost repeated runs
    notice: str | None  # why more was collapsed than asked, if it was
    layout_kind: str  # "cached", "spliced" or "full"


class Drawer:
    """Chooses and lays out what to draw of one model's graphs (worker thread only)."""

    def __init__(self, engine: GraphvizEngine, model: torch.nn.Module | None = None) -> None:
        self._lazy = LazyLayouter(engine)
        self._placed: Placed | None = None
        self._types: dict[str, str] = {}
        self._graph: AutogradGraph | None = None  # the graph ``_runs`` were found in
        self._runs: tuple[RepeatRun, ...] = ()
        self.hard_cap = LAYOUT_HARD_CAP  # drawn nodes; more is collapsed, never laid out
        self.fold_above = FOLD_ABOVE
        self.auto_collapse_above = AUTO_COLLAPSE_ABOVE
        if model is not None:
            self.set_model(model)

    def set_model(self, model: torch.nn.Module) -> None:
        """A new model is open: its module types name the collapsed and folded nodes."""
        self._types = module_types(model.named_modules())
        self._placed, self._graph, self._runs = None, None, ()

    @property
    def engine(self) -> GraphvizEngine:
        """The Graphviz engine layouts run with."""
        return self._lazy.engine

    def use_engine(self, engine: GraphvizEngine) -> None:
        """Lay out with ``engine`` from now on (cached layouts of the old one are dropped)."""
        self._lazy = LazyLayouter(engine)
        self._placed = None

    def runs(self, graph: AutogradGraph) -> tuple[RepeatRun, ...]:
        """The repeated blocks of ``graph`` (found once per graph)."""
        if graph is not self._graph:
            self._graph, self._runs = graph, detect_repeats(graph, self._types)
        return self._runs

    def opening_style(self, graph: AutogradGraph, style: GraphStyle) -> GraphStyle:
        """``style`` with what a first picture of ``graph`` should fold and collapse.

        Up to :data:`FOLD_ABOVE` nodes everything is drawn. Above, the outermost repeated
        blocks are folded and modules collapsed down to the deepest level that keeps the
        picture under :data:`FOLDED_LIMIT` nodes; a graph without repeats above
        :data:`AUTO_COLLAPSE_ABOVE` nodes is collapsed to the deepest level that fits.
        """
        if len(graph.nodes) <= self.fold_above:
            return dataclasses.replace(style, collapsed=frozenset(), folded=frozenset())
        outer = outermost_runs(self.runs(graph))
        if outer:
            folds = tuple(run.fold() for run in outer)
            collapsed = fitting_collapse(graph, FOLDED_LIMIT, folds) or frozenset()
            folded = frozenset(run.modules[0] for run in outer)
            return dataclasses.replace(style, collapsed=collapsed, folded=folded)
        fitting = fitting_collapse(graph, self.auto_collapse_above) or frozenset()
        return dataclasses.replace(style, collapsed=fitting, folded=frozenset())

    def draw(
        self, graph: AutogradGraph, style: GraphStyle, cancel: CancelToken | None = None
    ) -> Drawing:
        """Lay out ``graph`` as ``style`` says (spliced into the previous picture when
        it only expands some of its nodes). Raises ``LayoutTooLargeError`` when even
        collapsing every module leaves too much for Graphviz."""
        with gc_paused():
            return self._draw(graph, style, cancel)

    def _draw(self, graph: AutogradGraph, style: GraphStyle, cancel: CancelToken | None) -> Drawing:
        runs = self.runs(graph)
        folds = tuple(run.fold() for run in runs if run.modules[0] in style.folded)
        collapsed, notice = capped_collapse(graph, style.collapsed, folds, self.hard_cap)
        if notice is not None:
            style = dataclasses.replace(style, collapsed=collapsed)
        view = visible_graph(graph, style.collapsed, folds, self._types)
        layout = self._lazy.layout(view, style, self._placed, cancel)
        self._placed = Placed(view, layout)
        foldable = frozenset(run.modules[0] for run in outermost_runs(runs))
        return Drawing(view, layout, style, folds, foldable, notice, self._lazy.last_kind)


def toggle_module(style: GraphStyle, folds: tuple[Fold, ...], module: str) -> GraphStyle:
    """The style after the user double-clicked ``module``: a fold opens into its
    modules, each collapsed; any other module flips between collapsed and expanded."""
    for fold in folds:
        if module in fold.modules or module == fold.id:
            return dataclasses.replace(
                style,
                folded=style.folded - {fold.shown},
                collapsed=style.collapsed | frozenset(fold.modules),
            )
    return dataclasses.replace(style, collapsed=style.collapsed ^ {module})


def fold_all(style: GraphStyle, drawing: Drawing, fold: bool) -> GraphStyle:
    """``style`` with every outermost repeated run folded (``fold``) or none."""
    return dataclasses.replace(style, folded=drawing.foldable if fold else frozenset())
