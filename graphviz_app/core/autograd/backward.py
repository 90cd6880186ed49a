"""Record a real backward pass node by node, in the order the engine ran it.

:func:`record_backward` puts a pre-hook and a post-hook on every autograd node of a
walk, runs ``torch.autograd.backward`` itself and turns what the hooks saw into
immutable :class:`BackwardStep` records. Hooks may run on autograd's own threads:
they only append to a list, and every hook is removed afterwards, also when
backward raises.
"""

from __future__ import annotations

import contextlib
import math
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from graphviz_app.core.graph.records import AutogradGraph, TensorInfo
from graphviz_app.core.graph.tensor_info import DEFAULT_PREVIEW, describe_tensor
from graphviz_app.core.graph.walk import AutogradWalk
from graphviz_app.core.runtime.failures import BackwardError as BackwardError  # handed on
from graphviz_app.core.runtime.gc_pause import gc_paused

SECOND_BACKWARD_HINT = (
    "PyTorch frees the graph's saved tensors after a backward pass. To run backward "
    "through the same graph again, the first call needs retain_graph=True; or run the "
    "forward pass again, which builds a new graph."
)
INPLACE_HINT = (
    "An in-place operation changed a tensor that backward needs: it was saved for "
    "backward, and its version counter moved on afterwards. Make that operation out of "
    "place (y = y * 2 instead of y.mul_(2)), or clone the tensor before changing it."
)


@dataclass(frozen=True)
class BackwardStep:
    """One execution of one node during backward.

    ``grad_outputs`` are the gradients that flowed into the node (w.r.t. its forward
    outputs); ``grad_inputs`` the ones it sent on, aligned with ``next_functions``
    (None where no gradient flows). For AccumulateGrad, ``leaf_grad_before`` and
    ``leaf_grad_after`` show the leaf's ``.grad`` around the accumulation.
    """

    index: int
    node_id: str
    grad_outputs: tuple[TensorInfo | None, ...]
    grad_inputs: tuple[TensorInfo | None, ...]
    leaf_grad_before: TensorInfo | None = None
    leaf_grad_after: TensorInfo | None = None
    thread: str = ""

    def received_grad(self) -> TensorInfo | None:
        """The gradient that reached this node (for a leaf, its ``.grad`` after)."""
        return self.leaf_grad_after or next((g for g in self.grad_outputs if g), None)


@dataclass(frozen=True)
class BackwardTrace:
    """Every step of one backward pass, in the engine's order."""

    steps: tuple[BackwardStep, ...]
    retain_graph: bool

    def step_for(self, node_id: str) -> BackwardStep | None:
        """The (first) step that executed ``node_id``, if it ran."""
        return next((s for s in self.steps if s.node_id == node_id), None)

    def received_grads(self) -> dict[str, TensorInfo]:
        """Node id -> the gradient that reached it (a leaf's ``.grad`` after)."""
        grads = {step.node_id: step.received_grad() for step in self.steps}
        return {node_id: grad for node_id, grad in grads.items() if grad is not None}

    def grad_norms(self) -> dict[str, float]:
        """Per node, the norm of the gradient that reached it (for colouring): NaN or
        inf when it held one (the statistics' norm counts finite values only), so a
        NaN's path shows as such."""
        norms: dict[str, float] = {}
        for step in self.steps:
            stats = [g.stats for g in step.grad_outputs if g and g.stats]
            if any(s.nan_count for s in stats):
                norms[step.node_id] = math.nan
            elif any(s.inf_count for s in stats):
                norms[step.node_id] = math.inf
            elif stats:
                norms[step.node_id] = float(sum(s.norm * s.norm for s in stats) ** 0.5)
        return norms


_Sent = tuple["weakref.ref[torch.Tensor]", int, TensorInfo]  # tensor, its _version, info


