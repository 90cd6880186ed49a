"""The open model and its steps, without Qt: opening, forward, backward, training,
device switches and gradient checks (see ``model_session``; each concern has its module).

This package's face hands on the names the window, the CLI and the tests use. The
results import no torch; :class:`ModelSession` (which does) is imported when first
asked for, so that the window can show before torch has loaded.
"""

from typing import TYPE_CHECKING, Any

from graphviz_app.session.results import (
    BackwardResult,
    DeviceChoice,
    DeviceSwitchResult,
    HealthResult,
    PictureResult,
    StepResult,
    TrainRunResult,
)

if TYPE_CHECKING:
    from graphviz_app.session.model_session import ModelSession

__all__ = [
    "BackwardResult",
    "DeviceChoice",
    "DeviceSwitchResult",
    "HealthResult",
    "ModelSession",
    "PictureResult",
    "StepResult",
    "TrainRunResult",
]


def __getattr__(name: str) -> Any:
    if name == "ModelSession":  # imports torch
        from graphviz_app.session.model_session import ModelSession

        return ModelSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
