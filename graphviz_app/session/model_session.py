"""One open model and the steps that turn it into a picture, without Qt.

file -> model (``io``) -> forward + capture -> DOT -> layout. A :class:`ModelSession`
holds live torch objects and is used from one worker thread only; what it returns
(:mod:`graphviz_app.session.results`) is immutable plain data that may cross threads.
Training, device switches and gradient checks live beside it, in their own modules.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import torch

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.forward import ForwardRun, LossFn, forward_and_capture
from graphviz_app.core.gradcheck.results import GradcheckReport
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.layout.drawing import Drawer
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.runtime.devices import list_devices, made_on
from graphviz_app.core.training.losses import TrainingError
from graphviz_app.core.training.state import TrainingState, training_values_kept
from graphviz_app.core.training.trainer import TrainRecord, TrainSettings
from graphviz_app.io.loaders import load_model
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.session.devices import DeviceChoice, DeviceSwitchResult, switch_device
from graphviz_app.session.gradients import check_session_gradients
from graphviz_app.session.health import HealthResult, HealthSubject, check_health
from graphviz_app.session.live import LiveModel, graph_parameters, live_run
from graphviz_app.session.results import BackwardResult, PictureResult, StepResult, TrainRunResult
from graphviz_app.session.script import script_summary
from graphviz_app.session.script_steps import SCRIPT_TRAINS, ScriptSteps
from graphviz_app.session.training import train, train_one

_T = TypeVar("_T")


class ModelSession:
    """The model currently open and its latest forward run (worker-thread only)."""

    def __init__(
        self, engine: GraphvizEngine | None = None, options: CaptureOptions | None = None
    ) -> None:
        self.drawer = Drawer(engine or find_engine())
        self.options = options or CaptureOptions()
        self.loaded: LoadedModel | None = None
        self.run: ForwardRun | None = None
        self._timings: list[tuple[str, float]] = []
        self._training: TrainingState | None = None
        #: Script mode: the running script, its calls and records (see ``session.script``).
        self.scripts = ScriptSteps(self)

    @property
    def engine(self) -> GraphvizEngine:
        """The Graphviz engine layouts and exports run with."""
        return self.drawer.engine

    @engine.setter
    def engine(self, engine: GraphvizEngine) -> None:
        self.drawer.use_engine(engine)

    def open(
        self,
        source: str | Path | LoadRequest,
        style: GraphStyle,
        cancel: CancelToken | None = None,
        output: ScriptOutput | None = None,
        time_limit: float = 0.0,
    ) -> PictureResult:
        """Load a model file, run its forward pass and lay out the captured graph.

        A script runs until its first backward call (``output`` gets what it prints;
        ``time_limit`` stops it when no backward call comes in time). A big graph
        opens with its repeated blocks folded and its modules collapsed to the deepest
        level that draws quickly (the result's style says which). When any step fails
        or is stopped, the session keeps the model it had (still on screen).
        """
        return self._open(lambda: self.load(source, cancel, output, time_limit), style, cancel)

    def adopt(
        self, live: LiveModel, style: GraphStyle, cancel: CancelToken | None = None
    ) -> PictureResult:
        """Open live objects of the user's code (:mod:`graphviz_app.session.live`) as
        the current model, as :meth:`open` opens a file."""
        return self._open(lambda: self._use(live), style, cancel)

    def _open(
        self, load: Callable[[], object], style: GraphStyle, cancel: CancelToken | None
    ) -> PictureResult:
        previous = self.loaded, self.run, self._training, self.scripts.saved()
        try:
            load()
            _check(cancel)
            graph = self.forward()
            _check(cancel)
            if not style.collapsed and not style.folded:
                style = self.drawer.opening_style(graph, style)
            return dataclasses.replace(self.picture(style, cancel), opened=True)
        except BaseException:  # an interrupt too: the previous model stays whole
            self.loaded, self.run, self._training, saved = previous
            self.scripts.restore(saved)
            if self.loaded is not None:
                self.drawer.set_model(self.loaded.model)
            raise

    def load(
        self,
        source: str | Path | LoadRequest,
        cancel: CancelToken | None = None,
        output: ScriptOutput | None = None,
        time_limit: float = 0.0,
    ) -> LoadedModel:
        """Load a model file (a path, or a request with the user's choices) and build
        its model and example inputs; a script runs to its backward call (see
        :meth:`open`)."""
        self._timings = []
        request = LoadRequest.of(source)
        summary = script_summary(request)
        if summary is not None:
            return self.scripts.open(request, summary, cancel, output, time_limit)
        loaded = self.timed("load", lambda: load_model(request))
        self.scripts.close()
        self.use_loaded(loaded)
        return loaded

    def use_loaded(self, loaded: LoadedModel, same_modules: bool = False) -> None:
        """Make ``loaded`` the open model (``same_modules``: a script's next call, whose
        modules have not changed: the layouts made so far stay cached)."""
        self.loaded = loaded
        if not same_modules:
            self.drawer.set_model(loaded.model)
        self._training = None

    def _use(self, live: LiveModel) -> LiveModel:
        self._timings = []
        self.scripts.close()
        self.use_loaded(live)
        return live

    def forward(self) -> AutogradGraph:
        """Run forward on the open model under the recorder and capture its graph (a
        script's graph is the one its backward call differentiated: not run again).

        A look changes nothing: buffers (batch norm's running statistics and count)
        are as they were afterwards, also on a user's live model (``show()``)."""
        loaded = self._require_loaded()
        if self.scripts.active and self.run is not None:
            return self.run.graph
        with training_values_kept(loaded.model, keep_grads=False):
            return self.capture_step(loaded.inputs, loaded.loss_fn).graph

    def capture_step(self, inputs: tuple[torch.Tensor, ...], loss: LossFn | None) -> ForwardRun:
        """Forward on ``inputs`` and capture, timed; it becomes the current run."""
        self.run = self.timed("forward + capture", lambda: self._capture(inputs, loss))
        return self.run

    def _capture(self, inputs: tuple[torch.Tensor, ...], loss: LossFn | None) -> ForwardRun:
        """Forward and capture on the model's device: tensors the model file's code
        creates (a loss's target) are made there too."""
        loaded = self._require_loaded()
        if isinstance(loaded, LiveModel) and not loaded.trainable:
            return live_run(loaded, self.options)  # the user's graph: nothing to run again
        device = self._training.device if self._training is not None else "cpu"
        with made_on(device):
            return forward_and_capture(loaded.model, inputs, loss, self.options)

    def picture(self, style: GraphStyle, cancel: CancelToken | None = None) -> PictureResult:
        """Lay out the current graph in ``style`` (cached by structure).

        The result's timings cover every step since the previous picture.
        """
        loaded, run = self._require_loaded(), self.run
        if run is None:
            raise RuntimeError("No forward pass has run yet.")
        drawing = self.timed("layout", lambda: self.drawer.draw(run.graph, style, cancel))
        timings, self._timings = tuple(self._timings), []
        return PictureResult(
            model_name=loaded.name,
            model_path=str(loaded.path),
            doc=loaded.doc,
            graph=run.graph,
            view=drawing.view,
            layout=drawing.layout,
            style=drawing.style,
            engine=self.engine.describe(),
            parameter_count=_parameter_count(loaded, run.graph),
            timings=timings,
            folds=drawing.folds,
            foldable=drawing.foldable,
            notice=drawing.notice,
            notes=loaded.notes,
            layout_kind=drawing.layout_kind,
            guesses=loaded.guesses,
            resolved=loaded.resolved,
            untrainable=_untrainable(loaded),
            script=self.scripts.state(),
        )

    def backward(self, retain_graph: bool = False) -> BackwardResult:
        """Run and record backward from the latest forward's roots (ones as seeds).

        Gradients accumulate into ``.grad`` as in PyTorch: a second backward (with
        ``retain_graph``) adds to the first. Raises ``BackwardError`` with an
        explanation, e.g. for a second backward through a freed graph.
        """
        run = self.run
        if run is None:
            raise RuntimeError("Run the forward pass first: there is no graph to go back through.")
        recorded = self.scripts.backward
        if recorded is not None:  # a script's own call, recorded while it ran
            return recorded
        if not run.roots:  # a finished graph: its recorded backward, if it came with one
            return self._recorded_backward(run.graph)
        start = time.perf_counter()
        trace = record_backward(
            run.walk, retain_graph=retain_graph, preview_limit=self.options.preview_limit
        )
        return BackwardResult(trace, run.graph, time.perf_counter() - start)

    def _recorded_backward(self, graph: AutogradGraph) -> BackwardResult:
        loaded = self._require_loaded()
        trace = loaded.trace if isinstance(loaded, LiveModel) else None
        if trace is None:
            raise RuntimeError(
                "This graph came without its tensors (a Drawing keeps none), so backward "
                "cannot run: call graphviz_app.show() on the tensor itself."
            )
        return BackwardResult(trace, graph, 0.0)

    @property
    def training(self) -> TrainingState:
        """The open model's training state (its weights at load time kept for reset)."""
        loaded = self._require_loaded()
        if self.scripts.active:
            raise RuntimeError(SCRIPT_TRAINS)
        if isinstance(loaded, LiveModel) and not loaded.trainable:
            raise TrainingError(loaded.not_trainable())
        if self._training is None:
            self._training = TrainingState(
                loaded.model,
                loaded.inputs,
                loaded.make_batch,
                loaded.loss_fn,
                loaded.example_target,
            )
        return self._training

    def train_step(
        self, settings: TrainSettings, style: GraphStyle
    ) -> tuple[PictureResult, BackwardResult, TrainRecord]:
        """:meth:`train_one` as (picture, backward, record)."""
        step = self.train_one(settings, style)
        return step.picture, step.backward, step.record

    def train_one(self, settings: TrainSettings, style: GraphStyle) -> StepResult:
        """One optimizer step (see :func:`graphviz_app.session.training.train_one`)."""
        return train_one(self, settings, style)

    def train(
        self,
        settings: TrainSettings,
        style: GraphStyle,
        steps: int,
        cancel: CancelToken | None = None,
        on_step: Callable[[StepResult], None] | None = None,
    ) -> TrainRunResult:
        """Up to ``steps`` optimizer steps, each reported to ``on_step``; stops early
        (without raising) once ``cancel`` is set."""
        return train(self, settings, style, steps, cancel, on_step)

    def reset_weights(self, style: GraphStyle) -> PictureResult:
        """Weights, buffers and optimizer back to their state at load; forward again."""
        self.training.reset()
        self.forward()
        return self.picture(style)

    def prepare_training(self) -> DeviceChoice:
        """Create the training state now and list the devices (unavailable ones with
        the reason). The first optimizer imports ``torch._dynamo`` (1 s alone, far
        more next to a busy GUI thread): better while the user reads the graph."""
        loaded = self._require_loaded()
        if self.scripts.active or (isinstance(loaded, LiveModel) and not loaded.trainable):
            return DeviceChoice(list_devices(), "cpu", "float32")  # nothing to move
        state = self.training
        return DeviceChoice(list_devices(), state.device, state.dtype)

    def set_device(self, device: str, dtype: str, style: GraphStyle) -> DeviceSwitchResult:
        """Move model, batch and optimizer state to ``device``/``dtype``, run forward and
        a recorded backward there, and compare one batch's gradients with the previous
        device/dtype's. On failure the model goes back and the result says why."""
        return switch_device(self, device, dtype, style)

    def use_inputs(self, inputs: tuple[torch.Tensor, ...]) -> None:
        """Run the next :meth:`forward` on ``inputs`` (the example moved elsewhere)."""
        self._require_loaded().inputs = inputs

    def check_gradients(
        self,
        settings: TrainSettings,
        names: Sequence[str] | None = None,
        cancel: CancelToken | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> GradcheckReport:
        """Finite differences against backward in float64 and float32, on a copy of
        the model and the next batch (``names``: only these parameters), sized to
        about 30 s; ``on_progress(done, total)`` counts checked elements (worker
        thread)."""
        return check_session_gradients(self.training, settings, names, cancel, on_progress)

    def check_health(
        self, settings: HealthSettings | None = None, style: GraphStyle | None = None
    ) -> HealthResult:
        """Forward again, a recorded backward and the gradient health report (see
        :mod:`graphviz_app.core.health`); with ``style``, the new graph's picture too.
        A script is checked at the backward call it is paused at, from what that call
        left (its forward is its own code and is not run again; the graph on screen
        stays, so no picture comes back)."""
        loaded = self._require_loaded()
        settings = settings or HealthSettings()
        if self.scripts.active:
            return self.scripts.check_health(settings)
        subject = HealthSubject(loaded.model, loaded.inputs, loaded.loss_fn, loaded.name)
        return check_health(self, subject, settings, style)

    def timed(self, name: str, step: Callable[[], _T]) -> _T:
        """``step()``, its time counted as ``name`` in the next picture's timings."""
        start = time.perf_counter()
        result = step()
        self._timings.append((name, time.perf_counter() - start))
        return result

    def _require_loaded(self) -> LoadedModel:
        if self.loaded is None:
            raise RuntimeError("No model is open.")
        return self.loaded


def _untrainable(loaded: LoadedModel) -> str:
    """Why ``loaded`` cannot train (empty when it can; a script says so itself)."""
    return loaded.not_trainable() if isinstance(loaded, LiveModel) and not loaded.trainable else ""


def _parameter_count(loaded: LoadedModel, graph: AutogradGraph) -> int:
    """The model's parameters; a script's own count (its plain leaves too); else those
    the graph names (live tensors without a model)."""
    if loaded.parameter_count is not None:
        return loaded.parameter_count
    return sum(p.numel() for p in loaded.model.parameters()) or graph_parameters(graph)


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
