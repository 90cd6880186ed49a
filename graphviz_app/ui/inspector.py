"""The inspector: everything known about the selected node, with links to neighbours."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget

from graphviz_app.core.backward import BackwardStep
from graphviz_app.core.graph import AutogradGraph, Node, TensorInfo
from graphviz_app.core.style import KIND_LABEL, grad_text, shape_line

NODE_SCHEME = "node"
INSPECTOR_PREVIEW = 16  # values listed; the record keeps more for plots


class InspectorView(QTextBrowser):
    """Shows one node; clicking a neighbour's link emits its id."""

    node_link_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.show_nothing()

    def show_nothing(self) -> None:
        """The placeholder text when no node is selected."""
        self.setHtml("<p style='color:#666'>Click a node to inspect it.</p>")

    def show_node(
        self, graph: AutogradGraph, node_id: str, step: BackwardStep | None = None
    ) -> None:
        """Describe ``node_id`` of ``graph`` (with its gradients when backward ran it)."""
        self.setHtml(node_html(graph, graph.node(node_id), step))

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == NODE_SCHEME:
            self.node_link_clicked.emit(url.path())
        elif url.isLocalFile():
            QDesktopServices.openUrl(url)  # the user's source file, in their editor


def node_html(graph: AutogradGraph, node: Node, step: BackwardStep | None = None) -> str:
    """HTML for the inspector: identity, where it came from, tensor, saved, links."""
    rows = [
        ("kind", KIND_LABEL[node.kind]),
        ("forward op", node.op),
        ("module", _module_text(node)),
        ("source", _source_text(node)),
        ("sequence nr", None if node.sequence_nr is None else str(node.sequence_nr)),
    ]
    parts = [f"<h3>{escape(node.title)}</h3>"]
    if node.leaf_name:
        parts.append(f"<p><i>{escape(node.name)}</i></p>")
    parts.append(_table([(k, escape(v).replace("\n", "<br>")) for k, v in rows if v]))
    if node.source is not None and Path(node.source.file).is_file():
        url = QUrl.fromLocalFile(node.source.file).toString()
        parts.append(
            f"<p><a href='{escape(url)}'>Open {escape(Path(node.source.file).name)}"
            " in the editor</a></p>"
        )
    if node.tensor is not None:
        parts.append("<h4>Tensor</h4>" + _tensor_table(node.tensor))
    if step is not None:
        parts.append(_gradient_html(step))
    if node.saved:
        saved = [
            (s.name, escape(shape_line(s.tensor) if s.tensor else s.text or "")) for s in node.saved
        ]
        parts.append("<h4>Saved for backward</h4>" + _table(saved))
    parts.append(
        _links("Inputs (next_functions)", graph, [e.source for e in graph.in_edges(node.id)])
    )
    parts.append(_links("Consumers", graph, [e.target for e in graph.out_edges(node.id)]))
    return "".join(parts)


def _gradient_html(step: BackwardStep) -> str:
    """What backward sent through the node: in, out, and a leaf's .grad before/after."""
    rows = [(f"in [{i}]", _grad_cell(g)) for i, g in enumerate(step.grad_outputs)]
    rows += [(f"out [{i}] (next_functions)", _grad_cell(g)) for i, g in enumerate(step.grad_inputs)]
    if step.leaf_grad_after is not None or step.leaf_grad_before is not None:
        rows.append((".grad before", _grad_cell(step.leaf_grad_before)))
        rows.append((".grad after", _grad_cell(step.leaf_grad_after)))
    title = f"<h4>Gradient (backward step {step.index + 1})</h4>"
    return title + _table(rows)


def _grad_cell(info: TensorInfo | None) -> str:
    if info is None:
        return "<span style='color:#777'>None (no gradient flows)</span>"
    return escape(grad_text(info))


def _module_text(node: Node) -> str | None:
    if node.module is None:
        return None
    name = node.module or "(model)"
    return f"{name} (inherited from its consumer)" if node.module_inferred else name


def _source_text(node: Node) -> str | None:
    if node.source is None:
        return None
    name = Path(node.source.file).name
    return f"{name}:{node.source.line} in {node.source.function}()\n{node.source.text}"


def _tensor_table(info: TensorInfo) -> str:
    rows = [("shape / dtype", escape(shape_line(info))), ("requires grad", str(info.requires_grad))]
    stats = info.stats
    if stats is None:
        rows.append(("values", "unavailable (not recorded, or a meta tensor)"))
    else:
        rows += [
            ("min / max", f"{stats.min:.4g} / {stats.max:.4g}"),
            ("mean / std", f"{stats.mean:.4g} / {stats.std:.4g}"),
            ("norm", f"{stats.norm:.4g}"),
        ]
        if stats.has_non_finite:
            rows.append(
                (
                    "<b style='color:#b00'>non-finite</b>",
                    f"<b style='color:#b00'>{stats.nan_count} NaN, {stats.inf_count} Inf</b>",
                )
            )
        shown = info.preview[:INSPECTOR_PREVIEW]
        preview = ", ".join(f"{v:.4g}" for v in shown)
        more = info.preview_truncated or len(shown) < len(info.preview)
        rows.append((f"first {len(shown)} values", preview + (", ..." if more else "")))
    return _table(rows)


def _links(title: str, graph: AutogradGraph, node_ids: list[str]) -> str:
    if not node_ids:
        return ""
    items = "".join(
        f"<li><a href='{NODE_SCHEME}:{nid}'>{escape(graph.node(nid).title)}</a></li>"
        for nid in node_ids
    )
    return f"<h4>{escape(title)}</h4><ul>{items}</ul>"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><td style='color:#555;padding-right:8px'>{k}</td><td>{v}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"
