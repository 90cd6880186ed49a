"""What a graph captured from live tensors still tells when the recorder did not see
the forward pass (the user's own code, a notebook cell).

Such nodes carry no annotation, yet autograd keeps most of what the window draws:

- each node's output shape, dtype and device (``grad_fn._input_metadata``);
- the values of the outputs that some node saved for backward (a saved tensor still
  knows its ``grad_fn``), and of the roots themselves;
- the user's line, where the forward ran under ``torch.autograd.set_detect_anomaly``
  (``grad_fn.metadata["traceback_"]``);
- the module of the nodes that take a parameter, named from ``named_parameters()``
  (``fc1.weight`` -> ``fc1``), and of the nodes between two nodes of one module. These
  are marked ``module_inferred``.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import torch

from graphviz_app.core.autograd.capture import CaptureOptions, capture_walk, saved_names
from graphviz_app.core.autograd.recorder import is_library_file
from graphviz_app.core.graph.records import (
    AutogradGraph,
    Node,
    NodeKind,
    SourceLocation,
    TensorInfo,
)
from graphviz_app.core.graph.tensor_info import (
    describe_tensor,
    dtype_name,
    non_finite_flags,
    non_finite_flags_soon,
)
from graphviz_app.core.graph.walk import AutogradNode, AutogradWalk, walk_autograd

#: One frame of ``traceback.format_stack()``, as anomaly mode stores it.
_FRAME = re.compile(
    r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>[^\n]+)\n(?:\s*(?P<text>[^\n]*))?'
)
_OutputKey = tuple[int, int]  # id(grad_fn), output_nr
_Values = list[tuple[int, torch.Tensor]]  # (node position, the tensor the node stands for)


def capture_live(
    roots: Sequence[torch.Tensor],
    params: Mapping[str, torch.Tensor],
    leaves: Mapping[str, torch.Tensor] | None = None,
    options: CaptureOptions | None = None,
) -> tuple[AutogradWalk, AutogradGraph]:
    """Walk and capture the graph behind live ``roots`` (parameters named by
    ``params``, other leaves by ``leaves``), completed with what autograd still knows.
    The walk holds live ``grad_fn`` handles: drop it once done with it."""
    walk, _, with_leaves = capture_live_soon(roots, params, leaves, options)
    return walk, with_leaves()


def capture_live_soon(
    roots: Sequence[torch.Tensor],
    params: Mapping[str, torch.Tensor],
    leaves: Mapping[str, torch.Tensor] | None = None,
    options: CaptureOptions | None = None,
) -> tuple[AutogradWalk, AutogradGraph, Callable[[], AutogradGraph]]:
    """:func:`capture_live` with the leaves (the parameters: most of the values at
    hand, all of GPT-2's 124M weights) checked for NaN and Inf on a thread: the graph
    comes back at once, complete and marked but for them, with a call that waits for
    that check and returns the graph with the leaves marked too: the very same object
    when none holds a NaN or an Inf, by far the usual case, so that a picture laid out
    meanwhile is the right one. The call holds the leaves (the caller's own tensors)
    and views of them, never a saved activation."""
    options = options or CaptureOptions()
    named = {id(t) for t in params.values()}
    others = {k: v for k, v in (leaves or {}).items() if id(v) not in named}
    walk = walk_autograd(roots)
    leaf_values = _leaf_values(walk)
    leaf_flags = non_finite_flags_soon(_distinct(t for _, t in leaf_values))
    graph = capture_walk(walk, params, others, options)
    known = _known_outputs(walk)
    completed = _completed(graph, walk, known, options)
    storages = {_storage(t): id(t) for _, t in leaf_values}
    storages.pop(0, None)
    own: _Values = []
    views: _Values = []  # views of a leaf: weight.t(), saved by every Linear
    for position, tensor in _output_values(graph, walk, known):
        (views if _storage(tensor) in storages else own).append((position, tensor))
    marked = _marked(completed, own, options)

    def with_leaves() -> AutogradGraph:
        flagged = _flagged(leaf_values, leaf_flags())
        # A view holds its leaf's values: it can hold a NaN only where the leaf does.
        suspects = [(p, t) for p, t in views if storages[_storage(t)] in flagged]
        flagged |= _flagged(suspects, non_finite_flags(_distinct(t for _, t in suspects)))
        return _marked(marked, leaf_values + suspects, options, flagged)

    return walk, marked, with_leaves


def complete_graph(
    graph: AutogradGraph, walk: AutogradWalk, options: CaptureOptions | None = None
) -> AutogradGraph:
    """``graph`` (captured from ``walk``) with what autograd still knows filled in where
    the recorder left nothing: output shapes and saved values, anomaly-mode source
    lines, and modules inferred from parameter names. Annotated nodes are kept.

    Without values (``options.with_values`` off) every tensor at hand (the roots,
    the leaves, every output some node saved) is still checked for NaN and Inf, in
    one pass over its values (:func:`non_finite_flags`), and described in full when
    it holds any: the picture marks them whatever else it leaves out.
    """
    options = options or CaptureOptions()
    known = _known_outputs(walk)
    completed = _completed(graph, walk, known, options)
    values = _leaf_values(walk) + _output_values(graph, walk, known)
    return _marked(completed, values, options)


def _completed(
    graph: AutogradGraph,
    walk: AutogradWalk,
    known: Mapping[_OutputKey, torch.Tensor],
    options: CaptureOptions,
) -> AutogradGraph:
    """``graph`` with op nodes' outputs and source lines, and inferred modules."""
    offset = len(walk.outputs)
    changes: dict[int, dict[str, object]] = {}
    for index, fn in enumerate(walk.fns):
        change = _op_changes(graph.nodes[offset + index], fn, known, options)
        if change:
            changes[offset + index] = change
    for position, module in _inferred_modules(graph).items():
        changes.setdefault(position, {}).update(module=module, module_inferred=True)
    return _with_changes(graph, changes)


def _leaf_values(walk: AutogradWalk) -> _Values:
    offset = len(walk.outputs)
    return [(offset + i, fn.variable) for i, fn in enumerate(walk.fns) if hasattr(fn, "variable")]


def _output_values(
    graph: AutogradGraph, walk: AutogradWalk, known: Mapping[_OutputKey, torch.Tensor]
) -> _Values:
    """The roots, and the op outputs some node saved (where the recorder left none)."""
    values = list(enumerate(walk.outputs))
    offset = len(walk.outputs)
    for index, fn in enumerate(walk.fns):
        key = (id(fn), 0)
        if key in known and graph.nodes[offset + index].tensor is None:
            values.append((offset + index, known[key]))
    return values


def _marked(
    graph: AutogradGraph,
    values: _Values,
    options: CaptureOptions,
    flagged: set[int] | None = None,
) -> AutogradGraph:
    """``graph`` with each node of ``values`` whose tensor holds a NaN or an Inf (its id
    in ``flagged``; checked here when not given) described in full; ``graph`` itself
    when none does."""
    if flagged is None:
        tensors = _distinct(t for _, t in values)
        flagged = _flagged([(0, t) for t in tensors], non_finite_flags(tensors))
    changes: dict[int, dict[str, object]] = {}
    for position, tensor in values:
        info = graph.nodes[position].tensor
        if id(tensor) in flagged and (info is None or info.stats is None):
            changes[position] = {"tensor": describe_tensor(tensor, options.preview_limit)}
    return _with_changes(graph, changes)


def _flagged(values: _Values, flags: Sequence[bool]) -> set[int]:
    """The ids of the tensors of ``values`` (distinct, in order) that ``flags`` flags."""
    tensors = _distinct(t for _, t in values)
    return {id(t) for t, bad in zip(tensors, flags, strict=True) if bad}


def _with_changes(
    graph: AutogradGraph, changes: Mapping[int, Mapping[str, object]]
) -> AutogradGraph:
    if not changes:
        return graph
    nodes = list(graph.nodes)
    for position, change in changes.items():
        nodes[position] = _replaced(nodes[position], change)
    return dataclasses.replace(graph, nodes=tuple(nodes))


def _storage(tensor: torch.Tensor) -> int:
    """Where ``tensor``'s values live (0: nowhere to share, a meta or sparse tensor)."""
    if tensor.is_meta or tensor.layout != torch.strided:
        return 0
    return int(tensor.untyped_storage().data_ptr())


def _op_changes(
    node: Node,
    fn: AutogradNode,
    known: Mapping[_OutputKey, torch.Tensor],
    options: CaptureOptions,
) -> dict[str, object]:
    """What an op node the recorder did not see gets: its output, its source line."""
    change: dict[str, object] = {}
    if node.is_leaf:
        return change
    if node.tensor is None:
        change["tensor"] = _output_info(fn, known.get((id(fn), 0)), options)
    if node.source is None:
        source = anomaly_source(fn)
        if source is not None:
            change["source"] = source
    return change


def _replaced(node: Node, changes: Mapping[str, object]) -> Node:
    """``node`` with ``changes``: a copy of a frozen record made without re-running its
    ``__init__`` (``dataclasses.replace`` costs 5 us a node, ~1,400 nodes a GPT-2)."""
    copy = object.__new__(Node)
    copy.__dict__.update(node.__dict__, **changes)
    return copy


def _distinct(tensors: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    for tensor in tensors:
        seen.setdefault(id(tensor), tensor)
    return list(seen.values())


def _known_outputs(walk: AutogradWalk) -> dict[_OutputKey, torch.Tensor]:
    """Every node output whose value is at hand: the roots and the saved tensors."""
    known: dict[_OutputKey, torch.Tensor] = {}
    for tensor in walk.outputs:
        known[(id(tensor.grad_fn), int(tensor.output_nr))] = tensor
    for fn in walk.fns:
        for tensor in _saved_tensors(fn):
            if tensor.grad_fn is not None:
                known.setdefault((id(tensor.grad_fn), int(tensor.output_nr)), tensor)
    return known


def _saved_tensors(fn: AutogradNode) -> Iterator[torch.Tensor]:
    for name in saved_names(fn):
        try:
            value = getattr(fn, name)
        except RuntimeError:  # freed by an earlier backward
            continue
        values = value if isinstance(value, (tuple, list)) else (value,)
        yield from (v for v in values if isinstance(v, torch.Tensor))


def _output_info(
    fn: AutogradNode, tensor: torch.Tensor | None, options: CaptureOptions
) -> TensorInfo | None:
    if tensor is not None and options.with_values:
        return describe_tensor(tensor, options.preview_limit)
    if tensor is not None:  # its shape, without asking autograd for its metadata
        shape = tuple(int(d) for d in tensor.shape)
        return TensorInfo(shape, dtype_name(tensor.dtype), str(tensor.device), requires_grad=True)
    try:
        meta = fn._input_metadata[0]
    except (AttributeError, IndexError, RuntimeError):
        return None
    shape = tuple(int(d) for d in meta.shape)
    return TensorInfo(shape, dtype_name(meta.dtype), str(meta.device), requires_grad=True)


def anomaly_source(fn: AutogradNode) -> SourceLocation | None:
    """The user's line that made ``fn``, from the stack anomaly mode stored on it."""
    try:
        stack = fn.metadata.get("traceback_")
    except (AttributeError, RuntimeError):
        return None
    for frame in reversed(stack or ()):
        found = _FRAME.search(str(frame))
        if found and not is_library_file(found["file"]):
            text = (found["text"] or "").strip()
            return SourceLocation(found["file"], int(found["line"]), found["function"], text)
    return None


def infer_modules(graph: AutogradGraph) -> AutogradGraph:
    """``graph`` with modules for unannotated nodes, from the parameters they take.

    A node that takes parameters (directly or through a view such as ``weight.t()``)
    is in their module; a node between two such nodes is in the deepest module that
    holds both ("" for the model itself, as the recorder names its own ops). Nothing
    changes in a graph the recorder annotated (some op node has a module already) or
    one without named parameters.
    """
    inferred = _inferred_modules(graph)
    change = {"module_inferred": True}
    return _with_changes(graph, {p: {**change, "module": m} for p, m in inferred.items()})


def _inferred_modules(graph: AutogradGraph) -> dict[int, str]:
    """Node position -> the module :func:`infer_modules` gives it."""
    if any(n.module is not None and not n.is_leaf for n in graph.nodes):
        return {}
    owned = _owned(graph)
    if not owned:
        return {}
    below = _nearest(graph, owned, downstream=True)
    above = _nearest(graph, owned, downstream=False)
    inferred: dict[int, str] = {}
    for position, node in enumerate(graph.nodes):
        module = owned.get(node.id)
        if module is None and node.id in below and node.id in above:
            module = common_module((below[node.id], above[node.id]))
        if module is not None and not node.is_leaf and node.kind is not NodeKind.OUTPUT:
            inferred[position] = module
    return inferred


def _owned(graph: AutogradGraph) -> dict[str, str]:
    """Node id -> module, for the nodes that take a module's parameters."""
    origin = {  # a top-level name ("weight", or "a" in a params dict) says no module
        n.id: n.module for n in graph.nodes if n.kind is NodeKind.PARAMETER and n.module
    }
    views = [n.id for n in graph.nodes if n.kind is NodeKind.VIEW]
    changed = True
    while changed:  # views of parameters (weight.t(), weight.view(...)) stand for them
        changed = False
        for view in views:
            sources = [e.source for e in graph.in_edges(view)]
            if view not in origin and sources and all(s in origin for s in sources):
                origin[view] = common_module(origin[s] for s in sources)
                changed = True
    takes: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.source in origin and edge.target not in origin:
            takes.setdefault(edge.target, []).append(origin[edge.source])
    owned = {node_id: common_module(modules) for node_id, modules in takes.items()}
    owned.update({v: origin[v] for v in views if v in origin})
    return owned


def _nearest(graph: AutogradGraph, owned: Mapping[str, str], downstream: bool) -> dict[str, str]:
    """For each node, the module of the nearest owned node before it in the forward
    pass (``downstream``: reached along edges from it) or after it."""
    found: dict[str, str] = {}
    queue = deque(owned.items())
    while queue:
        node_id, module = queue.popleft()
        edges = graph.out_edges(node_id) if downstream else graph.in_edges(node_id)
        for edge in edges:
            nxt = edge.target if downstream else edge.source
            if nxt not in owned and nxt not in found:
                found[nxt] = module
                queue.append((nxt, module))
    return found


def common_module(modules: Iterable[str]) -> str:
    """The deepest module path that holds every one of ``modules`` ("" for the model)."""
    paths = [m.split(".") if m else [] for m in modules]
    if not paths:
        return ""
    common: list[str] = []
    for parts in zip(*paths, strict=False):  # as deep as the shortest
        if any(p != parts[0] for p in parts):
            break
        common.append(parts[0])
    return ".".join(common)
