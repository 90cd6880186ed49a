"""The Training panel: loss, optimizer and its hyperparameters, and the step buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.core.training.settings import (
    LOSS_NAMES,
    MODEL_LOSS,
    OPTIMIZER_NAMES,
    WITH_MOMENTUM,
    TrainSettings,
)

ACCUMULATE_WARNING = (
    "<b style='color:#d55e00'>zero_grad is off:</b> each step adds its gradient to the "
    "previous ones in .grad, so the optimizer sees the sum of all steps' gradients."
)
RUNNING = "Training is running: stop it first"
NO_MODEL = "Open a model first"
LOSS_TIPS = {
    MODEL_LOSS: "The model file's loss_fn(output, *inputs) (or the outputs, seeded with ones)",
    "CrossEntropy": "cross_entropy(output, target): logits and class indices",
    "MSE": "mse_loss(output, target); class indices are one-hot encoded",
    "NLL": "nll_loss(output, target): log-probabilities and class indices",
    "BCEWithLogits": "binary_cross_entropy_with_logits; class indices are one-hot encoded",
}


class TrainingPanel(QWidget):
    """Training settings and the Step / Run N / Stop / Reset buttons."""

    settings_changed = Signal(object)  # TrainSettings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make_fields()
        self._make_buttons()
        self._lay_out()
        self.set_settings(TrainSettings())
        self.set_running(False)
        self.set_model_open(False)

    def _make_fields(self) -> None:
        self.loss = QComboBox()
        for name in LOSS_NAMES:
            self.loss.addItem("model's own loss" if name == MODEL_LOSS else name, name)
            self.loss.setItemData(
                self.loss.count() - 1, LOSS_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZER_NAMES))
        self.lr = _spin(1e-6, 10.0, 6, "Learning rate")
        self.weight_decay = _spin(0.0, 1.0, 5, "Weight decay (L2 penalty; decoupled in AdamW)")
        self.momentum = _spin(0.0, 0.999, 3, "Momentum (SGD and RMSprop)")
        self.nesterov = QCheckBox("Nesterov")
        self.nesterov.setToolTip("Nesterov momentum (SGD with momentum > 0)")
        self.zero_grad = QCheckBox("zero_grad before each step")
        self.zero_grad.setToolTip("Off: gradients accumulate across steps, as in PyTorch")
        self.train_mode = QCheckBox("train() mode")
        self.train_mode.setToolTip(
            "On: model.train() (dropout active, batch norm uses batch statistics). "
            "Off: model.eval() (no dropout mask, running statistics used)"
        )
        self.warning = QLabel(ACCUMULATE_WARNING)
        self.warning.setWordWrap(True)
        for widget in (self.loss, self.optimizer):
            widget.currentIndexChanged.connect(self._on_field_changed)
        for spin in (self.lr, self.weight_decay, self.momentum):
            spin.valueChanged.connect(self._on_field_changed)
        for box in (self.nesterov, self.zero_grad, self.train_mode):
            box.toggled.connect(self._on_field_changed)

    def _make_buttons(self) -> None:
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip(
            "One step: forward, recorded backward, optimizer.step(). Steps count from 1; "
            "step n trains on the model file's make_batch(n - 1) (its batches count from "
            "0), or on the example input when the file has no make_batch"
        )
        self.steps = QSpinBox()
        self.steps.setRange(1, 100_000)
        self.steps.setValue(50)
        self.steps.setToolTip("How many steps Run makes")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip(
            "Run that many steps, drawing each; Stop ends the run. Step n trains on "
            "make_batch(n - 1)"
        )
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the step that is running")
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setToolTip("Weights, buffers and optimizer back to their state at load")
        self._tips = {
            b: b.toolTip() for b in (self.step_button, self.run_button, self.reset_button)
        }
        self._running = self._open = False
        self._closed_reason = NO_MODEL
        self._busy_reason = RUNNING

    def _lay_out(self) -> None:
        """Buttons and status first, then the settings in two columns: the controls
        that train stay visible in a short dock."""
        buttons = QHBoxLayout()
        for widget in (self.step_button, self.steps, self.run_button, self.stop_button):
            buttons.addWidget(widget)
        buttons.addSpacing(12)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addLayout(self._fields_grid())
        layout.addWidget(self.warning)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def _fields_grid(self) -> QGridLayout:
        """Loss, optimizer, lr | weight decay, momentum, zero_grad and train mode."""
        momentum = _row(self.momentum, self.nesterov)
        boxes = _row(self.zero_grad, self.train_mode)
        grid = QGridLayout()
        grid.setVerticalSpacing(3)
        grid.setColumnMinimumWidth(2, 8)  # a gap between the two columns
        rows = (
            ("Loss", self.loss, "Weight decay", self.weight_decay),
            ("Optimizer", self.optimizer, "Momentum", momentum),
            ("Learning rate", self.lr, "", boxes),
        )
        for row, (left, field, right, other) in enumerate(rows):
            grid.addWidget(QLabel(left), row, 0)
            grid.addWidget(field, row, 1)
            if right:
                grid.addWidget(QLabel(right), row, 3)
            grid.addWidget(other, row, 4 if right else 3, 1, 1 if right else 2)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1)
        return grid

    def settings(self) -> TrainSettings:
        """The settings the fields show now."""
        optimizer = self.optimizer.currentText()
        return TrainSettings(
            optimizer=optimizer,
            lr=self.lr.value(),
            zero_grad=self.zero_grad.isChecked(),
            momentum=self.momentum.value() if optimizer in WITH_MOMENTUM else 0.0,
            nesterov=self.nesterov.isChecked() and optimizer == "SGD",
            weight_decay=self.weight_decay.value(),
            loss=str(self.loss.currentData()),
            train_mode=self.train_mode.isChecked(),
        )

    def set_settings(self, settings: TrainSettings) -> None:
        """Show ``settings`` in the fields."""
        self.loss.setCurrentIndex(max(0, self.loss.findData(settings.loss)))
        self.optimizer.setCurrentText(settings.optimizer)
        self.lr.setValue(settings.lr)
        self.weight_decay.setValue(settings.weight_decay)
        self.momentum.setValue(settings.momentum)
        self.nesterov.setChecked(settings.nesterov)
        self.zero_grad.setChecked(settings.zero_grad)
        self.train_mode.setChecked(settings.train_mode)
        self._on_field_changed()

    def set_running(self, running: bool, reason: str = RUNNING) -> None:
        """While N steps (or a gradient check) run, only Stop is enabled; the other
        buttons' tooltips give ``reason``."""
        self._running, self._busy_reason = running, reason
        self._enable()

    def set_model_open(self, is_open: bool, reason: str = "") -> None:
        """Steps need an open model (``reason``: why they cannot run, if not that)."""
        self._open, self._closed_reason = is_open, reason or NO_MODEL
        self._enable()

    def _enable(self) -> None:
        idle = self._open and not self._running
        for button, tip in self._tips.items():
            button.setEnabled(idle)
            closed = self._closed_reason
            button.setToolTip(tip if idle else self._busy_reason if self._open else closed)
        self.stop_button.setEnabled(self._running)

    def _on_field_changed(self, *args: object) -> None:
        optimizer = self.optimizer.currentText()
        self.momentum.setEnabled(optimizer in WITH_MOMENTUM)
        self.nesterov.setEnabled(optimizer == "SGD" and self.momentum.value() > 0)
        self.warning.setVisible(not self.zero_grad.isChecked())
        self.settings_changed.emit(self.settings())


def _row(*widgets: QWidget) -> QWidget:
    """``widgets`` side by side in one grid cell."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return row


def _spin(low: float, high: float, decimals: int, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSingleStep(10 ** -(decimals - 2) if decimals > 2 else 0.01)
    spin.setToolTip(tip)
    return spin
