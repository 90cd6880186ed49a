"""The inspector's section for a drawn group: a collapsed module or a fold of blocks."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

from graphviz_app.core.collapse import GroupSummary, group_grad_summary
from graphviz_app.core.graph import AutogradGraph

if TYPE_CHECKING:
    from graphviz_app.ui.main_window import MainWindow


def group_section(window: MainWindow) -> Callable[[AutogradGraph, str], str]:
    """An inspector provider: what the selected group holds and, once backward has
    reached its nodes, their gradients taken together."""

    def section(graph: AutogradGraph, node_id: str) -> str:
        result = window.result
        group = result.view.groups.get(node_id) if result is not None else None
        if result is None or group is None:
            return ""
        html = _contents_html(group)
        norms = window.stepper.reached_norms()
        grads = group_grad_summary(result.view, result.graph, node_id, norms)
        if grads is not None and grads.count:
            bad = f", <span class='error'>{grads.non_finite} NaN/Inf</span>" * (
                grads.non_finite > 0
            )
            html += (
                f"<h4>Gradients inside (so far)</h4><p>{grads.count} of "
                f"{len(group.members)} nodes reached; largest |g| {grads.max_norm:.4g}; "
                f"all parameter gradients together |g| {grads.parameter_norm:.4g}{bad}</p>"
            )
        return html

    return section


def _contents_html(group: GroupSummary) -> str:
    kind = escape(group.type_name or "module")
    modules = ", ".join(escape(m or "the whole model") for m in group.modules[:6])
    more = f" and {len(group.modules) - 6} more" * (len(group.modules) > 6)
    return (
        f"<h4>Inside this {kind}</h4><p>{modules}{more}: {len(group.members)} autograd "
        f"nodes, {group.parameter_tensors} parameter tensors "
        f"({group.parameter_values:,} values). Double-click it to open it.</p>"
    )
