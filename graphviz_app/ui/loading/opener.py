"""Open any model file: inspect it, ask only what it needs, remember the answers.

``ModelOpener.open(path)`` inspects the file on the worker thread (format, classes,
top-level code; nothing of the file runs), then asks, as needed: trust to run a
``.py``; the class, its arguments and the inputs (or definitions only) for a file
without ``build_model()`` or with work at top level; the architecture ``.py`` for
weights; consent to unpickle; an input spec. The choices are remembered per file in
the window's settings, so the next open asks nothing. A model too large for memory
gets the offer to open structure-only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import builtin_models_dir
from graphviz_app.io.inspect_file import FileInspection, inspect_model_file
from graphviz_app.io.request import LoadRequest
from graphviz_app.ui.common.actions import make_action, menu_named
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.loading.load_dialogs import (
    LoadDialog,
    ask_architecture,
    ask_input_spec,
    ask_structure_only,
    ask_unpickle,
)
from graphviz_app.ui.loading.trust import TrustStore, ask_to_run

logger = logging.getLogger(__name__)
CHOICES_GROUP = "load_choices"
TIME_LIMIT_KEY = "time_limit_s"
TIME_LIMIT_S = 60.0


class LoadChoices:
    """The last request per file (its class, arguments, inputs...), in the settings."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def recall(self, path: Path) -> LoadRequest | None:
        """The request remembered for ``path``, or None."""
        text = self.settings.value(self._key(path), "")
        if not text:
            return None
        fields = json.loads(str(text))
        return LoadRequest(str(path), **{k: v for k, v in fields.items() if k != "path"})

    def remember(self, request: LoadRequest) -> None:
        """Store ``request`` for its file (consent to unpickle is kept by the trust store)."""
        fields = dataclasses.asdict(dataclasses.replace(request, allow_pickle=False))
        self.settings.setValue(self._key(Path(request.path)), json.dumps(fields))

    @staticmethod
    def _key(path: Path) -> str:
        digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()
        return f"{CHOICES_GROUP}/{digest}"


class OpenerHost(Protocol):
    """What opening a model uses of the window."""

    settings: QSettings
    style_options: GraphStyle
    controller: SessionController
    trust: TrustStore

    @property
    def qt_window(self) -> QMainWindow:
        """The window: its Run menu, and the parent of the questions asked."""
        ...


class ModelOpener(QObject):
    """The window part that turns a path into a :class:`LoadRequest` and opens it."""

    requested = Signal(object)  # the LoadRequest sent to the controller

    def __init__(self, window: OpenerHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.choices = LoadChoices(window.settings)
        self.question: Any = None  # the dialog or message box asking now (tests press it)
        window.controller.refusal_handler = self._on_controller_refused
        self.time_limit_action = self._time_limit_action()

    def _time_limit_action(self) -> QAction:
        action = make_action(
            self,
            f"Stop model code after {TIME_LIMIT_S:g} s",
            self._on_time_limit_toggled,
            tip=f"Stop any job still running after {TIME_LIMIT_S:g} s (an endless loop in "
            "a model's forward); Esc cancels one at any time",
        )
        action.setCheckable(True)
        checked = float(str(self.window.settings.value(TIME_LIMIT_KEY, 0) or 0)) > 0
        action.setChecked(checked)
        self._on_time_limit_toggled(checked)
        menu_named(self.window.qt_window, "&Run").addAction(action)
        return action

    def _on_time_limit_toggled(self, checked: bool) -> None:
        seconds = TIME_LIMIT_S if checked else 0.0
        self.window.settings.setValue(TIME_LIMIT_KEY, seconds)
        self.window.controller.set_time_limit(seconds)

    # --- the flow ---------------------------------------------------------------
    def open(self, path: str | Path) -> None:
        """Open ``path`` (any supported format, or a built-in model's file)."""
        path = Path(path).resolve()
        if path.parent == builtin_models_dir().resolve():
            self.send(LoadRequest(str(path)))
            return
        self.window.controller.submit(
            f"Inspecting {path.name}", lambda _session: inspect_model_file(path), self._on_inspected
        )

    def _on_inspected(self, result: object) -> None:
        assert isinstance(result, FileInspection)
        path = Path(result.path)
        if result.runs_code and not self.window.trust.is_trusted(path):
            ask = ask_to_run if result.source is not None else ask_unpickle
            self.question = ask(self.window.qt_window, path, lambda: self._trust_then(result))
            return
        self._choose(result)

    def _trust_then(self, result: FileInspection) -> None:
        self.window.trust.trust(Path(result.path))
        self._choose(result)

    def _choose(self, result: FileInspection) -> None:
        path = Path(result.path)
        remembered = self.choices.recall(path)
        request = dataclasses.replace(
            remembered or LoadRequest(str(path)),
            allow_pickle=result.runs_code and result.source is None,
        )
        if result.source is not None:
            self._choose_python(result, request, remembered is not None)
        elif result.needs_architecture and not request.architecture:
            self.question = ask_architecture(
                self.window.qt_window,
                path,
                lambda arch: self.send(dataclasses.replace(request, architecture=arch)),
            )
        elif not (result.has_inputs or request.input_spec or result.needs_architecture):
            self.question = ask_input_spec(
                self.window.qt_window,
                path,
                lambda spec: self.send(dataclasses.replace(request, input_spec=spec)),
            )
        else:
            self.send(request)

    def _choose_python(
        self, result: FileInspection, request: LoadRequest, remembered: bool
    ) -> None:
        source = result.source
        assert source is not None
        if remembered or (source.has_build_model and not source.top_level_work):
            self.send(request)
            return
        dialog = LoadDialog(self.window.qt_window, source, request)
        dialog.accepted.connect(lambda: self.send(dialog.request()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.question = dialog

    def send(self, request: LoadRequest) -> None:
        """Remember ``request`` for its file and open it (modules expanded)."""
        if Path(request.path).parent != builtin_models_dir().resolve():
            self.choices.remember(request)
        window = self.window
        window.style_options = dataclasses.replace(window.style_options, collapsed=frozenset())
        logger.info("opening %s", request)
        window.controller.open_model(request, window.style_options)
        self.requested.emit(request)

    def _on_controller_refused(self, kind: str, request: LoadRequest, summary: str) -> bool:
        if kind == "too_large" and not request.structure_only:
            retry = dataclasses.replace(request, structure_only=True)
            self.question = ask_structure_only(
                self.window.qt_window, summary, lambda: self.send(retry)
            )
            return True
        if kind == "pickle_consent" and not request.allow_pickle:
            retry = dataclasses.replace(request, allow_pickle=True)
            self.question = ask_unpickle(
                self.window.qt_window, Path(request.path), lambda: self.send(retry)
            )
            return True
        return False  # an error dialog says what is missing
