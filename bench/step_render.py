"""Time one backward step in the real scene: recolour, badges, edge labels, repaint."""

from __future__ import annotations

import os
import statistics
import time

import torch
from torch import nn


def chain_model(nodes: int) -> tuple[nn.Module, torch.Tensor]:
    """A stack of small Linear+Tanh layers giving about ``nodes`` autograd nodes."""
    layers = max(nodes // 5, 1)  # addmm, t, tanh, weight, bias per layer
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(layers)])
    return model, torch.randn(2, 4)


def time_step_render(nodes: int, repeats: int) -> tuple[int, float]:
    """(graph nodes, median seconds to show one step and repaint the view)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from graphviz_app.core.autograd.backward import record_backward
    from graphviz_app.core.autograd.forward import forward_and_capture
    from graphviz_app.core.layout.dot import compute_layout, to_dot
    from graphviz_app.core.layout.engine import find_engine
    from graphviz_app.core.layout.style import GraphStyle
    from graphviz_app.session import BackwardResult
    from graphviz_app.ui.backward.stepper import BackwardStepper, StepperPanel
    from graphviz_app.ui.graph.grad_legend import GradLegend
    from graphviz_app.ui.graph.scene import GraphScene
    from graphviz_app.ui.graph.view import GraphView

    app = QApplication.instance() or QApplication([])
    model, x = chain_model(nodes)
    run = forward_and_capture(model, (x,), lambda out, _: out.sum())
    style = GraphStyle(clusters=False)
    layout = compute_layout(to_dot(run.graph, style), find_engine(), timeout=600)
    scene, view = GraphScene(), GraphView()
    scene.show_graph(run.graph, layout, style)
    view.setScene(scene)
    view.resize(1400, 900)
    view.show()
    view.fit_all()
    panel = StepperPanel()
    stepper = BackwardStepper(scene, panel, GradLegend(view.viewport()))
    stepper.show_result(BackwardResult(record_backward(run.walk), run.graph, 0.0))
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        stepper.go_to(i % stepper.step_count)
        view.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - start)
    view.close()
    return len(run.graph.nodes), statistics.median(times)
