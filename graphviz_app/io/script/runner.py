"""A user's script on its own thread, paused at its backward calls.

:class:`ScriptRunner` runs the file as ``python FILE`` would (see
:mod:`.environment`) on a daemon thread, with every backward call of that thread
intercepted (:mod:`graphviz_app.core.autograd.intercept`) and a forward recorder
active (op names, module paths, source lines on each ``grad_fn``). Each call goes to
``on_call``, which runs it (recorded, or plainly with a few statistics); at the call
the caller waits for, the script pauses until :meth:`ScriptRunner.run_until` lets it
run on or :meth:`ScriptRunner.stop` ends it. Stopping raises :class:`ScriptStopped`
in the script's thread (at its next bytecode: a Python loop stops at once).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphviz_app.core.autograd.calls import Variables, find_variables, module_resolver
from graphviz_app.core.autograd.cuts import RawCut
from graphviz_app.core.autograd.intercept import BackwardCall, intercept_backward
from graphviz_app.core.autograd.recorder import ForwardNotes, ForwardRecorder
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken
from graphviz_app.core.runtime.user_code import (
    ABORTS,
    current_frame_of,
    describe_abort,
    frame_location,
    set_async_exc,
    user_location,
)
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.script.environment import ScriptModule, script_environment
from graphviz_app.io.script.output import ScriptOutput

POLL_S = 0.02  # how often a waiting caller looks at cancel and the time limit
STOP_WAIT_S = 0.9  # a stopped script's thread gets this long to end (then it is left)
STOP_RETRIES = 6  # stops sent to a script that catches them (a bare except:)


class ScriptStopped(BaseException):
    """Raised in a script's thread to end it. A BaseException, so that the script's
    ``except Exception:`` does not swallow it."""


class ScriptTimeoutError(ModelFileError):
    """The script did not reach its next backward call within the time limit."""


@dataclass
class CallOutcome:
    """What ``on_call`` made of a call: the value the script gets back, and what the
    waiting caller gets when the script pauses there (None for a call passed by)."""

    result: Any
    payload: object = None


@dataclass(frozen=True)
class CallContext:
    """Where a backward call came: its number (from 1), whether to record it in full
    (the call the script pauses at), the user's variables, and what the forward
    recorder noted of the forward this call goes back through: the cuts since the call
    before the previous one (this forward's first), the modules that ran so far."""

    number: int
    detailed: bool
    names: Variables
    forward: ForwardNotes


CallHandler = Callable[[BackwardCall, CallContext], CallOutcome]


@dataclass(frozen=True)
class Paused:
    """The script waits at backward call ``call`` (at ``location``)."""

    call: int
    location: str
    payload: object


@dataclass(frozen=True)
class ScriptEnd:
    """How the script ended: ``finished``, ``exited`` (sys.exit and friends),
    ``failed`` (an exception) or ``stopped``; ``calls`` backward calls were made."""

    status: str
    message: str
    details: str
    calls: int
    line: int = 0  # failed: the line of the top-level statement that raised
    error: str = ""  # failed: the first line of what it raised


class ScriptRunner:
    """One run of one script (see the module docstring). ``run_until``, ``stop`` and
    ``where`` are called from the worker (or the command line's) thread."""

    def __init__(self, path: Path, on_call: CallHandler, output: ScriptOutput) -> None:
        self.path = path
        self.output = output
        self._on_call = on_call
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._target = 0  # pause at this backward call
        self._paused: Paused | None = None
        self._resume = self._stop = False
        self._stoppable = False  # the script's own code runs (a stop may be raised in it)
        self._progress = time.monotonic()  # the start, or the last backward call
        self.calls = 0
        self.end: ScriptEnd | None = None
        self.module: ScriptModule | None = None
        self._recorder: ForwardRecorder | None = None  # the script thread's, while it runs
        self._earlier_cuts: list[RawCut] = []  # noted before the previous backward call
        output.attach(self.stop)

    @property
    def alive(self) -> bool:
        """True until the script has ended (paused counts as alive)."""
        return self.end is None and self._thread is not None

    def run_until(
        self, call: int, cancel: CancelToken | None = None, time_limit: float = 0.0
    ) -> Paused | ScriptEnd:
        """Let the script run until it pauses at backward call ``call`` (or ends).

        Raises :class:`Cancelled` when ``cancel`` is set, :class:`ScriptTimeoutError`
        when no backward call came within ``time_limit`` seconds (0: no limit); the
        script is stopped first in both cases.
        """
        with self._cond:
            self._target, self._paused = call, None
            self._progress = time.monotonic()
            if self._thread is None:
                self._start()
            else:
                self._resume = True
                self._cond.notify_all()
        try:
            return self._wait(cancel, time_limit)
        except BaseException:  # Cancelled, a time limit, or the worker interrupted
            self.stop()
            raise

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._main, name=f"script {self.path.name}", daemon=True
        )
        self._thread.start()

    def _wait(self, cancel: CancelToken | None, time_limit: float) -> Paused | ScriptEnd:
        while True:
            with self._cond:
                if self._paused is not None:
                    return self._paused
                if self.end is not None:
                    return self.end
                self._cond.wait(POLL_S)
                quiet = time.monotonic() - self._progress
            if cancel is not None and cancel.cancelled:
                raise Cancelled("cancelled")
            if time_limit and quiet > time_limit:
                raise ScriptTimeoutError(self._timeout_text(time_limit))

    def _timeout_text(self, time_limit: float) -> str:
        where = self.where()
        at = f" It was at {where} when it was stopped." if where else ""
        reached = f"backward call {self.calls + 1}" if self.calls else "a backward call"
        return (
            f"{self.path.name} did not reach {reached} within {time_limit:g} s, so it was "
            f"stopped.{at} Raise the limit (--time-limit) if it needs longer."
        )

    def where(self) -> str:
        """Where the script's code is now (``train.py:42 (in train)``), "" if unknown."""
        thread = self._thread
        if thread is None or thread.ident is None:
            return ""
        return frame_location(current_frame_of(thread.ident))

    def stop(self) -> None:
        """End the script (a paused one at once; a running one at its next bytecode);
        returns once its thread has ended or after :data:`STOP_WAIT_S`."""
        thread = self._thread
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if thread is None or not thread.is_alive():
            return
        deadline = time.monotonic() + STOP_WAIT_S
        for _ in range(STOP_RETRIES):
            self._raise_stop(thread)
            thread.join(max(0.0, min(0.15, deadline - time.monotonic())))
            if not thread.is_alive() or time.monotonic() >= deadline:
                break
        thread.join(max(0.0, deadline - time.monotonic()))

    def _raise_stop(self, thread: threading.Thread) -> None:
        with self._cond:
            if self._stoppable and thread.ident is not None and self._paused is None:
                set_async_exc(thread.ident, ScriptStopped)

    # --- the script's thread ---------------------------------------------------------
    def _main(self) -> None:
        end = ScriptEnd("stopped", f"{self.path.name} was stopped.", "", 0)
        try:
            with script_environment(self.path, self.output) as module:
                self.module = module
                end = self._run(module)
        except BaseException as exc:  # the environment itself failed (a bad file)
            end = ScriptEnd("failed", f"{self.path.name} could not run: {exc}", "", self.calls)
        finally:
            with self._cond:
                self.end, self._paused = end, None
                self._cond.notify_all()
            self.output.detach(self.stop)

    def _run(self, module: ScriptModule) -> ScriptEnd:
        scopes = (module.globals,)
        resolve = module_resolver(lambda: sys._getframe(1), scopes)
        self._recorder = ForwardRecorder(resolve=resolve)
        try:
            self._set_stoppable(True)
            with intercept_backward(self._on_backward), self._recorder:
                exec(module.code, module.globals)  # the user agreed to run this script
            return ScriptEnd("finished", f"{self.path.name} finished.", "", self.calls)
        except ScriptStopped:
            return ScriptEnd("stopped", f"{self.path.name} was stopped.", "", self.calls)
        except ABORTS as exc:
            what = f"{self.path.name} {describe_abort(exc)}"
            return ScriptEnd("exited", what, traceback.format_exc(), self.calls)
        except Exception as exc:  # the user's code may raise anything: report it
            details, line = traceback.format_exc(), self._top_level_line(exc)
            error = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
            return ScriptEnd("failed", self._error_text(exc), details, self.calls, line, error)
        finally:
            self._set_stoppable(False)
            self._recorder, self._earlier_cuts = None, []  # and the cut tensors they hold

    def _top_level_line(self, exc: BaseException) -> int:
        """The line of the script's top level that was running when ``exc`` came."""
        tb, line = exc.__traceback__, 0
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_name == "<module>" and code.co_filename == str(self.path):
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def _error_text(self, exc: BaseException) -> str:
        first = (str(exc).strip().splitlines() or [""])[0]
        where = user_location(exc.__traceback__)
        at = f" (at {where})" if where else ""
        return f"{self.path.name} raised {type(exc).__name__}: {first}{at}".rstrip()

    def _set_stoppable(self, stoppable: bool) -> None:
        """Allow or forbid stops; forbidding also withdraws one not delivered yet (it
        would land in the app's own clean-up)."""
        thread_id = threading.get_ident()
        for _ in range(STOP_RETRIES + 1):
            try:
                with self._cond:
                    self._stoppable = stoppable
                    if not stoppable:
                        set_async_exc(thread_id, None)
                    elif self._stop:
                        raise ScriptStopped
                return
            except ScriptStopped:
                if stoppable:
                    raise
                continue  # it landed here: the script is ending anyway

    def _on_backward(self, call: BackwardCall) -> Any:
        """The interception handler (the script's thread): one backward call."""
        with self._cond:
            self.calls += 1
            number, detailed = self.calls, self.calls >= self._target
            self._progress = time.monotonic()
        names = find_variables(sys._getframe(1), (self.module.globals,) if self.module else ())
        location = frame_location(sys._getframe(1))
        recorder = self._recorder
        notes = recorder.take_notes() if recorder is not None else ForwardNotes([], ())
        # This forward's cuts, then those before the previous call: a graph may outlive
        # the call after which it was built (a GAN's fake batch goes back through the
        # critic, then through the generator).
        forward = ForwardNotes(notes.cuts + self._earlier_cuts, notes.modules_run)
        try:
            outcome = self._on_call(call, CallContext(number, detailed, names, forward))
        finally:
            self._earlier_cuts = notes.cuts  # kept one call longer, then let go
            if recorder is not None:  # what the app did at the call is not the script's
                recorder.take_notes()
        if detailed and outcome.payload is not None:  # no graph to show: on to the next
            self._pause(Paused(number, location, outcome.payload))
        return outcome.result

    def _pause(self, paused: Paused) -> None:
        with self._cond:
            self._paused, self._resume = paused, False
            self._cond.notify_all()
            while not self._resume and not self._stop:
                self._cond.wait()
            if self._stop:  # still marked paused, so that stop() raises no second
                raise ScriptStopped  # ScriptStopped into this one's unwinding
            self._paused = None
            self._progress = time.monotonic()
