"""Going to nodes: links from the inspector, the lesson, find and the Models panel,
the node's context menu, and which node stays selected when a new graph arrives."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import QMainWindow, QMenu, QStatusBar

from graphviz_app.core.graph.diff import counterpart
from graphviz_app.core.graph.records import TensorInfo
from graphviz_app.core.layout.drawing import toggle_module
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.ui.backward.run_controls import RunControls
from graphviz_app.ui.backward.stepper import BackwardStepper
from graphviz_app.ui.graph.scene import GraphScene
from graphviz_app.ui.graph.view import GraphView
from graphviz_app.ui.panels.lesson import find_node


class NavigationHost(Protocol):
    """What going to a node uses of the window."""

    result: PictureResult | None
    style_options: GraphStyle
    scene: GraphScene
    view: GraphView
    stepper: BackwardStepper
    run: RunControls

    @property
    def qt_window(self) -> QMainWindow:
        """The parent of the context menu."""
        ...

    @property
    def status(self) -> QStatusBar:
        """The status bar, for 'no such node'."""
        ...

    def restyle(self, **changes: object) -> None:
        """Lay the picture out again with ``changes`` to its style."""
        ...


class Navigator(QObject):
    """Selects and centres nodes the user asks for, by id or by name."""

    def __init__(self, window: NavigationHost) -> None:
        super().__init__(window.qt_window)
        self.window = window

    def go_to(self, node_id: str) -> None:
        """Select ``node_id`` and centre the view on it."""
        self.window.scene.select_node(node_id)
        item = self.window.scene.nodes.get(node_id)
        if item is not None:
            self.window.view.centerOn(item)

    def go_to_named(self, title: str) -> None:
        """Go to the node whose parameter name or backward class is ``title``."""
        result = self.window.result
        node_id = find_node(result.visible, title) if result else None
        if node_id is None:
            self.window.status.showMessage(f"No node called {title} is drawn now.", 5000)
        else:
            self.go_to(node_id)

    def toggle_module(self, module: str) -> None:
        """Collapse ``module`` into one node, or open it (a fold opens up too)."""
        window = self.window
        folds = window.result.folds if window.result is not None else ()
        style = toggle_module(window.style_options, folds, module)
        window.restyle(collapsed=style.collapsed, folded=style.folded)

    def carried_selection(self, result: PictureResult) -> str:
        """The node of ``result`` to select: the selected node's counterpart (node ids
        are per graph; a training step builds a new one)."""
        selected = self.window.scene.selected_node_id()
        shown = self.window.result
        if not selected or shown is None:
            return selected
        return counterpart(shown.visible, selected, result.visible) or ""

    def show_node_menu(self, node_id: str, where: QPoint) -> None:
        """The node's context menu: run backward to it, collapse its module, zoom."""
        window = self.window
        menu = QMenu(window.qt_window)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        run_to = menu.addAction(
            "Run backward to this node", lambda: window.run.run_to_node(node_id)
        )
        run_to.setEnabled(window.stepper.step_for(node_id) is not None)
        if not run_to.isEnabled():
            run_to.setToolTip("Run backward (F6) first, or backward did not reach this node")
        module = window.result.visible.node(node_id).module if window.result else None
        if module:
            menu.addAction(f"Collapse module {module}", lambda: self.toggle_module(module))
        menu.addAction("Zoom to node", window.view.zoom_to_selection)
        menu.popup(where)


def incoming_grads(result: BackwardResult | None) -> dict[str, TensorInfo]:
    """Node id -> the gradient that reached it in ``result`` (a leaf's .grad after)."""
    return result.trace.received_grads() if result is not None else {}
