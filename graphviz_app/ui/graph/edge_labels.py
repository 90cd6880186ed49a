"""Where one backward step's gradient labels go: beside their edges, clear of each
other and of the nodes. The edges of a step all meet at the node sending the
gradients, so labels at one fixed place along each edge pile up there."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QRectF

from graphviz_app.ui.graph.items import EdgeItem

# Fractions of the way from the source to try, on the right of the curve, then the left.
ALONG = (0.35, 0.5, 0.2, 0.65, 0.8, 0.1)
SPOTS = tuple((t, side) for side in (1, -1) for t in ALONG)


def place_labels(labels: Sequence[tuple[EdgeItem, str]], nodes: Iterable[QRectF]) -> None:
    """Give each edge its label at the first spot clear of the ``nodes`` (their boxes)
    and of the labels placed before it; with none clear (short parallel edges between
    two close nodes), the first clear of those labels: a label over a node's edge still
    reads, two labels on each other do not; the first spot when even that fails."""
    area = QRectF()
    for edge, _ in labels:
        area = area.united(edge.boundingRect().adjusted(-300, -30, 300, 30))
    boxes = [rect for rect in nodes if rect.intersects(area)]  # the nodes near enough
    placed: list[QRectF] = []
    for edge, text in labels:
        spots = _spots_for(edge, [e for e, _ in labels])
        rects = {s: edge.label_rect(text, s) for s in spots}
        clear = [s for s in spots if not _hits(rects[s], placed)]
        spot = next((s for s in clear if not _hits(rects[s], boxes)), (*clear, spots[0])[0])
        edge.set_label(text, spot)
        placed.append(rects[spot])


def _spots_for(edge: EdgeItem, edges: list[EdgeItem]) -> tuple[tuple[float, int], ...]:
    """The spots to try for ``edge``: left side first when a parallel edge (same two
    nodes) runs to its right, so that the pair's labels sit outside, back to back."""
    middle = edge.spline.pointAtPercent(0.5).x()
    parallel = [e for e in edges if (e.source, e.target) == (edge.source, edge.target)]
    if any(e.spline.pointAtPercent(0.5).x() > middle for e in parallel if e is not edge):
        return tuple(spot for side in (-1, 1) for spot in SPOTS if spot[1] == side)
    return SPOTS


def _hits(rect: QRectF, taken: list[QRectF]) -> bool:
    return any(rect.intersects(other) for other in taken)
