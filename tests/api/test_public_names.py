"""The public names: lazily imported, Qt-free, typed, with examples that run."""

from __future__ import annotations

import doctest
import importlib
import os
import subprocess
import sys

import pytest

import graphviz_app

NAMES = ("draw", "Drawing", "walkthrough", "Walkthrough", "watch", "show")


def test_import_is_fast_and_loads_neither_torch_nor_qt() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import graphviz_app; "
        "t = time.perf_counter() - t; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')]; "
        "assert not heavy, heavy; print(t); "
        "graphviz_app.draw; "
        "assert 'torch' in sys.modules and 'PySide6' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=False
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 0.5  # seconds; no heavy import at all, so far below


def test_every_public_name_is_there_with_a_docstring_and_an_example() -> None:
    for name in NAMES:
        value = getattr(graphviz_app, name)
        assert value.__doc__ and ">>> " in value.__doc__, name
        assert name in dir(graphviz_app)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphviz_app.nope  # noqa: B018


@pytest.mark.parametrize("name", ["drawing", "walkthrough", "watch", "show"])
def test_the_examples_run(name: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"graphviz_app.api.{name}")
    failed, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failed == 0
