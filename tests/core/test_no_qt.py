"""The core and io layers import without Qt (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

IMPORT_CHECK = (
    "import graphviz_app.core.autograd.capture, graphviz_app.core.layout.dot, "
    "graphviz_app.io.model_file, graphviz_app.io.builtin, sys; "
    "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))); "
    "assert not qt, qt"
)


def test_core_and_io_import_without_qt() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
