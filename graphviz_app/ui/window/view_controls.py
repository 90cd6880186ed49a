"""The View menu's navigation: zoom, layout direction, values, collapse depth, find.

Changes to the picture go through ``window.restyle`` (a new layout in the worker);
zooming and finding only move the view.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMainWindow, QToolBar

from graphviz_app.core.graph.collapse import module_paths, modules_at_depth
from graphviz_app.session import PictureResult
from graphviz_app.ui.common.actions import NO_GRAPH, Shortcut, explain_when_disabled, make_action
from graphviz_app.ui.graph.find_bar import FindBar
from graphviz_app.ui.graph.minimap import Minimap
from graphviz_app.ui.graph.view import GraphView

ALL_LEVELS = -1


class ViewHost(Protocol):
    """What the view controls use of the window."""

    result: PictureResult | None
    view: GraphView
    find_bar: FindBar
    find_dock: QDockWidget
    minimap: Minimap

    @property
    def qt_window(self) -> QMainWindow:
        """The window as a Qt parent."""
        ...

    def restyle(self, **changes: object) -> None:
        """Lay the picture out again with ``changes`` to its style."""
        ...

    def set_collapsed(self, modules: frozenset[str]) -> None:
        """Draw ``modules`` as one node each."""
        ...


class ViewControls(QObject):
    """View actions and the collapse-depth control; enabled once a graph is shown."""

    def __init__(self, window: ViewHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self._make_zoom_actions()
        self._make_picture_actions()
        self.depth_box = QComboBox()
        self.depth_box.setPlaceholderText("mixed")  # modules collapsed one by one
        self.depth_box.setToolTip(
            "Module depth drawn: 1 = each top-level module as one node, 2 = one level "
            "deeper, ... (double-click a module's box to toggle just that one)"
        )
        self.depth_box.setStatusTip(self.depth_box.toolTip())
        self.depth_box.activated.connect(self._on_depth_box_activated)
        self.graph_actions = [
            self.fit_action,
            self.zoom_in_action,
            self.zoom_out_action,
            self.zoom_selection_action,
            self.collapse_action,
            self.expand_action,
            self.find_action,
        ]
        for action in self.graph_actions:
            explain_when_disabled(action, NO_GRAPH)
        self.set_result(None)

    def _action(self, text: str, slot: object, shortcut: Shortcut = None, tip: str = "") -> QAction:
        return make_action(self, text, slot, shortcut, tip)  # type: ignore[arg-type]

    def _make_zoom_actions(self) -> None:
        view = self.window.view
        self.fit_action = self._action("&Fit to window", view.fit_all, "F")
        self.zoom_in_action = self._action(
            "Zoom &in", view.zoom_in, QKeySequence.StandardKey.ZoomIn
        )
        self.zoom_out_action = self._action(
            "Zoom &out", view.zoom_out, QKeySequence.StandardKey.ZoomOut
        )
        self.zoom_selection_action = self._action(
            "Zoom to &selection", view.zoom_to_selection, "Z", "Zoom to the selected node"
        )
        self.find_action = self._action(
            "&Find nodes...",
            self._on_find_triggered,
            QKeySequence.StandardKey.Find,
            "Find nodes by name, op, module:path, shape:(3, 4), 'grad is nan', 'grad > 1e3'",
        )
        self.minimap_action = self._action(
            "&Overview map",
            self._on_minimap_toggled,
            "M",
            "Show the whole graph in the corner, with the part on screen framed",
        )
        self.minimap_action.setCheckable(True)
        self.minimap_action.setChecked(True)

    def _make_picture_actions(self) -> None:
        self.rankdir_action = self._action(
            "&Left to right",
            lambda checked: self.window.restyle(rankdir="LR" if checked else "TB"),
            "Ctrl+L",
            "Lay the graph out left to right instead of top down",
        )
        self.rankdir_action.setCheckable(True)
        self.values_action = self._action(
            "Show &values on nodes",
            lambda checked: self.window.restyle(show_values=checked),
            "V",
            "Add a line with each tensor's mean and norm to its node",
        )
        self.values_action.setCheckable(True)
        self.collapse_action = self._action(
            "&Collapse top-level modules",
            lambda: self.set_depth(1),
            "Ctrl+Shift+C",
            "Draw each top-level module as one node (double-click a module to toggle it)",
        )
        self.expand_action = self._action(
            "E&xpand all modules",
            lambda: self.set_depth(ALL_LEVELS),
            "Ctrl+Shift+X",
            "Draw every node of every module",
        )
        self.fold_action = self._action(
            "F&old repeated blocks",
            self._on_fold_toggled,
            "Ctrl+Shift+F",
            "Draw each run of identical blocks (transformer layers, ResNet blocks) as one "
            "node beside its first block; double-click the folded node to open it",
        )
        self.fold_action.setCheckable(True)
        explain_when_disabled(self.fold_action, "this graph has no run of 3 identical blocks")

    def add_to_toolbar(self, toolbar: QToolBar) -> None:
        """The depth control, after the toolbar's actions."""
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Depth "))
        toolbar.addWidget(self.depth_box)

    def set_result(self, result: PictureResult | None) -> None:
        """Enable what needs a graph; offer the depths this graph has."""
        for action in self.graph_actions:
            action.setEnabled(result is not None)
        self.depth_box.setEnabled(result is not None)
        self.depth_box.clear()
        self.fold_action.setEnabled(result is not None and bool(result.foldable))
        self.fold_action.blockSignals(True)  # showing the state is not a user's toggle
        self.fold_action.setChecked(result is not None and bool(result.style.folded))
        self.fold_action.blockSignals(False)
        if result is None:
            return
        deepest = max((p.count(".") + 1 for p in module_paths(result.graph)), default=0)
        self.depth_box.addItem("all levels", ALL_LEVELS)
        self.depth_box.addItem("0: whole model", 0)
        for depth in range(1, deepest + 1):
            self.depth_box.addItem(str(depth), depth)
        self.depth_box.setCurrentIndex(self._depth_index(result))

    def _depth_index(self, result: PictureResult) -> int:
        collapsed = result.style.collapsed
        if not collapsed:
            return 0
        for index in range(1, self.depth_box.count()):
            if modules_at_depth(result.graph, self.depth_box.itemData(index)) == collapsed:
                return index
        return -1  # a mix chosen module by module

    def set_depth(self, depth: int) -> None:
        """Draw modules ``depth`` levels down as one node each (ALL_LEVELS: none)."""
        result = self.window.result
        if result is None:
            return
        collapsed = frozenset() if depth == ALL_LEVELS else modules_at_depth(result.graph, depth)
        self.window.set_collapsed(collapsed)

    def _on_fold_toggled(self, checked: bool) -> None:
        result = self.window.result
        if result is not None:
            self.window.restyle(folded=result.foldable if checked else frozenset())

    def _on_depth_box_activated(self, index: int) -> None:
        self.set_depth(int(self.depth_box.itemData(index)))

    def _on_find_triggered(self) -> None:
        edit = self.window.find_bar.edit
        edit.setFocus()
        edit.selectAll()
        self.window.find_dock.show()

    def _on_minimap_toggled(self, checked: bool) -> None:
        self.window.minimap.set_enabled(checked)
