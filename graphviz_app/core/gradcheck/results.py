"""What a gradient check found: per-parameter results, runs and the report.

Plain frozen records, shared by the computation (:mod:`graphviz_app.core.gradcheck.check`)
and its wording (:mod:`graphviz_app.core.gradcheck.text`), so neither imports the other
back.
"""

from __future__ import annotations

from dataclasses import dataclass

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
# float32 with a step and tolerance that suit its 7 digits: a teaching run showing that
# float32 gradients are fine, only the float64-sized step h was not.
WIDE_EPS, WIDE_ATOL, WIDE_RTOL = 1e-3, 1e-3, 1e-2
# Per parameter; beyond it a seeded random sample is checked. Large enough that a
# small layer (a 16 x 8 weight, 128 elements) is checked element by element.
MAX_ELEMENTS = 256
# The whole check (every run together) is sized to take about this long: ResNet-18
# checked element by element would take over an hour.
BUDGET_S = 30.0


class GradcheckError(ValueError):
    """The check cannot run as asked (an unknown or frozen parameter, a model that does
    not run in a dtype); the message says why and what to do."""


@dataclass(frozen=True)
class ParamCheck:
    """One parameter checked in one dtype."""

    name: str
    numel: int
    checked: int  # elements compared (all of them, or a sample)
    max_abs_err: float  # inf when some value was NaN or inf
    max_rel_err: float
    worst_index: int  # flat index of the largest error
    passed: bool
    non_finite: int = 0  # checked elements whose numeric or analytic value was NaN/inf
    has_grad: bool = True  # False: backward gave no gradient at all (checked as zeros)


@dataclass(frozen=True)
class Tolerance:
    """The finite-difference step and the pass test ``|a - n| <= atol + rtol * |n|``."""

    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL


@dataclass(frozen=True)
class GradcheckRun:
    """All checked parameters in one dtype, with one step and tolerance."""

    dtype: str  # the run's label: "float64", "float32" or WIDE_FLOAT32
    params: tuple[ParamCheck, ...]
    seconds: float
    tolerance: Tolerance = Tolerance()

    @property
    def passed(self) -> bool:
        """True when every checked element was within tolerance."""
        return all(p.passed for p in self.params)

    @property
    def max_abs_err(self) -> float:
        """The largest |analytic - numeric| over all checked elements."""
        return max((p.max_abs_err for p in self.params), default=0.0)


@dataclass(frozen=True)
class GradcheckReport:
    """The float64 and float32 runs side by side, and how to read them.

    The check runs on a copy of the model in eval mode (dropout would make the loss
    random); the user's model, its mode and its ``.grad`` are untouched. Every run
    checks the same ``per_param`` elements of each parameter (all of a smaller one);
    ``sampling`` says in words why that many.
    """

    runs: tuple[GradcheckRun, ...]
    sampled: bool  # some parameter had more elements than were checked
    explanation: str = ""
    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL
    per_param: int = MAX_ELEMENTS  # elements checked per parameter, in every run
    budget_s: float = BUDGET_S  # the time the whole check was sized to
    forward_s: float = 0.0  # one measured forward, in the first run's dtype
    deterministic: bool = True  # repeated forwards on the same weights gave one loss
    losses: tuple[float, ...] = ()  # those repeated forwards' losses
    sampling: str = ""  # why per_param elements, in words

    def run(self, dtype: str) -> GradcheckRun:
        """The run labelled ``dtype``; ValueError when there is none."""
        for run in self.runs:
            if run.dtype == dtype:
                return run
        raise ValueError(f"no {dtype} run in this report")

    def has_run(self, dtype: str) -> bool:
        """Whether a run labelled ``dtype`` was made."""
        return any(run.dtype == dtype for run in self.runs)
