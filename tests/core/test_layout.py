"""DOT writing, the Graphviz engine, and the conversion of its JSON to scene pixels."""

from __future__ import annotations

import json
import math
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.core.layout.cache import LayoutCache
from graphviz_app.core.layout.dot import (
    PX_PER_PT,
    GraphLayout,
    NodeBox,
    Point,
    cluster_id,
    compute_layout,
    edge_id,
    parse_layout_json,
    to_dot,
)
from graphviz_app.core.layout.engine import PURE, EngineError, GraphvizEngine, find_engine
from graphviz_app.core.layout.style import GraphStyle, node_label_lines, node_size_pt
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken

#: How far (pixels) an edge end may sit from its node's border: splines end on the
#: border, and rounded corners cut a little into the bounding rectangle.
BORDER_TOLERANCE_PX = 4.0

HOSTILE_NAMES = [
    'we"ird{<name>}é',
    "<name>",  # looks like an HTML-like label to the graphviz package
    "<a&b>",
    "semi;colon -> edge",
    "}{",
    "trail\\",  # a final backslash would escape the closing quote
]


class Nested(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
        self.head = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(x).flatten(1)
        return self.head(h) * self.head(h)  # two uses of head, and a product


class CallsUnregistered(nn.Module):
    """A child that builds a module on the fly: the recorder names it ``0.<Tanh>``."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.Tanh()(self.fc(x))


def capture(model: nn.Module, *shape: int) -> AutogradGraph:
    return forward_and_capture(model, (torch.randn(*shape),), lambda out, x: out.sum()).graph


def hostile_model(name: str) -> nn.Module:
    model = nn.Sequential()
    model.add_module(name, nn.Linear(3, 2))
    return model


def layout_objects(engine: GraphvizEngine, graph: AutogradGraph) -> list[dict[str, Any]]:
    """Graphviz's own JSON objects (clusters and nodes) for the DOT of ``graph``."""
    data = json.loads(engine.run(to_dot(graph), "json"))
    objects: list[dict[str, Any]] = data["objects"]
    return objects


def unescape(text: str | None) -> str | None:
    return None if text is None else text.replace("\\\\", "\\")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_module_name_survives_dot(engine: GraphvizEngine, name: str) -> None:
    graph = capture(hostile_model(name), 1, 3)
    objects = layout_objects(engine, graph)  # raises EngineError if DOT does not parse
    # -Tjson gives attributes as escaped DOT strings: a literal backslash stays doubled.
    clusters = {
        unescape(o.get("tooltip")): unescape(o.get("label")) for o in objects if "pos" not in o
    }
    assert clusters == {name: name}
    node_labels = {unescape(o["label"].split("\n")[0]) for o in objects if "pos" in o}
    assert {f"{name}.weight", f"{name}.bias"} <= node_labels


def test_unregistered_module_label_is_plain_text(engine: GraphvizEngine) -> None:
    graph = capture(nn.Sequential(CallsUnregistered()), 1, 3)
    assert "0.<Tanh>" in {n.module for n in graph.nodes}
    clusters = {o["tooltip"]: o["label"] for o in layout_objects(engine, graph) if "pos" not in o}
    assert clusters == {"0": "0", "0.fc": "fc", "0.<Tanh>": "<Tanh>"}


def test_hostile_name_in_layout_clusters(engine: GraphvizEngine) -> None:
    name = HOSTILE_NAMES[0]
    layout = compute_layout(to_dot(capture(hostile_model(name), 1, 3)), engine)
    assert {c.module: c.label for c in layout.clusters} == {name: name}


def test_module_named_model_keeps_its_name(engine: GraphvizEngine) -> None:
    # The root model's box is labelled "model"; a child called "model" is another box.
    wrapper = nn.Sequential()
    wrapper.add_module("model", nn.Linear(3, 2))
    wrapper.add_module("act", nn.Tanh())
    graph = capture(wrapper, 1, 3)
    layout = compute_layout(to_dot(graph), engine)
    assert sorted(c.module for c in layout.clusters) == ["act", "model"]


@pytest.fixture(scope="module")
def nested_graph() -> AutogradGraph:
    torch.manual_seed(0)
    return capture(Nested(), 2, 1, 6, 6)


@pytest.fixture(scope="module")
def nested_layout(nested_graph: AutogradGraph, engine: GraphvizEngine) -> GraphLayout:
    return compute_layout(to_dot(nested_graph), engine)


def test_one_box_per_node(nested_graph: AutogradGraph, nested_layout: GraphLayout) -> None:
    assert sorted(b.id for b in nested_layout.nodes) == sorted(n.id for n in nested_graph.nodes)


def test_boxes_have_their_styled_size(
    nested_graph: AutogradGraph, nested_layout: GraphLayout
) -> None:
    style = GraphStyle()
    for box in nested_layout.nodes:
        width, height = node_size_pt(node_label_lines(nested_graph.node(box.id), style), 10.0)
        assert box.width == pytest.approx(width * PX_PER_PT, abs=0.1)
        assert box.height == pytest.approx(height * PX_PER_PT, abs=0.1)


def test_boxes_lie_inside_the_drawing(nested_layout: GraphLayout) -> None:
    assert nested_layout.width > 0 and nested_layout.height > 0
    for box in nested_layout.nodes:
        assert box.x - box.width / 2 >= 0 and box.y - box.height / 2 >= 0
        assert box.x + box.width / 2 <= nested_layout.width
        assert box.y + box.height / 2 <= nested_layout.height


def test_y_grows_downwards_from_roots(
    nested_graph: AutogradGraph, nested_layout: GraphLayout
) -> None:
    # Edges point from inputs to the output: in TB the output is drawn lowest.
    boxes = {b.id: b for b in nested_layout.nodes}
    root = boxes[nested_graph.roots[0]]
    assert root.y == max(b.y for b in nested_layout.nodes)


def test_edges_match_graph_edges(nested_graph: AutogradGraph, nested_layout: GraphLayout) -> None:
    expected = {edge_id(e): (e.source, e.target) for e in nested_graph.edges}
    assert {p.id: (p.source, p.target) for p in nested_layout.edges} == expected


def border_distance(point: Point, box: NodeBox) -> float:
    """Distance from ``point`` to the border of ``box`` (inside or outside)."""
    dx = abs(point[0] - box.x) - box.width / 2
    dy = abs(point[1] - box.y) - box.height / 2
    if dx > 0 or dy > 0:
        return math.hypot(max(dx, 0.0), max(dy, 0.0))
    return min(-dx, -dy)


def test_edges_run_from_border_to_border(nested_layout: GraphLayout) -> None:
    boxes = {b.id: b for b in nested_layout.nodes}
    for path in nested_layout.edges:
        assert len(path.points) >= 4 and (len(path.points) - 1) % 3 == 0
        assert path.arrow is not None
        assert border_distance(path.points[0], boxes[path.source]) < BORDER_TOLERANCE_PX
        assert border_distance(path.arrow, boxes[path.target]) < BORDER_TOLERANCE_PX


def _contains(rect: tuple[float, float, float, float], box: NodeBox) -> bool:
    left, top, width, height = rect
    return (
        left - 1 <= box.x - box.width / 2
        and box.x + box.width / 2 <= left + width + 1
        and top - 1 <= box.y - box.height / 2
        and box.y + box.height / 2 <= top + height + 1
    )


def test_module_boxes_hold_their_nodes(
    nested_graph: AutogradGraph, nested_layout: GraphLayout
) -> None:
    clusters = {c.module: c.rect for c in nested_layout.clusters}
    assert set(clusters) == {"", "block", "block.0", "block.1", "head"}
    boxes = {b.id: b for b in nested_layout.nodes}
    for node in nested_graph.nodes:
        if node.module is not None and node.kind is not NodeKind.OUTPUT:
            assert _contains(clusters[node.module], boxes[node.id]), node


def test_no_clusters_when_turned_off(nested_graph: AutogradGraph, engine: GraphvizEngine) -> None:
    layout = compute_layout(to_dot(nested_graph, GraphStyle(clusters=False)), engine)
    assert layout.clusters == ()
    assert len(layout.nodes) == len(nested_graph.nodes)


TINY_JSON: dict[str, Any] = {
    "bb": "0,0,120,200",
    "objects": [
        {
            "_gvid": 0,
            "name": cluster_id("block"),
            "bb": "10,20,110,190",
            "label": "block",
            "tooltip": "block",
        },
        {
            "_gvid": 1,
            "name": cluster_id(""),
            "bb": "0,0,120,200",
            "label": "model",
            "tooltip": "model",
        },
        {"_gvid": 2, "name": "a", "pos": "60,150", "width": "1", "height": "0.5"},
        {"_gvid": 3, "name": "b", "pos": "60,50", "width": "0.5", "height": "0.25"},
    ],
    "edges": [
        {"tail": 2, "head": 3, "id": "a>b#0", "pos": "e,60,59 60,132 60,110 60,90 60,70"},
        {"tail": 3, "head": 2},  # no pos: an invisible or unrouted edge is skipped
    ],
}


def test_parse_tiny_layout_json() -> None:
    s = PX_PER_PT
    layout = parse_layout_json(TINY_JSON)
    assert (layout.width, layout.height) == (120 * s, 200 * s)
    assert layout.nodes == (
        NodeBox("a", 60 * s, 50 * s, 72 * s, 36 * s),
        NodeBox("b", 60 * s, 150 * s, 36 * s, 18 * s),
    )
    (edge,) = layout.edges
    assert (edge.id, edge.source, edge.target) == ("a>b#0", "a", "b")
    assert edge.points == ((60 * s, 68 * s), (60 * s, 90 * s), (60 * s, 110 * s), (60 * s, 130 * s))
    assert edge.arrow == (60 * s, 141 * s)
    block, root = layout.clusters
    assert (block.module, block.label) == ("block", "block")
    assert block.rect == (10 * s, 10 * s, 100 * s, 170 * s)
    assert (root.module, root.label) == ("", "model")


def _layout(tag: float) -> GraphLayout:
    return GraphLayout(tag, tag, (), (), ())


def test_layout_cache_evicts_least_recently_used(engine: GraphvizEngine) -> None:
    cache = LayoutCache(capacity=2)
    keys = [LayoutCache.key(f"digraph {{ {k} }}", engine) for k in ("a", "b", "c")]
    cache.put(keys[0], _layout(1))
    cache.put(keys[1], _layout(2))
    assert cache.get(keys[0]) == _layout(1)  # now "b" is the least recently used
    cache.put(keys[2], _layout(3))
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == _layout(1) and cache.get(keys[2]) == _layout(3)


def test_layout_cache_key_follows_dot_text_and_engine(
    nested_graph: AutogradGraph, engine: GraphvizEngine
) -> None:
    cache = LayoutCache()
    dot_text = to_dot(nested_graph)
    cache.put(LayoutCache.key(dot_text, engine), _layout(1))
    assert cache.get(LayoutCache.key(to_dot(nested_graph), engine)) == _layout(1)
    lr = to_dot(nested_graph, GraphStyle(rankdir="LR"))
    assert cache.get(LayoutCache.key(lr, engine)) is None
    other = GraphvizEngine(kind="dot", path="/usr/bin/dot", version="dot 2.43.0")
    assert cache.get(LayoutCache.key(dot_text, other)) is None


def test_default_engine_is_graphviz_pure(engine: GraphvizEngine) -> None:
    assert engine.kind == PURE
    assert Path(engine.path).is_file()
    assert engine.describe().startswith("graphviz-pure ")


@pytest.mark.usefixtures("fresh_probe")
def test_graphviz_dot_env_to_missing_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-dot")
    monkeypatch.setenv("GRAPHVIZ_DOT", missing)
    with pytest.raises(EngineError, match="no-such-dot") as info:
        find_engine()
    assert "GRAPHVIZ_DOT" in str(info.value)


@pytest.mark.usefixtures("fresh_probe")
def test_preference_overrides_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAPHVIZ_DOT", str(tmp_path / "no-such-dot"))
    assert find_engine(PURE).kind == PURE


def fake_engine(tmp_path: Path, body: str) -> GraphvizEngine:
    """An engine whose executable is a shell script running ``body``."""
    script = tmp_path / "fake-dot"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return GraphvizEngine(kind="dot", path=str(script), version="dot fake")


def test_engine_timeout_is_an_engine_error(tmp_path: Path) -> None:
    slow = fake_engine(tmp_path, "exec sleep 30")  # exec: the kill reaches sleep itself
    started = time.monotonic()
    with pytest.raises(EngineError, match="did not finish"):
        compute_layout("digraph { a }", slow, timeout=0.3)
    assert time.monotonic() - started < 5


def test_cancel_stops_the_engine(tmp_path: Path) -> None:
    slow = fake_engine(tmp_path, "exec sleep 30")
    token = CancelToken()
    token.cancel()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        compute_layout("digraph { a }", slow, cancel=token)
    assert time.monotonic() - started < 5


def test_bad_dot_is_an_engine_error(engine: GraphvizEngine) -> None:
    with pytest.raises(EngineError, match="failed"):
        engine.run("digraph { a -> ", "json")


def test_missing_executable_is_an_engine_error(tmp_path: Path) -> None:
    gone = GraphvizEngine(kind="dot", path=str(tmp_path / "gone"), version="dot ?")
    with pytest.raises(EngineError, match="Could not run Graphviz"):
        gone.run("digraph {}", "json")


def test_engine_output_that_is_not_json(tmp_path: Path) -> None:
    fake = fake_engine(tmp_path, "cat >/dev/null\necho 'this is not json'")
    with pytest.raises(EngineError, match="not JSON"):
        compute_layout("digraph { a }", fake)
