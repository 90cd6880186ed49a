"""The inspector: everything known about the selected node, with links to neighbours."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget

from graphviz_app.core.graph.records import AutogradGraph, Node, SavedValue, TensorInfo
from graphviz_app.core.layout.style import KIND_LABEL, grad_text, shape_line
from graphviz_app.ui.common.theme import LIGHT, Theme
from graphviz_app.ui.panels.node_help import explain_node

if TYPE_CHECKING:
    from graphviz_app.core.autograd.backward import BackwardStep

logger = logging.getLogger(__name__)
NODE_SCHEME = "node"
INSPECTOR_PREVIEW = 16  # values listed; the record keeps more for plots
SAVED_PREVIEW = 6
#: Adds a section to the inspector: (graph, node id) -> an HTML fragment, "" for none.
ExtraProvider = Callable[[AutogradGraph, str], str]


class InspectorView(QTextBrowser):
    """Shows one node; clicking a neighbour's link emits its id."""

    node_link_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.extras: list[ExtraProvider] = []
        self.set_theme(LIGHT)
        self.show_nothing()

    def add_extra(self, provider: ExtraProvider) -> None:
        """Add a section: ``provider(graph, node_id)`` returns HTML ("" for nothing)."""
        self.extras.append(provider)

    def set_theme(self, theme: Theme) -> None:
        """Text, link and muted colours from ``theme`` (takes effect on the next show)."""
        self.theme = theme
        self.document().setDefaultStyleSheet(
            f"body {{ color: {theme.text}; }} a {{ color: {theme.link}; }}"
            f" td.key {{ color: {theme.muted}; padding-right: 8px; }}"
            f" .muted {{ color: {theme.muted}; }} .error {{ color: {theme.error}; }}"
            f" .help {{ color: {theme.text}; }}"
        )

    def show_nothing(self) -> None:
        """The placeholder text when no node is selected."""
        self.setHtml("<p class='muted'>Click a node to inspect it.</p>")

    def show_node(
        self, graph: AutogradGraph, node_id: str, step: BackwardStep | None = None
    ) -> None:
        """Describe ``node_id`` of ``graph`` (with its gradients when backward ran it)."""
        parts = [node_html(graph, graph.node(node_id), step)]
        for provider in self.extras:
            try:
                parts.append(provider(graph, node_id))
            except Exception:  # one broken section must not hide the others
                logger.exception("inspector section %r failed", provider)
        self.setHtml("".join(parts))

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
        ("sequence nr", _sequence_text(node.sequence_nr)),
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
        parts.append("<h4>Saved for backward</h4>" + _saved_table(node.saved))
    parts.append(
        _links("Inputs (next_functions)", graph, [e.source for e in graph.in_edges(node.id)])
    )
    parts.append(_links("Consumers", graph, [e.target for e in graph.out_edges(node.id)]))
    help_text = "".join(f"<p class='help'>{escape(p)}</p>" for p in explain_node(node))
    parts.append(f"<h4>What is this node?</h4>{help_text}")
    return "".join(parts)


def _saved_table(saved: tuple[SavedValue, ...]) -> str:
    """Name, shape/dtype, a summary and the first values of each saved value."""
    rows = []
    for value in saved:
        if value.tensor is None:
            rows.append((escape(value.name), escape(value.text or ""), "", ""))
            continue
        info = value.tensor
        stats = info.stats
        summary = "" if stats is None else f"mean {stats.mean:.3g}, std {stats.std:.3g}"
        if 0 in info.shape:  # e.g. batch norm's saved batch statistics in eval mode
            summary = "empty (no elements)"
        if stats is not None and stats.has_non_finite:
            summary = f"<span class='error'>{stats.non_finite_text}</span>"
        preview = ", ".join(f"{v:.3g}" for v in info.preview[:SAVED_PREVIEW])
        if preview and (info.preview_truncated or len(info.preview) > SAVED_PREVIEW):
            preview += ", ..."
        rows.append((escape(value.name), escape(shape_line(info)), summary, preview))
    header = "<tr><th>name</th><th>shape / dtype</th><th>summary</th><th>first values</th></tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table cellspacing='2'>{header}{body}</table>"


def _gradient_html(step: BackwardStep) -> str:
    """What backward sent through the node: in, out, and a leaf's .grad before/after."""
    rows = [(f"in [{i}]", _grad_cell(g)) for i, g in enumerate(step.grad_outputs)]
    rows += [(f"out [{i}] (next_functions)", _grad_cell(g)) for i, g in enumerate(step.grad_inputs)]
    if step.leaf_grad_after is not None or step.leaf_grad_before is not None:
        before = step.leaf_grad_before
        rows.append((".grad before", _grad_cell(before) if before is not None else NO_GRAD_YET))
        rows.append((".grad after", _grad_cell(step.leaf_grad_after)))
    title = f"<h4>Gradient (backward step {step.index + 1})</h4>"
    return title + _table(rows)


NO_GRAD_YET = (
    "<span class='muted'>None (no .grad yet: the first backward, or cleared by "
    "zero_grad(set_to_none=True))</span>"
)


def _grad_cell(info: TensorInfo | None) -> str:
    if info is None:
        return "<span class='muted'>None (no gradient flows)</span>"
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
                    "<b class='error'>non-finite</b>",
                    f"<b class='error'>{stats.non_finite_text}</b>",
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
    body = "".join(f"<tr><td class='key'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _sequence_text(sequence_nr: int | None) -> str | None:
    """AccumulateGrad nodes carry UINT64_MAX: the engine runs them as soon as they are
    ready, not in creation order, so there is no number to show."""
    if sequence_nr is None:
        return None
    return "none (runs when ready)" if sequence_nr >= 2**63 else str(sequence_nr)
