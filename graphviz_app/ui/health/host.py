"""What the Gradient health part uses of the window: a narrow interface, so the part
never imports the window (the window builds it and hands itself over)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import PictureResult
from graphviz_app.ui.backward.stepper import BackwardStepper
from graphviz_app.ui.common.host import DockHost
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView
from graphviz_app.ui.jobs.controller import SessionController


class HealthHost(DockHost, Protocol):
    """What the Gradient health part uses of the window."""

    result: PictureResult | None
    style_options: GraphStyle
    controller: SessionController
    scene: GraphScene
    view: GraphView
    stepper: BackwardStepper
    backward_dock: QDockWidget
    inspector_dock: QDockWidget
    settings: QSettings  # the thresholds last used are kept there
