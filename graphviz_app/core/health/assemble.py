"""The report from what one backward left: shared by the two ways of checking.

:func:`~graphviz_app.core.health.check.diagnose` runs a model's forward and a recorded
backward itself; :func:`~graphviz_app.core.health.call_check.check_call` gathers the
same facts at a backward call of the user's own script, as it runs. Both hand a
:class:`HealthEvidence` (plain data, no tensors) to :func:`assemble_report`, so the
report is put together, and its thresholds applied, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.health.activations import judge_dead
from graphviz_app.core.health.modules import (
    ModuleFacts,
    ParamNorms,
    module_gradients,
    output_gradients,
)
from graphviz_app.core.health.nonfinite import first_in_backward, first_in_forward
from graphviz_app.core.health.parameters import (
    ForwardFacts,
    ParamState,
    leaf_nodes,
    parameter_findings,
)
from graphviz_app.core.health.report import INF, NAN, ActivationHealth, HealthReport, RootSeed
from graphviz_app.core.health.settings import HealthSettings

ONE_SAMPLE_NOTE = (
    "a batch of one sample: dead ReLU units are not judged (a unit that is 0 once is not dead)"
)


@dataclass(frozen=True)
class HealthEvidence:
    """Everything one checked backward leaves for the report.

    ``trace`` is that backward as recorded (None when it raised: ``backward_error``
    says why); ``activations`` the ReLUs measured before it ran (not yet judged dead);
    ``params`` what each checked parameter's gradient from this backward was, and
    ``norms`` the norms of those that got one; ``forward`` what forward noted that
    explains a missing gradient; ``forward_order`` the modules in the order they ran;
    ``seed`` how the roots were seeded, and the scalar that backward differentiated.
    """

    graph: AutogradGraph
    trace: BackwardTrace | None
    activations: tuple[ActivationHealth, ...]
    params: tuple[ParamState, ...]
    norms: tuple[ParamNorms, ...]
    forward: ForwardFacts
    forward_order: tuple[str, ...]
    backward_error: str = ""
    seed: RootSeed | None = None


def assemble_report(
    name: str, evidence: HealthEvidence, settings: HealthSettings | None = None
) -> HealthReport:
    """The health report of ``evidence`` (``name`` heads it), judged by ``settings``."""
    settings = settings or HealthSettings()
    graph, trace = evidence.graph, evidence.trace
    activations = judge_dead(evidence.activations, settings)
    flowing = output_gradients(graph, trace) if trace is not None else {}
    node_ids = {name: node.id for name, node in leaf_nodes(graph).items()}
    scale = evidence.seed.scale if evidence.seed is not None else 1.0
    facts = ModuleFacts(evidence.forward_order, node_ids, flowing, scale)
    return HealthReport(
        model=name,
        settings=settings,
        steps=len(trace.steps) if trace else 0,
        first_inf=first_in_backward(graph, trace, INF) if trace else None,
        first_nan=first_in_backward(graph, trace, NAN) if trace else None,
        forward_origin=first_in_forward(graph),
        parameters=parameter_findings(graph, trace, evidence.params, evidence.forward),
        modules=module_gradients(evidence.norms, facts, settings),
        activations=activations,
        backward_error=evidence.backward_error,
        notes=_notes(activations),
        seed=evidence.seed if trace is not None else None,
    )


def param_state(name: str, requires_grad: bool, norms: ParamNorms | None) -> ParamState:
    """What the checked backward gave a parameter: no gradient (``norms`` None), or one
    that is exactly zero (a NaN norm is not zero)."""
    zero = norms is not None and norms.grad_norm == 0
    return ParamState(name, requires_grad, norms is None, zero)


def states_and_norms(
    requires_grad: Mapping[str, bool], norms: Mapping[str, ParamNorms]
) -> tuple[tuple[ParamState, ...], tuple[ParamNorms, ...]]:
    """Each parameter's state (in ``requires_grad``'s order) and the norms that exist."""
    states = tuple(param_state(n, wants, norms.get(n)) for n, wants in requires_grad.items())
    return states, tuple(norms[n] for n in requires_grad if n in norms)


def _notes(activations: Iterable[ActivationHealth]) -> tuple[str, ...]:
    if any(a.batch < 2 for a in activations):
        return (ONE_SAMPLE_NOTE,)
    return ()
