"""The window's file dialogs: which model to open, where and how to export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from graphviz_app.io.export import FORMATS

EXPORT_FILTERS = ";;".join(f"{fmt.upper()} (*.{fmt})" for fmt in FORMATS)
LAST_DIR_KEY = "last_dir"
MODEL_SUFFIXES = (".py", ".pt", ".pth", ".pt2", ".safetensors")
MODEL_FILTERS = (
    f"Model files ({' '.join('*' + s for s in MODEL_SUFFIXES)});;Python model files (*.py);;"
    "TorchScript, state_dict or pickled model (*.pt *.pth);;torch.export program (*.pt2);;"
    "safetensors weights (*.safetensors);;All files (*)"
)


def ask_model_file(parent: QWidget, settings: QSettings) -> str | None:
    """A model file chosen by the user, or None; remembers the folder."""
    start = str(settings.value(LAST_DIR_KEY, str(Path.cwd())))
    path, _ = QFileDialog.getOpenFileName(parent, "Open model file", start, MODEL_FILTERS)
    if path:
        settings.setValue(LAST_DIR_KEY, str(Path(path).parent))
    return path or None


def ask_export_target(
    parent: QWidget, settings: QSettings, model_name: str
) -> tuple[str, float | None] | None:
    """Where to export and, for PNG, at which resolution; None when cancelled."""
    start = Path(str(settings.value(LAST_DIR_KEY, Path.cwd()))) / f"{model_name}.svg"
    path, _ = QFileDialog.getSaveFileName(parent, "Export graph", str(start), EXPORT_FILTERS)
    if not path:
        return None
    if not path.lower().endswith(".png"):
        return path, None
    dpi, accepted = QInputDialog.getInt(
        parent, "PNG resolution", "Dots per inch (96 = screen size):", 144, 36, 600
    )
    return (path, float(dpi)) if accepted else None


def ask_folder(parent: QWidget, settings: QSettings, caption: str) -> str | None:
    """A folder chosen by the user, or None; remembers it."""
    start = str(settings.value(LAST_DIR_KEY, str(Path.cwd())))
    folder = QFileDialog.getExistingDirectory(parent, caption, start)
    if folder:
        settings.setValue(LAST_DIR_KEY, folder)
    return folder or None


def dropped_model_file(data: QMimeData) -> str | None:
    """The first local model file (``.py``, ``.pt``, ...) among dropped URLs."""
    for url in data.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(MODEL_SUFFIXES):
            return url.toLocalFile()
    return None
