"""The session's side of script mode: open a script, go on to its next backward
call, stop it; each pause becomes the session's open model and current run.

A script opens as a model named after its file whose "model" holds the script's own
models (under the names it gave them) and whose current run is the graph its backward
call differentiated. When the script ends before any backward call, the session
shows the last tensor with a ``grad_fn`` it left, or falls back to the file's model
class (definitions only) when the script could not run (a dataset it cannot find, a
package that is missing), and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import torch

from graphviz_app.core.autograd.calls import find_variables
from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk
from graphviz_app.core.autograd.forward import ForwardRun
from graphviz_app.core.graph.walk import walk_autograd
from graphviz_app.core.health.assemble import HealthEvidence, assemble_report
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.loaders.python import load_python
from graphviz_app.io.model_file import LoadedModel, RanAlready
from graphviz_app.io.python_source import SourceSummary
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.io.script.runner import Paused, ScriptEnd
from graphviz_app.session.results import (
    BackwardResult,
    HealthResult,
    PictureResult,
    ScriptState,
    ScriptStep,
)
from graphviz_app.session.script import CallPayload, ScriptRun, last_grad_tensor

_T = TypeVar("_T")
SCRIPT_TRAINS = (
    "A script is open: it trains itself, with its own data, loss and optimizer. Use "
    "Run > Next backward to run it on to its next backward call."
)


class ScriptHost(Protocol):
    """What script mode uses of the session."""

    options: CaptureOptions
    run: ForwardRun | None
    loaded: LoadedModel | None

    def timed(self, name: str, step: Callable[[], _T]) -> _T:
        """``step()``, timed."""
        ...

    def use_loaded(self, loaded: LoadedModel, same_modules: bool = False) -> None:
        """Make ``loaded`` the open model."""
        ...

    def picture(self, style: GraphStyle, cancel: CancelToken | None = None) -> PictureResult:
        """Lay out the current run's graph."""
        ...


Saved = tuple[
    "ScriptRun | None", "SourceSummary | None", "BackwardResult | None", "HealthEvidence | None"
]


