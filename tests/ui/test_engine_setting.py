"""Choosing the system's Graphviz in the window, and what happens when it is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from graphviz_app.core.layout import engine
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


@pytest.fixture
def fake_dot_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 'dot' on PATH that reports version 9.0.0 and lays out with graphviz-pure."""
    pure = shutil.which("graphviz-pure") or engine._beside_python("graphviz-pure")
    script = tmp_path / "dot"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-V" ]; then echo "dot - graphviz version 9.0.0 (fake)" >&2; exit 0; fi\n'
        f'exec "{pure}" "$@"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    engine._probe.cache_clear()
    yield script
    engine._probe.cache_clear()


def test_switching_to_system_dot_relays_out_and_says_so(
    qtbot, window: MainWindow, fake_dot_on_path: Path
) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.files.system_dot_action.trigger()
    assert window.result.engine == "dot 9.0.0 (fake)"
    assert window.status.engine_label.text() == "dot 9.0.0"
    assert window.status.engine_label.toolTip().endswith("dot 9.0.0 (fake)")
    assert window.settings.value("engine") == "dot"


def test_a_missing_system_dot_is_a_message(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere
    engine._probe.cache_clear()
    with qtbot.waitSignal(window.error_shown, timeout=WAIT_MS) as blocker:
        window.files.system_dot_action.trigger()
    engine._probe.cache_clear()
    assert "'dot' was asked for but was not found" in blocker.args[0]
