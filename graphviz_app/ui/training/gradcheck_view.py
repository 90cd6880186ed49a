"""The gradient check's results: float64 and float32 side by side, and why they differ."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.gradcheck.results import GradcheckReport, GradcheckRun, ParamCheck
from graphviz_app.core.gradcheck.text import WIDE_FLOAT32

ALL = "all parameters"
COLUMNS = (  # two-line headers keep the table narrow enough to sit beside the text
    "parameter",
    "elements\nchecked",
    "float64\nmax error",
    "float64",
    "float32\nmax error",
    "float32",
    "float32, h = 1e-3\nmax error",
    "float32,\nh = 1e-3",
)
CHECK_TIP = (
    "Finite differences against backward, in float64 and float32, on a copy of the "
    "model in eval mode; larger parameters on a seeded sample sized to about 30 s in all"
)
PROGRESS_WIDTH = 220
TARGET_CHARS = 28  # "encoder.layers.0.linear1.weight" and the like
PASS_COLOUR, FAIL_COLOUR = QColor("#009E73"), QColor("#D55E00")


class GradcheckView(QWidget):
    """Pick what to check, run it, read the table and the explanation."""

    check_requested = Signal(object)  # tuple of parameter names, or None for all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = QComboBox()
        self.target.setToolTip("Check every parameter, or only one (the selected node's)")
        self.target.setMinimumContentsLength(TARGET_CHARS)
        self.target.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.check_button = QPushButton("Check gradients")
        self.check_button.clicked.connect(self._on_check_clicked)
        self.progress = QProgressBar()
        self.progress.setToolTip("Elements checked by finite differences so far")
        self.progress.setMaximumWidth(PROGRESS_WIDTH)
        self.progress.hide()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        compact_rows(self.table)
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._lay_out()
        self._names: tuple[str, ...] = ()
        self._blocked = ""
        self.set_parameters(())

    def _lay_out(self) -> None:
        """Controls, outcome and table on the left; the summary and explanation on
        the right, scrollable, so both show in a short dock."""
        row = QHBoxLayout()
        row.addWidget(self.target)
        row.addWidget(self.check_button)
        row.addWidget(self.progress)
        row.addStretch(1)  # the box keeps its width; the rest of the row stays empty
        left = QVBoxLayout()
        left.addLayout(row)
        left.addWidget(self.table, 1)
        text = QWidget()
        words = QVBoxLayout(text)
        words.setContentsMargins(4, 0, 4, 0)
        words.addWidget(self.summary)
        words.addWidget(self.explanation, 1)
        scroll = QScrollArea()
        scroll.setWidget(text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(left, 3)
        layout.addWidget(scroll, 2)

    def set_parameters(self, names: tuple[str, ...]) -> None:
        """The parameters the model has (the choices besides "all")."""
        self._names = names
        self.target.clear()
        self.target.addItem(ALL)
        self.target.addItems(list(names))
        self._enable()

    def set_blocked(self, reason: str) -> None:
        """Disable Check with ``reason`` in its tooltip ("": enable it again)."""
        self._blocked = reason
        self._enable()

    def _enable(self) -> None:
        reason = self._blocked or ("" if self._names else "open a model with parameters first")
        self.check_button.setEnabled(not reason)
        self.check_button.setToolTip(
            f"{CHECK_TIP}. Unavailable now: {reason}" if reason else CHECK_TIP
        )

    def show_progress(self, done: int, total: int) -> None:
        """Elements checked so far of ``total`` (total 0: busy, count unknown)."""
        self.progress.setRange(0, max(0, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{done:,} of {total:,} elements" if total else "checking")
        self.progress.show()

    def hide_progress(self) -> None:
        """The check ended (done, cancelled or failed)."""
        self.progress.hide()

    def select_parameter(self, name: str) -> None:
        """Preselect ``name`` (the node selected in the graph), if it is a parameter."""
        index = self.target.findText(name)
        if index >= 0:
            self.target.setCurrentIndex(index)

    def clear(self) -> None:
        """Forget the last report (another model was opened)."""
        self.table.setRowCount(0)
        self.summary.setText("")
        self.explanation.setText("")

    def show_report(self, report: GradcheckReport) -> None:
        """Fill the table: one row per parameter, one column pair per run."""
        runs = [
            report.run(label)
            for label in ("float64", "float32", WIDE_FLOAT32)
            if report.has_run(label)
        ]
        self.table.setRowCount(len(runs[0].params))
        for row, checks in enumerate(zip(*(run.params for run in runs), strict=True)):
            first = checks[0]
            sample = " (sample)" if first.checked < first.numel else ""
            cells: list[tuple[str, bool | None]] = [
                (first.name, None),
                (f"{first.checked} of {first.numel}{sample}", None),
            ]
            for check in checks:
                cells += _verdict(check)
            for column, (text, ok) in enumerate(cells):
                item = QTableWidgetItem(text)
                if ok is not None:
                    item.setForeground(PASS_COLOUR if ok else FAIL_COLOUR)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.summary.setText(_summary(report, runs))
        self.explanation.setText(report.explanation)

    def _on_check_clicked(self) -> None:
        choice = self.target.currentText()
        self.check_requested.emit(None if choice == ALL else (choice,))


def compact_rows(table: QTableWidget) -> None:
    """No row numbers, rows one line of text high: more of them show in a short dock."""
    rows = table.verticalHeader()
    rows.setVisible(False)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 6)


def _verdict(check: ParamCheck) -> list[tuple[str, bool | None]]:
    return [
        (f"{check.max_abs_err:.2g} (rel {check.max_rel_err:.2g})", None),
        ("pass" if check.passed else "FAIL", check.passed),
    ]


def _summary(report: GradcheckReport, runs: list[GradcheckRun]) -> str:
    outcomes = "; ".join(
        f"{run.dtype}: {'passed' if run.passed else 'FAILED'} "
        f"(max error {run.max_abs_err:.2g}, {run.seconds:.2f} s)"
        for run in runs
    )
    sampling = f" {report.sampling}" if report.sampling else ""
    return (
        f"{outcomes}.{sampling} Checked on a copy of the model in eval mode (dropout off, "
        f"batch norm's running statistics), so your model and its .grad are untouched. "
        f"Step h = {report.eps:g}, pass when |analytic - numeric| <= {report.atol:g} + "
        f"{report.rtol:g} x |numeric| (torch.autograd.gradcheck's defaults)."
    )
