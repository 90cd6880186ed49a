"""Lazy layout: expanding a module splices its insides into the previous layout."""

from __future__ import annotations

import itertools

import pytest
import torch
from core_helpers import box_corners
from large_models import TinyGPT

from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.collapse import VisibleGraph, modules_at_depth, visible_graph
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.repeats import detect_repeats
from graphviz_app.core.layout.dot import GraphLayout, box_module, cluster_id, edge_id
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.lazy import SPLICE_LIMIT, LazyLayouter, Placed, splice_plan
from graphviz_app.core.layout.style import GraphStyle

STYLE = GraphStyle()
STYLE_TOLERANCE_PX = 4.0  # edge ends on borders; rounded corners cut in a little


@pytest.fixture(scope="module")
def gpt_graph() -> AutogradGraph:
    torch.manual_seed(0)
    model = TinyGPT(layers=4)
    idx = torch.randint(0, 50, (1, 6))
    return forward_and_capture(model, (idx,), None, CaptureOptions(with_values=False)).graph



def assert_sound(view: VisibleGraph, layout: GraphLayout) -> None:
    """Every drawn node and edge placed once, inside the bounds, boxes apart,
    each node inside its modules' boxes, each edge starting and ending at its nodes."""
    graph = view.graph
    assert sorted(b.id for b in layout.nodes) == sorted(n.id for n in graph.nodes)
    assert sorted(e.id for e in layout.edges) == sorted(edge_id(e) for e in graph.edges)
    boxes = {b.id: box_corners(b) for b in layout.nodes}
    for a, b in itertools.combinations(boxes.values(), 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    for left, top, right, bottom in boxes.values():
        assert (
            left >= -1 and top >= -1 and right <= layout.width + 1 and bottom <= layout.height + 1
        )
    clusters = {c.id: c.rect for c in layout.clusters}
    for node in graph.nodes:
        module = box_module(node)
        parts = module.split(".") if module else []
        for depth in range(1, len(parts) + 1):
            x, y, w, h = clusters[cluster_id(".".join(parts[:depth]))]
            left, top, right, bottom = boxes[node.id]
            assert x <= left and y <= top and right <= x + w and bottom <= y + h
    for path in layout.edges:
        assert near(boxes[path.source], path.points[0])
        assert path.arrow is not None and near(boxes[path.target], path.arrow)
        assert (len(path.points) - 1) % 3 == 0


def near(box: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    tol = STYLE_TOLERANCE_PX
    return box[0] - tol <= point[0] <= box[2] + tol and box[1] - tol <= point[1] <= box[3] + tol


def test_expanding_a_module_splices_and_stays_sound(
    gpt_graph: AutogradGraph, engine: GraphvizEngine
) -> None:
    layouter = LazyLayouter(engine)
    collapsed = modules_at_depth(gpt_graph, 2)
    before = visible_graph(gpt_graph, collapsed)
    first = layouter.layout(before, STYLE)
    assert layouter.last_kind == "full"
    assert_sound(before, first)
    after = visible_graph(gpt_graph, collapsed - {"h.2"})
    expanded = layouter.layout(after, STYLE, Placed(before, first))
    assert layouter.last_kind == "spliced"
    assert_sound(after, expanded)
    # the rest kept its arrangement: nodes above the module did not move vertically
    old = {b.id: b for b in first.nodes}
    slot = old[next(n.id for n in before.graph.nodes if n.module == "h.2")]
    for box in expanded.nodes:
        if box.id in old and old[box.id].y < slot.y - slot.height:
            assert box.y == pytest.approx(old[box.id].y)


def test_collapse_back_and_expand_again_come_from_the_cache(
    gpt_graph: AutogradGraph, engine: GraphvizEngine
) -> None:
    layouter = LazyLayouter(engine)
    collapsed = modules_at_depth(gpt_graph, 2)
    before = visible_graph(gpt_graph, collapsed)
    first = layouter.layout(before, STYLE)
    after = visible_graph(gpt_graph, collapsed - {"h.1"})
    expanded = layouter.layout(after, STYLE, Placed(before, first))
    back = visible_graph(gpt_graph, collapsed)
    assert back.graph == before.graph  # the round trip restores the same drawing
    assert layouter.layout(back, STYLE, Placed(after, expanded)) is first
    assert layouter.last_kind == "cached"
    assert layouter.layout(after, STYLE, Placed(back, first)) is expanded


def test_nested_expansion_and_unfolding_splice(
    gpt_graph: AutogradGraph, engine: GraphvizEngine
) -> None:
    layouter = LazyLayouter(engine)
    folds = [run.fold() for run in detect_repeats(gpt_graph)]
    collapsed = frozenset({"h.0.attn", "h.0.mlp"})
    steps = [
        (collapsed, folds),
        (collapsed - {"h.0.attn"}, folds),  # expand a module inside the shown layer
        (collapsed - {"h.0.attn"}, []),  # unfold h.1 .. h.3
    ]
    placed = None
    for modules, fold_list in steps:
        view = visible_graph(gpt_graph, modules, fold_list)
        layout = layouter.layout(view, STYLE, placed)
        assert layouter.last_kind == ("full" if placed is None else "spliced")
        assert_sound(view, layout)
        placed = Placed(view, layout)


def test_only_expansions_are_spliced(gpt_graph: AutogradGraph) -> None:
    depth2 = modules_at_depth(gpt_graph, 2)
    base = visible_graph(gpt_graph, depth2)
    assert splice_plan(base, visible_graph(gpt_graph, depth2 | {"h"})) is None  # a collapse
    assert splice_plan(base, base) is None
    plan = splice_plan(base, visible_graph(gpt_graph, depth2 - {"h.0", "h.3"}))
    assert plan is not None and len(plan) == 2
    all_open = visible_graph(gpt_graph, ())
    assert len(splice_plan(base, all_open, limit=100) or {}) == len(depth2)
    assert len(depth2) <= SPLICE_LIMIT or splice_plan(base, all_open) is None
