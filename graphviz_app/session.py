"""One open model and the steps that turn it into a picture, without Qt.

file -> model (``io``) -> forward + capture -> DOT -> layout. A :class:`ModelSession`
holds live torch objects and is used from one worker thread only; what it returns
(:class:`PictureResult`) is immutable plain data that may cross threads.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch

from graphviz_app.core.backward import BackwardTrace, record_backward
from graphviz_app.core.cancel import CancelToken
from graphviz_app.core.capture import CaptureOptions
from graphviz_app.core.collapse import collapse_modules, fitting_collapse
from graphviz_app.core.engine import GraphvizEngine, find_engine
from graphviz_app.core.forward import ForwardRun, forward_and_capture
from graphviz_app.core.graph import AutogradGraph
from graphviz_app.core.layout import GraphLayout, compute_layout, to_dot
from graphviz_app.core.layout_cache import LayoutCache
from graphviz_app.core.style import GraphStyle
from graphviz_app.core.training import Trainer, TrainRecord, TrainSettings, batch_inputs
from graphviz_app.io.loaders import load_model
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest

_T = TypeVar("_T")
AUTO_COLLAPSE_ABOVE = 1500  # nodes; Graphviz needs seconds beyond a few thousand
THREADS_ENV = "GRAPHVIZ_APP_TORCH_THREADS"


@dataclass(frozen=True)
class PictureResult:
    """Everything the window needs to draw one captured graph."""

    model_name: str
    model_path: str
    doc: str
    graph: AutogradGraph  # everything captured
    visible: AutogradGraph  # what is drawn: ``graph`` with collapsed modules merged
    layout: GraphLayout
    style: GraphStyle
    dot: str
    engine: str
    parameter_count: int
    timings: tuple[tuple[str, float], ...] = field(default=())

    def total_seconds(self) -> float:
        """Wall time of all steps that produced this picture."""
        return sum(seconds for _, seconds in self.timings)


@dataclass(frozen=True)
class BackwardResult:
    """A recorded backward pass over the graph of the latest forward."""

    trace: BackwardTrace
    graph: AutogradGraph  # the captured graph the trace's node ids refer to
    seconds: float

    def grad_norms(self) -> dict[str, float]:
        """Node id -> norm of the gradient that reached it."""
        return self.trace.grad_norms()


def configure_torch_threads() -> int:
    """Give torch's intra-op pool fewer threads than cores, and return the count.

    On a 2-core machine torch's default pool fights the GUI thread and Graphviz:
    a deep conv net's forward took 39 s with 2 threads and 0.4 s with 1 while
    another process held a core. Leaving one core free keeps the window responsive.
    ``GRAPHVIZ_APP_TORCH_THREADS`` overrides the choice.
    """
    wanted = os.environ.get(THREADS_ENV, "")
    threads = (
        int(wanted) if wanted.isdigit() and int(wanted) > 0 else max(1, (os.cpu_count() or 2) - 1)
    )
    torch.set_num_threads(threads)
    return threads


class ModelSession:
    """The model currently open and its latest forward run (worker-thread only)."""

    def __init__(
        self, engine: GraphvizEngine | None = None, options: CaptureOptions | None = None
    ) -> None:
        self.engine = engine or find_engine()
        self.options = options or CaptureOptions()
        self.loaded: LoadedModel | None = None
        self.run: ForwardRun | None = None
        self._cache: LayoutCache[tuple[str, GraphLayout]] = LayoutCache()
        self._timings: list[tuple[str, float]] = []
        self.auto_collapse_above = AUTO_COLLAPSE_ABOVE
        self._trainer: Trainer | None = None

    def open(
        self,
        source: str | Path | LoadRequest,
        style: GraphStyle,
        cancel: CancelToken | None = None,
    ) -> PictureResult:
        """Load a model file, run its forward pass and lay out the captured graph.

        A graph above ``auto_collapse_above`` nodes opens collapsed to the deepest
        module level that fits (the result's style says which modules).
        """
        self.load(source)
        _check(cancel)
        graph = self.forward()
        _check(cancel)
        if not style.collapsed:
            fitting = fitting_collapse(graph, self.auto_collapse_above)
            style = dataclasses.replace(style, collapsed=fitting) if fitting else style
        return self.picture(style, cancel)

    def load(self, source: str | Path | LoadRequest) -> LoadedModel:
        """Load a model file (a path, or a request with the user's choices) and build
        its model and example inputs."""
        self._timings = []
        request = LoadRequest.of(source)
        self.loaded = self._timed("load", lambda: load_model(request))
        self._trainer = None
        return self.loaded

    def forward(self) -> AutogradGraph:
        """Run forward on the open model under the recorder and capture its graph."""
        loaded = self._require_loaded()
        self.run = self._timed(
            "forward + capture",
            lambda: forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn, self.options),
        )
        return self.run.graph

    def picture(self, style: GraphStyle, cancel: CancelToken | None = None) -> PictureResult:
        """Lay out the current graph in ``style`` (cached by structure).

        The result's timings cover every step since the previous picture.
        """
        loaded, run = self._require_loaded(), self.run
        if run is None:
            raise RuntimeError("No forward pass has run yet.")
        visible = collapse_modules(run.graph, style.collapsed)
        dot, layout = self._timed("layout", lambda: self._layout(visible, style, cancel))
        timings, self._timings = tuple(self._timings), []
        return PictureResult(
            model_name=loaded.name,
            model_path=str(loaded.path),
            doc=loaded.doc,
            graph=run.graph,
            visible=visible,
            layout=layout,
            style=style,
            dot=dot,
            engine=self.engine.describe(),
            parameter_count=sum(p.numel() for p in loaded.model.parameters()),
            timings=timings,
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
        start = time.perf_counter()
        trace = record_backward(
            run.walk, retain_graph=retain_graph, preview_limit=self.options.preview_limit
        )
        return BackwardResult(trace, run.graph, time.perf_counter() - start)

    def train_step(
        self, settings: TrainSettings, style: GraphStyle
    ) -> tuple[PictureResult, BackwardResult, TrainRecord]:
        """One optimizer step: forward (a new graph), recorded backward, optimizer.step().

        The picture and the backward pass shown are those of this step's forward, with
        the gradients the optimizer then used.
        """
        loaded = self._require_loaded()
        if self._trainer is None or self._trainer.settings != settings:
            self._trainer = Trainer(loaded.model, settings)
        trainer = self._trainer
        trainer.before_forward()
        inputs = batch_inputs(loaded.make_batch, trainer.steps, loaded.inputs)
        self.run = self._timed(
            "forward + capture",
            lambda: forward_and_capture(loaded.model, inputs, loaded.loss_fn, self.options),
        )
        backward = self.backward()
        record = trainer.apply(self.run.roots[0])
        return self.picture(style), backward, record

    def _layout(
        self, graph: AutogradGraph, style: GraphStyle, cancel: CancelToken | None
    ) -> tuple[str, GraphLayout]:
        """DOT text and layout, from the cache when this structure was drawn before."""
        key = LayoutCache.picture_key(graph, style, self.engine)
        cached = self._cache.get(key)
        if cached is None:
            dot = to_dot(graph, style)
            cached = (dot, compute_layout(dot, self.engine, cancel=cancel))
            self._cache.put(key, cached)
        return cached

    def _timed(self, name: str, step: Callable[[], _T]) -> _T:
        start = time.perf_counter()
        result = step()
        self._timings.append((name, time.perf_counter() - start))
        return result

    def _require_loaded(self) -> LoadedModel:
        if self.loaded is None:
            raise RuntimeError("No model is open.")
        return self.loaded


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
