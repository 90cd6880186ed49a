"""The check's thresholds as a small form (the same fields as the CLI's flags)."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFormLayout, QLineEdit, QWidget

from graphviz_app.core.health.settings import HealthSettings

SETTINGS_GROUP = "health_thresholds"  # where the thresholds last used are kept
#: HealthSettings field -> label and tooltip.
LABELS = {
    "vanishing_ratio": ("vanishing below", "a module's gradient RMS below this fraction of "
                        "the largest module's is vanishing"),
    "exploding_ratio": ("exploding above", "a module's gradient RMS above this many times "
                        "max(1, |loss|) is exploding (a model without a loss is seeded "
                        "as output.mean() would be)"),
    "growth_factor": ("growth per layer", "the gradient flowing back growing by this "
                      "factor per layer..."),
    "growth_layers": ("for layers", "... this many layers in a row is exploding"),
    "dead_fraction": ("dead ReLU share", "a ReLU with more than this share of units that "
                      "are 0 for the whole batch is flagged"),
}  # fmt: skip


class ThresholdsForm(QWidget):
    """One field per threshold; :meth:`settings` reads them (ValueError when invalid)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QLineEdit] = {}
        defaults = HealthSettings()
        for field in fields(HealthSettings):
            label, tip = LABELS[field.name]
            edit = QLineEdit(f"{getattr(defaults, field.name):g}")
            edit.setToolTip(tip)
            edit.setMaximumWidth(90)
            self.fields[field.name] = edit
            layout.addRow(label, edit)

    def settings(self) -> HealthSettings:
        """The thresholds typed in; ValueError names the field that is wrong."""
        values: dict[str, float | int] = {}
        for name, edit in self.fields.items():
            text = edit.text().strip()
            try:
                values[name] = int(text) if name == "growth_layers" else float(text)
            except ValueError:
                raise ValueError(f"{LABELS[name][0]}: {text!r} is not a number") from None
        return HealthSettings(**values)  # type: ignore[arg-type]

    def restore(self, settings: QSettings) -> None:
        """Put back the thresholds a check last ran with (the defaults where none)."""
        for name, edit in self.fields.items():
            kept = settings.value(f"{SETTINGS_GROUP}/{name}")
            if isinstance(kept, str | int | float) and str(kept).strip():
                edit.setText(str(kept))

    def keep(self, settings: QSettings, chosen: HealthSettings) -> None:
        """Remember ``chosen`` (valid thresholds a check runs with) for the next session."""
        for name in self.fields:
            settings.setValue(f"{SETTINGS_GROUP}/{name}", str(getattr(chosen, name)))
