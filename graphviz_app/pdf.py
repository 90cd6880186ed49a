"""SVG -> vector PDF through Qt's SVG renderer.

Graphviz builds without cairo (graphviz-pure among them) cannot write PDF, so the
app draws Graphviz's own SVG into a ``QPdfWriter``. It works headless: when no Qt
application exists yet (the command line), an offscreen one is made.
"""

from __future__ import annotations

import os

from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.engine import GraphvizEngine
from graphviz_app.io.export import render

POINTS_PER_INCH = 72.0


def render_export(
    graph: AutogradGraph, dot_text: str, fmt: str, engine: GraphvizEngine, dpi: float | None = None
) -> bytes:
    """The bytes of an export in any format, PDF included (through Qt)."""
    if fmt == "pdf":
        return svg_to_pdf(render(graph, dot_text, "svg", engine))
    return render(graph, dot_text, fmt, engine, dpi)


class PdfError(RuntimeError):
    """The SVG could not be turned into a PDF."""


def svg_to_pdf(svg: bytes) -> bytes:
    """A one-page PDF the size of the SVG drawing, in vector form."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
    from PySide6.QtGui import QPageSize, QPainter, QPdfWriter
    from PySide6.QtSvg import QSvgRenderer

    ensure_gui_application()
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise PdfError("Graphviz's SVG could not be read by Qt's SVG renderer.")
    size = renderer.defaultSize()  # SVG user units: Graphviz writes points
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QSizeF(size.width(), size.height()), QPageSize.Unit.Point))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setResolution(int(POINTS_PER_INCH))
    writer.setCreator("graphviz_app")
    painter = QPainter(writer)
    renderer.render(painter)
    painter.end()
    buffer.close()
    return bytes(buffer.data().data())


def ensure_gui_application() -> None:
    """Make an offscreen Qt application when none exists (headless rendering)."""
    # A widgets application: a window may be opened later in the same process.
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # Kept on the function so it is not collected while the process runs.
        ensure_gui_application.app = QApplication(["graphviz-app"])  # type: ignore[attr-defined]
