"""Commands that need no model answer without importing torch or Qt (a fresh process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_CODE = (
    "import sys\n"
    "from graphviz_app.app import main\n"
    "try:\n"
    "    rc = main(sys.argv[1:])\n"
    "except SystemExit as done:\n"
    "    rc = done.code\n"
    "heavy = sorted(m for m in ('torch', 'PySide6', 'numpy', 'networkx', 'pyqtgraph')"
    " if m in sys.modules)\n"
    "print('HEAVY', heavy)\n"
    "sys.exit(rc)\n"
)


def run_light(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CODE, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (("--help",), 0, "export"),
        (("export", "--help"), 0, "--collapse-depth"),
        (("models",), 0, "two_layer_net"),
        (("export", "no_such_model", "-o", "g.svg"), 1, "neither a model file"),
        (("export", "two_layer_net", "-o", "g.xyz"), 1, "Unknown export format"),
        (("export", "two_layer_net", "-o", "/no/such/folder/g.svg"), 1, "does not exist"),
        (("export", "two_layer_net", "-o", "g.svg", "--engine", "/no/dot"), 1, "not found"),
    ],
)
def test_no_torch_or_qt_is_imported(args: tuple[str, ...], status: int, says: str) -> None:
    done = run_light(*args)
    assert done.returncode == status, done.stderr
    assert says in done.stdout + done.stderr
    assert "HEAVY []" in done.stdout
