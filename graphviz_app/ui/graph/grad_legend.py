"""The colour ramp of gradient magnitudes, drawn over the graph's top-left corner."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from graphviz_app.core.layout.style import VIRIDIS, GradRamp
from graphviz_app.ui.common.theme import LIGHT, Theme


class GradLegend(QWidget):
    """The colour ramp of gradient magnitudes, drawn over the graph's corner."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.ramp: GradRamp | None = None
        self.theme = LIGHT
        self.setFixedSize(230, 44)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def set_theme(self, theme: Theme) -> None:
        """Background and text colours (and size, in presentation mode) from ``theme``."""
        self.theme = theme
        self.setFixedSize(int(230 * theme.font_scale), int(44 * theme.font_scale))
        self.update()

    def set_ramp(self, ramp: GradRamp | None) -> None:
        """Show ``ramp`` (None hides the legend)."""
        self.ramp = ramp
        self.setVisible(ramp is not None)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.ramp is None:
            return
        painter = QPainter(self)
        background = QColor(self.theme.background)
        background.setAlpha(225)
        painter.fillRect(self.rect(), background)
        painter.scale(self.theme.font_scale, self.theme.font_scale)
        font = painter.font()
        font.setPixelSize(12)  # the painter is scaled already: not the window's font too
        painter.setFont(font)
        width = 230
        bar = QRectF(8, 6, width - 16, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i, color in enumerate(VIRIDIS):
            gradient.setColorAt(i / (len(VIRIDIS) - 1), QColor(color))
        painter.fillRect(bar, gradient)
        painter.setPen(QColor(self.theme.text))
        text = QRectF(8, 20, width - 16, 20)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft, f"{self.ramp.low:.2g}")
        painter.drawText(text, Qt.AlignmentFlag.AlignCenter, "|grad| (log scale)")
        painter.drawText(text, Qt.AlignmentFlag.AlignRight, f"{self.ramp.high:.2g}")
        painter.end()
