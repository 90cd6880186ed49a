"""Fixtures for widget tests: isolated settings, and no leaked windows or threads."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread
from PySide6.QtWidgets import QApplication

from graphviz_app.ui.main_window import MainWindow


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a temporary INI file, so tests never touch the user's."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings: QSettings) -> Iterator[MainWindow]:
    """A shown main window, closed (and its worker thread stopped) afterwards."""
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.fixture(autouse=True)
def _no_leaks(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a visible top-level window or a running QThread."""
    yield
    qapp.processEvents()
    windows = [w for w in qapp.topLevelWidgets() if w.isVisible()]
    gc.collect()
    # type() rather than isinstance(): some torch objects warn when __class__ is read.
    threads = [t for t in gc.get_objects() if issubclass(type(t), QThread) and _running(t)]
    assert not windows, f"leaked windows: {windows}"
    assert not threads, f"leaked running threads: {threads}"


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning() and thread is not QThread.currentThread()
    except RuntimeError:  # its C++ object is already gone
        return False
