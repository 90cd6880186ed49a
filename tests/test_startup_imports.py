"""The window's modules import without torch, pyqtgraph or numpy: the window shows at
once and loads them in the background (bench/bench_startup.py times it). The command
line's parser and error handling import neither torch nor Qt.

A module added to the window that needs torch at import makes this test fail: import
it inside the function that needs it, or put type-only imports under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

HEAVY = ("torch", "pyqtgraph", "numpy", "networkx")


def imported_after(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return list(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "statement",
    [
        "import graphviz_app.ui.window.application",
        "import graphviz_app.ui.window.main_window",
        "import graphviz_app.session",
        "from graphviz_app.session import PictureResult, BackwardResult, StepResult",
    ],
)
def test_the_window_imports_nothing_heavy(statement: str) -> None:
    assert imported_after(statement) == []


@pytest.mark.parametrize(
    "statement",
    ["import graphviz_app.cli.commands", "import graphviz_app.errors", "import graphviz_app.app"],
)
def test_the_command_line_imports_neither_torch_nor_qt(statement: str) -> None:
    assert imported_after(statement) == []
    code = f"import sys\n{statement}\nassert not any(m.startswith('PySide6') for m in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
