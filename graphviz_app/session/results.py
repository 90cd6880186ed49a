"""What a session hands the window: immutable results that may cross threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.collapse import Fold, VisibleGraph
from graphviz_app.core.graph.diff import StructureChange
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import GraphLayout, to_dot
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.trainer import TrainRecord


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
