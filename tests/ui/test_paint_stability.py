"""Painting must not corrupt Python's reference counts.

PySide6 6.12.0 drops a reference to None in every void call on Python 3.11, so a
window crashed ("deallocating None") after a few thousand paints. This test paints a
real graph many times and checks None's reference count does not fall (on Python
3.12+ None is immortal and its count never changes).
"""

from __future__ import annotations

import sys

import torch
from PySide6.QtGui import QColor, QImage, QPainter

from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.layout.dot import compute_layout, to_dot
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.ui.graph.scene import GraphScene

PAINTS = 40


def test_painting_a_graph_keeps_none_alive(qtbot) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    run = forward_and_capture(model, (torch.randn(2, 3),), lambda out, x: out.sum())
    scene = GraphScene()
    scene.show_graph(run.graph, compute_layout(to_dot(run.graph), find_engine()), GraphStyle())
    image = QImage(400, 400, QImage.Format.Format_ARGB32)
    before = sys.getrefcount(None)
    for _ in range(PAINTS):
        image.fill(QColor("white"))
        painter = QPainter(image)
        scene.render(painter)
        painter.end()
    # Every paint makes dozens of void calls; a leak of one reference each would
    # show as a drop of hundreds.
    assert sys.getrefcount(None) >= before - PAINTS