class ScriptSteps:
    """The script open in a session, if any (worker thread only)."""

    def __init__(self, session: ScriptHost) -> None:
        self.session = session
        self.current: ScriptRun | None = None
        self.summary: SourceSummary | None = None
        self.backward: BackwardResult | None = None  # the call shown, recorded as it ran
        self.health: HealthEvidence | None = None  # what the health check says of that call
        self._modules: tuple[str, ...] = ()  # the module paths the drawer knows

    @property
    def active(self) -> bool:
        """True while a script is the open model (paused or ended)."""
        return self.current is not None

    def state(self) -> ScriptState | None:
        """Where the open script is (None when no script is open)."""
        return self.current.state if self.current is not None else None

    def saved(self) -> Saved:
        """What :meth:`restore` puts back (a failed open keeps the previous file)."""
        return self.current, self.summary, self.backward, self.health

    def restore(self, saved: Saved) -> None:
        """Put back what :meth:`saved` returned."""
        self.current, self.summary, self.backward, self.health = saved

    def open(
        self,
        request: LoadRequest,
        summary: SourceSummary,
        cancel: CancelToken | None,
        output: ScriptOutput | None,
        time_limit: float,
    ) -> LoadedModel:
        """Run the script to backward call ``request.backward_call`` and show it."""
        self.close()  # one script at a time: they share the process's cwd, argv, stdout
        path = Path(request.path).resolve()
        run = ScriptRun(path, self.session.options, output or ScriptOutput())
        self.current, self.summary, self._modules = run, summary, ()
        target = max(1, request.backward_call)
        event = self.session.timed(
            "run to backward", lambda: run.advance(target, cancel, time_limit)
        )
        if isinstance(event, Paused):
            self._adopt(event)
            return self._loaded()
        return self._ended_early(request, run, event)

    def next(
        self, count: int, style: GraphStyle, cancel: CancelToken | None, time_limit: float
    ) -> ScriptStep:
        """Run on ``count`` backward calls (pausing at the last) or to the end."""
        run = self._require()
        if not run.state.paused:
            raise RuntimeError(f"{run.path.name} has ended: open it again to run it once more.")
        event = self.session.timed(
            "run to backward", lambda: run.advance(run.shown + count, cancel, time_limit)
        )
        records = run.take_records()
        if isinstance(event, Paused):
            self._adopt(event)
            picture = self.session.picture(style, cancel)
            return ScriptStep(picture, self.backward, records, run.state)
        return ScriptStep(None, None, records, run.state)

    def stop(self) -> ScriptStep:
        """End the script; the last graph stays."""
        run = self._require()
        state = run.stop()
        return ScriptStep(None, None, run.take_records(), state)

    def close(self) -> None:
        """Stop the open script (another file opens)."""
        if self.current is not None:
            self.current.stop()
        self.current, self.summary, self.backward, self.health = None, None, None, None

    def check_health(self, settings: HealthSettings) -> HealthResult:
        """The gradient health report of the call shown, from what was gathered while
        it ran (the script's forward is its own code: nothing runs again); its backward
        is the one the stepper shows."""
        run = self._require()
        if self.health is None:
            raise ModelFileError(
                f"{run.path.name} made no backward call, so there is no backward of its "
                "own to check: the graph shown is the last tensor it left."
            )
        name = f"{run.path.name}, backward call {run.state.call}"
        return HealthResult(assemble_report(name, self.health, settings), self.backward)

    def _require(self) -> ScriptRun:
        if self.current is None:
            raise RuntimeError("No script is open.")
        return self.current

    def _adopt(self, paused: Paused) -> None:
        payload = paused.payload
        assert isinstance(payload, CallPayload)
        recorded = payload.recorded
        roots = tuple(recorded.walk.outputs)
        self.session.run = ForwardRun((), roots, roots, recorded.walk, recorded.graph)
        self.backward = BackwardResult(recorded.trace, recorded.graph, payload.seconds)
        self.health = payload.health
        self._show_model(payload.names.container(), payload.names.trained())

    def _show_model(self, container: torch.nn.Module, trained: dict[str, torch.Tensor]) -> None:
        run, summary = self._require(), self.summary
        modules = tuple(name for name, _ in container.named_modules())
        count = sum(t.numel() for t in trained.values())
        note = (
            f"Ran {run.path.name} as python {run.path.name} would, up to its backward "
            f"call {run.state.call} ({run.state.location})."
            if run.state.call
            else run.state.message
        )
        loaded = LoadedModel(
            name=run.path.stem,
            path=run.path,
            model=container,
            inputs=(),
            loss_fn=None,
            make_batch=None,
            doc=summary.doc if summary else "",
            format="script",
            notes=(note,),
            parameter_count=count,
        )
        self.session.use_loaded(loaded, same_modules=modules == self._modules)
        self._modules = modules

    def _loaded(self) -> LoadedModel:
        loaded = self.session.loaded
        assert loaded is not None
        return loaded

    def _ended_early(self, request: LoadRequest, run: ScriptRun, end: ScriptEnd) -> LoadedModel:
        """The script ended before its first backward call: its last graph, its model
        class, or a clear error."""
        if end.calls:  # fewer calls than asked for
            self.close()
            raise ModelFileError(
                f"{run.path.name} made {end.calls} backward calls, not "
                f"{request.backward_call}: {end.message}",
                end.details,
            )
        if end.status != "failed" and end.status != "finished":
            raise ModelFileError(f"{end.message}, before its first backward call.", end.details)
        module = run.runner.module
        found = last_grad_tensor(module.globals, run.path) if module is not None else None
        if end.status == "finished" and found is not None:
            return self._graph_only(run, *found)
        if end.status == "failed" and self.summary is not None and self.summary.classes:
            ran = RanAlready(dict(module.globals), end.line, end.error) if module else None
            return self._model_class_instead(request, end, ran if end.line else None)
        self.close()
        if end.status == "failed":
            raise ModelFileError(end.message, end.details)
        raise ModelFileError(
            f"{run.path.name} ran to its end without calling backward() or "
            "torch.autograd.grad() and left no tensor with a grad_fn: there is no autograd "
            "graph to show (are its gradients computed by hand?)."
        )

    def _graph_only(self, run: ScriptRun, name: str, tensor: torch.Tensor) -> LoadedModel:
        module = run.runner.module
        names = find_variables(None, (module.globals,) if module is not None else ())
        walk = walk_autograd([tensor])
        graph = capture_walk(walk, names.parameters(), names.leaves, self.session.options)
        self.session.run = ForwardRun((), (tensor,), (tensor,), walk, graph)
        self.backward = self.health = None
        message = (
            f"{run.path.name} made no backward call: the graph is that of {name}, the last "
            "tensor with a grad_fn it assigned (Run > Backward records one)."
        )
        run.state = dataclasses.replace(run.state, status="finished", message=message)
        self._show_model(names.container(), names.trained())
        return self._loaded()

    def _model_class_instead(
        self, request: LoadRequest, end: ScriptEnd, ran: RanAlready | None
    ) -> LoadedModel:
        self.close()
        fallback = dataclasses.replace(request, lenient=True)
        try:
            loaded = self.session.timed("load", lambda: load_python(fallback, ran))
        except ModelFileError as exc:  # say both: why the script stopped, and the class
            raise type(exc)(
                f"{end.message}, before its first backward call; its model class did not "
                f"open instead either: {exc.summary}",
                exc.details,
            ) from exc
        note = (
            f"{end.message}, before its first backward call: its model class is shown "
            "instead (the rest of its top level run without loops, what failed skipped)."
        )
        loaded = dataclasses.replace(loaded, notes=(note, *loaded.notes))
        self.session.use_loaded(loaded)
        return loaded
