"""Torch work, Graphviz runs and file loading, off the GUI thread.

A :class:`SessionWorker` lives on its own ``QThread`` and owns the
:class:`~graphviz_app.session.ModelSession` (live tensors stay on that thread).
The :class:`SessionController` is what the window talks to: it queues requests to
the worker and re-emits plain, immutable results.

Cancel is cooperative first (the job's :class:`CancelToken`); a job that does not
stop within :data:`GRACE_MS` (a user's forward stuck in a Python loop) is
interrupted by :class:`~graphviz_app.ui.job_guard.JobGuard`.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from graphviz_app.core.cancel import Cancelled, CancelToken
from graphviz_app.core.engine import find_engine
from graphviz_app.core.layout import to_dot
from graphviz_app.core.style import GraphStyle
from graphviz_app.core.training import TrainSettings
from graphviz_app.errors import USER_ERRORS, user_message
from graphviz_app.io.export import format_for, write_atomic
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.request import LoadRequest
from graphviz_app.pdf import render_export
from graphviz_app.session import ModelSession, PictureResult
from graphviz_app.ui.job_guard import RETRIES, Interrupted, JobGuard, TimedOut

logger = logging.getLogger(__name__)

#: A job for the worker thread: gets the session, returns plain immutable data.
SessionTask = Callable[[ModelSession], object]

#: RuntimeError too: the session raises it for "no model open" and such.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, RuntimeError)
GRACE_MS = 500  # a cancelled job gets this long to stop by itself before it is interrupted


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
            self._session = ModelSession()
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
            dot = result.dot
            if request.highlighted or request.fills:
                fills = dict(request.fills)
                dot = to_dot(result.visible, result.style, request.highlighted, fills)
            fmt = format_for(target, request.fmt or None)
            engine = self._session_or_new().engine
            write_atomic(target, render_export(result.graph, dot, fmt, engine, request.dpi))
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
                work()
            finally:
                self.guard.end()
        except (Cancelled, Interrupted):
            self._stopped(description)
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


class SessionController(QObject):
    """The window's single entry point for jobs; owns the worker thread."""

    picture_ready = Signal(object)
    exported = Signal(str)
    failed = Signal(str, str)
    busy_changed = Signal(bool, str)
    cancelled = Signal()
    engine_changed = Signal(str)
    backward_ready = Signal(object)
    trained = Signal(object)
    job_finished = Signal(float)
    interrupted = Signal(int)  # the job number a forced interrupt was sent to

    _request_open = Signal(object, object, object)
    _request_task = Signal(int, str, object)
    _request_restyle = Signal(object, object)
    _request_export = Signal(object, object)
    _request_engine = Signal(str)
    _request_forward = Signal(object)
    _request_backward = Signal(bool)
    _request_train = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("session-worker")
        self._worker = SessionWorker()
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._pending = 0
        self._cancel = CancelToken()
        self._task_callbacks: dict[int, Callable[[object], None]] = {}
        self._next_task_id = 0
        self._queued = 0  # jobs queued so far (the worker numbers them the same way)
        #: Stop a job after this many seconds (0: no limit); see :meth:`set_time_limit`.
        self.time_limit_s = 0.0
        #: Called with (kind, request, summary) for a load the user can resolve (consent,
        #: a choice, structure-only); returns True when it handled it, else it is a failure.
        self.refusal_handler: Callable[[str, LoadRequest, str], bool] | None = None
        self._stop_timer = QTimer(self, singleShot=True, interval=GRACE_MS)
        self._stop_timer.timeout.connect(self._on_stop_timer_timeout)
        self._stopping = (0, Interrupted, 0)  # job number, reason, interrupts sent
        self._limit_timer = QTimer(self, singleShot=True)
        self._limit_timer.timeout.connect(self._on_limit_timer_timeout)
        self._wire()
        self._thread.start()

    def _wire(self) -> None:
        worker = self._worker
        self._request_open.connect(worker.open_model)
        self._request_task.connect(worker.run_task)
        worker.task_done.connect(self._on_worker_task_done)
        self._request_restyle.connect(worker.restyle)
        self._request_export.connect(worker.export)
        worker.picture_ready.connect(self.picture_ready)
        worker.exported.connect(self.exported)
        worker.failed.connect(self.failed)
        worker.cancelled.connect(self.cancelled)
        worker.engine_changed.connect(self.engine_changed)
        worker.backward_ready.connect(self.backward_ready)
        worker.trained.connect(self.trained)
        self._request_train.connect(worker.train_step)
        self._request_forward.connect(worker.forward)
        self._request_backward.connect(worker.backward)
        self._request_engine.connect(worker.set_engine)
        worker.started.connect(self._on_worker_started)
        worker.done.connect(self._on_worker_done)
        worker.refused.connect(self._on_worker_refused)

    @property
    def busy(self) -> bool:
        """True while a job is queued or running."""
        return self._pending > 0

    def open_model(self, source: str | LoadRequest, style: GraphStyle) -> None:
        """Queue: open a model file (a path, or a request with the user's choices)."""
        request = LoadRequest.of(source)
        self._queue(lambda: self._request_open.emit(request, style, self._cancel))

    def submit(
        self, description: str, task: SessionTask, on_result: Callable[[object], None]
    ) -> None:
        """Queue: run ``task(session)`` on the worker thread; ``on_result`` gets its
        result on this (the GUI) thread. A failure goes to :attr:`failed`."""
        self._next_task_id += 1
        task_id = self._next_task_id
        self._task_callbacks[task_id] = on_result
        self._queue(lambda: self._request_task.emit(task_id, description, task))

    def restyle(self, style: GraphStyle) -> None:
        """Queue: lay out the current graph in another style."""
        self._queue(lambda: self._request_restyle.emit(style, self._cancel))

    def export(self, result: PictureResult, request: ExportRequest) -> None:
        """Queue: export ``result`` as ``request`` says."""
        self._queue(lambda: self._request_export.emit(result, request))

    def forward(self, style: GraphStyle) -> None:
        """Queue: run the forward pass again and draw the new graph."""
        self._queue(lambda: self._request_forward.emit(style))

    def backward(self, retain_graph: bool) -> None:
        """Queue: run and record backward."""
        self._queue(lambda: self._request_backward.emit(retain_graph))

    def train_step(self, settings: TrainSettings, style: GraphStyle) -> None:
        """Queue: one optimizer step."""
        self._queue(lambda: self._request_train.emit(settings, style))

    def set_engine(self, preference: str) -> None:
        """Queue: switch the Graphviz engine ("" for the default choice)."""
        self._queue(lambda: self._request_engine.emit(preference))

    def cancel(self) -> None:
        """Cancel the running job and every queued one; a job still running after
        :data:`GRACE_MS` (user code in a loop) is interrupted."""
        self._worker.skip_through = self._queued  # an int: written atomically
        self._stop(Interrupted)

    def set_time_limit(self, seconds: float) -> None:
        """Stop any job that runs longer than ``seconds`` (0: no limit), with a message."""
        self.time_limit_s = max(0.0, seconds)
        self._worker.time_limit_s = self.time_limit_s
        self._limit_timer.stop()

    def _stop(self, reason: type[Interrupted]) -> None:
        self._cancel.cancel()
        job = self._worker.guard.running
        if job and self._stopping[0] != job:
            self._stopping = (job, reason, 0)
            self._stop_timer.start()

    def _on_stop_timer_timeout(self) -> None:
        job, reason, sent = self._stopping
        if sent < RETRIES and self._worker.guard.interrupt(job, reason):
            logger.info("job %d ignored its cancel: interrupting it (%s)", job, reason.__name__)
            self._stopping = (job, reason, sent + 1)
            self.interrupted.emit(job)
            self._stop_timer.start()  # again, if the user's code swallowed it

    def _on_limit_timer_timeout(self) -> None:
        if self.busy and self.time_limit_s:
            self._stop(TimedOut)

    def _on_worker_refused(
        self, kind: str, request: LoadRequest, summary: str, details: str
    ) -> None:
        handler = self.refusal_handler
        if handler is None or not handler(kind, request, summary):
            self.failed.emit(summary, details)

    def _queue(self, send: Callable[[], None]) -> None:
        if self._cancel.cancelled:
            self._cancel = CancelToken()  # a fresh token for jobs queued after a cancel
        self._pending += 1
        self._queued += 1
        send()

    def _on_worker_task_done(self, task_id: int, result: object) -> None:
        callback = self._task_callbacks.pop(task_id, None)
        if callback is not None:
            callback(result)

    def _on_worker_started(self, description: str) -> None:
        if self.time_limit_s:
            self._limit_timer.start(int(self.time_limit_s * 1000))
        self.busy_changed.emit(True, description)

    def _on_worker_done(self, seconds: float) -> None:
        self._limit_timer.stop()
        self._pending = max(0, self._pending - 1)
        if not self._pending:
            self._task_callbacks.clear()  # failed or cancelled tasks never report
        self.job_finished.emit(seconds)
        if not self._pending:
            self.busy_changed.emit(False, "")

    def shutdown(self) -> None:
        """Stop the worker thread (waits for the running job to end)."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
