"""What the script part uses of the window: what the Training dock uses (the script's
steps are plotted there, and its docks share the bottom), plus the dock itself. A
narrow interface: the window builds the part and hands itself over; the part never
imports the window."""

from __future__ import annotations

from typing import Protocol

from graphviz_app.ui.training.controls import TrainingControls
from graphviz_app.ui.training.host import TrainingHost


class ScriptHost(TrainingHost, Protocol):
    """What the script part uses of the window."""

    training: TrainingControls
