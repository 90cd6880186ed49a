"""The captured autograd graph: plain, immutable node and edge records.

Nothing in here holds a tensor or a ``grad_fn``: a captured graph can be sent
across threads, serialised to JSON and compared in tests.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx


class NodeKind(str, Enum):
    """What a node of the autograd graph stands for."""

    OUTPUT = "output"  # a tensor the user asked to see (a root)
    BACKWARD = "backward"  # an ordinary backward op such as AddmmBackward0
    VIEW = "view"  # the backward of a view op (ViewBackward0, TBackward0, ...)
    COPY_SLICES = "copy_slices"  # an in-place op applied through a view
    CUSTOM = "custom"  # the backward of a user's autograd.Function
    PARAMETER = "parameter"  # AccumulateGrad of an nn.Parameter
    INPUT = "input"  # AccumulateGrad of any other leaf tensor
    MODULE = "module"  # a collapsed nn.Module standing for all the nodes inside it


@dataclass(frozen=True)
class TensorStats:
    """Summary statistics of a tensor's finite values, plus NaN/Inf counts."""

    numel: int
    min: float
    max: float
    mean: float
    std: float
    norm: float
    nan_count: int
    inf_count: int

    @property
    def has_non_finite(self) -> bool:
        """True when the tensor holds a NaN or an infinity."""
        return self.nan_count > 0 or self.inf_count > 0

    @property
    def non_finite_text(self) -> str:
        """``16 NaN, 0 Inf``: the one wording of the counts, wherever they are shown."""
        return f"{self.nan_count} NaN, {self.inf_count} Inf"


@dataclass(frozen=True)
class TensorInfo:
    """Shape, dtype, device and (when values exist) a bounded summary of a tensor."""

    shape: tuple[int, ...]
    dtype: str
    device: str
    requires_grad: bool = False
    stats: TensorStats | None = None
    preview: tuple[float, ...] = ()
    preview_truncated: bool = False

    @property
    def shape_text(self) -> str:
        """The shape as PyTorch prints it, e.g. ``(3, 4)``."""
        return "(" + ", ".join(str(d) for d in self.shape) + ")"


@dataclass(frozen=True)
class Histogram:
    """Counts of a tensor's finite values in ``len(counts)`` equal bins over [low, high].

    Bins are half-open except the last, which holds ``high`` (as numpy's). A tensor
    whose finite values are all equal has one bin with ``low == high``. When the
    tensor was bigger than :data:`HISTOGRAM_SAMPLE`, ``sampled`` is True and the
    counts are those of an evenly strided sample (``low``/``high`` stay exact).
    """

    low: float
    high: float
    counts: tuple[int, ...]
    sampled: bool = False

    @property
    def total(self) -> int:
        """How many values were counted."""
        return sum(self.counts)

    def edges(self) -> tuple[float, ...]:
        """The ``len(counts) + 1`` bin edges, from ``low`` to ``high``."""
        bins = len(self.counts)
        step = (self.high - self.low) / bins if bins else 0.0
        return (*(self.low + i * step for i in range(bins)), self.high)


@dataclass(frozen=True)
class SavedValue:
    """One attribute a backward node saved for backward (``_saved_*``)."""

    name: str
    tensor: TensorInfo | None = None  # set for tensors
    text: str | None = None  # repr of a non-tensor value


@dataclass(frozen=True)
class SourceLocation:
    """The user's line of code that ran the forward op."""

    file: str
    line: int
    function: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def short(self) -> str:
        """``model.py:12``: the file's name without its folder, and the line."""
        return f"{PurePath(self.file).name}:{self.line}"


@dataclass(frozen=True)
class Node:
    """One node of the captured graph.

    ``name`` is the backward class (``AddmmBackward0``), the parameter's qualified
    name for leaves, or ``output`` for roots. ``op`` is the forward op that created
    it (``linear``), ``module`` the ``nn.Module`` path it ran inside. ``grad_order`` is
    1 for the forward's nodes, 2 for a node a backward with ``create_graph=True`` made
    (backward of backward), 3 for the backward of that...
    """

    id: str
    name: str
    kind: NodeKind
    op: str | None = None
    module: str | None = None
    module_inferred: bool = False
    source: SourceLocation | None = None
    tensor: TensorInfo | None = None
    saved: tuple[SavedValue, ...] = ()
    leaf_name: str | None = None
    view_base: str | None = None
    sequence_nr: int | None = None
    grad_order: int = 1

    @property
    def is_leaf(self) -> bool:
        """True for AccumulateGrad nodes (parameters and other leaf tensors)."""
        return self.kind in (NodeKind.PARAMETER, NodeKind.INPUT)

    @property
    def title(self) -> str:
        """A short human title: the leaf's name or the node's class name."""
        return self.leaf_name or self.name


