"""Gradient norms per module, with vanishing and exploding ones flagged.

A module's norm is that of all its own parameters' gradients together (its
``weight`` and ``bias``). Modules are ordered as forward ran them, so that reading
them backwards follows the gradient from the output layers to the input layers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from graphviz_app.core.health.report import (
    EXPLODING,
    GROWING,
    VANISHING,
    ModuleGradient,
)
from graphviz_app.core.health.settings import HealthSettings


@dataclass(frozen=True)
class ParamNorms:
    """One parameter's gradient and weight norms (after the checked backward)."""

    name: str
    grad_norm: float
    weight_norm: float


def module_gradients(
    params: Sequence[ParamNorms],
    node_ids: Mapping[str, str],
    forward_order: Sequence[str],
    settings: HealthSettings,
) -> tuple[ModuleGradient, ...]:
    """Per module (in forward order), the gradient norm of its own parameters, flagged."""
    groups: dict[str, list[ParamNorms]] = {}
    for param in params:
        groups.setdefault(param.name.rpartition(".")[0], []).append(param)
    rank = {module: i for i, module in enumerate(forward_order)}
    ordered = sorted(groups, key=lambda m: rank.get(m, len(rank)))
    modules = [_module(m, groups[m], node_ids) for m in ordered]
    return _flag(modules, settings)


def _module(module: str, params: list[ParamNorms], node_ids: Mapping[str, str]) -> ModuleGradient:
    return ModuleGradient(
        module=module,
        params=tuple(p.name for p in params),
        node_ids=tuple(node_ids[p.name] for p in params if p.name in node_ids),
        grad_norm=math.sqrt(sum(p.grad_norm**2 for p in params)),
        weight_norm=math.sqrt(sum(p.weight_norm**2 for p in params)),
    )


def _flag(modules: list[ModuleGradient], settings: HealthSettings) -> tuple[ModuleGradient, ...]:
    finite = [m for m in modules if math.isfinite(m.grad_norm)]
    largest = max(finite, key=lambda m: m.grad_norm, default=None)
    reasons: dict[str, list[tuple[str, str]]] = {m.module: [] for m in modules}
    for m in finite:
        reasons[m.module] += _level(m, largest, settings)
    for run in growing_runs([m for m in finite if m.grad_norm > 0], settings):
        first, last = run[0], run[-1]
        factor = (last.grad_norm / first.grad_norm) ** (1 / (len(run) - 1))
        text = (
            f"gradient norm grows x{factor:.3g} per layer from {first.label} "
            f"({first.grad_norm:.3g}) back to {last.label} ({last.grad_norm:.3g}): exploding "
            "layer by layer"
        )
        for m in run[1:]:
            reasons[m.module].append((GROWING, text))
    return tuple(_with_flags(m, reasons[m.module]) for m in modules)


def _level(
    module: ModuleGradient, largest: ModuleGradient | None, settings: HealthSettings
) -> list[tuple[str, str]]:
    """Exploding (above the absolute limit) or vanishing (tiny next to the largest)."""
    norm = module.grad_norm
    if norm > settings.exploding_norm:
        text = f"gradient norm {norm:.3g} is above {settings.exploding_norm:g}: exploding"
        return [(EXPLODING, text)]
    if largest is not None and 0 < norm < settings.vanishing_ratio * largest.grad_norm:
        share = norm / largest.grad_norm
        text = (
            f"gradient norm {norm:.3g} is {share:.1e} of the largest "
            f"({largest.label}, {largest.grad_norm:.3g}): vanishing"
        )
        return [(VANISHING, text)]
    return []


def _with_flags(module: ModuleGradient, reasons: list[tuple[str, str]]) -> ModuleGradient:
    if not reasons:
        return module
    flags = tuple(dict.fromkeys(flag for flag, _ in reasons))
    return replace(module, flags=flags, detail="; ".join(dict.fromkeys(t for _, t in reasons)))


def growing_runs(
    modules: Sequence[ModuleGradient], settings: HealthSettings
) -> list[list[ModuleGradient]]:
    """Runs of modules, in backward order (last module first), whose norm grows by at
    least ``growth_factor`` at each of at least ``growth_layers`` steps in a row."""
    backward = list(reversed(modules))
    runs: list[list[ModuleGradient]] = []
    current = backward[:1]
    for module in backward[1:]:
        if module.grad_norm >= settings.growth_factor * current[-1].grad_norm:
            current.append(module)
            continue
        if len(current) - 1 >= settings.growth_layers:
            runs.append(current)
        current = [module]
    if len(current) - 1 >= settings.growth_layers:
        runs.append(current)
    return runs
