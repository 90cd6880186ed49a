"""The gradient check's results: float64 and float32 side by side, and why they differ."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.gradcheck import GradcheckReport, ParamCheck

ALL = "all parameters"
COLUMNS = (
    "parameter",
    "elements checked",
    "float64 max error",
    "float64",
    "float32 max error",
    "float32",
)
PASS_COLOUR, FAIL_COLOUR = QColor("#009E73"), QColor("#D55E00")


class GradcheckView(QWidget):
    """Pick what to check, run it, read the table and the explanation."""

    check_requested = Signal(object)  # tuple of parameter names, or None for all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = QComboBox()
        self.target.setToolTip("Check every parameter, or only one (the selected node's)")
        self.check_button = QPushButton("Check gradients")
        self.check_button.setToolTip(
            "Finite differences against backward, in float64 and float32, on a copy of "
            "the model (large parameters: a random sample of their elements)"
        )
        self.check_button.clicked.connect(self._on_check_clicked)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.explanation)
        self.set_parameters(())

    def set_parameters(self, names: tuple[str, ...]) -> None:
        """The parameters the model has (the choices besides "all")."""
        self.target.clear()
        self.target.addItem(ALL)
        self.target.addItems(list(names))
        self.check_button.setEnabled(bool(names))
        if not names:
            self.check_button.setToolTip("Open a model with parameters first")

    def select_parameter(self, name: str) -> None:
        """Preselect ``name`` (the node selected in the graph), if it is a parameter."""
        index = self.target.findText(name)
        if index >= 0:
            self.target.setCurrentIndex(index)

    def show_report(self, report: GradcheckReport) -> None:
        """Fill the table: one row per parameter, both dtypes."""
        f64, f32 = report.run("float64"), report.run("float32")
        self.table.setRowCount(len(f64.params))
        for row, (a, b) in enumerate(zip(f64.params, f32.params, strict=True)):
            checked = f"{a.checked} of {a.numel}" + (" (sample)" if a.checked < a.numel else "")
            cells = [(a.name, None), (checked, None), *_verdict(a), *_verdict(b)]
            for column, (text, ok) in enumerate(cells):
                item = QTableWidgetItem(text)
                if ok is not None:
                    item.setForeground(PASS_COLOUR if ok else FAIL_COLOUR)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.summary.setText(
            f"float64: {'passed' if f64.passed else 'FAILED'} (max error {f64.max_abs_err:.2g}, "
            f"{f64.seconds:.2f} s); float32: {'passed' if f32.passed else 'failed'} "
            f"(max error {f32.max_abs_err:.2g}). Step h = {report.eps:g}, pass when "
            f"|analytic - numeric| <= {report.atol:g} + {report.rtol:g} x |numeric|."
        )
        self.explanation.setText(report.explanation)

    def _on_check_clicked(self) -> None:
        choice = self.target.currentText()
        self.check_requested.emit(None if choice == ALL else (choice,))


def _verdict(check: ParamCheck) -> list[tuple[str, bool | None]]:
    return [
        (f"{check.max_abs_err:.2g} (rel {check.max_rel_err:.2g})", None),
        ("pass" if check.passed else "FAIL", check.passed),
    ]