@dataclass(frozen=True)
class GradMeta:
    """Shape, dtype and device of the gradient that flows along an edge."""

    shape: tuple[int, ...]
    dtype: str
    device: str


@dataclass(frozen=True)
class Edge:
    """A ``next_functions`` link, drawn in the forward direction.

    ``source`` produced a value that ``target`` consumed: in backward, the gradient
    flows from ``target`` to ``source``. ``input_index`` is the position in
    ``target.next_functions``; ``output_nr`` says which output of ``source``.
    """

    source: str
    target: str
    input_index: int
    output_nr: int
    grad: GradMeta | None = None


@dataclass(frozen=True)
class AutogradGraph:
    """A captured autograd DAG: nodes in traversal order, edges, and the roots."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    roots: tuple[str, ...]
    meta: tuple[tuple[str, str], ...] = field(default=())

    @cached_property
    def _by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError if absent)."""
        return self._by_id[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    @cached_property
    def _edges_in(self) -> dict[str, list[Edge]]:
        index: dict[str, list[Edge]] = {}
        for edge in self.edges:
            index.setdefault(edge.target, []).append(edge)
        return index

    @cached_property
    def _edges_out(self) -> dict[str, list[Edge]]:
        index: dict[str, list[Edge]] = {}
        for edge in self.edges:
            index.setdefault(edge.source, []).append(edge)
        return index

    def in_edges(self, node_id: str) -> list[Edge]:
        """Edges whose target is ``node_id`` (its inputs in forward order)."""
        return list(self._edges_in.get(node_id, ()))

    def out_edges(self, node_id: str) -> list[Edge]:
        """Edges whose source is ``node_id`` (its consumers)."""
        return list(self._edges_out.get(node_id, ()))

    def structure_key(self) -> str:
        """A hash of the graph's structure (names, kinds, modules, edges), not its values.

        Two forward passes that build the same graph get the same key, so a layout
        can be reused when only the numbers changed.
        """
        digest = hashlib.sha256()
        for n in self.nodes:
            digest.update(f"{n.id}|{n.name}|{n.kind.value}|{n.module}|{n.leaf_name}\n".encode())
        for e in self.edges:
            digest.update(f"{e.source}>{e.target}#{e.input_index}\n".encode())
        return digest.hexdigest()[:16]

    def to_networkx(self) -> nx.MultiDiGraph:
        """A networkx multigraph (an op may consume one value twice) with records as attributes."""
        import networkx as nx  # 0.2 s to import: only for those who ask for it

        g = nx.MultiDiGraph(roots=list(self.roots), **dict(self.meta))
        for n in self.nodes:
            g.add_node(n.id, record=n, kind=n.kind.value, name=n.name)
        for e in self.edges:
            g.add_edge(e.source, e.target, key=e.input_index, record=e)
        return g

    def to_json_dict(self) -> dict[str, Any]:
        """A node-link JSON form holding every record field."""
        return {
            "directed": True,
            "multigraph": True,
            "graph": {"roots": list(self.roots), **dict(self.meta)},
            "nodes": [asdict(n) for n in self.nodes],
            "links": [asdict(e) for e in self.edges],
        }

    def to_json(self, indent: int | None = 1) -> str:
        """The JSON text of :meth:`to_json_dict`."""
        return json.dumps(finite_json(self.to_json_dict()), indent=indent, allow_nan=False)


def finite_json(value: Any) -> Any:
    """Strict JSON: NaN and infinities become the strings JavaScript prints for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


def module_prefixes(module: str) -> list[str]:
    """``"a.b.c"`` and its ancestors, outermost first: ``["a", "a.b", "a.b.c"]``."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]
