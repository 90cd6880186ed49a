"""The window's single entry point for jobs: it owns the worker thread.

The :class:`SessionController` queues requests to the
:class:`~graphviz_app.ui.jobs.worker.SessionWorker` on its ``QThread`` and re-emits
plain, immutable results. Cancel is cooperative first (the job's
:class:`CancelToken`); a job that does not stop within :data:`GRACE_MS` (a user's
forward stuck in a Python loop) is interrupted by
:class:`~graphviz_app.ui.jobs.job_guard.JobGuard`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.settings import TrainSettings
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import PictureResult
from graphviz_app.ui.jobs.job_guard import RETRIES, Interrupted, TimedOut
from graphviz_app.ui.jobs.worker import ExportRequest, SessionTask, SessionWorker

logger = logging.getLogger(__name__)

GRACE_MS = 500  # a cancelled job gets this long to stop by itself before it is interrupted


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
        self.wait_on_shutdown = True
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
        # A task that never looks at the cancel token (inspecting a file) still ends
        # with a result: cancelled, it must not go on (open the file, ask a question).
        self._task_callbacks.clear()
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
        """Stop the worker thread: waits for the running job to end, unless
        ``wait_on_shutdown`` is off (the app's window: the process ends right after)."""
        if self._thread.isRunning():
            self._thread.quit()
            if self.wait_on_shutdown:
                self._thread.wait()
