"""Device and dtype selectors, and the gradient comparison with the previous run."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

from graphviz_app.core.runtime.dtypes import DTYPE_NAMES
from graphviz_app.ui.training.gradcheck_view import compact_rows

if TYPE_CHECKING:
    from graphviz_app.core.runtime.devices import DeviceInfo
    from graphviz_app.core.training.compare import GradComparison

HINT = "Gradients are compared after a switch."
WARNING_COLOUR = "#d55e00"  # Okabe-Ito vermillion: readable on light and dark
CHOICE_WIDTH = 340  # pixels: the device box and the "Now: ..." line under it
SWITCH_TIP = (
    "Move model, batch and optimizer state; run forward and backward there; "
    "compare each parameter's gradient with the previous device/dtype"
)
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
        self.switch_button.clicked.connect(self._on_switch_clicked)
        self.state = QLabel("")  # where the model is now, and a choice not yet applied
        self.state.setWordWrap(True)
        self.warning = QLabel("")  # the comparison's caveat, when it has one
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {WARNING_COLOUR}; font-weight: bold")
        self.warning.hide()
        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COMPARE_COLUMNS))
        self.table.setHorizontalHeaderLabels(COMPARE_COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        compact_rows(self.table)
        self._lay_out()
        self.device.currentIndexChanged.connect(self._on_device_changed)
        self.dtype.currentIndexChanged.connect(self._show_state)
        self._devices: tuple[DeviceInfo, ...] = ()
        self._current = ("", "")  # the device and dtype the model is in now
        self._blocked = ""  # why switching is not possible now ("" when it is)
        self.set_blocked("open a model first")

    def _lay_out(self) -> None:
        """The choice on the left, the comparison beside it with the full height."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Device", self.device)
        form.addRow("dtype", self.dtype)
        form.addRow("", self.switch_button)
        choice = QVBoxLayout()
        choice.addLayout(form)
        choice.addWidget(self.state)
        choice.addStretch(1)
        holder = QWidget()
        holder.setLayout(choice)
        holder.setFixedWidth(CHOICE_WIDTH)
        comparison = QVBoxLayout()
        comparison.addWidget(self.warning)
        comparison.addWidget(self.summary)
        comparison.addWidget(self.table, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(holder)
        layout.addLayout(comparison, 1)

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
        """The model is now in ``device``/``dtype`` (after a switch, a fallback or an
        open): select them and say so."""
        self._current = (device, dtype)
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        self.dtype.setCurrentIndex(max(0, self.dtype.findText(dtype)))
        self._show_state()

    def pending(self) -> bool:
        """Whether the boxes show a choice that has not been applied yet."""
        chosen = (str(self.device.currentData()), self.dtype.currentText())
        return bool(self._current[0]) and chosen != self._current

    def set_blocked(self, reason: str) -> None:
        """Disable Switch with ``reason`` in its tooltip ("": enable it)."""
        self._blocked = reason
        self.switch_button.setEnabled(not reason)
        self.switch_button.setToolTip(
            f"{SWITCH_TIP}. Unavailable now: {reason}" if reason else SWITCH_TIP
        )

    def clear_comparison(self) -> None:
        """Forget the last comparison (another model was opened)."""
        self.table.setRowCount(0)
        self.summary.setText(HINT)
        self.warning.clear()
        self.warning.hide()

    def show_comparison(self, comparison: GradComparison) -> None:
        """One row per parameter: how much its gradient moved with the switch."""
        self.warning.setText(comparison.warning)  # e.g. the forward is not deterministic
        self.warning.setVisible(bool(comparison.warning))
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
        for name in DTYPE_NAMES:
            if name in supported:
                self.dtype.addItem(name)
        self.dtype.setCurrentIndex(max(0, self.dtype.findText(current)))
        self._show_state()

    def _show_state(self, *args: object) -> None:
        """Where the model is; a choice not applied yet is said and Switch stands out."""
        now = " ".join(self._current).strip()
        pending = self.pending()
        text = f"Now: <b>{now}</b>." if now else ""
        if pending:
            chosen = f"{self.device.currentData()} {self.dtype.currentText()}"
            text += f" Not applied yet: click <b>Switch and compare</b> to move to {chosen}."
        self.state.setText(text)
        font = self.switch_button.font()
        font.setBold(pending)
        self.switch_button.setFont(font)
        self.switch_button.setDefault(pending)

    def _on_switch_clicked(self) -> None:
        self.switch_requested.emit(str(self.device.currentData()), self.dtype.currentText())


def _combo(chars: int, tip: str) -> QComboBox:
    """A combo box about ``chars`` characters wide (not the whole row)."""
    combo = QComboBox()
    combo.setToolTip(tip)
    combo.setMinimumContentsLength(chars)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    return combo
