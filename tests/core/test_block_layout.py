"""Block layouts: repeated modules laid out once, the picture still a correct layout."""

from __future__ import annotations

import itertools

import pytest
import torch
from core_helpers import box_corners
from large_models import ResNet, TinyGPT
from torch import nn

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout import block_layout
from graphviz_app.core.layout.block_layout import WHOLE_LAYOUT_NODES, layout_graph
from graphviz_app.core.layout.blocks import find_blocks
from graphviz_app.core.layout.dot import GraphLayout, NodeBox, box_module, cluster_id
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle


class Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


class Stack(nn.Module):
    def __init__(self, depth: int = 8, width: int = 6) -> None:
        super().__init__()
        self.embed = nn.Linear(3, width)
        self.blocks = nn.Sequential(*(Residual(width) for _ in range(depth)))
        self.head = nn.Linear(width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.embed(x)))


def stack_graph(depth: int = 8) -> AutogradGraph:
    model = Stack(depth)
    return forward_and_capture(model, (torch.randn(4, 3),), lambda out, x: out.sum()).graph


@pytest.fixture(autouse=True)
def _no_cached_kinds() -> None:
    block_layout.forget_block_kinds()



def on_border(point: tuple[float, float], box: NodeBox, slack: float = 3.0) -> bool:
    left, top, right, bottom = box_corners(box)
    inside = left - slack <= point[0] <= right + slack and top - slack <= point[1] <= bottom + slack
    near = min(
        abs(point[0] - left), abs(point[0] - right), abs(point[1] - top), abs(point[1] - bottom)
    )
    return inside and near <= slack


