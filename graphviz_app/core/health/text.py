"""The health report in words (the CLI's output, the dock's summary) and as JSON.

The JSON form follows ``report_schema.json`` beside this module (``schema`` names its
version); NaN and infinities are written as the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``, so the output is strict JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib import resources
from typing import Any

from graphviz_app.core.graph.records import SourceLocation, finite_json
from graphviz_app.core.health.report import HealthReport, ModuleGradient, NonFiniteOrigin

SCHEMA_ID = "graphviz-app/check/2"


def report_json_dict(report: HealthReport) -> dict[str, Any]:
    """The report as plain JSON data (see ``report_schema.json``)."""
    data = asdict(report)
    data["backward_error"] = report.backward_error or None
    for key in ("first_inf", "first_nan", "forward_origin"):
        origin = getattr(report, key)
        if origin is not None:  # the step as the text says it: from 1, null for forward
            data[key].pop("index")
            data[key] = {"step": origin.step, **data[key]}
    for activation, record in zip(data["activations"], report.activations, strict=True):
        activation["dead_fraction"] = record.dead_fraction
    return {
        "schema": SCHEMA_ID,
        "healthy": report.healthy,
        "problems": list(report.problems()),
        **data,
    }


def report_json(report: HealthReport, indent: int | None = 2) -> str:
    """The JSON text of :func:`report_json_dict` (strict JSON: no bare NaN)."""
    return json.dumps(finite_json(report_json_dict(report)), indent=indent, allow_nan=False)


def report_schema() -> dict[str, Any]:
    """The JSON Schema the ``--json`` output follows."""
    text = resources.files("graphviz_app.core.health").joinpath("report_schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def report_text(report: HealthReport) -> str:
    """The report for a terminal: a verdict line, then each section that has something."""
    problems = report.problems()
    verdict = "healthy" if not problems else f"{len(problems)} problem(s) found"
    lines = [f"{report.model}: {verdict} ({report.steps} backward steps recorded)"]
    if report.seed is not None:
        lines.append(f"Backward seeded: {report.seed.text}")
    if report.backward_error:
        lines += ["", f"Backward failed: {report.backward_error}"]
    for title, origin in (
        ("The loss is not finite; the forward made it first", report.forward_origin),
        ("First Inf in backward", report.first_inf),
        ("First NaN in backward", report.first_nan),
    ):
        if origin is not None:
            lines += ["", *origin_lines(title, origin, report.steps)]
    lines += _parameter_lines(report) + _module_lines(report) + _activation_lines(report)
    lines += ["", *(f"Note: {note}" for note in report.notes)] if report.notes else []
    lines += ["", f"Thresholds: {report.settings.describe()}"]
    return "\n".join(lines)


def origin_lines(title: str, origin: NonFiniteOrigin, steps: int) -> list[str]:
    """Where a NaN/Inf started: the node, its forward line, the numbers, the cause."""
    at = f"step {origin.step} of {steps}, " if origin.step is not None else ""
    lines = [f"{title}: {at}{origin.node} ({origin.node_id})"]
    forward = ", ".join(p for p in (origin.op, origin.module and f"module {origin.module}") if p)
    if forward:
        lines.append(f"  forward op: {forward}")
    if origin.source is not None:
        lines.append(f"  forward line: {source_text(origin.source)}")
    if origin.received:
        lines.append(f"  received: {origin.received}")
    lines.append(f"  sent: {origin.sent}" if origin.index >= 0 else f"  value: {origin.sent}")
    lines.append(f"  why: {origin.cause}")
    return lines


def source_text(source: SourceLocation) -> str:
    """``model.py:12  y = torch.sqrt(x)``."""
    text = f"  {source.text}" if source.text else ""
    return f"{source.file}:{source.line}{text}"


def _parameter_lines(report: HealthReport) -> list[str]:
    if not report.parameters:
        return []
    width = max(len(p.name) for p in report.parameters)
    return [
        "",
        "Parameters whose .grad stayed None or zero:",
        *(f"  {p.name:<{width}}  {p.detail}" for p in report.parameters),
    ]


def _module_lines(report: HealthReport) -> list[str]:
    if not report.modules:
        return []
    width = max(len(m.label) for m in (*report.modules, _HEADER))
    rows = [
        f"  {m.label:<{width}}  {m.grad_norm:>10.3g}  {m.grad_rms:>9.3g}  "
        f"{_optional(m.output_grad_norm):>11}" + (f"  {m.detail}" if m.flags else "")
        for m in report.modules
    ]
    header = (
        f"  {_HEADER.label:<{width}}  {'.grad norm':>10}  {'.grad RMS':>9}  {'into output':>11}"
    )
    return ["", "Gradient norms per module, in forward order:", header, *rows]


_HEADER = ModuleGradient("module", (), (), 0.0, 0.0)


def _optional(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _activation_lines(report: HealthReport) -> list[str]:
    if not report.activations:
        return []
    width = max(len(a.label) for a in report.activations)
    rows = [
        f"  {a.label:<{width}}  {a.dead_units} of {a.units} units dead ({a.dead_fraction:.0%}),"
        f" {a.zero_fraction:.0%} of outputs 0" + ("  DEAD" if a.dead else "")
        for a in report.activations
    ]
    return ["", "ReLUs (dead units are 0 for every sample):", *rows]
