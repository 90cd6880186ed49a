"""The gradient health report: frozen records, plain data (they cross threads and are
written as JSON)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphviz_app.core.graph.records import SourceLocation
from graphviz_app.core.health.settings import HealthSettings

NAN, INF = "nan", "inf"


@dataclass(frozen=True)
class NonFiniteOrigin:
    """The first node whose backward (or forward) produced a NaN or an Inf.

    ``index`` is its index among the recorded backward steps (-1 for a forward
    origin); :attr:`step` counts from 1, as the report's text and the JSON say it.
    ``received`` and ``sent`` describe the gradients around it, ``cause`` says in
    words how a finite input gave a non-finite output.
    """

    kind: str  # NAN or INF
    index: int
    node_id: str
    node: str  # its class, e.g. SqrtBackward0
    op: str | None  # the forward op that made it
    module: str | None
    source: SourceLocation | None  # the user's line of the forward op
    count: int  # how many NaN (or Inf) values it produced
    received: str
    sent: str
    cause: str

    @property
    def step(self) -> int | None:
        """The backward step as the report counts them, from 1 (None: the forward)."""
        return self.index + 1 if self.index >= 0 else None

    @property
    def word(self) -> str:
        """``NaN`` or ``Inf``."""
        return "NaN" if self.kind == NAN else "Inf"

    def where(self) -> str:
        """``SqrtBackward0 (sqrt, in dist, model.py:12)``."""
        parts = [p for p in (self.op, f"in {self.module}" if self.module else None) if p]
        if self.source is not None:
            parts.append(self.source.short)
        return f"{self.node} ({', '.join(parts)})" if parts else self.node


#: How the checked backward's roots were seeded (see :mod:`~graphviz_app.core.health.seeds`).
LOSS = "loss"  # scalar roots, seeded with 1
MEAN = "mean"  # roots with several values, each seeded with 1 / its size (the check's)
GIVEN = "given"  # the seeds the user's own call gave (gradient=, grad_outputs=)


@dataclass(frozen=True)
class RootSeed:
    """The seeds of the checked backward, in words, and the scalar they differentiate.

    ``value`` is ``sum((seed * root).sum())`` over the roots: the loss for a scalar
    loss (NaN when it cannot be told, as on the meta device); ``text`` says it for a
    person.
    """

    kind: str
    value: float
    text: str

    @property
    def scale(self) -> float:
        """``max(1, |value|)``, what a module's gradient RMS is compared with to call it
        exploding: a loss summed over N samples makes it and every gradient N times
        larger alike (1 when the value is not finite: the NaN/Inf findings say why)."""
        return max(1.0, abs(self.value)) if math.isfinite(self.value) else 1.0


#: Why a parameter got no gradient (or only zeros), as JSON codes.
FROZEN = "frozen"  # requires_grad=False: on purpose, not a problem
CUT = "cut"  # a detach()/.data/item()/no_grad point lies between it and the loss
UNUSED_OUTPUT = "unused_output"  # it feeds an output the loss does not use
MODULE_NOT_RUN = "module_not_run"  # its module never ran in forward
UNUSED = "unused"  # no op that reaches the loss used it
NO_GRADIENT = "no_gradient"  # in the graph, but no gradient arrived (a backward sent None)
ZERO = "zero"  # a gradient arrived, and it is exactly 0 everywhere


@dataclass(frozen=True)
class ParameterFinding:
    """A parameter whose ``.grad`` stayed None or zero, and the reason found on the graph.

    ``node_id`` is its AccumulateGrad node when the graph has one; ``at_node`` the node
    where its gradient stopped (sent None or zero, or where contributions cancelled)
    when one is known. ``expected``: the check sees a legitimate reason, so it is
    listed but not a problem: a cut another of the script's optimizers trains past (a
    GAN's generator in the critic's step), or non-zero gradients of several uses that
    cancel exactly (a WGAN critic's last bias).
    """

    name: str
    reason: str
    detail: str
    grad_is_none: bool
    node_id: str | None = None
    at_node: str | None = None
    source: SourceLocation | None = None
    expected: bool = False

    @property
    def is_problem(self) -> bool:
        """A frozen parameter (``requires_grad=False``), or an ``expected`` one, is
        listed, not a problem."""
        return self.reason != FROZEN and not self.expected


VANISHING, EXPLODING, GROWING = "vanishing", "exploding", "growing"


@dataclass(frozen=True)
class ModuleGradient:
    """The gradient norm of one module's own parameters (their ``.grad`` s together),
    and of the gradient that flowed back into its output (None when unknown)."""

    module: str  # "" for the model's own parameters
    params: tuple[str, ...]
    node_ids: tuple[str, ...]  # their AccumulateGrad nodes
    grad_norm: float
    weight_norm: float
    grad_rms: float = 0.0  # grad_norm / sqrt(number of values): comparable across sizes
    output_grad_norm: float | None = None
    flags: tuple[str, ...] = ()
    detail: str = ""

    @property
    def label(self) -> str:
        """The module path, or ``(model)`` for parameters of the model itself."""
        return self.module or "(model)"


@dataclass(frozen=True)
class ActivationHealth:
    """One ReLU call: how many of its units output 0 for the whole batch (dead)."""

    node_id: str
    module: str | None
    source: SourceLocation | None
    batch: int
    units: int
    dead_units: int
    zero_fraction: float  # share of all its outputs that are exactly 0
    dead: bool = False  # flagged: more dead units than the threshold allows

    @property
    def dead_fraction(self) -> float:
        """Share of units that are 0 for every sample."""
        return self.dead_units / self.units if self.units else 0.0

    @property
    def label(self) -> str:
        """The module that ran it and its source line: ``block (model.py:32)``."""
        line = self.source.short if self.source else ""
        if self.module:
            return f"{self.module} ({line})" if line else self.module
        return f"relu at {line}" if line else "relu"


@dataclass(frozen=True)
class HealthReport:
    """Everything one check found; :attr:`healthy` when nothing is wrong."""

    model: str
    settings: HealthSettings
    steps: int  # backward steps recorded
    first_inf: NonFiniteOrigin | None = None
    first_nan: NonFiniteOrigin | None = None
    forward_origin: NonFiniteOrigin | None = None  # the forward already made NaN/Inf
    parameters: tuple[ParameterFinding, ...] = ()
    modules: tuple[ModuleGradient, ...] = ()
    activations: tuple[ActivationHealth, ...] = ()
    backward_error: str = ""
    notes: tuple[str, ...] = ()
    seed: RootSeed | None = None  # how backward was seeded (None: it did not run)

    def problems(self) -> tuple[str, ...]:
        """One line per problem, most telling first (empty when healthy)."""
        lines = [f"backward failed: {self.backward_error}"] if self.backward_error else []
        if self.forward_origin is not None:
            first = self.forward_origin
            lines.append(
                f"the loss is not finite: forward made {first.word} first at {first.where()}"
            )
        for origin in (self.first_inf, self.first_nan):
            if origin is not None:
                lines.append(f"first {origin.word} in backward at {origin.where()}")
        lines += [f"{p.name}: {p.detail}" for p in self.parameters if p.is_problem]
        lines += [f"{m.label}: {m.detail}" for m in self.modules if m.flags]
        lines += [
            f"{a.label}: {a.dead_units} of {a.units} units dead ({a.dead_fraction:.0%})"
            for a in self.activations
            if a.dead
        ]
        return tuple(lines)

    @property
    def healthy(self) -> bool:
        """True when the check found no problem."""
        return not self.problems()

    @property
    def cut_off(self) -> tuple[ParameterFinding, ...]:
        """The parameters whose ``.grad`` stayed None."""
        return tuple(p for p in self.parameters if p.grad_is_none)