def assert_correct_layout(graph: AutogradGraph, layout: GraphLayout) -> None:
    boxes = {b.id: b for b in layout.nodes}
    assert [b.id for b in layout.nodes] == [n.id for n in graph.nodes]
    for a, b in itertools.combinations(layout.nodes, 2):
        la, ta, ra, ba = box_corners(a)
        lb, tb, rb, bb = box_corners(b)
        assert ra <= lb or rb <= la or ba <= tb or bb <= ta, f"{a.id} overlaps {b.id}"
    clusters = {c.id: c.rect for c in layout.clusters}
    for node in graph.nodes:
        module = box_module(node)
        if module is None:
            continue
        left, top, width, height = clusters[cluster_id(module)]
        x0, y0, x1, y1 = box_corners(boxes[node.id])
        assert left <= x0 and x1 <= left + width and top <= y0 and y1 <= top + height, node.id
    assert len(layout.edges) == len(graph.edges)
    for edge, path in zip(graph.edges, layout.edges, strict=True):
        assert (path.source, path.target) == (edge.source, edge.target)
        assert len(path.points) >= 4 and (len(path.points) - 1) % 3 == 0
        assert on_border(path.points[0], boxes[edge.source]), edge
        assert path.arrow is not None and on_border(path.arrow, boxes[edge.target]), edge
        for x, y in path.points:
            assert -1 <= x <= layout.width + 1 and -1 <= y <= layout.height + 1


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The DOT texts given to Graphviz during the test."""
    texts: list[str] = []
    real_run = GraphvizEngine.run_many

    def counting_run(
        self: GraphvizEngine, dot_texts: list[str], *args: object, **kwargs: object
    ) -> list[bytes]:
        texts.extend(dot_texts)
        return real_run(self, dot_texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(GraphvizEngine, "run_many", counting_run)
    return texts


def test_repeated_blocks_are_found_and_laid_out_once(
    engine: GraphvizEngine, runs: list[str]
) -> None:
    graph, style = stack_graph(), GraphStyle()
    blocks = find_blocks(graph, style)
    assert sorted(b.module for b in blocks) == [f"blocks.{i}" for i in range(8)]
    assert len({b.signature for b in blocks}) == 1
    layout = layout_graph(graph, style, engine, whole_below=0)
    assert len(runs) == 2 and runs[0].count("digraph") == 1  # one kind, then the rest
    assert_correct_layout(graph, layout)
    layout_graph(graph, style, engine, whole_below=0)  # the kind is cached: the top level
    assert len(runs) == 3


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_every_instance_of_a_kind_has_the_same_shape(engine: GraphvizEngine, rankdir: str) -> None:
    graph, style = stack_graph(), GraphStyle(rankdir=rankdir)
    layout = layout_graph(graph, style, engine, whole_below=0)
    assert_correct_layout(graph, layout)
    boxes = {b.id: b for b in layout.nodes}
    shapes = []
    for block in find_blocks(graph, style):
        first = boxes[block.members[0]]
        shapes.append(
            [
                (round(boxes[m].x - first.x, 3), round(boxes[m].y - first.y, 3))
                for m in block.members
            ]
        )
    assert all(shape == shapes[0] for shape in shapes)


def test_small_graphs_and_graphs_without_clusters_are_laid_out_whole(
    engine: GraphvizEngine, runs: list[str]
) -> None:
    assert find_blocks(stack_graph(depth=2), GraphStyle()) == []
    assert find_blocks(stack_graph(), GraphStyle(clusters=False)) == []
    graph = stack_graph()  # blocks, but few nodes: as quick to lay out whole
    assert find_blocks(graph, GraphStyle()) and len(graph.nodes) < WHOLE_LAYOUT_NODES
    layout = layout_graph(graph, GraphStyle(), engine)
    assert sorted(b.id for b in layout.nodes) == sorted(n.id for n in graph.nodes)
    assert len(runs) == 1 and "block_" not in runs[0]


def test_a_block_layout_keeps_the_whole_layouts_nodes_edges_and_boxes(
    engine: GraphvizEngine,
) -> None:
    from graphviz_app.core.layout.dot import compute_layout, to_dot

    graph, style = stack_graph(), GraphStyle()
    whole = compute_layout(to_dot(graph, style), engine)
    blocks = layout_graph(graph, style, engine, whole_below=0)
    assert sorted(n.id for n in blocks.nodes) == sorted(n.id for n in whole.nodes)
    assert sorted(e.id for e in blocks.edges) == sorted(e.id for e in whole.edges)
    sizes = {n.id: (n.width, n.height) for n in whole.nodes}
    for box in blocks.nodes:  # as tall, and at least as wide (a kind is its widest)
        assert box.height == pytest.approx(sizes[box.id][1], abs=0.1)
        assert box.width >= sizes[box.id][0] - 0.1
    assert {c.id for c in blocks.clusters} == {c.id for c in whole.clusters}


@pytest.mark.parametrize(
    "make",
    [
        lambda: (TinyGPT(layers=6), (torch.randint(0, 50, (1, 8)),)),
        lambda: (ResNet([3, 4, 6, 3]), (torch.randn(1, 3, 16, 16),)),
    ],
    ids=["gpt", "resnet50-shaped"],
)
def test_transformer_and_resnet_pictures_are_correct_layouts(engine: GraphvizEngine, make) -> None:  # type: ignore[no-untyped-def]
    model, inputs = make()
    graph = forward_and_capture(model, inputs).graph
    blocks = find_blocks(graph, GraphStyle())
    assert len(blocks) >= 6 and len({b.signature for b in blocks}) <= 3
    assert_correct_layout(graph, layout_graph(graph, GraphStyle(), engine))


def test_a_long_chain_of_collapsed_modules_is_laid_out_in_chunks(engine: GraphvizEngine) -> None:
    from graphviz_app.core.graph.collapse import visible_graph
    from graphviz_app.core.layout.blocks import CHAIN_CHUNK

    depth = 3 * CHAIN_CHUNK + 7
    graph = stack_graph(depth=depth)
    drawn = visible_graph(graph, {f"blocks.{i}" for i in range(depth)}).graph  # a fold opened
    blocks = find_blocks(drawn, GraphStyle())
    assert [len(b.members) for b in blocks] == [CHAIN_CHUNK] * 3
    assert len({b.signature for b in blocks}) == 1
    assert_correct_layout(drawn, layout_graph(drawn, GraphStyle(), engine, whole_below=0))


def test_a_kind_laid_out_for_one_graph_serves_the_next(engine: GraphvizEngine) -> None:
    first, second = stack_graph(depth=8), stack_graph(depth=9)  # other node ids
    assert_correct_layout(first, layout_graph(first, GraphStyle(), engine, whole_below=0))
    assert len(block_layout._BLOCK_CACHE._items) == 1
    assert_correct_layout(second, layout_graph(second, GraphStyle(), engine, whole_below=0))
    assert len(block_layout._BLOCK_CACHE._items) == 1  # the first graph's kind, reused
