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
    and of the labels placed before it; the first spot when none is clear."""
    area = QRectF()
    for edge, _ in labels:
        area = area.united(edge.boundingRect().adjusted(-300, -30, 300, 30))
    taken = [rect for rect in nodes if rect.intersects(area)]  # the nodes near enough
    for edge, text in labels:
        spot = next((s for s in SPOTS if not _hits(edge.label_rect(text, s), taken)), SPOTS[0])
        edge.set_label(text, spot)
        taken.append(edge.label_rect(text, spot))


def _hits(rect: QRectF, taken: list[QRectF]) -> bool:
    return any(rect.intersects(other) for other in taken)
