"""Pictures that look like Graphviz drew them whole: every edge one smooth spline from
its source's box to its target's, no edge running along a module's border, no edge
drawn against the rank direction, nothing overlapping; for block layouts (repeated
modules laid out once) as for whole ones."""

from __future__ import annotations

import math

import pytest
import torch
from large_models import ResNet, TinyGPT
from test_block_layout import assert_correct_layout, stack_graph

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout import block_layout
from graphviz_app.core.layout.block_layout import layout_graph
from graphviz_app.core.layout.blocks import find_blocks
from graphviz_app.core.layout.dot import (
    ClusterBox,
    EdgePath,
    GraphLayout,
    compute_layout,
    edge_id,
    to_dot,
)
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file

Point = tuple[float, float]
SHARP_TURN_DEG = 35.0  # Graphviz's own splines turn by a few degrees at their joints
BORDER_PX = 2.0  # "along a border": this close to it...
ALONG_PX = 24.0  # ...for this long


@pytest.fixture(autouse=True)
def _no_cached_kinds() -> None:
    block_layout.forget_block_kinds()


def bezier(piece: tuple[Point, Point, Point, Point], t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = piece
    u = 1 - t
    a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def pieces(path: EdgePath) -> list[tuple[Point, Point, Point, Point]]:
    p = path.points
    return [(p[i], p[i + 1], p[i + 2], p[i + 3]) for i in range(0, len(p) - 3, 3)]


def samples(path: EdgePath, per_piece: int = 32) -> list[Point]:
    points = [path.points[0]]
    for piece in pieces(path):
        points += [bezier(piece, k / per_piece) for k in range(1, per_piece + 1)]
    return points


def turn(a: Point, b: Point, c: Point) -> float:
    """Degrees between the directions a->b and b->c (0 for a straight line)."""
    v, w = (b[0] - a[0], b[1] - a[1]), (c[0] - b[0], c[1] - b[1])
    nv, nw = math.hypot(*v), math.hypot(*w)
    if nv < 1e-6 or nw < 1e-6:
        return 0.0
    cos = (v[0] * w[0] + v[1] * w[1]) / (nv * nw)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def sharp_joints(path: EdgePath) -> list[Point]:
    """The joints between two pieces of ``path`` where it turns sharply (a corner)."""
    p = path.points
    return [p[i] for i in range(3, len(p) - 1, 3) if turn(p[i - 1], p[i], p[i + 1]) > 35.0]


def runs_along_border(path: EdgePath, cluster: ClusterBox) -> bool:
    """True when ``path`` keeps within :data:`BORDER_PX` of one side of ``cluster`` for
    :data:`ALONG_PX` or more (drawn on its border rather than crossing it)."""
    left, top, width, height = cluster.rect
    sides = [  # (coordinate across the side, its value, the side's extent along)
        (1, top, left, left + width),
        (1, top + height, left, left + width),
        (0, left, top, top + height),
        (0, left + width, top, top + height),
    ]
    points = samples(path)
    for axis, value, low, high in sides:
        run: list[Point] = []
        for point in points:
            along = point[1 - axis]
            if abs(point[axis] - value) <= BORDER_PX and low <= along <= high:
                run.append(point)
                if abs(run[-1][1 - axis] - run[0][1 - axis]) >= ALONG_PX:
                    return True
            else:
                run = []
    return False


def assert_looks_drawn_whole(graph: AutogradGraph, layout: GraphLayout) -> None:
    """Nothing overlaps, every edge is routed from its source's box to its target's
    (:func:`assert_correct_layout`), and it is one smooth spline that crosses module
    borders rather than running along them, and never goes against the rank direction."""
    order = {n.id: i for i, n in enumerate(graph.nodes)}
    edges = {e.id: e for e in layout.edges}
    layout = GraphLayout(  # in the graph's order, as a block layout gives them
        layout.width,
        layout.height,
        tuple(sorted(layout.nodes, key=lambda b: order[b.id])),
        tuple(edges[edge_id(e)] for e in graph.edges),
        layout.clusters,
    )
    assert_correct_layout(graph, layout)
    for path in layout.edges:
        assert not sharp_joints(path), f"{path.id} turns a corner at {sharp_joints(path)}"
        along = [c.module for c in layout.clusters if runs_along_border(path, c)]
        assert not along, f"{path.id} runs along the border of {along}"
        assert path.arrow is not None and path.arrow[1] > path.points[0][1], f"{path.id} goes up"


def builtin_graph(name: str) -> AutogradGraph:
    loaded = load_model_file(resolve_model(name))
    return forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn).graph


GRAPHS = {
    "stack": lambda: stack_graph(),
    "gpt": lambda: forward_and_capture(TinyGPT(layers=6), (torch.randint(0, 50, (1, 8)),)).graph,
    "resnet50-shaped": lambda: (
        forward_and_capture(ResNet([3, 4, 6, 3]), (torch.randn(1, 3, 16, 16),)).graph
    ),
    "resnet18-shaped": lambda: (
        forward_and_capture(
            ResNet([2, 2, 2, 2], bottleneck=False), (torch.randn(1, 3, 16, 16),)
        ).graph
    ),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_block_layouts_look_drawn_whole(engine: GraphvizEngine, name: str) -> None:
    graph = GRAPHS[name]()
    assert find_blocks(graph, GraphStyle()), "the test is about block layouts"
    assert_looks_drawn_whole(graph, layout_graph(graph, GraphStyle(), engine, whole_below=0))


@pytest.mark.parametrize("name", ["residual_cnn", "transformer_block", "two_layer_net"])
def test_whole_layouts_of_built_in_models_look_right(engine: GraphvizEngine, name: str) -> None:
    graph = builtin_graph(name)
    assert_looks_drawn_whole(graph, compute_layout(to_dot(graph, GraphStyle()), engine))


def test_the_models_own_box_holds_its_modules(engine: GraphvizEngine) -> None:
    """residual_cnn's forward runs ops of its own (a relu after the stem, a flatten
    before the head): the "model" box holds every module's box, so the stem is not
    pinned beside the head and no edge climbs back up to the flatten."""
    graph = builtin_graph("residual_cnn")
    layout = compute_layout(to_dot(graph, GraphStyle()), engine)
    boxes = {c.module: c.rect for c in layout.clusters}
    left, top, width, height = boxes[""]
    for module, (x, y, w, h) in boxes.items():
        assert left <= x and top <= y and x + w <= left + width and y + h <= top + height, module


def test_a_connector_along_a_border_is_caught() -> None:
    """The checks above catch the old joins (straight pieces along a block's border
    and down its side), as a sanity check of the checks themselves."""
    box = ClusterBox("c", "m", "m", (100.0, 100.0, 300.0, 200.0))
    along_top = EdgePath("e", "a", "b", ((50, 40), (60, 100), (150, 100), (300, 100)), None)
    assert runs_along_border(along_top, box)
    corner = EdgePath(
        "e", "a", "b", ((0, 0), (0, 30), (0, 60), (0, 90), (30, 90), (60, 90), (90, 90)), None
    )
    assert sharp_joints(corner) == [(0, 90)]
    across = EdgePath("e", "a", "b", ((200, 50), (200, 90), (210, 110), (210, 150)), None)
    assert not runs_along_border(across, box) and not sharp_joints(across)
