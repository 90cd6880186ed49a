"""The questions opening a model file may need: which class and with which arguments,
inputs, definitions only, consent to unpickle, structure only, an architecture.

Every question is non-blocking (``open()``): the answer arrives through a callback,
and a test can press the buttons.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from graphviz_app.io.load_errors import InputSpecError
from graphviz_app.io.python_source import ModuleClass, SourceSummary
from graphviz_app.io.request import LoadRequest

SPEC_HELP = (
    "Shape and dtype of each input, e.g. 1x3x32x32:float32; token ids with a range, "
    "e.g. 4x16:int64[0,1000); several inputs separated by ';'."
)


class LoadDialog(QDialog):
    """Choose how to load a ``.py`` file: the class to build (when the file has no
    ``build_model()``), one field per constructor parameter, the input spec,
    definitions only. ``previous`` fills the form in (a guess being changed);
    ``problem`` says what the file could not give (``needs a, b`` names the fields
    that must be filled; the others may stay empty: defaults, or guessed)."""

    def __init__(
        self, parent: QWidget, summary: SourceSummary, previous: LoadRequest, problem: str = ""
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open {Path(summary.path).name}")
        self.summary = summary
        self._base = previous
        self._given = _argument_texts(previous.init_args)
        self._needed = _needed_names(problem)
        self._fields: dict[str, QLineEdit] = {}
        self.reason = QLabel(problem, self)
        self.reason.setWordWrap(True)
        self.reason.setVisible(bool(problem))
        self.classes = QComboBox(self)
        self.form = QFormLayout()
        self.spec = QLineEdit(previous.input_spec, self)
        from graphviz_app.io.input_spec import EXAMPLE  # torch: loaded when a file was read

        self.spec.setPlaceholderText(
            "the file's example_inputs()"
            if summary.has_example_inputs
            else f"guessed from the first layer (or e.g. {EXAMPLE})"
        )
        self.spec.setToolTip(SPEC_HELP)
        self.definitions_only = QCheckBox(self._definitions_text(), self)
        # What would be skipped, under the box: wrapped, so the dialog keeps its width.
        self.definitions_detail = QLabel(self._definitions_detail(), self)
        self.definitions_detail.setWordWrap(True)
        self.definitions_detail.setContentsMargins(22, 0, 0, 0)  # under the box's text
        self.definitions_detail.setEnabled(False)  # drawn greyed: a note, not a control
        self.definitions_detail.setVisible(bool(self.definitions_detail.text()))
        self.structure_only = QCheckBox("Structure only (meta device: no memory, no values)")
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        self._build(previous)

    def _build(self, previous: LoadRequest) -> None:
        layout = QVBoxLayout(self)
        intro = (
            "Build the model with build_model()."
            if self.summary.has_build_model
            else ("This file has no build_model(): choose the nn.Module class to build.")
        )
        layout.addWidget(QLabel(intro, self))
        layout.addWidget(self.reason)
        for cls in self.summary.classes:
            self.classes.addItem(cls.name)
        self.classes.setVisible(not self.summary.has_build_model)
        layout.addWidget(self.classes)
        layout.addLayout(self.form)
        spec_row = QFormLayout()
        spec_row.addRow("Inputs:", self.spec)
        layout.addLayout(spec_row)
        self.definitions_only.setChecked(
            previous.definitions_only or bool(self.summary.top_level_work)
        )
        self.definitions_only.setEnabled(bool(self.summary.skipped))
        self.definitions_only.setToolTip("\n".join(s.describe() for s in self.summary.skipped))
        self.structure_only.setChecked(previous.structure_only)
        widgets = (self.definitions_only, self.definitions_detail, self.structure_only)
        for widget in (*widgets, self.problem, self.buttons):
            layout.addWidget(widget)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.classes.currentTextChanged.connect(self._on_classes_changed)
        self.spec.textChanged.connect(self._validate)
        chosen = previous.class_name or self.summary.model_class
        if chosen:
            self.classes.setCurrentText(chosen)
        self._on_classes_changed(self.classes.currentText())

    def _definitions_text(self) -> str:
        if not self.summary.top_level_work:
            return "Definitions only (imports, constants, functions, classes)"
        return "Definitions only: skip the top-level code"

    def _definitions_detail(self) -> str:
        work = self.summary.top_level_work
        if not work:
            return ""
        count = f"{len(work)} statement{'s' if len(work) != 1 else ''}"
        return f"{count}, e.g. {work[0].describe()}"

    def chosen_class(self) -> ModuleClass | None:
        """The class picked, or None for a file with build_model()."""
        if self.summary.has_build_model:
            return None
        return next((c for c in self.summary.classes if c.name == self.classes.currentText()), None)

    def _on_classes_changed(self, _name: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        cls = self.chosen_class()
        if cls is None:
            self._validate()
            return
        given = self._given if cls.name == self._base.class_name else {}
        for position, param in enumerate(cls.params):
            field = QLineEdit(given.get(param.name, given.get(str(position), "")), self)
            default = (
                f"default {param.default}"
                if param.default is not None
                else "required"
                if self._required(param.name)
                else "guessed if empty"
            )
            field.setPlaceholderText(default)
            field.setToolTip(_param_tip(cls, param.name, param.annotation, default))
            field.textChanged.connect(self._validate)
            label = f"{param.name}: {param.annotation}" if param.annotation else param.name
            self.form.addRow(label, field)
            self._fields[param.name] = field
        self._validate()

    def init_args(self) -> str:
        """The filled-in fields as keyword arguments: ``hidden=16, vocab=1000``."""
        return ", ".join(
            f"{name}={f.text().strip()}" for name, f in self._fields.items() if f.text().strip()
        )

    def request(self) -> LoadRequest:
        """The load request the dialog's choices make."""
        cls = self.chosen_class()
        return dataclasses.replace(
            self._base,
            class_name=cls.name if cls else "",
            init_args=self.init_args() if cls else "",
            input_spec=self.spec.text().strip(),
            definitions_only=self.definitions_only.isChecked(),
            structure_only=self.structure_only.isChecked(),
        )

    def _validate(self) -> None:
        problem = self._problem()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(not problem)

    def _problem(self) -> str:
        cls = self.chosen_class()
        if cls is None and not self.summary.has_build_model:
            return "The file defines no nn.Module class."
        for param in cls.params if cls else ():
            text = self._fields[param.name].text().strip()
            if not text and param.default is None and self._required(param.name):
                return f"{param.name} is required."
            if text and not _is_expression(text):
                return f"{param.name}: {text!r} is not a Python value."
        return _spec_problem(self.spec.text(), required=False)  # empty: guessed

    def _required(self, name: str) -> bool:
        """Must be filled: the problem the dialog was opened over names it (the file
        gives no value). Any other field left empty is its default, or guessed."""
        return name in self._needed

    def _on_buttons_accepted(self) -> None:
        if not self._problem():
            self.accept()