class _Recorder:
    """Collects raw hook data; runs on autograd's threads, so it only appends.

    Describing a gradient (statistics and a preview) is the costly part, so a tensor
    is described once: when a node receives the very tensor object its only consumer
    sent (same object, unchanged), the consumer's description is reused. A sum formed
    by the engine, a seed, or a tensor a user's hook replaced is described on arrival.
    """

    def __init__(self, walk: AutogradWalk, preview_limit: int) -> None:
        self.walk = walk
        self.preview_limit = preview_limit
        self.feeders = _feeders(walk)
        self.sent: dict[tuple[int, int], _Sent] = {}  # (node, input index) -> what it sent
        self.started: dict[int, tuple[int, tuple[TensorInfo | None, ...], TensorInfo | None]] = {}
        self.arrived: dict[int, _Sent] = {}  # leaf node -> the gradient it received
        self.steps: list[BackwardStep] = []
        self.lock = threading.Lock()

    def describe(self, grad: torch.Tensor) -> TensorInfo:
        return describe_tensor(grad, self.preview_limit)

    def pre_hook(self, index: int) -> Any:
        def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            before = self._leaf_grad(index)
            incoming = tuple(self._incoming(index, slot, g) for slot, g in enumerate(grad_outputs))
            if grad_outputs and grad_outputs[0] is not None and incoming[0] is not None:
                first = grad_outputs[0]
                self.arrived[index] = (weakref.ref(first), first._version, incoming[0])
            with self.lock:
                self.started[index] = (len(self.started), incoming, before)

        return hook

    def _incoming(self, index: int, slot: int, grad: torch.Tensor | None) -> TensorInfo | None:
        if grad is None:
            return None
        feeders = self.feeders.get((index, slot), [])
        if len(feeders) == 1:
            reused = _unchanged(self.sent.get(feeders[0]), grad)
            if reused is not None:
                return reused
        return self.describe(grad)

    def post_hook(self, index: int) -> Any:
        def hook(grad_inputs: tuple[Any, ...], grad_outputs: tuple[Any, ...]) -> None:
            order, incoming, before = self.started[index]
            sent = tuple(None if g is None else self.describe(g) for g in grad_inputs)
            for position, (grad, info) in enumerate(zip(grad_inputs, sent, strict=True)):
                if grad is not None and info is not None:
                    self.sent[(index, position)] = (weakref.ref(grad), grad._version, info)
            step = BackwardStep(
                index=order,
                node_id=self.walk.fn_id(index),
                grad_outputs=incoming,
                grad_inputs=sent,
                leaf_grad_before=before,
                leaf_grad_after=self._leaf_grad_after(index, before),
                thread=threading.current_thread().name,
            )
            with self.lock:
                self.steps.append(step)

        return hook

    def _leaf_grad_after(self, index: int, before: TensorInfo | None) -> TensorInfo | None:
        variable = getattr(self.walk.fns[index], "variable", None)
        if variable is None or variable.grad is None:
            return None
        if before is None:  # a first accumulation usually stores the received tensor itself
            reused = _unchanged(self.arrived.get(index), variable.grad)
            if reused is not None:
                return reused
        return self.describe(variable.grad)

    def _leaf_grad(self, index: int) -> TensorInfo | None:
        variable = getattr(self.walk.fns[index], "variable", None)
        if variable is None or variable.grad is None:
            return None
        return self.describe(variable.grad)

    def finished_steps(self) -> tuple[BackwardStep, ...]:
        """The steps in engine order."""
        return tuple(sorted(self.steps, key=lambda s: s.index))


def _unchanged(sent: _Sent | None, tensor: torch.Tensor) -> TensorInfo | None:
    """``sent``'s description when ``tensor`` is that very object, not modified since."""
    if sent is None:
        return None
    ref, version, info = sent
    return info if ref() is tensor and tensor._version == version else None


def _feeders(walk: AutogradWalk) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(node, output slot) -> the (consumer, input index) pairs that send it gradient.

    A root's slot is also fed by its seed, so roots count one feeder more.
    """
    feeders: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for source, target, input_index, output_nr in walk.edges:
        feeders.setdefault((source, output_nr), []).append((target, input_index))
    for position, root in enumerate(walk.root_fn):
        slot = int(walk.outputs[position].output_nr)
        feeders.setdefault((root, slot), []).append((-1, -1))
    return feeders


def record_backward(
    walk: AutogradWalk,
    grad_tensors: Sequence[torch.Tensor] | None = None,
    retain_graph: bool = False,
    preview_limit: int = DEFAULT_PREVIEW,
) -> BackwardTrace:
    """Run the real ``torch.autograd.backward`` from ``walk``'s outputs and record it.

    ``grad_tensors`` seed non-scalar roots (default: ones, as for a scalar loss).
    Raises :class:`BackwardError` with an explanation when backward fails (such as
    a second backward through a freed graph).
    """
    recorder = _Recorder(walk, preview_limit)
    seeds = list(grad_tensors) if grad_tensors is not None else _ones_like(walk.outputs)
    with _hooked(walk, recorder):
        _run_backward(walk.outputs, seeds, retain_graph)
    return BackwardTrace(recorder.finished_steps(), retain_graph)


class BackwardRecording:
    """What :func:`recording_backward` saw; :meth:`trace` once the block has ended."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    def trace(self, retain_graph: bool) -> BackwardTrace:
        """The steps recorded, in the engine's order (``retain_graph``: as the call had it)."""
        return BackwardTrace(self._recorder.finished_steps(), retain_graph)


