"""A watched model's parameters: their gradients' norms and how much a step moved them.

The update of a step is measured as the change of each parameter between that
step's backward and the next change (``after - before``), so an optimizer's
``step()`` and a hand-written ``p -= lr * p.grad`` count alike. The copy of the
parameters lives in buffers allocated once and reused every step.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

GradState = tuple[tuple[int, int] | None, ...]


class ParamTracker:
    """The trainable parameters of one model, by name."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._all = dict(model.named_parameters())
        self.items = [(n, p) for n, p in self._all.items() if p.requires_grad]
        self._copies: list[torch.Tensor] = []
        self._copied = False  # the copies hold the values at the last snapshot

    def named(self) -> dict[str, torch.Tensor]:
        """Every parameter by name (frozen ones too), to name graph leaves."""
        return dict(self._all)

    def ids(self) -> set[int]:
        """``id()`` of each trainable parameter."""
        return {id(p) for _, p in self.items}

    def reached_by(self, nodes: Iterable[object]) -> bool:
        """Whether autograd ``nodes`` (a walk's) accumulate into any of these parameters."""
        ours = self.ids()
        return any(id(getattr(node, "variable", None)) in ours for node in nodes)

    def grad_state(self) -> GradState:
        """Which ``.grad`` tensors exist and their version counters: changes when a
        backward reaches any parameter (a new tensor, or accumulation in place)."""
        return tuple(
            (id(p.grad), p.grad._version) if p.grad is not None else None for _, p in self.items
        )

    def grad_norms(self) -> dict[str, float]:
        """Name -> ``float(p.grad.norm())``, for the parameters that have a gradient."""
        named = [(n, p.grad.detach()) for n, p in self.items if p.grad is not None]
        # The multi-tensor ops optimizers use: one call, the same per-tensor norms.
        norms = torch._foreach_norm([g for _, g in named]) if named else []
        return {name: float(norm) for (name, _), norm in zip(named, norms, strict=True)}

    def snapshot(self) -> None:
        """Copy the parameters' values now (into buffers reused from step to step)."""
        with torch.no_grad():
            if not self._fits():
                self._copies = [p.detach().clone() for _, p in self.items]
            elif self._copies:
                torch._foreach_copy_(self._copies, [p.detach() for _, p in self.items])
        self._copied = True

    def update_ratios(self) -> tuple[dict[str, float], dict[str, float]]:
        """Name -> |now - snapshot| / |snapshot|, and name -> |snapshot|; uses the
        snapshot up (take a new one before asking again)."""
        ratios: dict[str, float] = {}
        weights: dict[str, float] = {}
        if not self._copied or not self._fits():
            return ratios, weights
        if not self._copies:
            return ratios, weights
        with torch.no_grad():
            before = torch._foreach_norm(self._copies)
            torch._foreach_sub_(self._copies, [p.detach() for _, p in self.items])
            changes = torch._foreach_norm(self._copies)  # |before - after| = |update|
        for (name, _), weight_norm, change in zip(self.items, before, changes, strict=True):
            weight, update = float(weight_norm), float(change)
            weights[name] = weight
            ratios[name] = update / weight if weight else (0.0 if not update else float("inf"))
        self._copied = False
        return ratios, weights

    def _fits(self) -> bool:
        """The buffers still match the parameters (not moved to another device or dtype)."""
        return len(self._copies) == len(self.items) and all(
            c.shape == p.shape and c.dtype == p.dtype and c.device == p.device
            for c, (_, p) in zip(self._copies, self.items, strict=True)
        )
