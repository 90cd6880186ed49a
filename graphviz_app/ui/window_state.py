"""What the window remembers between runs (QSettings) and the View > Panels menu.

Kept: window geometry and dock layout, the Graphviz engine, the last model (saved
when a picture is shown), the theme, presentation mode and Colour-by choice (saved
by :mod:`graphviz_app.ui.appearance` when chosen), and the last folder (dialogs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDockWidget, QMenu

if TYPE_CHECKING:
    from graphviz_app.ui.main_window import MainWindow

GEOMETRY_KEY, STATE_KEY, ENGINE_KEY = "geometry", "window_state", "engine"
STATE_VERSION = 2  # bump when docks change, so an old layout is not half-applied


def restore_window(window: MainWindow) -> None:
    """Engine, geometry and dock layout as they were when the window last closed."""
    if window.settings.value(ENGINE_KEY, "") == "dot":
        window.system_dot_action.setChecked(True)
        window.controller.set_engine("dot")
    geometry = window.settings.value(GEOMETRY_KEY)
    if geometry is not None:
        window.restoreGeometry(geometry)
    state = window.settings.value(STATE_KEY)
    if state is not None:
        window.restoreState(state, STATE_VERSION)


def save_window(window: MainWindow) -> None:
    """Remember geometry and dock layout (called on close)."""
    window.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    window.settings.setValue(STATE_KEY, window.saveState(STATE_VERSION))


def add_panel_toggle(menu: QMenu, dock: QDockWidget) -> None:
    """A checkable entry in View > Panels that shows or hides ``dock``."""
    action = dock.toggleViewAction()
    title = dock.windowTitle()
    action.setToolTip(f"Show or hide the {title} panel")
    action.setStatusTip(action.toolTip())
    menu.addAction(action)
