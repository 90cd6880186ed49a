"""Gradient checks of the open model (finite differences against backward)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphviz_app.core.gradcheck.check import check_gradients
from graphviz_app.core.gradcheck.results import GradcheckReport
from graphviz_app.core.runtime.cancel import CancelToken
from graphviz_app.core.training.losses import loss_function
from graphviz_app.core.training.state import TrainingState
from graphviz_app.core.training.trainer import TrainSettings


def check_session_gradients(
    state: TrainingState,
    settings: TrainSettings,
    names: Sequence[str] | None = None,
    cancel: CancelToken | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> GradcheckReport:
    """Finite differences against backward in float64 and float32, on a copy of the
    model and the next batch, with the loss ``settings`` chooses (``names``: only these
    parameters), sized to about 30 s; ``on_progress(done, total)`` counts checked
    elements (worker thread)."""
    batch = state.next_batch()
    loss = loss_function(settings.loss, state.model_loss, batch.target)
    return check_gradients(
        state.model, batch.inputs, loss, names, cancel=cancel, on_progress=on_progress
    )
