"""Where the user's code is, and how it may try to leave: ``sys.exit()``, ``exit()``,
``quit()``, ``os._exit()`` and ``KeyboardInterrupt``.

A user's file runs inside the app (the worker thread, a script's own thread, the
command line's only thread). Python ends the whole process on ``os._exit()``, so
:func:`guard_process_exit` replaces it while user code runs with a function that
raises :class:`ProcessExitCalled` instead; ``sys.exit()`` already raises
``SystemExit``. :func:`describe_abort` names what was called and the user's
``file:line``, for a message instead of a silent exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import linecache
import os
import sys
import sysconfig
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import NoReturn

_PACKAGE_DIR = str(Path(__file__).resolve().parents[2]) + os.sep  # graphviz_app/
LIBRARY_DIRS = (
    *{sysconfig.get_path(name) + os.sep for name in ("stdlib", "purelib", "platlib")},
    _PACKAGE_DIR,
)
#: ``os._exit`` itself: the command line still ends the process with it (see
#: :func:`graphviz_app.cli.commands.run_command`).
REAL_OS_EXIT = os._exit
#: What user code raises to leave (not an ``Exception``): caught where user code is
#: called and reported with :func:`describe_abort`.
ABORTS: tuple[type[BaseException], ...] = (SystemExit, KeyboardInterrupt)


class ProcessExitCalled(SystemExit):
    """The user's code called ``os._exit(code)``; raised instead of ending the process."""


def is_user_file(filename: str) -> bool:
    """True for a file of the user's: not Python's, not an installed library's, not
    this app's, not generated code (``<string>``, ``<frozen ...>``)."""
    return not filename.startswith(LIBRARY_DIRS) and not filename.startswith("<")


def user_location(tb: TracebackType | None) -> str:
    """``model.py:12`` for the deepest frame of ``tb`` in the user's code; ""
    when there is none."""
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_user_file(filename):
            found = f"{Path(filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def frame_location(frame: FrameType | None) -> str:
    """``train.py:42 (in train)``: the innermost frame of ``frame``'s stack in the
    user's code (where a running script is now); "" when there is none."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_user_file(filename):
            where = f"{Path(filename).name}:{frame.f_lineno}"
            name = frame.f_code.co_name
            return where if name == "<module>" else f"{where} (in {name})"
        frame = frame.f_back
    return ""


def describe_abort(exc: BaseException) -> str:
    """What the user's code did, in words: ``called sys.exit(2) at train.py:40``,
    ``called exit() at model.py:3``, ``called os._exit(1) at ...``, ``raised
    KeyboardInterrupt at ...``."""
    where = user_location(exc.__traceback__)
    at = f" at {where}" if where else ""
    if isinstance(exc, KeyboardInterrupt):
        return f"raised KeyboardInterrupt{at}"
    code = getattr(exc, "code", None)
    argument = "" if code is None else repr(code)
    return f"called {_exit_call(exc)}({argument}){at}"


def _exit_call(exc: BaseException) -> str:
    if isinstance(exc, ProcessExitCalled):
        return "os._exit"
    tb, last = exc.__traceback__, None
    while tb is not None:
        if "_sitebuiltins" in tb.tb_frame.f_code.co_filename:  # a file, or <frozen ...>
            quitter = tb.tb_frame.f_locals.get("self")  # exit() and quit() are Quitters
            return str(getattr(quitter, "name", "exit"))
        last, tb = tb, tb.tb_next
    if last is not None:
        text = linecache.getline(last.tb_frame.f_code.co_filename, last.tb_lineno)
        if "raise SystemExit" in text:
            return "raise SystemExit"
    return "sys.exit"


_GUARD_LOCK = threading.Lock()
_guards = 0  # guards active on any thread; os._exit stays replaced while > 0


def _raise_instead(status: int) -> NoReturn:
    raise ProcessExitCalled(status)


@contextlib.contextmanager
def guard_process_exit() -> Iterator[None]:
    """Inside the block (on any thread), ``os._exit(n)`` raises
    :class:`ProcessExitCalled` instead of ending the process. Blocks nest and may
    overlap across threads; the real function is back once the last one ends."""
    global _guards
    with _GUARD_LOCK:
        if _guards == 0:
            os._exit = _raise_instead
        _guards += 1
    try:
        yield
    finally:
        with _GUARD_LOCK:
            _guards -= 1
            if _guards == 0:
                os._exit = REAL_OS_EXIT


def current_frame_of(thread_id: int) -> FrameType | None:
    """The frame another thread is running now (None when it has ended)."""
    return sys._current_frames().get(thread_id)


class TimeLimitExceeded(BaseException):
    """Raised in a thread whose model code ran past its :class:`TimeLimit`. A
    BaseException, so that the model's ``except Exception:`` does not swallow it."""


class TimeLimit:
    """Stops the calling thread's model code after ``seconds`` (0: never): a timer
    raises :class:`TimeLimitExceeded` in it (at its next bytecode: a Python loop stops
    at once), noting first where the user's code was (:attr:`where`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.where = ""
        self._thread = threading.get_ident()
        self._lock = threading.Lock()
        self._active = True
        self._timer = threading.Timer(seconds, self._expire) if seconds > 0 else None

    def __enter__(self) -> TimeLimit:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for _ in range(8):  # withdraw a stop not delivered yet; it may land right here
            try:
                with self._lock:
                    self._active = False
                    set_async_exc(self._thread, None)
                return
            except TimeLimitExceeded:
                continue

    def _expire(self) -> None:
        with self._lock:
            if self._active:
                self.where = frame_location(current_frame_of(self._thread))
                set_async_exc(self._thread, TimeLimitExceeded)


def set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in another thread at its next bytecode (None: withdraw one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )
