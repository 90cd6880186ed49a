"""Opening a model file runs its code: ask first, and remember the answer per file.

Trust is stored per path together with the file's SHA-256, so an edited file (or
another file at the same path) is asked about again. Built-in models are trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from graphviz_app.io.builtin import builtin_models_dir

GROUP = "trusted_files"


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TrustStore:
    """Which model files the user agreed to run, in the app's settings."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def is_trusted(self, path: Path) -> bool:
        """True for built-in models and for files trusted with their current contents."""
        path = path.resolve()
        if path.parent == builtin_models_dir().resolve():
            return True
        if not path.is_file():
            return True  # nothing will run: the loader reports the missing file
        return bool(self.settings.value(self._key(path), "") == file_digest(path))

    def trust(self, path: Path) -> None:
        """Remember that ``path``, as it is now, may be run."""
        path = path.resolve()
        self.settings.setValue(self._key(path), file_digest(path))

    @staticmethod
    def _key(path: Path) -> str:
        return f"{GROUP}/{hashlib.sha1(str(path).encode('utf-8')).hexdigest()}"


def ask_to_run(
    parent: QWidget, path: Path, on_yes: Callable[[], None], script: bool = False
) -> QMessageBox:
    """A non-blocking question: run this file's code? "Don't open" is the default.
    A ``script`` runs as ``python FILE`` would, which the question says."""
    what = (
        f"Opening {path.name} runs it as python {path.name} would (its training loop too, "
        "in its own folder), pausing at each backward call."
        if script
        else f"Opening {path.name} runs the Python code in it, as importing it would."
    )
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Run this script?" if script else "Run this model file?",
        f"{what} Open it only if you trust where it came from.",
        parent=parent,
    )
    box.setInformativeText(str(path))
    run = box.addButton("Open and run it", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Don't open", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: on_yes() if button is run else None)
    box.open()
    return box
