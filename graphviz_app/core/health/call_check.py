"""The health check of one backward call of the user's own code, gathered as it runs.

A script's forward is its own code and runs once, so nothing is run again: at the
call, :func:`check_call` measures the ReLUs before backward frees what they saved,
lets :func:`~graphviz_app.core.autograd.calls.record_call` run the call as the user
made it (recorded), and notes each parameter's gradient *of this call* as the engine
hands it to its AccumulateGrad node (``.grad`` may also hold earlier calls' gradients,
which the script did not zero), or as ``torch.autograd.grad`` returned it.
The forward's cut points are those the forward recorder noted since the call before
the previous one (a graph may outlive a call: a GAN's fake batch), the modules those
that ran so far. ``.grad`` is left exactly as the script's own call leaves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from graphviz_app.core.autograd.calls import RecordedCall, Variables, record_call
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.cuts import CutPoint, resolve_cuts
from graphviz_app.core.autograd.intercept import BackwardCall
from graphviz_app.core.autograd.recorder import ForwardNotes
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import AutogradWalk
from graphviz_app.core.health.activations import measure_relus
from graphviz_app.core.health.assemble import HealthEvidence, states_and_norms
from graphviz_app.core.health.check import norm64
from graphviz_app.core.health.modules import ParamNorms
from graphviz_app.core.health.parameters import ForwardFacts, leaf_nodes
from graphviz_app.core.health.report import ActivationHealth
from graphviz_app.core.health.seeds import call_seed


@dataclass
class CheckedCall:
    """A call recorded as it ran (live walk: worker side) and the check's evidence."""

    recorded: RecordedCall
    evidence: HealthEvidence


def check_call(
    call: BackwardCall, names: Variables, options: CaptureOptions, forward: ForwardNotes
) -> CheckedCall:
    """Run ``call`` recorded (see :func:`record_call`, which raises as it does) and
    gather what the health report needs about it. ``names`` are the user's models and
    leaf tensors (the parameters checked), ``forward`` what the recorder noted of the
    forward this call goes back through (the cuts of this forward first)."""
    trained = names.trained()
    cuts = resolve_cuts(forward.cuts, trained)
    checked = _checked(call, trained)
    seed = call_seed(call.roots, call.seeds)  # before the call: as the user seeded it
    arrivals = _Arrivals(checked)
    measured: list[tuple[ActivationHealth, ...]] = []

    def before(walk: AutogradWalk, graph: AutogradGraph) -> None:
        measured.append(measure_relus(walk, graph))  # backward frees what ReLUs saved
        arrivals.attach(walk)

    try:
        recorded = record_call(call, names, options, before)
    finally:
        arrivals.remove()
    own = {n: n for n in names.leaves}  # a plain leaf is judged on its own, not as "(model)"
    if call.kind == "grad":
        arrivals.take_returned(call, recorded.result)
    norms = {n: arrivals.norms_of(n, t, own.get(n)) for n, t in checked.items()}
    found = {n: norm for n, norm in norms.items() if norm is not None}
    states, kept = states_and_norms({n: t.requires_grad for n, t in checked.items()}, found)
    elsewhere = trained_elsewhere(names.optimizers, cuts, trained, set(found))
    evidence = HealthEvidence(
        graph=recorded.graph,
        trace=recorded.trace,
        activations=measured[0] if measured else (),
        params=states,
        norms=kept,
        forward=ForwardFacts(cuts, frozenset(forward.modules_run), trained_elsewhere=elsewhere),
        forward_order=forward.modules_run + _leaf_order(recorded.graph, names.leaves),
        seed=seed,
    )
    return CheckedCall(recorded, evidence)


def trained_elsewhere(
    optimizers: Mapping[str, torch.optim.Optimizer],
    cuts: tuple[CutPoint, ...],
    params: Mapping[str, torch.Tensor],
    reached: set[str],
) -> dict[str, str]:
    """Cut-off parameter -> the user's optimizer that holds it and none of the
    parameters this call gave a gradient (``reached``): it steps on another backward's
    gradients, so the cut is the usual intended one (the critic's step of a GAN cuts
    the generator off at ``fake.detach()``; ``opt_g`` trains it)."""
    reached_ids = {id(params[n]) for n in reached if n in params}
    owners: dict[str, str] = {}
    for name, optimizer in optimizers.items():
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if held & reached_ids:
            continue
        for param in (p for cut in cuts for p in cut.params if p in params):
            if id(params[param]) in held:
                owners.setdefault(param, name)
    return owners


def _checked(call: BackwardCall, trained: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors the call differentiates for: all the user's, or those it names
    (``backward(inputs=...)``, ``torch.autograd.grad``'s inputs)."""
    if not call.inputs:
        return trained
    wanted = {id(t) for t in call.inputs}
    return {name: t for name, t in trained.items() if id(t) in wanted}


class _Arrivals:
    """The gradient of this call that reaches each checked leaf: what the engine hands
    its AccumulateGrad node (the sum over every path, after the user's tensor hooks,
    before it is added to ``.grad``), or what ``torch.autograd.grad`` returned. Its
    hooks only note a float64 norm; they are removed after the call."""

    def __init__(self, checked: Mapping[str, torch.Tensor]) -> None:
        self._names = {id(t): name for name, t in checked.items()}
        self._norms: dict[str, float] = {}
        self._handles: list[Any] = []

    def attach(self, walk: AutogradWalk) -> None:
        for fn in walk.fns:
            name = self._names.get(id(getattr(fn, "variable", None)))
            if name is not None:
                self._handles.append(fn.register_prehook(self._hook(name)))

    def _hook(self, name: str) -> Callable[[tuple[torch.Tensor | None, ...]], None]:
        def hook(grads: tuple[torch.Tensor | None, ...]) -> None:
            if grads and grads[0] is not None:
                self._norms[name] = _grad_norm(grads[0])

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def take_returned(self, call: BackwardCall, result: object) -> None:
        """``torch.autograd.grad``'s gradients, one per input (None: unused)."""
        grads = result if isinstance(result, (tuple, list)) else (result,)
        for tensor, grad in zip(call.inputs, grads, strict=False):
            name = self._names.get(id(tensor))
            if name is not None and isinstance(grad, torch.Tensor):
                self._norms[name] = _grad_norm(grad)

    def norms_of(self, name: str, tensor: torch.Tensor, module: str | None) -> ParamNorms | None:
        """``name``'s norms, None when this call gave it no gradient."""
        grad_norm = self._norms.get(name)
        if grad_norm is None:
            return None
        return ParamNorms(name, grad_norm, norm64(tensor), tensor.numel(), module)


def _grad_norm(grad: torch.Tensor) -> float:
    if grad.is_sparse:  # nn.Embedding(sparse=True): the norm of its stored values
        grad = grad.coalesce().values()
    return norm64(grad)


def _leaf_order(graph: AutogradGraph, leaves: Mapping[str, torch.Tensor]) -> tuple[str, ...]:
    """The plain leaves in the order forward first used them (their AccumulateGrad
    nodes' sequence numbers); those it did not use last."""
    nodes = leaf_nodes(graph)
    rank = {name: nodes[name].sequence_nr or 0 for name in leaves if name in nodes}
    return tuple(sorted(leaves, key=lambda n: (n not in rank, rank.get(n, 0))))
