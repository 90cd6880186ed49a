"""Dock tab bars: one bar per group of tabbed docks, naming only docks that are shown.

Qt makes a tab bar each time docks are tabified; a bar made before the window was
first laid out, and then replaced (a dock hidden, a saved layout restored), stayed on
screen as a second "Inspector | Gradient health" bar with stale tabs.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def _bars_on_screen(window: MainWindow) -> list[list[str]]:
    """The tab texts of each tab bar drawn inside the window (Qt parks unused bars
    outside it)."""
    QApplication.processEvents()
    inside = QRect(0, 0, window.width(), window.height())
    bars = []
    for bar in window.findChildren(QTabBar):
        top_left = bar.mapTo(window, bar.rect().topLeft())
        if bar.isVisible() and inside.intersects(QRect(top_left, bar.size())):
            bars.append([bar.tabText(i).replace("&&", "&") for i in range(bar.count())])
    return bars


def _assert_one_bar_per_group(window: MainWindow) -> None:
    shown = {d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()}
    bars = [b for b in _bars_on_screen(window) if set(b) & {"Inspector", "Backward pass"}]
    titles = [title for bar in bars for title in bar]
    assert len(titles) == len(set(titles)), f"a dock tabbed twice: {bars}"
    assert set(titles) <= shown, f"a tab for a hidden dock: {bars}, shown {shown}"


def test_after_the_health_check_the_inspector_tabs_show_once(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.resize(1280, 800)
    window.appearance.themes.choose("dark")
    qtbot.waitExposed(window)
    _assert_one_bar_per_group(window)  # the health dock is hidden: no bar names it
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    part = window.parts["HealthControls"]
    part.check_action.trigger()
    qtbot.waitUntil(lambda: part.report is not None and not window.controller.busy, timeout=WAIT_MS)
    _assert_one_bar_per_group(window)
    assert ["Inspector", "Gradient health"] in _bars_on_screen(window)
    window.resize(1281, 801)
    _assert_one_bar_per_group(window)


def test_a_restored_layout_leaves_no_stale_tab_bar(qtbot, window, settings) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    part = window.parts["HealthControls"]
    part.check_action.trigger()
    qtbot.waitUntil(lambda: part.report is not None and not window.controller.busy, timeout=WAIT_MS)
    window.close()  # saves the dock layout
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    _assert_one_bar_per_group(again)
    again.close()
