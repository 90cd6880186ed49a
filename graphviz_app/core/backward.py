"""Record a real backward pass node by node, in the order the engine ran it.

:func:`record_backward` puts a pre-hook and a post-hook on every autograd node of a
walk, runs ``torch.autograd.backward`` itself and turns what the hooks saw into
immutable :class:`BackwardStep` records. Hooks may run on autograd's own threads:
they only append to a list, and every hook is removed afterwards, also when
backward raises.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from graphviz_app.core.graph import AutogradGraph, TensorInfo
from graphviz_app.core.tensor_info import DEFAULT_PREVIEW, describe_tensor
from graphviz_app.core.walk import AutogradWalk

SECOND_BACKWARD_HINT = (
    "PyTorch frees the graph's saved tensors after a backward pass. To run backward "
    "through the same graph again, the first call needs retain_graph=True; or run the "
    "forward pass again, which builds a new graph."
)


class BackwardError(RuntimeError):
    """Backward raised; ``summary`` explains it in plain words, ``details`` is torch's."""

    def __init__(self, summary: str, details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


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


@dataclass(frozen=True)
class BackwardTrace:
    """Every step of one backward pass, in the engine's order."""

    steps: tuple[BackwardStep, ...]
    retain_graph: bool

    def step_for(self, node_id: str) -> BackwardStep | None:
        """The (first) step that executed ``node_id``, if it ran."""
        return next((s for s in self.steps if s.node_id == node_id), None)

    def grad_norms(self) -> dict[str, float]:
        """Per node, the norm of the gradient that reached it (for colouring)."""
        norms: dict[str, float] = {}
        for step in self.steps:
            parts = [g.stats.norm for g in step.grad_outputs if g and g.stats]
            if parts:
                norms[step.node_id] = float(sum(p * p for p in parts) ** 0.5)
        return norms


_FROM_CONSUMER = "from consumer"  # placeholder: the one consumer's outgoing gradient


class _Recorder:
    """Collects raw hook data; runs on autograd's threads, so it only appends.

    Describing a gradient (statistics and a preview) is the costly part, so each
    tensor is described once: a node's incoming gradient is the very tensor its only
    consumer sent, unless several consumers fed it (then the engine formed a sum,
    which is described on arrival) or it is a root (seeded).
    """

    def __init__(self, walk: AutogradWalk, preview_limit: int) -> None:
        self.walk = walk
        self.preview_limit = preview_limit
        self.feeders = _feeders(walk)
        self.started: dict[int, tuple[int, list[Any], TensorInfo | None]] = {}
        self.steps: dict[int, BackwardStep] = {}
        self.lock = threading.Lock()

    def describe(self, grads: Sequence[torch.Tensor | None]) -> tuple[TensorInfo | None, ...]:
        return tuple(None if g is None else describe_tensor(g, self.preview_limit) for g in grads)

    def pre_hook(self, index: int) -> Any:
        def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            before = self._leaf_grad(index)
            incoming = [self._incoming(index, slot, g) for slot, g in enumerate(grad_outputs)]
            with self.lock:
                self.started[index] = (len(self.started), incoming, before)

        return hook

    def _incoming(self, index: int, slot: int, grad: torch.Tensor | None) -> Any:
        if grad is None:
            return None
        feeders = self.feeders.get((index, slot), [])
        if len(feeders) == 1 and feeders[0][0] >= 0:  # one consumer, no seed
            return _FROM_CONSUMER
        return describe_tensor(grad, self.preview_limit)

    def post_hook(self, index: int) -> Any:
        def hook(grad_inputs: tuple[Any, ...], grad_outputs: tuple[Any, ...]) -> None:
            order, incoming, before = self.started[index]
            is_fresh_leaf = before is None and hasattr(self.walk.fns[index], "variable")
            step = BackwardStep(
                index=order,
                node_id=self.walk.fn_id(index),
                grad_outputs=tuple(incoming),
                grad_inputs=self.describe(grad_inputs),
                leaf_grad_before=before,
                # A first accumulation stores the incoming gradient itself.
                leaf_grad_after=None if is_fresh_leaf else self._leaf_grad(index),
                thread=threading.current_thread().name,
            )
            with self.lock:
                self.steps[index] = step

        return hook

    def _leaf_grad(self, index: int) -> TensorInfo | None:
        variable = getattr(self.walk.fns[index], "variable", None)
        if variable is None or variable.grad is None:
            return None
        return describe_tensor(variable.grad, self.preview_limit)

    def finished_steps(self) -> tuple[BackwardStep, ...]:
        """The steps in engine order, with shared gradients filled in."""
        steps = [self._resolved(index, step) for index, step in self.steps.items()]
        return tuple(sorted(steps, key=lambda s: s.index))

    def _resolved(self, index: int, step: BackwardStep) -> BackwardStep:
        incoming = tuple(
            self._consumer_grad(index, slot) if isinstance(value, str) else value
            for slot, value in enumerate(step.grad_outputs)
        )
        after = step.leaf_grad_after
        if after is None and hasattr(self.walk.fns[index], "variable") and incoming:
            after = incoming[0]
        return replace(step, grad_outputs=incoming, leaf_grad_after=after)

    def _consumer_grad(self, index: int, slot: int) -> TensorInfo | None:
        ((consumer, input_index),) = self.feeders[(index, slot)]
        sent = self.steps[consumer].grad_inputs
        return sent[input_index] if input_index < len(sent) else None


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
    handles = []
    try:
        for index, fn in enumerate(walk.fns):
            handles.append(fn.register_prehook(recorder.pre_hook(index)))
            handles.append(fn.register_hook(recorder.post_hook(index)))
        seeds = list(grad_tensors) if grad_tensors is not None else _ones_like(walk.outputs)
        _run_backward(walk.outputs, seeds, retain_graph)
    finally:
        for handle in handles:
            handle.remove()
    return BackwardTrace(recorder.finished_steps(), retain_graph)


def _ones_like(outputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.ones_like(t) for t in outputs]


def _run_backward(
    outputs: Sequence[torch.Tensor], seeds: Sequence[torch.Tensor], retain_graph: bool
) -> None:
    try:
        with torch.enable_grad():
            torch.autograd.backward(list(outputs), list(seeds), retain_graph=retain_graph)
    except RuntimeError as exc:
        text = str(exc)
        if "backward through the graph a second time" in text:
            raise BackwardError(
                f"Backward ran twice through the same graph. {SECOND_BACKWARD_HINT}", text
            ) from exc
        raise BackwardError(f"Backward raised RuntimeError: {text.splitlines()[0]}", text) from exc


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
