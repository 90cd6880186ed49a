"""Cooperative cancellation for long jobs (layout runs, training loops)."""

from __future__ import annotations

import threading


class Cancelled(Exception):  # noqa: N818 (a cancel is not an error)
    """The user cancelled the job; not an error to report."""


class CancelToken:
    """Set from the GUI thread, checked by the worker between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` when the job was cancelled."""
        if self._event.is_set():
            raise Cancelled("cancelled")
