"""What a session hands the window: immutable results that may cross threads.

Importing this module imports no torch: the window is built from these names before
torch has loaded (in the background).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from graphviz_app.core.graph.collapse import Fold, VisibleGraph
from graphviz_app.core.graph.diff import StructureChange
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.health.report import HealthReport
from graphviz_app.core.layout.dot import GraphLayout, to_dot
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.settings import TrainRecord
from graphviz_app.io.request import LoadRequest

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardTrace
    from graphviz_app.core.runtime.devices import DeviceInfo
    from graphviz_app.core.training.compare import GradComparison


@dataclass(frozen=True)
class ScriptState:
    """Where an open script is: paused at backward call ``call`` (``location``), or
    ended (``status`` "finished", "exited", "failed" or "stopped", and ``message``)."""

    path: str
    call: int  # the backward call shown (0: none yet)
    location: str = ""  # "train.py:42 (in train)": the call's line
    status: str = "paused"
    message: str = ""  # how it ended, in words
    details: str = ""  # the traceback, when it failed
    calls: int = 0  # backward calls made so far

    @property
    def paused(self) -> bool:
        """True while the script waits at a backward call (Next backward goes on)."""
        return self.status == "paused"

    def describe(self) -> str:
        """One line for the window: ``Paused at backward call 3 (train.py:42).``"""
        if self.paused:
            return f"Paused at backward call {self.call} ({self.location})."
        return self.message


@dataclass(frozen=True)
class PictureResult:
    """Everything the window needs to draw one captured graph."""

    model_name: str
    model_path: str
    doc: str
    graph: AutogradGraph  # everything captured
    view: VisibleGraph  # what is drawn: collapsed modules and folds merged, and the mapping
    layout: GraphLayout
    style: GraphStyle  # as drawn (the hard cap may have collapsed more than asked)
    engine: str
    parameter_count: int
    timings: tuple[tuple[str, float], ...] = field(default=())
    folds: tuple[Fold, ...] = ()  # repeated blocks drawn as one node each
    foldable: frozenset[str] = frozenset()  # first modules of the runs that can fold
    notice: str | None = None  # why more is collapsed than asked, if it is
    notes: tuple[str, ...] = ()  # what loading the file skipped or could not import
    layout_kind: str = ""  # "cached", "spliced" or "full": how the layout was made
    guesses: tuple[str, ...] = ()  # what opening the file guessed (class, arguments, input)
    resolved: LoadRequest | None = None  # the choices it was opened with, guesses included
    script: ScriptState | None = None  # set when the file runs as a script
    opened: bool = False  # the first picture of a model just opened (its guesses are news)
    untrainable: str = ""  # why training cannot run here (live tensors, a finished graph)

    @property
    def visible(self) -> AutogradGraph:
        """The drawn graph."""
        return self.view.graph

    @cached_property
    def dot(self) -> str:
        """The DOT text of the drawn graph (made when first asked: exports need it, a
        spliced or cached layout does not)."""
        return to_dot(self.visible, self.style)

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


@dataclass(frozen=True)
class StepResult:
    """One training step: its picture, recorded backward, record and graph change."""

    picture: PictureResult
    backward: BackwardResult
    record: TrainRecord
    change: StructureChange
    note: str = ""  # e.g. "New Adam optimizer: its state starts empty."

    @property
    def layout_reused(self) -> bool:
        """Same structure as the previous picture: no Graphviz run."""
        return self.picture.layout_kind == "cached"


@dataclass(frozen=True)
class TrainRunResult:
    """N training steps (or fewer, when stopped)."""

    records: tuple[TrainRecord, ...]
    last: StepResult | None
    requested: int
    stopped: bool


@dataclass(frozen=True)
class ScriptStep:
    """A script run on to a backward call (or to its end): the picture of the call
    shown, its recorded backward (None when the script left only a graph, or ended),
    every call's record since the previous step (for the plots), and where it is."""

    picture: PictureResult | None
    backward: BackwardResult | None
    records: tuple[TrainRecord, ...]
    state: ScriptState


@dataclass(frozen=True)
class DeviceSwitchResult:
    """A move to another device or dtype, or why it failed (and where the model is)."""

    device: str
    dtype: str
    picture: PictureResult | None = None
    backward: BackwardResult | None = None
    comparison: GradComparison | None = None
    error: str = ""  # set when the switch failed and the model stayed where it was
    details: str = ""

    @property
    def ok(self) -> bool:
        """True when the model now runs on ``device`` in ``dtype``."""
        return not self.error


@dataclass(frozen=True)
class DeviceChoice:
    """The devices the selector lists, and where the open model runs now."""

    devices: tuple[DeviceInfo, ...]
    device: str
    dtype: str


@dataclass(frozen=True)
class HealthResult:
    """A health report, the backward it was made from (None when backward failed) and,
    when asked for, the picture of that forward's graph (the report's node ids)."""

    report: HealthReport
    backward: BackwardResult | None
    picture: PictureResult | None = None
