"""Gradient labels of one backward step: beside their edges, clear of each other and
of the nodes, even where the edges converge."""

from __future__ import annotations

from PySide6.QtCore import QRectF

from graphviz_app.core.layout.dot import EdgePath
from graphviz_app.ui.graph.edge_labels import SPOTS, place_labels
from graphviz_app.ui.graph.items import EdgeItem


def _edge(name: str, start: tuple[float, float], end: tuple[float, float]) -> EdgeItem:
    (x0, y0), (x1, y1) = start, end
    third = ((x1 - x0) / 3, (y1 - y0) / 3)
    points = (
        (x0, y0),
        (x0 + third[0], y0 + third[1]),
        (x0 + 2 * third[0], y0 + 2 * third[1]),
        (x1, y1),
    )
    return EdgeItem(EdgePath(name, "a", "b", points, None))


def test_labels_of_converging_edges_do_not_overlap(qtbot) -> None:  # type: ignore[no-untyped-def]
    # Three edges from a row of nodes down to one node: their labels would sit at the
    # same height, side by side, and collide.
    edges = [_edge(f"e{i}", (100 + 40 * i, 0), (140, 200)) for i in range(3)]
    texts = ["(10) |g|=0.67", "(8, 10) |g|=1.03", "(2, 8) |g|=0.428"]
    target = QRectF(100, 200, 80, 40)
    place_labels(list(zip(edges, texts, strict=True)), [target])
    rects = [edge.label_rect(text, edge.label_at) for edge, text in zip(edges, texts, strict=True)]
    for i, rect in enumerate(rects):
        assert not rect.intersects(target)
        assert not any(rect.intersects(other) for other in rects[i + 1 :])
    assert len({edge.label_at for edge in edges}) > 1  # they did have to move
    assert all(edge.label == text for edge, text in zip(edges, texts, strict=True))


def test_with_no_clear_spot_the_first_is_used(qtbot) -> None:  # type: ignore[no-untyped-def]
    edge = _edge("e", (0, 0), (0, 100))
    place_labels([(edge, "(3) |g|=1")], [QRectF(-1000, -1000, 3000, 3000)])
    assert edge.label_at == SPOTS[0]


def test_labels_of_parallel_edges_between_close_nodes_do_not_overlap(qtbot) -> None:  # type: ignore[no-untyped-def]
    # x * x: two short edges from MulBackward0 to x's AccumulateGrad, 30 px apart:
    # no spot is clear of both boxes, but the two labels must not sit on each other.
    edges = [_edge(f"e{i}", (140 + 12 * i, 0), (140 + 12 * i, 30)) for i in range(2)]
    texts = ["[1, 2]", "[1, 2]"]
    boxes = [QRectF(60, -40, 180, 40), QRectF(60, 30, 180, 40)]
    place_labels(list(zip(edges, texts, strict=True)), boxes)
    first, second = (
        edge.label_rect(t, edge.label_at) for edge, t in zip(edges, texts, strict=True)
    )
    assert not first.intersects(second)
    assert all(edge.label == text for edge, text in zip(edges, texts, strict=True))
