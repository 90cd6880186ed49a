"""Gradient norms per module, with vanishing and exploding ones flagged.

A module's norm is that of all its own parameters' gradients together (its ``weight``
and ``bias``), and its RMS that norm over the square root of their number of values,
so that a bias and a 50,304 x 768 embedding compare fairly: vanishing is judged on the
RMS next to the largest module's, exploding on the RMS next to the loss's scale
(``max(1, |loss|)``: a sum over N samples scales both alike). Modules are ordered as
forward ran them, so that reading them backwards follows the gradient from the output
layers to the input layers; the gradient that flows back into each module's output is
what grows layer by layer when gradients explode (in a plain linear chain the
parameters' norms stay level: the activations shrink as much as the flowing gradient
grows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from graphviz_app.core.autograd.backward import BackwardTrace
from graphviz_app.core.graph.records import AutogradGraph, Node
from graphviz_app.core.health.report import (
    EXPLODING,
    GROWING,
    VANISHING,
    ModuleGradient,
)
from graphviz_app.core.health.settings import HealthSettings


@dataclass(frozen=True)
class ParamNorms:
    """One parameter's gradient and weight norms (after the checked backward).

    ``module`` is the group it is judged in: by default the module its name is under
    (``fc1`` for ``fc1.weight``); a script's plain leaf tensor (``w1``) is its own.
    """

    name: str
    grad_norm: float
    weight_norm: float
    numel: int = 1
    module: str | None = None

    @property
    def group(self) -> str:
        """The module path it counts towards."""
        return self.module if self.module is not None else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class ModuleFacts:
    """What the graph and the trace say about modules: the order forward ran them in,
    each parameter's node, and the gradient norm that reached each module's output."""

    forward_order: Sequence[str]
    node_ids: Mapping[str, str]
    output_grads: Mapping[str, float]
    loss_scale: float = 1.0  # max(1, |loss|): see RootSeed.scale


def module_gradients(
    params: Sequence[ParamNorms], facts: ModuleFacts, settings: HealthSettings
) -> tuple[ModuleGradient, ...]:
    """Per module (in forward order), the gradient norm of its own parameters, flagged."""
    groups: dict[str, list[ParamNorms]] = {}
    for param in params:
        groups.setdefault(param.group, []).append(param)
    rank = {module: i for i, module in enumerate(facts.forward_order)}
    ordered = sorted(groups, key=lambda m: rank.get(m, len(rank)))
    modules = [_module(m, groups[m], facts) for m in ordered]
    return _flag(modules, settings, facts.loss_scale)


def output_gradients(graph: AutogradGraph, trace: BackwardTrace) -> dict[str, float]:
    """Module -> the norm of the gradient that reached its output: the node it made
    last in forward (the highest ``sequence_nr``)."""
    last: dict[str, Node] = {}
    for node in graph.nodes:
        if node.module is None or node.is_leaf or node.sequence_nr is None:
            continue
        kept = last.get(node.module)
        if kept is None or (kept.sequence_nr or 0) < node.sequence_nr:
            last[node.module] = node
    norms = trace.grad_norms()
    return {module: norms[n.id] for module, n in last.items() if n.id in norms}


def _module(module: str, params: list[ParamNorms], facts: ModuleFacts) -> ModuleGradient:
    return ModuleGradient(
        module=module,
        params=tuple(p.name for p in params),
        node_ids=tuple(facts.node_ids[p.name] for p in params if p.name in facts.node_ids),
        grad_norm=(norm := math.sqrt(sum(p.grad_norm**2 for p in params))),
        weight_norm=math.sqrt(sum(p.weight_norm**2 for p in params)),
        grad_rms=norm / math.sqrt(max(sum(p.numel for p in params), 1)),
        output_grad_norm=facts.output_grads.get(module),
    )


def _flag(
    modules: list[ModuleGradient], settings: HealthSettings, scale: float
) -> tuple[ModuleGradient, ...]:
    finite = [m for m in modules if math.isfinite(m.grad_norm)]
    reasons: dict[str, list[tuple[str, str]]] = {m.module: [] for m in modules}
    limit = settings.exploding_ratio * scale
    for m in finite:
        if m.grad_rms > limit:
            reasons[m.module].append((EXPLODING, _exploding_text(m, settings, limit)))
    # vanishing next to the largest module that is not itself exploding: beside a
    # runaway module, every sound one would look vanishing
    sound = [m for m in finite if not reasons[m.module]]
    largest = max(sound, key=lambda m: m.grad_rms, default=None)
    for m in sound:
        reasons[m.module] += _vanishing(m, largest, settings)
    for run in growing_runs(modules, settings):
        first, last = _flowing(run[0]), _flowing(run[-1])
        factor = (last / first) ** (1 / (len(run) - 1))
        text = (
            f"the gradient flowing back grows x{factor:.3g} per layer, from {run[0].label}'s "
            f"output ({first:.3g}) to {run[-1].label}'s ({last:.3g}): exploding layer by layer"
        )
        for m in run[1:]:
            reasons[m.module].append((GROWING, text))
    return tuple(_with_flags(m, reasons[m.module]) for m in modules)


def _exploding_text(module: ModuleGradient, settings: HealthSettings, limit: float) -> str:
    return (
        f"gradient RMS {module.grad_rms:.3g} is above {limit:.4g} "
        f"({settings.exploding_ratio:g} x max(1, |loss|)): exploding"
    )


def _vanishing(
    module: ModuleGradient, largest: ModuleGradient | None, settings: HealthSettings
) -> list[tuple[str, str]]:
    """Vanishing: an RMS tiny next to the largest sound module's."""
    rms = module.grad_rms
    if largest is not None and 0 < rms < settings.vanishing_ratio * largest.grad_rms:
        share = rms / largest.grad_rms
        text = (
            f"gradient RMS {rms:.3g} is {share:.1e} of the largest "
            f"({largest.label}, {largest.grad_rms:.3g}): vanishing"
        )
        return [(VANISHING, text)]
    return []


def _with_flags(module: ModuleGradient, reasons: list[tuple[str, str]]) -> ModuleGradient:
    if not reasons:
        return module
    flags = tuple(dict.fromkeys(flag for flag, _ in reasons))
    return replace(module, flags=flags, detail="; ".join(dict.fromkeys(t for _, t in reasons)))


def _flowing(module: ModuleGradient) -> float:
    return module.output_grad_norm or 0.0


def growing_runs(
    modules: Sequence[ModuleGradient], settings: HealthSettings
) -> list[list[ModuleGradient]]:
    """Runs of modules, in backward order (last module first), where the gradient
    reaching each module's output grows by at least ``growth_factor`` at each of at
    least ``growth_layers`` steps in a row."""
    usable = [m for m in modules if math.isfinite(_flowing(m)) and _flowing(m) > 0]
    backward = list(reversed(usable))
    runs: list[list[ModuleGradient]] = []
    current = backward[:1]
    for module in backward[1:]:
        if _flowing(module) >= settings.growth_factor * _flowing(current[-1]):
            current.append(module)
            continue
        if len(current) - 1 >= settings.growth_layers:
            runs.append(current)
        current = [module]
    if len(current) - 1 >= settings.growth_layers:
        runs.append(current)
    return runs