def _is_expression(text: str) -> bool:
    """A literal, or a name or call the loader evaluates with the file's own names
    (``GPTConfig(n_layer=2)``)."""
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _needed_names(problem: str) -> frozenset[str]:
    """The parameters a loader's message says nothing gives: ``... needs a, b, and``."""
    found = re.search(r" needs (.+?)(?: besides .*?)?, and nothing", problem)
    return frozenset(n.strip() for n in found[1].split(",")) if found else frozenset()


def _argument_texts(init_args: str) -> dict[str, str]:
    """``"3, hidden=16"`` -> ``{"0": "3", "hidden": "16"}``: the form's fields (positional
    ones by position), from arguments given before."""
    try:
        call = ast.parse(f"f({init_args})", mode="eval").body
    except SyntaxError:
        return {}
    assert isinstance(call, ast.Call)
    texts = {str(i): ast.unparse(a) for i, a in enumerate(call.args)}
    texts.update({k.arg: ast.unparse(k.value) for k in call.keywords if k.arg})
    return texts


def _param_tip(cls: ModuleClass, name: str, annotation: str, default: str) -> str:
    """The field's tooltip: name, hint, default, and what the docstrings say of it."""
    head = f"{name}: {annotation or 'any'} ({default}). A Python value: a literal, or the "
    head += "file's own names and classes."
    lines = (cls.doc or "").splitlines()
    found = [i for i, line in enumerate(lines) if _names_param(line.strip(), name)]
    if not found:
        return f"{head}\n\n{cls.doc}".strip() if cls.doc else head
    start = found[0]
    said = [lines[start].strip()]
    said += [line.strip() for line in lines[start + 1 : start + 4] if line.startswith((" ", "\t"))]
    return f"{head}\n\n" + " ".join(said)


