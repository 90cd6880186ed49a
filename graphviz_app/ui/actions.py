"""One way to make the window's actions: text, shortcut, tooltip and status tip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def make_action(
    parent: QObject, text: str, slot: Callable[..., Any], shortcut: Shortcut = None, tip: str = ""
) -> QAction:
    """A QAction whose tooltip (and status-bar hint) says what it does."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(tip or text.replace("&", "").rstrip("."))
    action.setStatusTip(action.toolTip())
    action.triggered.connect(slot)
    return action
