"""One way to make the window's actions: text, shortcut, tooltip and status tip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None

#: Menus and toolbar by action attribute name ("-" is a separator).
MENUS = (
    ("&File", ("open_action", "export_action", "run.walkthrough_action", "-", "quit_action")),
    (
        "&Run",
        (
            "run.forward_action",
            "run.backward_action",
            "run.retain_action",
            "run.train_action",
            "-",
            "stepper.actions",
        ),
    ),
    (
        "&View",
        (
            "fit_action",
            "zoom_in_action",
            "zoom_out_action",
            "zoom_selection_action",
            "find_action",
            "-",
            "rankdir_action",
            "values_action",
            "-",
            "collapse_action",
            "expand_action",
        ),
    ),
    ("&Settings", ("system_dot_action",)),
)
TOOLBAR = (
    "open_action",
    "export_action",
    "fit_action",
    "zoom_in_action",
    "zoom_out_action",
    "run.forward_action",
    "run.backward_action",
    "run.train_action",
)


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
