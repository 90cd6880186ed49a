"""What the window remembers between runs (QSettings) and the View > Panels menu.

Kept: window geometry and dock layout, the Graphviz engine, the last model (saved
when a picture is shown), the theme, presentation mode and Colour-by choice (saved
by :mod:`graphviz_app.ui.window.appearance` when chosen), and the last folder (dialogs).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabBar
from shiboken6 import isValid

GEOMETRY_KEY, STATE_KEY, ENGINE_KEY = "geometry", "window_state", "engine"
STATE_VERSION = 2  # bump when docks change, so an old layout is not half-applied


def uses_system_dot(settings: QSettings) -> bool:
    """Whether the user chose the system's Graphviz (dot) last time."""
    return settings.value(ENGINE_KEY, "") == "dot"


def remember_engine(settings: QSettings, preference: str) -> None:
    """Keep the engine choice ("dot", or "" for the bundled one) for the next start."""
    settings.setValue(ENGINE_KEY, preference)


def restore_window(window: QMainWindow, settings: QSettings) -> None:
    """Geometry and dock layout as they were when the window last closed."""
    geometry = settings.value(GEOMETRY_KEY)
    if geometry is not None:
        window.restoreGeometry(geometry)
    state = settings.value(STATE_KEY)
    if state is not None:
        window.restoreState(state, STATE_VERSION)
    # Qt makes a dock tab bar per tabify; one made before the window's first layout
    # and replaced since (a tabbed dock hidden, this restore) is never hidden by Qt and
    # showed as a second, stale bar. The first layout shows again the bars in use.
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        bar.hide()


def save_window(window: QMainWindow, settings: QSettings) -> None:
    """Remember geometry and dock layout (called on close)."""
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    settings.setValue(STATE_KEY, window.saveState(STATE_VERSION))


def add_panel_toggle(menu: QMenu, dock: QDockWidget) -> None:
    """A checkable entry in View > Panels that shows or hides ``dock``."""
    action = dock.toggleViewAction()
    title = dock.windowTitle()
    action.setToolTip(f"Show or hide the {title} panel")
    action.setStatusTip(action.toolTip())
    menu.addAction(action)


def fit_bottom_to_tab(window: QMainWindow, heights: dict[QDockWidget, int]) -> None:
    """Give the bottom dock area the height of the tab brought to the front: the
    Backward pass needs a few lines, the Training dock its form and plots; the graph
    keeps the rest (a small screen has little to spare)."""

    def follow(dock: QDockWidget, height: int, shown: bool) -> None:
        if not isValid(window):  # docks are hidden while the closed window is destroyed
            return
        bottom = window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
        if shown and bottom and not dock.isFloating():
            window.resizeDocks([dock], [height], Qt.Orientation.Vertical)

    for dock, height in heights.items():
        dock.visibilityChanged.connect(lambda shown, d=dock, h=height: follow(d, h, shown))
        if dock.isVisible() or not dock.isHidden():
            follow(dock, height, True)
