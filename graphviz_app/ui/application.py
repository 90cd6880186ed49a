"""Start the desktop app: logging of uncaught errors, QApplication, MainWindow."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from graphviz_app.io.builtin import DEFAULT_MODEL, resolve_model
from graphviz_app.session import configure_torch_threads
from graphviz_app.ui.main_window import MainWindow

logger = logging.getLogger(__name__)


def run_gui(model: str | None = None) -> int:
    """Open the window on ``model`` (a built-in name or a .py path) and run the event loop."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("graphviz_app")
    app.setOrganizationName("graphviz_app")
    configure_torch_threads()
    window = MainWindow()
    _install_excepthooks(window)
    window.show()
    try:
        window.open_model(resolve_model(model or _last_model(window) or DEFAULT_MODEL))
    except FileNotFoundError as exc:
        QMessageBox.warning(window, "graphviz_app", str(exc))
    return int(app.exec())


def _install_excepthooks(window: MainWindow) -> None:
    """Uncaught errors are logged and shown, never a silent crash."""

    def on_error(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        logger.error("uncaught error\n%s", details)
        window.error_shown.emit(f"Unexpected error: {kind.__name__}: {value}")

    sys.excepthook = on_error
    threading.excepthook = lambda a: on_error(
        a.exc_type, a.exc_value or Exception(), a.exc_traceback
    )


def _last_model(window: MainWindow) -> str | None:
    """The model open when the app was last closed, if its file still exists."""
    last = str(window.settings.value("last_model", "") or "")
    return last if last and Path(last).is_file() else None
