"""The window on the user's live objects: what ``graphviz_app.show()`` opens, and the
feed that keeps it up to date while a ``watch()``-ed loop runs.

One window serves every call (it is reused until the user closes it). Opening live
objects goes through the window's controller like everything else: the worker thread
captures and lays out; the window shows the result. A watched loop may run on the
GUI thread itself (IPython with ``%gui qt``): the feed then lets Qt handle its
events after each step, so the window keeps painting while the loop runs.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, QThread, Signal
from PySide6.QtWidgets import QApplication

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.training.trainer import TrainRecord
from graphviz_app.session import BackwardResult, PictureResult
from graphviz_app.session.live import LiveModel, live_graph
from graphviz_app.ui.window.main_window import MainWindow

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

#: Settings for windows opened by show() (None: the user's own); tests set a file.
SETTINGS: QSettings | None = None
_OPEN: dict[str, Any] = {}  # "window": the MainWindow, "feed": its LiveFeed


def application() -> QApplication:
    """The running Qt application, or a new one; a clear error without a display."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("show() opens a window: call it from the main thread.")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    )
    if headless:
        raise RuntimeError(
            "show() opens a desktop window, and this machine has no display (no DISPLAY "
            "or WAYLAND_DISPLAY). In a notebook on a server, use draw() and walkthrough()."
        )
    app = QApplication(sys.argv[:1] or ["graphviz_app"])
    app.setApplicationName("graphviz_app")
    app.setOrganizationName("graphviz_app")
    return app


def show_live(live: LiveModel) -> MainWindow:
    """Open ``live`` in the live window (made, or reused), raised to the front."""
    application()
    window = _window()
    window.show()
    window.raise_()
    window.activateWindow()
    feed: LiveFeed = _OPEN["feed"]
    feed.adopt(live)
    return window


def _window() -> MainWindow:
    window: MainWindow | None = _OPEN.get("window")
    if window is not None and window.isVisible():
        return window
    if window is not None:  # closed by the user: its worker has stopped
        window.deleteLater()
    window = MainWindow(settings=SETTINGS)
    _OPEN["window"], _OPEN["feed"] = window, LiveFeed(window)
    return window


def current_window() -> MainWindow | None:
    """The window show() opened, while it is open."""
    window: MainWindow | None = _OPEN.get("window")
    return window if window is not None and window.isVisible() else None


def current_feed() -> LiveFeed | None:
    """The open window's feed, which watched loops report to."""
    return _OPEN.get("feed") if current_window() is not None else None


def run_until_closed() -> None:
    """Run Qt's event loop until the last window closes (a plain script's show())."""
    application().exec()


class LiveFeed(QObject):
    """Adopts live objects into one window and follows watched loops there."""

    _captured = Signal(str, str, object)  # watch key, name, (graph, trace); any thread
    _recorded = Signal(str, object)  # watch key, TrainRecord; any thread

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._queued: LiveModel | None = None  # the newest graph waiting for the worker
        self._busy = False
        self._records: dict[str, list[TrainRecord]] = {}  # by model path, not plotted yet
        self._captured.connect(self._on_captured)
        self._recorded.connect(self._on_recorded)
        window.picture_shown.connect(self._on_window_picture_shown)

    def adopt(self, live: LiveModel) -> None:
        """Open ``live`` in the window (a newer one queued meanwhile replaces it)."""
        self._queued = live
        if not self._busy:
            self._next()

    def _next(self) -> None:
        live, self._queued = self._queued, None
        if live is None:
            self._busy = False
            return
        self._busy = True
        style = self.window.style_options

        def task(session: ModelSession) -> PictureResult:
            return session.adopt(live, style)

        self.window.controller.submit(f"Opening {live.name}", task, lambda r: self._shown(live, r))
        # A failed adoption reports through the controller; the queue must go on.
        self.window.controller.busy_changed.connect(self._on_busy_changed)

    def _shown(self, live: LiveModel, result: object) -> None:
        assert isinstance(result, PictureResult)
        controller = self.window.controller
        controller.picture_ready.emit(result)
        if live.trace is not None:
            controller.backward_ready.emit(BackwardResult(live.trace, result.graph, 0.0))

    def _on_busy_changed(self, busy: bool, description: str) -> None:
        if not busy:
            self.window.controller.busy_changed.disconnect(self._on_busy_changed)
            self._next()

    # --- a watched loop (called on the loop's thread) ----------------------------
    def captured(self, key: str, name: str, graph: AutogradGraph, trace: BackwardTrace) -> None:
        """A captured step of watch ``key``: its graph and backward go to the window."""
        self._captured.emit(key, name, (graph, trace))
        self._let_qt_paint()

    def recorded(self, key: str, record: TrainRecord) -> None:
        """A finished step of watch ``key``: it goes to the Training dock's plots."""
        self._recorded.emit(key, record)
        self._let_qt_paint()

    def _let_qt_paint(self) -> None:
        if QThread.currentThread() is self.thread():
            QApplication.processEvents()

    def _on_captured(self, key: str, name: str, step: tuple[AutogradGraph, BackwardTrace]) -> None:
        if self.window.isVisible():
            graph, trace = step
            self.adopt(live_graph(graph, f"{name} (watched)", trace, key))

    def _on_recorded(self, key: str, record: TrainRecord) -> None:
        self._records.setdefault(f"<{key}>", []).append(record)
        self._on_window_picture_shown()

    def _on_window_picture_shown(self) -> None:
        result = self.window.result
        waiting = self._records.pop(result.model_path, []) if result is not None else []
        if waiting:  # after the Training dock has set up for this graph
            parts = self.window.parts["TrainingControls"]
            parts.plots.add_records(waiting)  # type: ignore[attr-defined]
            last = waiting[-1]
            self.window.status.showMessage(f"Step {last.step} of your loop: loss {last.loss:.4g}")
