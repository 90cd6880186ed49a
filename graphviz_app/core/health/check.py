"""Run the gradient health check on one forward pass: a recorded backward, then the report.

:func:`diagnose` measures the ReLUs (before backward frees what they saved), records a
backward from the run's roots with every parameter's ``.grad`` cleared (a scalar loss
seeded with 1; a model without one, each output with 1 / its size, as
``output.mean()`` would: :mod:`~graphviz_app.core.health.seeds`), reads the
parameters' gradients and hands what it found to the report's assembly
(:mod:`~graphviz_app.core.health.assemble`). ``.grad`` is given back as it was
afterwards: checking does not change what training would do next.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import torch

from graphviz_app.core.autograd.backward import BackwardError, BackwardTrace, record_backward
from graphviz_app.core.autograd.forward import ForwardRun
from graphviz_app.core.graph.walk import reachable_nodes
from graphviz_app.core.health.activations import measure_relus
from graphviz_app.core.health.assemble import HealthEvidence, assemble_report, states_and_norms
from graphviz_app.core.health.modules import ParamNorms
from graphviz_app.core.health.parameters import ForwardFacts, ParamState
from graphviz_app.core.health.report import HealthReport
from graphviz_app.core.health.seeds import mean_seeds, model_seed
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.runtime.failures import HealthError as HealthError  # handed on


@dataclass(frozen=True)
class Diagnosis:
    """The recorded backward the report was made from (None when it failed) and the report."""

    trace: BackwardTrace | None
    report: HealthReport


def diagnose(
    run: ForwardRun,
    model: torch.nn.Module,
    name: str,
    settings: HealthSettings | None = None,
) -> Diagnosis:
    """Check the gradients of ``run`` (a forward of ``model`` not yet gone backward)."""
    params = dict(model.named_parameters())
    if any(p.is_meta for p in params.values()):
        raise HealthError(
            f"{name} is open structure-only (on the meta device): there are no values, so "
            "no gradients to check. Open it with its values to check its gradients."
        )
    activations = measure_relus(run.walk, run.graph)  # before backward frees them
    seeds = mean_seeds(run.walk.outputs)  # a loss: 1; outputs without a loss: their mean
    seed = model_seed(run.walk.outputs, seeds)
    with fresh_grads(params.values()):
        trace, error = _backward(run, seeds)
        norms = {n: _norms(n, p) for n, p in params.items() if p.grad is not None}
    states, found = states_and_norms({n: p.requires_grad for n, p in params.items()}, norms)
    facts = ForwardFacts(run.cuts, frozenset(run.modules_run), _feeds_outputs(run, params, states))
    evidence = HealthEvidence(
        run.graph, trace, activations, states, found, facts, run.modules_run, error, seed
    )
    return Diagnosis(trace, assemble_report(name, evidence, settings))


@contextlib.contextmanager
def fresh_grads(params: Iterable[torch.Tensor]) -> Iterator[None]:
    """``.grad`` of every parameter None inside the block, and as it was afterwards."""
    saved = [(p, p.grad) for p in params]
    for p, _ in saved:
        p.grad = None
    try:
        yield
    finally:
        for p, grad in saved:
            p.grad = grad


def _backward(run: ForwardRun, seeds: list[torch.Tensor]) -> tuple[BackwardTrace | None, str]:
    try:
        return record_backward(run.walk, seeds), ""
    except BackwardError as exc:
        return None, exc.summary


def _norms(name: str, param: torch.Tensor) -> ParamNorms:
    assert param.grad is not None
    return ParamNorms(name, norm64(param.grad), norm64(param), param.numel())


def norm64(tensor: torch.Tensor) -> float:
    """The 2-norm summed in float64 (without a float64 copy): a float16 gradient's norm
    overflows long before its values do. NaN when it holds a NaN, inf for an inf; NaN
    for a tensor without values (meta). A complex tensor's is summed in complex128."""
    if tensor.is_meta:
        return math.nan
    wide = torch.complex128 if tensor.is_complex() else torch.float64
    return float(torch.linalg.vector_norm(tensor.detach(), dtype=wide))


def _feeds_outputs(
    run: ForwardRun, params: Mapping[str, torch.Tensor], states: tuple[ParamState, ...]
) -> dict[str, int]:
    """Parameter -> the first model output it feeds, for parameters without gradient
    when the graph is rooted at a loss (which may leave outputs unused)."""
    missing = {id(params[s.name]): s.name for s in states if s.grad_is_none and s.requires_grad}
    rooted_at_outputs = len(run.roots) == len(run.outputs) and all(
        root is output for root, output in zip(run.roots, run.outputs, strict=True)
    )
    if not missing or rooted_at_outputs:
        return {}
    feeds: dict[str, int] = {}
    for index, output in enumerate(run.outputs):
        for fn in reachable_nodes([output.grad_fn]):
            name = missing.get(id(getattr(fn, "variable", None)))
            if name is not None:
                feeds.setdefault(name, index)
    return feeds
