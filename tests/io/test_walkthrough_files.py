"""The walk-through writer: Graphviz's SVG read once, each step drawn on it as shapes
and text; collapsed modules stand for the nodes inside them, as in the window."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.backward import BackwardTrace, record_backward
from graphviz_app.core.autograd.live import capture_live
from graphviz_app.core.graph.collapse import visible_graph
from graphviz_app.core.layout.dot import edge_id, to_dot
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.stepping.state import step_view
from graphviz_app.io.export import ExportError
from graphviz_app.io.walkthrough import RecordedPass, walkthrough_html, write_walkthrough
from graphviz_app.io.walkthrough.steps import TICK, looks, pass_fills
from graphviz_app.io.walkthrough.svg import read_graph_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def recorded() -> RecordedPass:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(torch.randn(5, 3)).pow(2).mean()
    walk, graph = capture_live((loss,), dict(model.named_parameters()))
    return RecordedPass(graph, record_backward(walk), "mlp")


def _svg(graph) -> bytes:  # type: ignore[no-untyped-def]
    return find_engine().run(to_dot(graph), "svg")


def test_the_svg_is_read_with_node_ids_boxes_and_edge_anchors(recorded: RecordedPass) -> None:
    base = read_graph_svg(_svg(recorded.graph))
    assert set(base.boxes) == {n.id for n in recorded.graph.nodes}
    assert set(base.anchors) == {edge_id(e) for e in recorded.graph.edges}
    ids = {g.get("id") for g in base.root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert ids == set(base.boxes)  # findable by the node's own id
    left, top, *_ = (float(v) for v in base.root.get("viewBox", "").split())
    assert left < 0 and top < 0  # room for badges at the drawing's edge


def test_a_collapsed_module_stands_for_its_nodes_in_every_frame(
    recorded: RecordedPass, tmp_path: Path
) -> None:
    view = visible_graph(recorded.graph, {"0"})
    folded = RecordedPass(recorded.graph, recorded.trace, "mlp", view)
    group = next(n.id for n in view.graph.nodes if n.id not in recorded.graph)
    files = write_walkthrough(tmp_path, folded, _svg(view.graph))
    assert len(files) == recorded.count + 1
    shown = list(folded.views())
    last = looks(folded, shown[-1], pass_fills(folded))
    assert last[group].current  # its AccumulateGrad runs last: the group is executing
    first_in_group = next(s for s in shown if s.current == group)
    marks = looks(folded, first_in_group, pass_fills(folded))
    assert marks[group].fill and marks[group].current
    frame = ET.parse(files[first_in_group.index]).getroot()
    node = next(g for g in frame.iter(f"{SVG}g") if g.get("id") == group)
    assert any(e.get("stroke") == "#e69f00" for e in node.iter())


def test_badges_follow_the_engine_step_by_step(recorded: RecordedPass) -> None:
    fills = pass_fills(recorded)
    for shown in recorded.views():
        marks = looks(recorded, shown, fills)
        assert sum(m.badge == TICK for m in marks.values()) == len(shown.done)
        same = step_view(recorded.graph, recorded.trace, shown.index)
        assert same == shown


def test_nothing_to_write_and_foreign_svg_are_clear_errors(recorded: RecordedPass) -> None:
    empty = RecordedPass(recorded.graph, BackwardTrace((), False), "mlp")
    with pytest.raises(ExportError, match="run backward first"):
        walkthrough_html(empty, _svg(recorded.graph))
    with pytest.raises(ValueError, match="not written by Graphviz"):
        read_graph_svg('<svg xmlns="http://www.w3.org/2000/svg"></svg>')


def test_the_apps_own_svg_gives_its_layouts_boxes_and_edge_ids(recorded: RecordedPass) -> None:
    """The window's and draw()'s SVG (core/layout/svg.py: block layouts, rounded boxes
    written with relative h/v/a commands) is the walk-through's base too: each node's
    box is the layout's, and edges carry the DOT's ids that the steps' labels name."""
    from graphviz_app.core.layout.dot import Marks
    from graphviz_app.core.layout.style import GraphStyle
    from graphviz_app.core.layout.svg import PT, picture_layout, to_svg

    graph = recorded.graph
    layout = picture_layout(graph, GraphStyle(), find_engine(), Marks())
    base = read_graph_svg(to_svg(graph, layout))
    for node in layout.nodes:
        box = base.boxes[node.id]
        assert (box.left + box.right) / 2 == pytest.approx(node.x * PT, abs=0.2)
        assert (box.bottom - box.top) == pytest.approx(node.height * PT, abs=0.2)
    assert set(base.anchors) == {edge_id(e) for e in graph.edges}
    page = walkthrough_html(recorded, to_svg(graph, layout))
    assert "gv-overlay" in page and all(f'"{e.id}"' in page for e in layout.edges)
