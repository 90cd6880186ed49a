"""Dead ReLUs: units that output 0 for every sample of the batch get no gradient.

Read from what each ``ReluBackward0`` saved (its ``result``), so this must run before
backward frees the saved tensors. A unit is a position of the output other than the
batch dimension (the first): a neuron of a linear layer, a channel and pixel of a
convolution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import torch

from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.graph.walk import AutogradWalk
from graphviz_app.core.health.report import ActivationHealth
from graphviz_app.core.health.settings import HealthSettings

RELU_PREFIX = "ReluBackward"


def measure_relus(
    walk: AutogradWalk, graph: AutogradGraph, settings: HealthSettings | None = None
) -> tuple[ActivationHealth, ...]:
    """Every ReLU of the graph, in the order forward ran them, with its dead units;
    flagged by ``settings`` (without: measured only, see :func:`judge_dead`)."""
    found = []
    for index, fn in enumerate(walk.fns):
        if not type(fn).__name__.startswith(RELU_PREFIX):
            continue
        try:
            result = fn._saved_result
        except RuntimeError:  # freed by an earlier backward: nothing to measure
            continue
        if not isinstance(result, torch.Tensor) or result.is_meta or not result.numel():
            continue
        found.append(_measure(graph, walk.fn_id(index), result))
    nodes = {a.node_id: graph.node(a.node_id) for a in found}
    ordered = sorted(found, key=lambda a: nodes[a.node_id].sequence_nr or 0)
    return judge_dead(ordered, settings) if settings is not None else tuple(ordered)


def judge_dead(
    activations: Iterable[ActivationHealth], settings: HealthSettings
) -> tuple[ActivationHealth, ...]:
    """Each ReLU flagged when more of its units are dead than ``settings`` allow (a
    batch of one sample is never judged: a unit that is 0 once is not dead)."""
    return tuple(
        replace(a, dead=a.batch >= 2 and a.dead_units > settings.dead_fraction * a.units)
        for a in activations
    )


def _measure(graph: AutogradGraph, node_id: str, result: torch.Tensor) -> ActivationHealth:
    with torch.no_grad():
        zero = result.detach() == 0
        batch = int(result.shape[0]) if result.dim() >= 2 else 1
        per_unit = zero.reshape(batch, -1).all(dim=0)
        dead_units = int(per_unit.sum())
        zero_fraction = int(torch.count_nonzero(zero)) / zero.numel()  # no float copy
    node = graph.node(node_id)
    units = int(per_unit.numel())
    return ActivationHealth(
        node_id, node.module, node.source, batch, units, dead_units, zero_fraction
    )