def _names_param(line: str, name: str) -> bool:
    """A docstring line that documents ``name`` (Google, numpy or reST style)."""
    return line.startswith((f"{name}:", f"{name} :", f"{name} (", f":param {name}:"))


def _spec_problem(text: str, required: bool) -> str:
    from graphviz_app.io.input_spec import EXAMPLE, parse_input_spec  # torch: loaded by now

    if not text.strip():
        return f"Give the input spec, e.g. {EXAMPLE}." if required else ""
    try:
        parse_input_spec(text)
    except InputSpecError as exc:
        return exc.summary
    return ""


def question(
    parent: QWidget,
    title: str,
    text: str,
    yes: str,
    no: str,
    on_yes: Callable[[], None],
    default_yes: bool = False,
) -> QMessageBox:
    """A non-blocking warning; ``no`` is the default button unless ``default_yes``."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    reject = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(accept if default_yes else reject)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: on_yes() if button is accept else None)
    box.open()
    return box


def ask_unpickle(parent: QWidget, path: Path, on_yes: Callable[[], None]) -> QMessageBox:
    """Consent to unpickle: it runs arbitrary code from the file. "Don't load" is the default."""
    text = (
        f"{path.name} is a pickled Python object, not plain weights. Loading it runs code "
        "stored in the file, which can do anything your account can (delete files, send "
        "data). Load it only if you made it or trust where it came from."
    )
    return question(
        parent, "Run code from this file?", text, "Load and run it", "Don't load", on_yes
    )


def ask_structure_only(parent: QWidget, summary: str, on_yes: Callable[[], None]) -> QMessageBox:
    """Offer a structure-only load after the model did not fit in memory."""
    # Here the safe choice is the structure: it allocates nothing.
    title, yes = "Model too large", "Open structure only"
    box = question(parent, title, summary, yes, "Cancel", on_yes, default_yes=True)
    box.setIcon(QMessageBox.Icon.Information)
    return box


def ask_input_spec(parent: QWidget, path: Path, on_ok: Callable[[str], None]) -> QInputDialog:
    """The input spec for a file that holds no example inputs."""
    from graphviz_app.io.input_spec import EXAMPLE  # torch: loaded when the file was read

    dialog = QInputDialog(parent)
    dialog.setWindowTitle(f"Inputs for {path.name}")
    dialog.setLabelText(f"{path.name} holds no example inputs.\n{SPEC_HELP}")
    dialog.setTextValue(EXAMPLE)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.textValueSelected.connect(on_ok)
    dialog.open()
    return dialog


def ask_architecture(
    parent: QWidget, weights: Path, on_chosen: Callable[[str], None]
) -> QFileDialog:
    """The ``.py`` file that builds the model a state_dict belongs to."""
    dialog = QFileDialog(
        parent, f"The model file for the weights in {weights.name}", str(weights.parent)
    )
    dialog.setNameFilter("Python model files (*.py)")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.fileSelected.connect(on_chosen)
    dialog.open()
    return dialog
