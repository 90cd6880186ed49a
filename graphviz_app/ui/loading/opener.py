"""Open any model file: inspect it, ask only what it needs, remember the answers.

``ModelOpener.open(path)`` inspects the file on the worker thread (format, classes,
top-level code; nothing of the file runs), then asks, as needed: trust to run a
``.py``; the architecture ``.py`` for weights; consent to unpickle; an input spec.
A script (a ``.py`` that runs and calls backward) goes to ``script_handler`` (the
script part). A file without ``build_model()`` opens with its class, arguments and
input guessed; only what cannot be guessed is asked (a form with a field per
constructor parameter), and File > Change class, arguments and inputs edits the
guesses. The choices are remembered per file in the window's settings, so the next
open asks nothing. A model too large for memory gets the offer to open structure-only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QSettings, Signal, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.builtin import builtin_models_dir
from graphviz_app.io.python_source import SourceSummary
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import PictureResult
from graphviz_app.ui.common.actions import (
    add_before_last_group,
    explain_when_disabled,
    make_action,
    menu_named,
)
from graphviz_app.ui.jobs.controller import SessionController
from graphviz_app.ui.loading.load_dialogs import (
    LoadDialog,
    ask_architecture,
    ask_input_spec,
    ask_structure_only,
    ask_unpickle,
)
from graphviz_app.ui.loading.trust import TrustStore, ask_to_run

if TYPE_CHECKING:
    from graphviz_app.io.inspect_file import FileInspection

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
    result: PictureResult | None

    @property
    def qt_window(self) -> QMainWindow:
        """The window: its Run menu, and the parent of the questions asked."""
        ...

    @property
    def picture_shown(self) -> SignalInstance:
        """Emitted once a picture is on screen."""
        ...


class ModelOpener(QObject):
    """The window part that turns a path into a :class:`LoadRequest` and opens it."""

    requested = Signal(object)  # the LoadRequest sent to the controller

    def __init__(self, window: OpenerHost) -> None:
        super().__init__(window.qt_window)
        self.window = window
        self.choices = LoadChoices(window.settings)
        self.question: Any = None  # the dialog or message box asking now (tests press it)
        #: Set by the script part: opens a script (a .py that runs and calls backward).
        self.script_handler: Callable[[LoadRequest], None] | None = None
        self._inspected: dict[str, FileInspection] = {}  # by path: for the questions
        window.controller.refusal_handler = self._on_controller_refused
        self.time_limit_action = self._time_limit_action()
        self.choices_action = make_action(
            self,
            "Change class, arguments and &inputs...",
            self.edit_choices,
            None,
            "The class, constructor arguments and input spec the open .py file was "
            "built with (guessed ones included): change them and open it again",
        )
        self.choices_action.setEnabled(False)
        explain_when_disabled(self.choices_action, "open a .py model file without build_model()")
        add_before_last_group(menu_named(window.qt_window, "&File"), self.choices_action)
        window.picture_shown.connect(self._on_window_picture_shown)

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
            f"Inspecting {path.name}", lambda _session: _inspect(path), self._on_inspected
        )

    def _on_inspected(self, result: object) -> None:
        from graphviz_app.io.inspect_file import FileInspection  # loaded by the job

        assert isinstance(result, FileInspection)
        path = Path(result.path)
        self._inspected[str(path)] = result
        if result.runs_code and not self.window.trust.is_trusted(path):
            then = lambda: self._trust_then(result)  # noqa: E731
            if result.source is not None:
                script = result.source.is_script
                self.question = ask_to_run(self.window.qt_window, path, then, script)
            else:
                self.question = ask_unpickle(self.window.qt_window, path, then)
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
        if source.is_script and self.script_handler is not None and not _chose_class(request):
            self.script_handler(request)
        elif remembered or not (source.has_build_model and source.top_level_work):
            self.send(request)  # a class file's class, arguments and input are guessed
        else:
            self.ask_choices(source, request)

    def ask_choices(self, source: SourceSummary, request: LoadRequest, problem: str = "") -> None:
        """The form: class, one field per constructor parameter, inputs, definitions
        only; ``problem`` says what the file could not give."""
        dialog = LoadDialog(self.window.qt_window, source, request, problem)
        dialog.accepted.connect(lambda: self.send(dialog.request()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        self.question = dialog

    def edit_choices(self) -> None:
        """File > Change class, arguments and inputs: the form, filled in with what the
        open file was built with (guesses included)."""
        result = self.window.result
        if result is None or not self.choices_action.isEnabled():
            return
        # A script's class instead of its run: only its definitions, by default.
        request = result.resolved or LoadRequest(result.model_path, definitions_only=True)
        self.window.controller.submit(
            "Inspecting the model file",
            lambda _session: _inspect(Path(request.path)),
            lambda found: self._edit_inspected(found, request),
        )

    def _edit_inspected(self, found: object, request: LoadRequest) -> None:
        from graphviz_app.io.inspect_file import FileInspection  # loaded by the job

        assert isinstance(found, FileInspection)
        if found.source is not None:
            self.ask_choices(found.source, request)

    def _on_window_picture_shown(self) -> None:
        """The choices of a class file can be changed, and a script can be opened as
        its model class instead (not a built-in's or a conventions file's)."""
        result = self.window.result
        resolved = result.resolved if result is not None else None
        script = result is not None and result.script is not None
        self.choices_action.setEnabled(script or bool(resolved and resolved.class_name))

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
        inspected = self._inspected.get(str(Path(request.path).resolve()))
        if kind == "choice" and inspected is not None and inspected.source is not None:
            said = summary.split(": give")[0]  # the rest is for the command line
            self.ask_choices(inspected.source, request, f"{said}. Fill in the fields below.")
            return True
        if kind == "pickle_consent" and not request.allow_pickle:
            retry = dataclasses.replace(request, allow_pickle=True)
            self.question = ask_unpickle(
                self.window.qt_window, Path(request.path), lambda: self.send(retry)
            )
            return True
        return False  # an error dialog says what is missing


def _chose_class(request: LoadRequest) -> bool:
    """True when the user chose to build a class of a script (the form) instead."""
    return bool(request.class_name or request.definitions_only or request.structure_only)


def _inspect(path: Path) -> FileInspection:
    """What ``path`` holds (on the worker thread, which has torch by then)."""
    from graphviz_app.io.inspect_file import inspect_model_file

    return inspect_model_file(path)
