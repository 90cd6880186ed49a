"""What every window part that adds a dock uses of the window: the parts declare their
own hosts on top of this one, so that none imports the window."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStatusBar, QWidget


class DockHost(Protocol):
    """The window as a part with a dock sees it: the Qt window, its picture signal,
    its status bar and a way to add a dock listed in View > Panels."""

    @property
    def qt_window(self) -> QMainWindow:
        """The window: its menus, toolbar and docks."""
        ...

    @property
    def picture_shown(self) -> SignalInstance:
        """Emitted once a picture is on screen."""
        ...

    @property
    def status(self) -> QStatusBar:
        """The status bar, for short messages."""
        ...

    def add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, width: int
    ) -> QDockWidget:
        """A dock listed in View > Panels."""
        ...
