"""Run the command line in a fresh process, the way a user's shell would (no display)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The CLI must never import Qt (except for PDF and PNG, drawn from the SVG by Qt; no
# test here writes them).
_CODE = (
    "import sys; from graphviz_app.app import main; rc = main(sys.argv[1:]); "
    "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'; "
    "sys.exit(rc)"
)


def run_cli(
    *args: str, marker: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``graphviz-app ARGS`` (in ``cwd``); ``marker`` is where a hostile test pickle
    would write."""
    hidden = ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    if marker is not None:
        env["GRAPHVIZ_APP_TEST_MARKER"] = str(marker)
    return subprocess.run(
        [sys.executable, "-c", _CODE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=cwd,
    )
