"""Outputs -> :class:`AutogradGraph`: the walk plus what the forward recorder learned."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from graphviz_app.core.autograd.higher_order import ORDER_KEY, OrderMark
from graphviz_app.core.autograd.recorder import METADATA_KEY, Annotation, node_metadata
from graphviz_app.core.graph.records import (
    AutogradGraph,
    Edge,
    GradMeta,
    Node,
    NodeKind,
    SavedValue,
    TensorInfo,
)
from graphviz_app.core.graph.tensor_info import (
    describe_flagging_non_finite,
    describe_tensor,
    grad_meta,
)
from graphviz_app.core.graph.walk import AutogradNode, AutogradWalk, CaptureError, walk_autograd
from graphviz_app.core.runtime.gc_pause import gc_paused

__all__ = ["CaptureError", "CaptureOptions", "capture_graph", "capture_walk", "saved_names"]

_VIEW_OPS = frozenset(
    [
        "View",
        "ReshapeAlias",
        "T",
        "Transpose",
        "Permute",
        "Expand",
        "Slice",
        "Select",
        "Unsqueeze",
        "Squeeze",
        "AsStrided",
        "Unbind",
        "Split",
        "SplitWithSizes",
        "Diagonal",
        "Alias",
        "Unfold",
        "ViewAsReal",
        "ViewAsComplex",
        "Real",
        "Imag",
        "Narrow",
        "Chunk",
        "Indices",
        "Values",
        "Mh",
        "Mt",
    ]
)
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_MAX_TEXT = 80
# Saved tensors above this size (weights of big embeddings, long activations) are
# recorded by shape only: their statistics cost more than the whole capture else.
SAVED_VALUES_LIMIT = 1 << 20


@dataclass(frozen=True)
class CaptureOptions:
    """What to record besides structure."""

    with_values: bool = True  # stats and previews of tensors (off for huge models)
    with_saved: bool = True  # the tensors and attributes each node saved for backward
    saved_values: bool = True  # statistics and previews of saved tensors too
    preview_limit: int = 64
    # Without values, op outputs holding NaN/Inf still get statistics (one sum each).
    flag_non_finite: bool = False
    # Only the saved attributes a label shows (batch norm's ``training``): no dir() of
    # every node and no tensor of every saved value (a picture draws none of them).
    saved_for_labels: bool = False

    @classmethod
    def picture(cls) -> CaptureOptions:
        """What a static picture needs: structure, shapes and saved attributes, and the
        NaN/Inf flags of op outputs; no value statistics (a quarter of GPT-2's
        capture time, and most of the recorder's). Parameters are not checked for
        NaN (summing 124M weights would cost more than the picture); their
        consumers' outputs show it."""
        return cls(with_values=False, flag_non_finite=True, saved_for_labels=True)


def capture_graph(
    outputs: torch.Tensor | Sequence[torch.Tensor],
    params: Mapping[str, torch.Tensor] | None = None,
    inputs: Mapping[str, torch.Tensor] | None = None,
    options: CaptureOptions | None = None,
) -> AutogradGraph:
    """Capture the autograd graph behind ``outputs`` (one tensor or several roots).

    ``params`` names parameters (``dict(model.named_parameters())``) and ``inputs``
    names other leaf tensors. Forward-op names, module paths and source lines are
    filled in where a :class:`~graphviz_app.core.autograd.recorder.ForwardRecorder` was active
    during the forward pass. Raises :class:`CaptureError` with the reason when an
    output has no ``grad_fn``.
    """
    roots = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
    if not roots:
        raise CaptureError("There is no output to capture: the forward returned no tensor.")
    return capture_walk(walk_autograd(roots), params, inputs, options)


def capture_walk(
    walk: AutogradWalk,
    params: Mapping[str, torch.Tensor] | None = None,
    inputs: Mapping[str, torch.Tensor] | None = None,
    options: CaptureOptions | None = None,
) -> AutogradGraph:
    """Build the graph records for a walk already made (see :func:`capture_graph`)."""
    builder = _GraphBuilder(walk, params or {}, inputs or {}, options or CaptureOptions())
    with gc_paused():
        return builder.build()


class _GraphBuilder:
    def __init__(
        self,
        walk: AutogradWalk,
        params: Mapping[str, torch.Tensor],
        inputs: Mapping[str, torch.Tensor],
        options: CaptureOptions,
    ) -> None:
        self.walk = walk
        self.param_names = {id(t): name for name, t in params.items()}
        self.input_names = {id(t): name for name, t in inputs.items()}
        self.options = options
        self.fn_index = {id(fn): i for i, fn in enumerate(walk.fns)}
        self._saved_cache: dict[tuple[object, ...], TensorInfo] = {}

    def build(self) -> AutogradGraph:
        nodes = [self._output_node(i, t) for i, t in enumerate(self.walk.outputs)]
        modules: list[str | None] = []
        for i, fn in enumerate(self.walk.fns):
            node = self._fn_node(i, fn, modules)
            modules.append(node.module)
            nodes.append(node)
        meta = (("torch", torch.__version__),)
        roots = tuple(f"n{i}" for i in range(len(self.walk.outputs)))
        return AutogradGraph(tuple(nodes), tuple(self._edges()), roots, meta)

    def _output_node(self, position: int, tensor: torch.Tensor) -> Node:
        if self.options.flag_non_finite and not self.options.with_values:
            info = describe_flagging_non_finite(tensor, self.options.preview_limit)
        else:
            info = self._describe(tensor)
        return Node(
            id=f"n{position}",
            name="output",
            kind=NodeKind.OUTPUT,
            tensor=info,
            leaf_name=f"output {position}" if len(self.walk.outputs) > 1 else "output",
        )

    def _fn_node(self, index: int, fn: AutogradNode, modules: list[str | None]) -> Node:
        name = type(fn).__name__
        note: Annotation | None = node_metadata(fn).get(METADATA_KEY)
        if hasattr(fn, "variable"):
            return self._leaf_node(index, fn, name)
        parent = self.walk.parent[index]
        inherited = modules[parent] if parent >= 0 else None
        mark: OrderMark | None = node_metadata(fn).get(ORDER_KEY)
        return Node(
            id=self.walk.fn_id(index),
            name=name,
            kind=self._kind(fn, name, note),
            op=note.op if note else None,
            module=note.module if note else inherited,
            module_inferred=note is None and inherited is not None,
            source=note.source if note else (mark.source if mark else None),
            tensor=note.tensor if note else None,
            saved=self._saved(fn),
            view_base=self._view_base(note),
            sequence_nr=int(fn._sequence_nr()),
            grad_order=mark.order if mark else 1,
        )

    def _leaf_node(self, index: int, fn: AutogradNode, name: str) -> Node:
        variable = fn.variable
        param = self.param_names.get(id(variable))
        leaf_name = param or self.input_names.get(id(variable))
        is_param = param is not None or isinstance(variable, torch.nn.Parameter)
        return Node(
            id=self.walk.fn_id(index),
            name=name,
            kind=NodeKind.PARAMETER if is_param else NodeKind.INPUT,
            module=param.rpartition(".")[0] if param else None,
            tensor=self._describe(variable),
            leaf_name=leaf_name,
            sequence_nr=int(fn._sequence_nr()),
        )

    def _kind(self, fn: AutogradNode, name: str, note: Annotation | None) -> NodeKind:
        if name == "CopySlices":
            return NodeKind.COPY_SLICES
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            return NodeKind.CUSTOM
        if _BACKWARD_SUFFIX.sub("", name) in _VIEW_OPS or (note and note.view_base_fn):
            return NodeKind.VIEW
        return NodeKind.BACKWARD

    def _view_base(self, note: Annotation | None) -> str | None:
        if note is None or note.view_base_fn is None:
            return None
        index = self.fn_index.get(note.view_base_fn)
        return self.walk.fn_id(index) if index is not None else None

    def _describe(self, tensor: torch.Tensor) -> TensorInfo:
        return describe_tensor(tensor, self.options.preview_limit, self.options.with_values)

    def _describe_saved(self, tensor: torch.Tensor) -> TensorInfo:
        """Described once per tensor value: a tied weight is saved by many nodes."""
        key = (
            tensor.data_ptr(),
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.dtype,
            str(tensor.device),
            tensor._version,
        )
        info = self._saved_cache.get(key)
        if info is None:
            with_values = (
                self.options.saved_values
                and self.options.with_values
                and tensor.numel() <= SAVED_VALUES_LIMIT
            )
            # Saved tensors are listed with their first values; no histogram is drawn.
            info = describe_tensor(tensor, self.options.preview_limit, with_values, False)
            self._saved_cache[key] = info
        return info

    def _saved(self, fn: AutogradNode) -> tuple[SavedValue, ...]:
        if not self.options.with_saved:
            return ()
        if self.options.saved_for_labels:
            if not hasattr(fn, "_saved_training"):
                return ()
            return tuple(self._saved_values("training", lambda: fn._saved_training))
        values: list[SavedValue] = []
        for attr in saved_names(fn):
            name = attr.removeprefix("_saved_")
            values.extend(self._saved_values(name, lambda a=attr: getattr(fn, a)))
        return tuple(values)

    def _saved_values(self, name: str, read: object) -> list[SavedValue]:
        try:
            value = read()  # type: ignore[operator]
        except RuntimeError as exc:  # freed by an earlier backward
            return [SavedValue(name, text=f"<unavailable: {str(exc).splitlines()[0][:60]}>")]
        if isinstance(value, torch.Tensor):
            info = self._describe_saved(value)
            return [SavedValue(name, tensor=info)]
        if isinstance(value, (tuple, list)) and any(isinstance(v, torch.Tensor) for v in value):
            return [
                item
                for i, v in enumerate(value)
                for item in self._saved_values(f"{name}[{i}]", lambda v=v: v)
            ]
        return [SavedValue(name, text=_short_repr(value))]

    def _edges(self) -> list[Edge]:
        walk, fns = self.walk, self.walk.fns
        edges = [
            Edge(
                walk.fn_id(fn_index),
                f"n{pos}",
                0,
                int(walk.outputs[pos].output_nr),
                _tensor_grad_meta(walk.outputs[pos]),
            )
            for pos, fn_index in enumerate(walk.root_fn)
        ]
        for source, target, input_index, output_nr in walk.edges:
            meta = _edge_grad_meta(fns[source], output_nr)
            edges.append(Edge(walk.fn_id(source), walk.fn_id(target), input_index, output_nr, meta))
        return edges


#: Backward class -> the names of its saved values (the same for every instance).
_SAVED_NAMES: dict[type, tuple[str, ...]] = {}


def saved_names(fn: AutogradNode) -> tuple[str, ...]:
    """The attributes that hold what ``fn`` saved for backward (``_saved_self``...;
    ``saved_tensors`` for a custom Function), found once per class: ``dir()`` of every
    node cost more than the rest of a picture's capture."""
    kind = type(fn)
    names = _SAVED_NAMES.get(kind)
    if names is None:
        names = tuple(a for a in dir(fn) if a.startswith("_saved_"))
        if isinstance(fn, torch.autograd.function.BackwardCFunction):
            names += ("saved_tensors",)
        _SAVED_NAMES[kind] = names
    return names


def _tensor_grad_meta(tensor: torch.Tensor) -> GradMeta:
    return grad_meta(tensor.shape, tensor.dtype, tensor.device)


def _edge_grad_meta(source: AutogradNode, output_nr: int) -> GradMeta | None:
    """The gradient w.r.t. ``source``'s output ``output_nr``, as autograd declares it."""
    try:
        meta = source._input_metadata[output_nr]
        return grad_meta(meta.shape, meta.dtype, meta.device)
    except (AttributeError, IndexError, RuntimeError):
        return None


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."
