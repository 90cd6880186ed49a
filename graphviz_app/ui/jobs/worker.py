"""Torch work, Graphviz runs and file loading, off the GUI thread.

A :class:`SessionWorker` lives on its own ``QThread`` and owns the
:class:`~graphviz_app.session.ModelSession` (live tensors stay on that thread).
:class:`~graphviz_app.ui.jobs.controller.SessionController` is what the window talks
to: it queues requests to the worker and re-emits plain, immutable results.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from graphviz_app.core.layout.dot import Marks
from graphviz_app.core.layout.engine import find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken
from graphviz_app.core.runtime.user_code import ABORTS, describe_abort, guard_process_exit
from graphviz_app.core.training.settings import TrainSettings
from graphviz_app.errors import USER_ERRORS, user_message
from graphviz_app.io.export import format_for, write_atomic
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.request import LoadRequest
from graphviz_app.pdf import render_export
from graphviz_app.session import PictureResult
from graphviz_app.ui.jobs.job_guard import Interrupted, JobGuard, TimedOut

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

logger = logging.getLogger(__name__)

#: A job for the worker thread: gets the session, returns plain immutable data.
SessionTask = Callable[["ModelSession"], object]

#: RuntimeError too: the session raises it for "no model open" and such.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, RuntimeError)


@dataclass(frozen=True)
class ExportRequest:
    """Where and how to export: format from ``fmt`` or the extension."""

    path: str
    fmt: str = ""
    dpi: float | None = None
    highlighted: frozenset[str] = frozenset()  # node ids drawn selected in the file
    fills: tuple[tuple[str, str], ...] = ()  # node id, colour: colouring by gradient


class SessionWorker(QObject):
    """Runs one job at a time on the worker thread; emits results or failures."""

    picture_ready = Signal(object)  # PictureResult
    exported = Signal(str)  # the path written
    failed = Signal(str, str)  # summary, details
    started = Signal(str)  # job description
    done = Signal(float)  # seconds the job took
    cancelled = Signal()
    engine_changed = Signal(str)  # the new engine's description
    backward_ready = Signal(object)  # BackwardResult
    trained = Signal(object)  # TrainRecord
    task_done = Signal(int, object)  # task id, its result
    refused = Signal(str, object, str, str)  # error kind, LoadRequest, summary, details

    def __init__(self) -> None:
        super().__init__()
        self._session: ModelSession | None = None
        self.guard = JobGuard()
        self.time_limit_s = 0.0  # set by the controller before it stops a job for time
        # Jobs are numbered in the order they were queued (one _job call each); the
        # controller raises this on Cancel so that jobs waiting in the queue never start.
        self.skip_through = 0
        self._jobs_seen = 0

    def _session_or_new(self) -> ModelSession:
        if self._session is None:  # created here so it is made on the worker thread
            self._session = new_session()
        return self._session

    @Slot(str)
    def set_engine(self, preference: str) -> None:
        """Use another Graphviz engine (``graphviz-pure``, ``dot`` or a path) from now on."""

        def switch() -> None:
            engine = find_engine(preference or None)
            self._session_or_new().engine = engine
            self.engine_changed.emit(engine.describe())

        self._job("Switching the Graphviz engine", switch)

    @Slot(object, object, object)
    def open_model(self, request: LoadRequest, style: GraphStyle, cancel: CancelToken) -> None:
        """Load, run forward, capture and lay out the model ``request`` names.

        On failure the session keeps the model it had (the one still on screen). A
        load error the user can resolve (consent, a choice, structure-only) goes to
        :attr:`refused` instead of :attr:`failed`."""

        def run() -> None:
            try:
                self.picture_ready.emit(self._session_or_new().open(request, style, cancel))
            except ModelFileError as exc:
                if not exc.kind:
                    raise
                self.refused.emit(exc.kind, request, user_message(exc), exc.details)

        self._job(f"Opening {Path(request.path).name}", run)

    @Slot(int, str, object)
    def run_task(self, task_id: int, description: str, task: SessionTask) -> None:
        """Run ``task(session)`` here and emit its (plain, immutable) result."""
        self._job(description, lambda: self.task_done.emit(task_id, task(self._session_or_new())))

    @Slot(object)
    def forward(self, style: GraphStyle) -> None:
        """Run the open model's forward pass again (a new graph) and draw it."""

        def run() -> None:
            session = self._session_or_new()
            session.forward()
            self.picture_ready.emit(session.picture(style))

        self._job("Running forward", run)

    @Slot(bool)
    def backward(self, retain_graph: bool) -> None:
        """Run and record backward from the latest forward."""
        self._job(
            "Running backward",
            lambda: self.backward_ready.emit(self._session_or_new().backward(retain_graph)),
        )

    @Slot(object, object)
    def train_step(self, settings: TrainSettings, style: GraphStyle) -> None:
        """One optimizer step; emits the new picture, its backward pass and the record."""

        def step() -> None:
            picture, backward, record = self._session_or_new().train_step(settings, style)
            self.picture_ready.emit(picture)
            self.backward_ready.emit(backward)
            self.trained.emit(record)

        self._job("Training one step", step)

    @Slot(object, object)
    def restyle(self, style: GraphStyle, cancel: CancelToken) -> None:
        """Lay out the current graph again in a new style."""
        self._job(
            "Laying out",
            lambda: self.picture_ready.emit(self._session_or_new().picture(style, cancel)),
        )

    @Slot(object, object)
    def export(self, result: PictureResult, request: ExportRequest) -> None:
        """Write ``result``'s graph as ``request`` says (atomically)."""

        def write() -> None:
            target = Path(request.path)
            marks = Marks(request.highlighted, dict(request.fills))
            fmt = format_for(target, request.fmt or None)
            data = render_export(
                result.graph, result.visible, result.layout, result.style, fmt, marks, request.dpi
            )
            write_atomic(target, data)
            self.exported.emit(str(target))

        self._job(f"Exporting {Path(request.path).name}", write)

    def _job(self, description: str, work: Callable[[], None]) -> None:
        self._jobs_seen += 1
        if self._jobs_seen <= self.skip_through:  # cancelled while it waited its turn
            self.cancelled.emit()
            self.done.emit(0.0)
            return
        self.started.emit(description)
        start = time.perf_counter()
        try:
            try:
                self.guard.begin()
                with guard_process_exit():  # a model's os._exit() raises instead
                    work()
            finally:
                self.guard.end()
        except (Cancelled, Interrupted):
            self._stopped(description)
        except ABORTS as exc:  # a model's sys.exit() or KeyboardInterrupt the loaders missed
            self.failed.emit(f"The model's code {describe_abort(exc)}.", traceback.format_exc())
        except EXPECTED_ERRORS as exc:
            self.failed.emit(
                user_message(exc),
                getattr(exc, "details", "") or traceback.format_exc(),
            )
        except Exception as exc:  # a bug: report it, keep the worker alive
            logger.exception("unexpected error in %s", description)
            self.failed.emit(
                f"Unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc()
            )
        finally:
            self.done.emit(time.perf_counter() - start)

    def _stopped(self, description: str) -> None:
        if self.guard.reason is TimedOut:
            self.failed.emit(
                f"{description} did not finish within {self.time_limit_s:g} s and was stopped "
                "(an endless loop in the model's code?). Run > Time limit changes the limit.",
                "",
            )
        else:
            self.cancelled.emit()


def new_session() -> ModelSession:
    """A session, made on the worker thread: the first one imports torch (about 2 s),
    in the background, while the window is already on screen."""
    import pyqtgraph  # noqa: F401  (the Training dock's plots: their import is done here too)

    from graphviz_app.core.runtime.threads import configure_torch_threads
    from graphviz_app.session.model_session import ModelSession

    configure_torch_threads()
    return ModelSession()
