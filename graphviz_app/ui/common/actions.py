"""One way to make the window's actions: text, shortcut, tooltip and status tip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None

#: Menus and toolbar by action attribute name ("-" is a separator).
MENUS = (
    (
        "&File",
        (
            "files.open_action",
            "files.export_action",
            "run.walkthrough_action",
            "-",
            "files.quit_action",
        ),
    ),
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
            "views.fit_action",
            "views.zoom_in_action",
            "views.zoom_out_action",
            "views.zoom_selection_action",
            "views.find_action",
            "views.minimap_action",
            "-",
            "views.rankdir_action",
            "views.values_action",
            "-",
            "views.collapse_action",
            "views.fold_action",
            "views.expand_action",
            "-",
            "appearance.presentation_action",
        ),
    ),
    ("&Settings", ("files.system_dot_action",)),
)
TOOLBAR = (
    "files.open_action",
    "files.export_action",
    "-",
    "views.fit_action",
    "views.zoom_in_action",
    "views.zoom_out_action",
    "-",
    "run.forward_action",
    "run.backward_action",
    "run.train_action",
)
#: Shorter toolbar texts (the menus keep the whole name, the tooltips say more): at
#: 1280 px the long ones pushed Depth and Check health into the overflow menu.
TOOLBAR_TEXT = {
    "files.open_action": "Open",
    "files.export_action": "Export",
    "views.fit_action": "Fit",
    "views.zoom_in_action": "+",
    "views.zoom_out_action": "\u2212",  # a minus sign, as wide as the plus
    "run.train_action": "Train step",
}


NO_GRAPH = "open a model first"
WHY_DISABLED = "why_disabled"  # the QAction property explain_when_disabled shows


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


def explain_when_disabled(action: QAction, reason: str) -> None:
    """Keep ``reason`` in ``action``'s tooltip and status tip while it is disabled
    (:func:`set_available` changes the reason)."""
    base = action.toolTip()
    action.setProperty(WHY_DISABLED, reason)

    def update() -> None:
        why = action.property(WHY_DISABLED)
        tip = base if action.isEnabled() else f"{base}. Unavailable now: {why}"
        if action.toolTip() != tip:  # setToolTip emits changed again
            action.setToolTip(tip)
            action.setStatusTip(tip)

    action.changed.connect(update)
    update()


def set_available(action: QAction, why_not: str, fallback: str) -> None:
    """Enable ``action`` when ``why_not`` is empty, else disable it saying ``why_not``
    (``fallback``: the reason given once it is enabled and disabled again plainly)."""
    action.setProperty(WHY_DISABLED, why_not or fallback)
    action.setEnabled(not why_not)
    action.changed.emit()  # the reason may change while the action stays disabled


def menu_named(window: QMainWindow, title: str) -> QMenu:
    """The window's menu called ``title`` ("&Run"), created at the end if missing."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and menu.title() == title:
            return menu
    return window.menuBar().addMenu(title)


def add_before_last_group(menu: QMenu, action: QAction) -> None:
    """Add ``action`` to ``menu`` before its last separator: a part's entry joins the
    menu's own, and the last group (File's Quit) stays last."""
    separators = [a for a in menu.actions() if a.isSeparator()]
    if separators:
        menu.insertAction(separators[-1], action)
    else:
        menu.addAction(action)
