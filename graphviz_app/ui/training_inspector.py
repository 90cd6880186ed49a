"""The inspector's training section: a parameter's value before and after the last
optimizer step, and the update the optimizer really applied."""

from __future__ import annotations

from html import escape

from graphviz_app.core.graph import AutogradGraph, NodeKind, TensorInfo
from graphviz_app.core.training import ParamUpdate, TrainRecord

SHOWN_VALUES = 6


class TrainingInspector:
    """An inspector provider: ``provider(graph, node_id)`` -> HTML ("" for nothing)."""

    def __init__(self) -> None:
        self.record: TrainRecord | None = None

    def __call__(self, graph: AutogradGraph, node_id: str) -> str:
        if self.record is None or node_id not in graph:
            return ""
        node = graph.node(node_id)
        if node.kind is not NodeKind.PARAMETER or not node.leaf_name:
            return ""
        update = self.record.param(node.leaf_name)
        return update_html(self.record, update) if update is not None else ""


def update_html(record: TrainRecord, update: ParamUpdate) -> str:
    """A table: before, after, the applied update, the gradient, and their norms."""
    settings = record.settings
    rows = [
        ("value before", _cell(update.before)),
        ("value after", _cell(update.after)),
        ("update applied (after - before)", _cell(update.update)),
        (".grad used", _cell(update.grad)),
        ("|update| / |weight|", f"{update.update_ratio:.3g}"),
    ]
    if settings.optimizer == "SGD" and not settings.momentum and not settings.weight_decay:
        rows.append(("why", f"plain SGD: update = -lr x grad = -{settings.lr:g} x .grad"))
    else:
        rows.append(("why", f"{escape(settings.describe())}: the optimizer's own rule"))
    body = "".join(
        f"<tr><td style='color:#555;padding-right:8px'>{escape(k)}</td><td>{v}</td></tr>"
        for k, v in rows
    )
    title = f"<h4>Optimizer step {record.step} (loss {record.loss:.4g})</h4>"
    return f"{title}<table>{body}</table>"


def _cell(info: TensorInfo | None) -> str:
    if info is None:
        return "<span style='color:#777'>None</span>"
    values = ", ".join(f"{v:.4g}" for v in info.preview[:SHOWN_VALUES])
    more = ", ..." if info.preview_truncated or len(info.preview) > SHOWN_VALUES else ""
    norm = f" (norm {info.stats.norm:.4g})" if info.stats is not None else ""
    return escape(f"[{values}{more}]{norm}")