@contextlib.contextmanager
def recording_backward(
    walk: AutogradWalk, preview_limit: int = DEFAULT_PREVIEW
) -> Iterator[BackwardRecording]:
    """Record every backward through ``walk``'s nodes run inside the block: the
    caller runs it (a user's own ``loss.backward(gradient, retain_graph=...)``, as
    the user called it, so ``.grad`` ends up exactly as without the app). The hooks
    are removed on leaving, also when the backward raised."""
    recorder = _Recorder(walk, preview_limit)
    with _hooked(walk, recorder):
        yield BackwardRecording(recorder)


def record_gradients(
    walk: AutogradWalk,
    grad_tensors: Sequence[torch.Tensor] | None = None,
    preview_limit: int = DEFAULT_PREVIEW,
) -> BackwardTrace:
    """The gradient that reaches every node of ``walk``, leaving the user's state alone.

    Runs ``torch.autograd.grad`` with respect to the walk's leaf tensors, graph
    retained: no ``.grad`` changes, no AccumulateGrad runs (so no post-accumulate
    hooks fire) and the graph stays usable for the user's own backward. Leaf steps
    carry the gradient that reached the leaf and come after the engine's steps.
    """
    recorder = _Recorder(walk, preview_limit)
    seeds = list(grad_tensors) if grad_tensors is not None else _ones_like(walk.outputs)
    leaves = [(i, fn.variable) for i, fn in enumerate(walk.fns) if hasattr(fn, "variable")]
    with _hooked(walk, recorder):
        grads = _run_grad(walk.outputs, seeds, [leaf for _, leaf in leaves])
    steps = list(recorder.finished_steps())
    for (index, _), grad in zip(leaves, grads, strict=True):
        if grad is not None:
            info = recorder.describe(grad)
            steps.append(BackwardStep(len(steps), walk.fn_id(index), (info,), ()))
    return BackwardTrace(tuple(steps), True)


@contextlib.contextmanager
def _hooked(walk: AutogradWalk, recorder: _Recorder) -> Iterator[None]:
    """A pre-hook and a post-hook on every node of ``walk``, removed on leaving."""
    handles = []
    try:
        for index, fn in enumerate(walk.fns):
            handles.append(fn.register_prehook(recorder.pre_hook(index)))
            handles.append(fn.register_hook(recorder.post_hook(index)))
        with gc_paused():  # records by the thousand: see gc_pause
            yield
    finally:
        for handle in handles:
            handle.remove()


def _run_grad(
    outputs: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor], leaves: list[torch.Tensor]
) -> tuple[torch.Tensor | None, ...]:
    if not leaves:  # no tensor requires grad behind these outputs: nothing flows
        return ()
    try:
        with torch.enable_grad():
            return tuple(
                torch.autograd.grad(
                    list(outputs), leaves, list(seeds), retain_graph=True, allow_unused=True
                )
            )
    except RuntimeError as exc:
        raise _explained(exc) from exc


def _ones_like(outputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.ones_like(t) for t in outputs]


def _run_backward(
    outputs: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor], retain_graph: bool
) -> None:
    try:
        with torch.enable_grad():
            torch.autograd.backward(list(outputs), list(seeds), retain_graph=retain_graph)
    except RuntimeError as exc:
        raise _explained(exc) from exc


def _explained(exc: RuntimeError) -> BackwardError:
    """Torch's error as a :class:`BackwardError` that says what to do."""
    text = str(exc)
    if "backward through the graph a second time" in text:
        return BackwardError(
            f"Backward ran twice through the same graph. {SECOND_BACKWARD_HINT}", text
        )
    if "modified by an inplace operation" in text:
        torch_says = text.splitlines()[0].split(" Hint:")[0]
        return BackwardError(f"{torch_says} {INPLACE_HINT}", text)
    return BackwardError(f"Backward raised RuntimeError: {text.splitlines()[0]}", text)


def pending_counts(graph: AutogradGraph, trace: BackwardTrace, upto: int) -> dict[str, int]:
    """How many gradients each node still waits for once step ``upto`` has run.

    A node's dependency count in the engine is its number of consumers in the graph;
    each consumer that has run has delivered its gradient. Outputs are seeded before
    the first step, so they count as delivered from the start.
    """
    done = {s.node_id for s in trace.steps[: upto + 1]}
    done.update(graph.roots)
    waiting: dict[str, int] = {}
    for edge in graph.edges:
        if edge.target not in done:
            waiting[edge.source] = waiting.get(edge.source, 0) + 1
    return waiting
