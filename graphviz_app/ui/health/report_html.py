"""The health report as the dock's HTML: sections, and links that go to nodes.

``node:ID`` links select and centre a node of the checked graph; ``param:NAME`` links
name a parameter that has no node (cut off), whose reason goes to the status bar.
"""

from __future__ import annotations

from html import escape

from graphviz_app.core.health.report import (
    ActivationHealth,
    HealthReport,
    ModuleGradient,
    NonFiniteOrigin,
    ParameterFinding,
)

PROBLEM_COLOUR, HEALTHY_COLOUR = "#d55e00", "#009e73"  # Okabe-Ito vermillion, bluish green
QUIET_COLOUR = "#808080"  # listed, not a problem: readable on light and dark themes
NODE_SCHEME, PARAM_SCHEME = "node", "param"


def report_html(report: HealthReport, link: str = "#0056a0") -> str:
    """The whole report: a verdict, then each section that has something to say."""
    parts = [_verdict(report)]
    if report.seed is not None:
        parts.append(f"<p>Backward seeded: {escape(report.seed.text)}.</p>")
    if report.backward_error:
        parts.append(f"<h4>Backward failed</h4><p>{escape(report.backward_error)}</p>")
    for title, origin in (
        ("The loss is not finite: where forward made it", report.forward_origin),
        ("First Inf in backward", report.first_inf),
        ("First NaN in backward", report.first_nan),
    ):
        if origin is not None:
            parts.append(origin_html(title, origin, report.steps))
    parts += [_parameters(report.parameters), _modules(report.modules)]
    parts += [_activations(report.activations), _notes(report)]
    return f"<style>a {{ color: {link}; }}</style>" + "".join(p for p in parts if p)


def _verdict(report: HealthReport) -> str:
    """The verdict, and what was checked (a script's: which of its backward calls)."""
    problems = report.problems()
    about = f"{escape(report.model)}, {report.steps} backward steps recorded"
    if not problems:
        verdict = f"<b style='color:{HEALTHY_COLOUR}'>Healthy</b>: no problem found"
        return f"<p>{verdict} ({about}).</p>"
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return f"<p><b style='color:{PROBLEM_COLOUR}'>{count} found</b> ({about}).</p>"


def origin_html(title: str, origin: NonFiniteOrigin, steps: int) -> str:
    """Where a NaN or Inf started: the node (a link), its forward line, numbers, cause."""
    at = f" at step {origin.step} of {steps}" if origin.step is not None else ""
    lines = [f"{_node_link(origin.node_id, origin.node)}{at}"]
    forward = ", ".join(p for p in (origin.op, origin.module and f"in {origin.module}") if p)
    if forward:
        lines.append(f"forward: <tt>{escape(forward)}</tt>")
    if origin.source is not None:  # the file's name here; the whole path as a tooltip
        source = origin.source
        where = source.short
        code = f"<br><tt>{escape(source.text)}</tt>" if source.text else ""
        lines.append(f"<span title='{escape(source.file)}'>{escape(where)}</span>{code}")
    if origin.received:
        lines.append(f"received <tt>{escape(origin.received)}</tt>")
    sent = "sent" if origin.index >= 0 else "value"
    lines.append(f"{sent} <tt>{escape(origin.sent)}</tt>")
    lines.append(f"<i>why</i>: {escape(origin.cause)}")
    return f"<h4 style='color:{PROBLEM_COLOUR}'>{escape(title)}</h4><p>{'<br>'.join(lines)}</p>"


def _parameters(findings: tuple[ParameterFinding, ...]) -> str:
    """Problems first; frozen and expected ones (a GAN's other network) listed apart,
    in grey, so that they do not read as problems."""
    problems = [p for p in findings if p.is_problem]
    listed = [p for p in findings if not p.is_problem]
    html = ""
    if problems:
        title = f"Parameters whose .grad stayed None or zero ({len(problems)})"
        html += f"<h4 style='color:{PROBLEM_COLOUR}'>{title}</h4>{_param_rows(problems)}"
    if listed:
        title = f"Listed, not a problem ({len(listed)}): .grad None or zero for a reason"
        html += f"<h4 style='color:{QUIET_COLOUR}'>{title}</h4>{_param_rows(listed)}"
    return html


def _param_rows(findings: list[ParameterFinding]) -> str:
    rows = "".join(f"<li>{_param_link(p)}: {escape(p.detail)}</li>" for p in findings)
    return f"<ul>{rows}</ul>"


def _param_link(finding: ParameterFinding) -> str:
    if finding.node_id is not None:
        return _node_link(finding.node_id, finding.name)
    return f"<a href='{PARAM_SCHEME}:{escape(finding.name)}'>{escape(finding.name)}</a>"


def _modules(modules: tuple[ModuleGradient, ...]) -> str:
    if not modules:
        return ""
    head = (
        "<tr><th align='left'>module</th><th>.grad norm</th><th>RMS</th>"
        "<th>into output</th><th></th></tr>"
    )
    rows = "".join(_module_row(m) for m in modules)
    flagged = "".join(
        f"<li>{escape(m.label)}: {escape(m.detail)}</li>" for m in modules if m.flags
    )  # fmt: skip
    return (
        "<h4>Gradient norms per module (forward order)</h4>"
        f"<table cellspacing='0' cellpadding='3'>{head}{rows}</table>"
        + (f"<ul style='color:{PROBLEM_COLOUR}'>{flagged}</ul>" if flagged else "")
    )


def _module_row(module: ModuleGradient) -> str:
    name = escape(module.label)
    cell = _node_link(module.node_ids[0], module.label) if module.node_ids else name
    into = "-" if module.output_grad_norm is None else f"{module.output_grad_norm:.3g}"
    flag = ", ".join(module.flags)
    style = f" style='color:{PROBLEM_COLOUR}'" if module.flags else ""
    return (
        f"<tr><td>{cell}</td><td align='right'>{module.grad_norm:.3g}</td>"
        f"<td align='right'>{module.grad_rms:.3g}</td>"
        f"<td align='right'>{into}</td><td{style}>{escape(flag)}</td></tr>"
    )


def _activations(activations: tuple[ActivationHealth, ...]) -> str:
    if not activations:
        return ""
    rows = "".join(
        f"<li>{_node_link(a.node_id, a.label)}: {a.dead_units} of {a.units} units dead "
        f"({a.dead_fraction:.0%}), {a.zero_fraction:.0%} of outputs 0"
        + (f" <b style='color:{PROBLEM_COLOUR}'>dead</b>" if a.dead else "")
        + "</li>"
        for a in activations
    )
    return f"<h4>ReLUs (a dead unit is 0 for every sample)</h4><ul>{rows}</ul>"


def _notes(report: HealthReport) -> str:
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    listed = f"<ul>{notes}</ul>" if notes else ""
    return f"{listed}<p><small>Thresholds: {escape(report.settings.describe())}</small></p>"


def _node_link(node_id: str, text: str) -> str:
    return f"<a href='{NODE_SCHEME}:{escape(node_id)}'>{escape(text)}</a>"
