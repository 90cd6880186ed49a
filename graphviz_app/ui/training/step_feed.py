"""Hand training steps from the worker to the GUI without flooding its event queue.

The worker can make steps faster than the GUI draws them. Emitting a queued signal
per step would pile up events the GUI thread then works through for seconds (timers
starve, Stop is slow to take effect; queued signals are handled before timers). So
the GUI polls the feed on a timer instead: it takes all waiting records at once and
draws only the latest step's picture.

The worker also waits (up to ``max_wait`` seconds) for the GUI to take the previous
steps before adding more. Without that, the worker's Python code holds the GIL
most of the time and the GUI thread, which needs it for every Qt call it makes from
Python, draws one step while the worker makes dozens. Waiting on an event releases
the GIL, so every step gets drawn and the window stays responsive.
"""

from __future__ import annotations

import threading

from graphviz_app.core.training.settings import TrainRecord
from graphviz_app.session import StepResult


class StepFeed:
    """A thread-safe mailbox: ``put`` on the worker, ``take`` on the GUI thread."""

    def __init__(self, max_wait: float = 1.0) -> None:
        self._max_wait = max_wait
        self._taken = threading.Event()
        self._taken.set()
        self._lock = threading.Lock()
        self._records: list[TrainRecord] = []
        self._latest: StepResult | None = None

    def put(self, step: StepResult) -> None:
        """Add a step (worker thread).

        Waits first, at most ``max_wait`` seconds, until the GUI has drawn what it
        was last told about (a closed window never blocks training for long).
        """
        self._taken.wait(self._max_wait)
        with self._lock:
            self._records.append(step.record)
            self._latest = step
            self._taken.clear()

    def take(self) -> tuple[list[TrainRecord], StepResult | None]:
        """Every record since the last take, and the latest step (GUI thread)."""
        with self._lock:
            records, latest = self._records, self._latest
            self._records, self._latest = [], None
        return records, latest

    def drawn(self) -> None:
        """The GUI has shown what it took: the worker may add the next step."""
        self._taken.set()


class ProgressBox:
    """The latest (done, total) of a job: ``put`` on the worker (as often as it
    likes), ``take`` on the GUI thread's timer. A queued signal per element would
    flood the GUI's event queue, as a signal per step would (see above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: tuple[int, int] | None = None

    def put(self, done: int, total: int) -> None:
        """Record progress (worker thread)."""
        with self._lock:
            self._latest = (done, total)

    def take(self) -> tuple[int, int] | None:
        """The progress put since the last take, or None (GUI thread)."""
        with self._lock:
            latest, self._latest = self._latest, None
        return latest
