"""The open model and its steps, without Qt: opening, forward, backward, training,
device switches and gradient checks (see ``model_session``; each concern has its module).

This package's face hands on the names the window, the CLI and the tests use.
"""

from graphviz_app.session.devices import DeviceChoice, DeviceSwitchResult
from graphviz_app.session.health import HealthResult
from graphviz_app.session.model_session import ModelSession
from graphviz_app.session.results import (
    BackwardResult,
    PictureResult,
    StepResult,
    TrainRunResult,
)

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
