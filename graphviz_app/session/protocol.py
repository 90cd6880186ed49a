"""The few session steps that training, device switches and gradient checks build on.

:class:`~graphviz_app.session.model_session.ModelSession` provides them; the modules
beside it take this narrow interface instead, so they never import the session back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import torch

from graphviz_app.core.autograd.forward import ForwardRun, LossFn
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.state import TrainingState
from graphviz_app.session.results import BackwardResult, PictureResult

_T = TypeVar("_T")


class SessionSteps(Protocol):
    """An open model's forward, backward and picture, and its training state."""

    run: ForwardRun | None

    @property
    def training(self) -> TrainingState:
        """The open model's training state."""
        ...

    def forward(self) -> AutogradGraph:
        """Forward on the current inputs; capture the graph."""
        ...

    def capture_step(self, inputs: tuple[torch.Tensor, ...], loss: LossFn | None) -> ForwardRun:
        """Forward and capture on ``inputs`` with ``loss``, timed; the new current run."""
        ...

    def backward(self, retain_graph: bool = False) -> BackwardResult:
        """Recorded backward from the current run's roots."""
        ...

    def picture(self, style: GraphStyle, cancel: CancelToken | None = None) -> PictureResult:
        """Lay out the current run's graph."""
        ...

    def timed(self, name: str, step: Callable[[], _T]) -> _T:
        """``step()``, its time counted as ``name`` in the next picture's timings."""
        ...

    def use_inputs(self, inputs: tuple[torch.Tensor, ...]) -> None:
        """Run the next forward on ``inputs``."""
        ...
