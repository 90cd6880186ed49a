"""The inspector's training section: a parameter's value before and after the last
optimizer step, and the update the optimizer really applied."""

from __future__ import annotations

from html import escape

from graphviz_app.core.graph.records import AutogradGraph, NodeKind, TensorInfo
from graphviz_app.core.training.settings import ParamUpdate, TrainRecord, TrainSettings

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
    """A table: before, after, the applied update, the gradient, and their norms.

    Styled by the inspector's theme sheet (``td.key``, ``.muted``), so it reads in
    every theme."""
    settings = record.settings
    rows = [
        ("value before", _cell(update.before)),
        ("value after", _cell(update.after)),
        ("update applied (after - before)", _cell(update.update)),
        (_grad_key(settings.zero_grad), _cell(update.grad)),
        ("|update| / |weight|", f"{update.update_ratio:.3g}"),
        ("why", _why(settings)),
    ]
    body = "".join(f"<tr><td class='key'>{escape(k)}</td><td>{v}</td></tr>" for k, v in rows)
    title = f"<h4>Optimizer step {record.step} (loss {record.loss:.4g})</h4>"
    return f"{title}<table>{body}</table><p class='muted'>{_grad_note(settings.zero_grad)}</p>"


def _grad_key(zero_grad: bool) -> str:
    return ".grad used (this step's)" if zero_grad else ".grad used (sum over steps)"


def _why(settings: TrainSettings) -> str:
    if settings.optimizer == "SGD" and not settings.momentum and not settings.weight_decay:
        rule = f"plain SGD: update = -lr x .grad = -{settings.lr:g} x .grad"
    else:
        rule = f"{settings.describe()}: the optimizer's own rule"
    if not settings.zero_grad:
        rule += ", with .grad the sum of this step's gradient and every earlier one's"
    return escape(rule, quote=False)


def _grad_note(zero_grad: bool) -> str:
    """Why .grad held what it held when this step's backward ran."""
    if zero_grad:
        return (
            "zero_grad(set_to_none=True) set .grad to None before this step's forward, "
            "so backward stored this step's gradient alone (the backward pass shows "
            ".grad before = None for that reason, not because no gradient flows)."
        )
    return (
        "zero_grad is off: backward added this step's gradient to the .grad left by the "
        "earlier steps (since .grad was last cleared), so the optimizer used their sum."
    )


def _cell(info: TensorInfo | None) -> str:
    if info is None:
        return "<span class='muted'>None</span>"
    values = ", ".join(f"{v:.4g}" for v in info.preview[:SHOWN_VALUES])
    more = ", ..." if info.preview_truncated or len(info.preview) > SHOWN_VALUES else ""
    norm = f" (norm {info.stats.norm:.4g})" if info.stats is not None else ""
    return escape(f"[{values}{more}]{norm}")
