"""The inspector's section for a drawn group: a collapsed module or a fold of blocks."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from graphviz_app.core.graph.collapse import GroupSummary, VisibleGraph, group_grad_summary
from graphviz_app.core.graph.records import AutogradGraph

#: The drawn view and its captured graph, or None when nothing is shown.
ShownView = Callable[[], "tuple[VisibleGraph, AutogradGraph] | None"]


def group_section(
    shown: ShownView, reached_norms: Callable[[], dict[str, float]]
) -> Callable[[AutogradGraph, str], str]:
    """An inspector provider: what the selected group holds and, once backward has
    reached its nodes (``reached_norms``: node id -> gradient norm so far), their
    gradients taken together."""

    def section(graph: AutogradGraph, node_id: str) -> str:
        views = shown()
        if views is None or node_id not in views[0].groups:
            return ""
        view, captured = views
        group = view.groups[node_id]
        html = _contents_html(group)
        grads = group_grad_summary(view, captured, node_id, reached_norms())
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
