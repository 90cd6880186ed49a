"""Device and dtype selectors, and the gradient comparison with the previous run."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.compare import GradComparison
from graphviz_app.core.devices import DTYPES, DeviceInfo

HINT = "Gradients are compared after a switch."
DEVICE_CHARS, DTYPE_CHARS = 28, 9  # combo widths, in characters ("cuda:0 (NVIDIA H100 ...)")
COMPARE_COLUMNS = (
    "parameter",
    "shape",
    "max abs diff",
    "max rel diff",
    "norm before",
    "norm after",
)


class DevicePanel(QWidget):
    """Pick a device and a dtype; shows how the gradients changed with the switch."""

    switch_requested = Signal(str, str)  # device, dtype

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = _combo(DEVICE_CHARS, "Where the model, its batch and optimizer state live")
        self.dtype = _combo(
            DTYPE_CHARS, "The floating-point type of parameters, batch and gradients"
        )
        self.switch_button = QPushButton("Switch and compare")
        self.switch_button.setToolTip(
            "Move model, batch and optimizer state; run forward and backward there; "
            "compare each parameter's gradient with the previous device/dtype"
        )
        self.switch_button.clicked.connect(self._on_switch_clicked)
        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COMPARE_COLUMNS))
        self.table.setHorizontalHeaderLabels(COMPARE_COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Device", self.device)
        form.addRow("dtype", self.dtype)
        row = QHBoxLayout()  # the combos keep their width; the rest of the row stays empty
        row.addLayout(form)
        row.addWidget(self.switch_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.device.currentIndexChanged.connect(self._on_device_changed)
        self._devices: tuple[DeviceInfo, ...] = ()
        self.set_model_open(False)

    def set_devices(self, devices: tuple[DeviceInfo, ...]) -> None:
        """List ``devices``; unavailable ones are disabled with the reason as tooltip."""
        self._devices = devices
        self.device.blockSignals(True)
        self.device.clear()
        model = self.device.model()
        for row, info in enumerate(devices):
            label = info.label if info.available else f"{info.label} (unavailable)"
            self.device.addItem(label, info.name)
            tip = f"{info.name}: {info.reason}" if not info.available else info.label
            self.device.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
            if not info.available and isinstance(model, QStandardItemModel):
                item = model.item(row)
                item.setEnabled(False)
        self.device.blockSignals(False)
        self._on_device_changed()

    def show_current(self, device: str, dtype: str) -> None:
        """Select ``device`` and ``dtype`` (after a switch, or a fallback)."""
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        self.dtype.setCurrentIndex(max(0, self.dtype.findText(dtype)))

    def set_model_open(self, is_open: bool) -> None:
        """Switching needs an open model."""
        self.switch_button.setEnabled(is_open)
        self.switch_button.setToolTip(
            "Move model, batch and optimizer state and compare the gradients"
            if is_open
            else "Open a model first"
        )

    def clear_comparison(self) -> None:
        """Forget the last comparison (another model was opened)."""
        self.table.setRowCount(0)
        self.summary.setText(HINT)

    def show_comparison(self, comparison: GradComparison) -> None:
        """One row per parameter: how much its gradient moved with the switch."""
        self.summary.setText(
            f"Gradients on {comparison.batch or 'the example input'} (eval mode), "
            f"{comparison.before} -> "
            f"{comparison.after}: largest difference {comparison.max_abs:.3g} absolute, "
            f"{comparison.max_rel:.3g} relative (elementwise |a-b| / max(|a|, |b|))."
        )
        self.table.setRowCount(len(comparison.params))
        for row, diff in enumerate(comparison.params):
            cells = (
                diff.name,
                "(" + ", ".join(map(str, diff.shape)) + ")",
                f"{diff.max_abs:.3g}",
                f"{diff.max_rel:.3g}",
                f"{diff.norm_before:.6g}",
                f"{diff.norm_after:.6g}",
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _on_device_changed(self, *args: object) -> None:
        info = next((d for d in self._devices if d.name == self.device.currentData()), None)
        current = self.dtype.currentText()
        self.dtype.clear()
        supported = info.dtypes if info else ()
        for name in DTYPES:
            if name in supported:
                self.dtype.addItem(name)
        self.dtype.setCurrentIndex(max(0, self.dtype.findText(current)))

    def _on_switch_clicked(self) -> None:
        self.switch_requested.emit(str(self.device.currentData()), self.dtype.currentText())


def _combo(chars: int, tip: str) -> QComboBox:
    """A combo box about ``chars`` characters wide (not the whole row)."""
    combo = QComboBox()
    combo.setToolTip(tip)
    combo.setMinimumContentsLength(chars)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    return combo
