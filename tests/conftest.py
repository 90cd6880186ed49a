"""Test-wide settings.

Qt runs offscreen (set before any Qt application exists). Graphviz's disk cache is off
(tests count Graphviz runs and must not read or fill the user's cache; its own tests
point it at a temporary folder). With
``GRAPHVIZ_APP_FORBID_QT=1`` (CI runs ``tests/core`` that way) the run fails if
anything imported PySide6: the core must work without Qt.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["GRAPHVIZ_APP_LAYOUT_CACHE"] = "off"  # subprocesses (the CLI's tests) inherit it


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("GRAPHVIZ_APP_FORBID_QT") != "1":
        return
    qt_modules = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    if qt_modules:
        print(f"\nQt was imported by code under test: {qt_modules[:5]}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/core/golden instead of comparing",
    )


@pytest.fixture
def double_click_module(qtbot):  # type: ignore[no-untyped-def]
    """Double-click the empty part of a module's box in a MainWindow, as a user would."""
    from PySide6.QtCore import QPointF, Qt

    def double_click(window, module: str) -> None:  # type: ignore[no-untyped-def]
        box = next(c for c in window.scene.clusters.values() if c.module == module)
        rect = box.sceneBoundingRect()
        window.view.centerOn(rect.topLeft() + QPointF(120, 60))
        for dx in range(4, int(rect.width()) - 4, 6):
            point = rect.topLeft() + QPointF(dx, 5)
            hits = window.scene.items(point)
            if hits and hits[0] is box:
                pos = window.view.mapFromScene(point)
                # Move there first: a double-click is only one if both clicks land on
                # the same spot, and Qt remembers where the pointer last pressed.
                qtbot.mouseMove(window.view.viewport(), pos)
                qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
                return
        raise AssertionError(f"no empty spot on the box of module {module!r}")

    return double_click


# --- Qt fixtures (Qt is imported inside them: tests/core must run without Qt) -----


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings in a temporary INI file, so tests never touch the user's."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):  # type: ignore[no-untyped-def]
    """A shown main window, closed (and its worker thread stopped) afterwards."""
    from graphviz_app.ui.window.main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.fixture
def stepped(qtbot, window):  # type: ignore[no-untyped-def]
    """The window on two_layer_net with a recorded backward pass to step through."""
    from graphviz_app.io.builtin import resolve_model

    with qtbot.waitSignal(window.picture_shown, timeout=60_000):
        window.open_model(resolve_model("two_layer_net"))
    with qtbot.waitSignal(window.controller.backward_ready, timeout=60_000):
        window.run.backward_action.trigger()
    return window


@pytest.fixture(autouse=True)
def _no_leaked_windows_or_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a Qt test that leaves a visible top-level window or a running QThread."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    app.processEvents()
    windows = [w for w in app.topLevelWidgets() if w.isVisible()]
    gc.collect()
    # type() rather than isinstance(): some torch objects warn when __class__ is read.
    threads = [t for t in gc.get_objects() if issubclass(type(t), QThread) and _running(t)]
    assert not windows, f"leaked windows: {windows}"
    assert not threads, f"leaked running threads: {threads}"


def _running(thread) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(thread.isRunning()) and thread is not type(thread).currentThread()
    except RuntimeError:  # its C++ object is already gone
        return False
