"""The window's optional parts: each adds its docks, menus and actions to a MainWindow.

A part is a callable taking the window; it is built once, after the window's own
widgets, actions and menus exist, and keeps itself alive as a child of the window.
Add a part here rather than growing ``main_window.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from graphviz_app.ui.main_window import MainWindow

WindowPart = Callable[["MainWindow"], object]


def window_parts() -> list[WindowPart]:
    """The parts every MainWindow gets, in the order they are built.

    Imported here, lazily, so that a part may import ``main_window`` itself.
    """
    from graphviz_app.ui.opener import ModelOpener
    from graphviz_app.ui.training_part import TrainingControls

    return [TrainingControls, ModelOpener]


def install_parts(window: MainWindow) -> dict[str, object]:
    """Build every part for ``window``; returns them by class name (tests look them up)."""
    built = {}
    for part in window_parts():
        instance = part(window)
        built[type(instance).__name__] = instance
    return built


def menu_named(window: MainWindow, title: str) -> QMenu:
    """The window's menu called ``title`` ("&Run"), created at the end if missing."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and menu.title() == title:
            return menu
    return window.menuBar().addMenu(title)
