"""Script mode: a user's script run as ``python FILE``, paused at its backward calls.

:class:`ScriptRun` owns one :class:`~graphviz_app.io.script.runner.ScriptRunner`.
At the call the session waits for, the call is recorded in full (the graph rooted at
what it differentiates, captured before it ran, and its own backward, recorded while
it ran); every other call runs plainly. Every call leaves a
:class:`~graphviz_app.core.training.trainer.TrainRecord` for the training plots:
the loss (the root's value when it is a scalar), each parameter's gradient norm, and
the update ratio from the parameter's change since the previous call.
"""

from __future__ import annotations

import ast
import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphviz_app.core.autograd.calls import RecordedCall, Variables
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.intercept import BackwardCall
from graphviz_app.core.graph.walk import CaptureError
from graphviz_app.core.health.assemble import HealthEvidence
from graphviz_app.core.health.call_check import check_call
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.runtime.user_code import frame_location
from graphviz_app.core.training.trainer import ParamUpdate, TrainRecord
from graphviz_app.io.loaders.detect import FileFormat, detect_format
from graphviz_app.io.python_source import SourceSummary, parse_source, summarize_source
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.io.script.runner import (
    CallContext,
    CallOutcome,
    Paused,
    ScriptEnd,
    ScriptRunner,
)
from graphviz_app.session.results import ScriptState

#: Parameters (elements) up to which each call keeps a copy, for update ratios.
TRACKED_ELEMENTS = 20_000_000


@dataclass
class CallPayload:
    """What a recorded call hands the session (live tensors: worker side only)."""

    recorded: RecordedCall
    names: Variables
    seconds: float
    health: HealthEvidence  # what the gradient health check reports on


def script_summary(request: LoadRequest) -> SourceSummary | None:
    """The file's summary when ``request`` opens it as a script (a ``.py`` that runs
    and calls backward, with no class or definitions-only chosen), else None."""
    if request.class_name or request.definitions_only or request.structure_only or request.lenient:
        return None
    if detect_format(request.path) != FileFormat.PYTHON.value:
        return None
    summary = summarize_source(Path(request.path).resolve())
    return summary if summary.is_script else None


class ScriptRun:
    """One script's run (worker side): its runner, its records, the call shown."""

    def __init__(self, path: Path, options: CaptureOptions, output: ScriptOutput) -> None:
        self.path = path
        self.options = options
        self.output = output
        self.runner = ScriptRunner(path, self._on_call, output)
        self.shown = 0  # the backward call on screen
        self.state = ScriptState(str(path), 0, status="paused")
        self._lock = threading.Lock()
        self._records: list[TrainRecord] = []
        self._previous: dict[str, torch.Tensor] = {}

    def advance(
        self, call: int, cancel: CancelToken | None, time_limit: float
    ) -> Paused | ScriptEnd:
        """Run on until backward call ``call`` (paused there) or the end."""
        event = self.runner.run_until(call, cancel, time_limit)
        if isinstance(event, Paused):
            self.shown = event.call
            self.state = ScriptState(
                str(self.path), event.call, event.location, calls=self.runner.calls
            )
        else:
            self.state = self.ended(event)
        return event

    def ended(self, end: ScriptEnd) -> ScriptState:
        """The state after ``end``, keeping the call shown."""
        message = end.message
        if end.status in ("finished", "exited") and end.calls:
            message = f"{message} It made {end.calls} backward calls; the last graph stays."
        return ScriptState(
            str(self.path),
            self.shown,
            self.state.location,
            end.status,
            message,
            end.details,
            end.calls,
        )

    def stop(self) -> ScriptState:
        """End the script (if it still runs); the state says so."""
        if self.runner.alive:
            self.runner.stop()
        end = self.runner.end
        if end is not None and self.state.paused:
            self.state = self.ended(end)
        return self.state

    def take_records(self) -> tuple[TrainRecord, ...]:
        """Every call's record since the last take."""
        with self._lock:
            records, self._records = tuple(self._records), []
        return records

    # --- the script's thread ---------------------------------------------------------
    def _on_call(self, call: BackwardCall, context: CallContext) -> CallOutcome:
        start, names = time.perf_counter(), context.names
        payload = None
        if context.detailed:
            try:  # recorded, and what the health check needs gathered as it runs
                checked = check_call(call, names, self.options, context.forward)
            except CaptureError:  # a root without grad_fn: torch says why (or it is a leaf)
                result = call.call()
            else:
                result = checked.recorded.result
                seconds = time.perf_counter() - start
                payload = CallPayload(checked.recorded, names, seconds, checked.evidence)
        else:
            result = call.call()
        where = frame_location(sys._getframe(1))
        record = self._record(context.number, call.roots, names.trained(), where)
        with self._lock:
            self._records.append(record)
        self.output.put_record(record)  # the window's plots, while a run goes on
        return CallOutcome(result, payload)

    def _record(
        self,
        number: int,
        roots: tuple[torch.Tensor, ...],
        trained: dict[str, torch.Tensor],
        where: str,
    ) -> TrainRecord:
        loss = float(roots[0].detach()) if len(roots) == 1 and roots[0].numel() == 1 else math.nan
        with torch.no_grad():
            updates = tuple(self._update(name, t) for name, t in trained.items())
            self._previous = (
                {n: t.detach().clone() for n, t in trained.items()}
                if sum(t.numel() for t in trained.values()) <= TRACKED_ELEMENTS
                else {}
            )
        return TrainRecord(number, loss, updates, batch=where)

    def _update(self, name: str, tensor: torch.Tensor) -> ParamUpdate:
        grad = tensor.grad
        grad_norm = float(grad.norm()) if grad is not None and grad.is_floating_point() else 0.0
        before = self._previous.get(name)
        if before is None or before.shape != tensor.shape:
            return ParamUpdate(name, grad_norm, 0.0, float(tensor.detach().norm()))
        change = float((tensor.detach() - before).norm())
        return ParamUpdate(name, grad_norm, change, float(before.norm()))


def last_grad_tensor(globals_: dict[str, Any], path: Path) -> tuple[str, torch.Tensor] | None:
    """The module-level tensor with a ``grad_fn`` the script assigned last (by the line
    of its last top-level assignment), for a script that never called backward."""
    lines: dict[str, int] = {}
    for node in parse_source(path).body:
        targets = _assigned_names(node)
        for name in targets:
            lines[name] = node.lineno
    for name in sorted(lines, key=lambda n: lines[n], reverse=True):
        value = globals_.get(name)
        if isinstance(value, torch.Tensor) and value.grad_fn is not None:
            return name, value
    return None


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        targets: list[ast.expr] = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return []
    names = []
    for target in targets:
        for inner in ast.walk(target):
            if isinstance(inner, ast.Name):
                names.append(inner.id)
    return names
