"""A script's printed output, caught per thread, and the window's line to the script.

``sys.stdout`` is one object for the whole process, so :class:`ThreadStreams`
replaces it (and ``sys.stderr``, ``sys.stdin``) with proxies that send what the
script's thread writes to a :class:`ScriptOutput` and everything else to the
streams that were there before. The script's ``input()`` reads an empty stream
(EOFError): the app has no terminal to give it.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

MAX_KEPT = 200_000  # characters of output kept (the panel shows the end)


class ScriptOutput:
    """Thread-safe: the script's thread writes its text and each backward call's
    record; the window takes what is new (on a timer), and may stop the script.

    ``echo`` (the command line's real stdout) also gets every write as it comes."""

    def __init__(self, echo: TextIO | None = None) -> None:
        self._lock = threading.Lock()
        self._new: list[str] = []
        self._kept: list[str] = []
        self._size = 0
        self._records: list[object] = []
        self._stop: Callable[[], None] | None = None
        self.echo = echo

    def put_record(self, record: object) -> None:
        """One backward call's record (the script's thread)."""
        with self._lock:
            self._records.append(record)

    def take_records(self) -> list[object]:
        """The records since the last take."""
        with self._lock:
            records, self._records = self._records, []
        return records

    def attach(self, stop: Callable[[], None]) -> None:
        """What :meth:`stop_script` calls: the running script's stop."""
        with self._lock:
            self._stop = stop

    def detach(self, stop: Callable[[], None]) -> None:
        """That script has ended (another may be attached since: it stays)."""
        with self._lock:
            if self._stop == stop:
                self._stop = None

    def stop_script(self) -> None:
        """Stop the script that writes here, if one runs (the window closes)."""
        with self._lock:
            stop = self._stop
        if stop is not None:
            stop()

    def write(self, text: str) -> None:
        """Add ``text`` (any thread)."""
        if not text:
            return
        with self._lock:
            self._new.append(text)
            self._kept.append(text)
            self._size += len(text)
            if self._size > 2 * MAX_KEPT:
                whole = "".join(self._kept)[-MAX_KEPT:]
                self._kept, self._size = [whole], len(whole)
        if self.echo is not None:
            self.echo.write(text)
            self.echo.flush()

    def take(self) -> str:
        """What was written since the last take (the window's timer)."""
        with self._lock:
            new, self._new = "".join(self._new), []
        return new

    def text(self) -> str:
        """Everything kept (the last :data:`MAX_KEPT` characters at least)."""
        with self._lock:
            return "".join(self._kept)


class _Proxy(io.TextIOBase):
    """Writes of one thread go to the script's output; others to the original."""

    def __init__(self, original: Any, output: ScriptOutput, thread: int) -> None:
        super().__init__()
        self.original = original
        self._output = output
        self._thread = thread

    def _mine(self) -> bool:
        return threading.get_ident() == self._thread

    def write(self, text: str) -> int:
        if self._mine():
            self._output.write(text)
            return len(text)
        return int(self.original.write(text)) if self.original is not None else len(text)

    def flush(self) -> None:
        if not self._mine() and self.original is not None:
            self.original.flush()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:  # encoding, fileno... of the original
        return getattr(self.original, name)


class _EmptyInput(io.TextIOBase):
    """The script's stdin: empty (``input()`` raises EOFError); others read the original."""

    def __init__(self, original: Any, thread: int) -> None:
        super().__init__()
        self.original = original
        self._thread = thread

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if threading.get_ident() == self._thread or self.original is None:
            return ""
        return str(self.original.readline(size))

    def read(self, size: int | None = -1) -> str:
        if threading.get_ident() == self._thread or self.original is None:
            return ""
        return str(self.original.read(size))

    def readable(self) -> bool:
        return True


class ThreadStreams:
    """Install the proxies for the calling thread; :meth:`restore` puts the originals
    back (only where nobody replaced the proxies since)."""

    def __init__(self, output: ScriptOutput) -> None:
        thread = threading.get_ident()
        self._installed = {
            "stdout": _Proxy(sys.stdout, output, thread),
            "stderr": _Proxy(sys.stderr, output, thread),
            "stdin": _EmptyInput(sys.stdin, thread),
        }
        for name, proxy in self._installed.items():
            setattr(sys, name, proxy)

    def restore(self) -> None:
        """The streams as they were."""
        for name, proxy in self._installed.items():
            if getattr(sys, name) is proxy:
                setattr(sys, name, proxy.original)
