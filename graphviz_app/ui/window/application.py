"""Start the desktop app: uncaught errors to the window's error box, QApplication, MainWindow.

Like a native app: the window is on screen before torch and pyqtgraph are imported
(its modules import neither; ``tests/test_startup_imports.py`` holds them to it). The
first job, opening the model, imports torch on the worker thread while the window
shows; the model opens when it is in. Closing the window ends the process at once:
the settings are written, and nothing waits for a job still running or for the
interpreter's teardown (about 2 s with torch loaded).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from graphviz_app.core.layout.engine import EngineError, find_engine
from graphviz_app.io.builtin import DEFAULT_MODEL, resolve_model
from graphviz_app.ui.window.main_window import MainWindow

logger = logging.getLogger(__name__)


def run_gui(model: str | None = None) -> int:
    """Open the window on ``model`` (a built-in name or a .py path) and run the event loop."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("graphviz_app")
    app.setOrganizationName("graphviz_app")
    window = MainWindow()
    window.controller.wait_on_shutdown = False  # the process ends right after
    install_excepthooks(window)
    window.show()
    problem = engine_problem(window)
    if problem:
        window.show_error(problem, "")
    else:
        try:
            window.open_model(resolve_model(model or _last_model(window) or DEFAULT_MODEL))
        except FileNotFoundError as exc:
            window.show_error(str(exc), "")
    status = int(app.exec())
    return end_process(window, status)


def end_process(window: MainWindow, status: int) -> int:
    """End the process now that the window is closed: write the settings, flush the
    logs and streams, and exit without the interpreter's teardown (which, with torch
    loaded, takes seconds) or waiting for a job that is still running."""
    window.settings.sync()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def engine_problem(window: MainWindow) -> str:
    """Why no Graphviz engine can lay graphs out ("" when one can)."""
    preference = str(window.settings.value("engine", "") or "") or None
    try:
        find_engine(preference)
    except EngineError as exc:
        return f"No usable Graphviz engine: {exc}"
    return ""


class ErrorChannel(QObject):
    """Carries an uncaught error from any thread to the GUI thread's error box."""

    report = Signal(str, str)  # summary, details


def install_excepthooks(window: MainWindow) -> Callable[[], None]:
    """Send uncaught errors (GUI thread and Python threads) to ``window``'s error box.

    The window keeps running with its graph. Returns a function restoring the old hooks.
    """
    channel = ErrorChannel(window)
    # Emitted from another thread, the signal is queued to the window's thread.
    channel.report.connect(window.show_error)
    old_hook, old_thread_hook = sys.excepthook, threading.excepthook

    def on_error(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        logger.error("uncaught error\n%s", details)
        channel.report.emit(f"Unexpected error: {kind.__name__}: {value}", details)

    def on_thread_error(args: threading.ExceptHookArgs) -> None:
        on_error(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    sys.excepthook = on_error
    threading.excepthook = on_thread_error

    def restore() -> None:
        sys.excepthook, threading.excepthook = old_hook, old_thread_hook

    return restore


def _last_model(window: MainWindow) -> str | None:
    """The model open when the app was last closed, if its file still exists."""
    last = str(window.settings.value("last_model", "") or "")
    return last if last and Path(last).is_file() else None
