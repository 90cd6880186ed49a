"""Exports in every format: SVG from the layout, and PNG / vector PDF from that SVG
through Qt's SVG renderer.

Graphviz builds without cairo (graphviz-pure among them) cannot write PDF, so the
app draws the picture's SVG into a ``QPdfWriter`` (or a ``QImage`` for PNG): the file
shows the very layout the window shows, with no second Graphviz run. It works
headless: when no Qt application exists yet (the command line), an offscreen one is
made. Qt is imported only for PNG and PDF.
"""

from __future__ import annotations

import os

from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import GraphLayout, Marks
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.export import render_drawn

POINTS_PER_INCH = 72.0
DEFAULT_DPI = 96.0  # Graphviz's PNG resolution


def render_export(
    graph: AutogradGraph,
    drawn: AutogradGraph,
    layout: GraphLayout,
    style: GraphStyle,
    fmt: str,
    marks: Marks | None = None,
    dpi: float | None = None,
) -> bytes:
    """The bytes of a laid-out picture in any format, PNG and PDF included (via Qt).

    ``graph`` is everything captured (for JSON), ``drawn`` the graph ``layout`` places.
    """
    if fmt in ("png", "pdf"):
        svg = render_drawn(graph, drawn, layout, style, "svg", marks)
        return svg_to_pdf(svg) if fmt == "pdf" else svg_to_png(svg, dpi or DEFAULT_DPI)
    return render_drawn(graph, drawn, layout, style, fmt, marks)


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
        raise PdfError("The picture's SVG could not be read by Qt's SVG renderer.")
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


def svg_to_png(svg: bytes, dpi: float = DEFAULT_DPI) -> bytes:
    """The SVG drawing as a PNG at ``dpi`` (the SVG is in points), on white."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    ensure_gui_application()
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise PdfError("The picture's SVG could not be read by Qt's SVG renderer.")
    scale = dpi / POINTS_PER_INCH
    size = renderer.defaultSize()
    pixels = QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
    if pixels.width() * pixels.height() > MAX_PNG_PIXELS:
        raise PdfError(
            f"A PNG of {pixels.width()} x {pixels.height()} pixels is too large; export SVG "
            "or PDF (vector, any size), or choose a lower --dpi."
        )
    image = QImage(pixels, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes; Qt str
    buffer.close()
    return bytes(buffer.data().data())


MAX_PNG_PIXELS = 400_000_000  # a QImage past about 2 GB cannot be made


def ensure_gui_application() -> None:
    """Make an offscreen Qt application when none exists (headless rendering)."""
    # A widgets application: a window may be opened later in the same process.
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # Kept on the function so it is not collected while the process runs.
        ensure_gui_application.app = QApplication(["graphviz-app"])  # type: ignore[attr-defined]
