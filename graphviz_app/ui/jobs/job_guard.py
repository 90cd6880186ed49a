"""Stop a job on the worker thread that does not stop by itself.

:class:`JobGuard` numbers the worker's jobs and raises :class:`Interrupted` in the
worker thread (``PyThreadState_SetAsyncExc``) for one job by number, never for
another job or an idle thread. Python delivers it between bytecodes, so ``with``
blocks and ``finally`` clauses (the recorder's hook removal) still run; code inside
one long C++ call (a huge matmul) stops only when that call returns.
"""

from __future__ import annotations

import ctypes
import threading

RETRIES = 6  # interrupts sent to a job that catches them (a bare except:) before giving up


class Interrupted(BaseException):
    """Raised inside the worker thread to stop a job that ignored its cancel token.

    A BaseException, so the user's ``except Exception:`` does not swallow it."""


class TimedOut(Interrupted):
    """The job ran past the controller's time limit."""


class JobGuard:
    """Numbers the worker's jobs and interrupts one by number, never another or an idle
    thread: an interrupt that has not landed when its job ends is withdrawn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0  # the running job's number, 0 when idle
        self._count = 0
        self._thread_id = 0
        self.reason: type[Interrupted] | None = None  # why the running job was stopped

    @property
    def running(self) -> int:
        """The running job's number (0 when idle); read from any thread."""
        with self._lock:
            return self._running

    def begin(self) -> None:
        """Called by the worker thread as a job starts."""
        with self._lock:
            self._count += 1
            self._running, self._thread_id, self.reason = self._count, threading.get_ident(), None

    def end(self) -> None:
        """Called by the worker thread as a job ends, also while an interrupt lands."""
        for _ in range(RETRIES + 1):
            try:
                with self._lock:
                    self._running = 0
                    _set_async_exc(self._thread_id, None)  # withdraw one not yet raised
                return
            except Interrupted:
                continue  # it landed here: the job is over anyway

    def interrupt(self, job: int, reason: type[Interrupted]) -> bool:
        """Raise ``reason`` in the worker thread if job number ``job`` still runs."""
        with self._lock:
            if not job or job != self._running:
                return False
            self.reason = self.reason or reason
            _set_async_exc(self._thread_id, reason)
            return True


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )
