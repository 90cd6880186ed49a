"""What ``python FILE`` sets up, set up for a script run inside the app.

The script's folder is the working directory and first on ``sys.path``,
``sys.argv == [FILE]``, it runs as ``__main__`` (``if __name__ == "__main__":``
blocks run), its output and input go through per-thread proxies (see
:mod:`.output`) and ``os._exit()`` raises instead of ending the app. Everything is
put back when the script ends. The working directory, ``sys.argv``, ``sys.path`` and
``sys.modules["__main__"]`` are the process's: one script runs at a time.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType

from graphviz_app.core.runtime.user_code import guard_process_exit
from graphviz_app.io.script.output import ScriptOutput, ThreadStreams


@dataclass
class ScriptModule:
    """The script's ``__main__`` module and its compiled code."""

    module: types.ModuleType
    code: CodeType

    @property
    def globals(self) -> dict[str, object]:
        """The script's global variables (live: they change as it runs)."""
        return self.module.__dict__


def compile_script(path: Path) -> CodeType:
    """The file's code, compiled from its bytes as Python does (a byte-order mark, a
    coding cookie, CRLF and CR-only line ends are all read as ``python FILE`` reads
    them)."""
    return compile(path.read_bytes(), str(path), "exec", dont_inherit=True)


@contextlib.contextmanager
def script_environment(path: Path, output: ScriptOutput) -> Iterator[ScriptModule]:
    """Inside the block the calling thread is ``python FILE`` (see the module
    docstring); yields the ``__main__`` module to run the code in."""
    code = compile_script(path)
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=str(path),
        __cached__=None,
        __spec__=None,
        __package__=None,
        __loader__=SourceFileLoader("__main__", str(path)),
    )
    saved = (os.getcwd(), list(sys.argv), sys.modules.get("__main__"), set(sys.modules))
    streams = ThreadStreams(output)
    try:
        with guard_process_exit():
            os.chdir(path.parent)
            sys.path.insert(0, str(path.parent))
            sys.argv = [str(path)]
            sys.modules["__main__"] = module
            yield ScriptModule(module, code)
    finally:
        _restore(path, saved, streams)


def _restore(
    path: Path,
    saved: tuple[str, list[str], types.ModuleType | None, set[str]],
    streams: ThreadStreams,
) -> None:
    cwd, argv, main, modules = saved
    streams.restore()
    _forget_imports(path.parent, modules)
    with contextlib.suppress(OSError):  # the old folder may be gone: stay where we are
        os.chdir(cwd)
    with contextlib.suppress(ValueError):
        sys.path.remove(str(path.parent))
    sys.argv = argv
    if main is not None:
        sys.modules["__main__"] = main


def _forget_imports(folder: Path, before: set[str]) -> None:
    """Drop the modules the script imported from its own folder (``import model``),
    so that another script's ``model.py`` is not taken for this one's."""
    inside = str(folder) + os.sep
    for name in set(sys.modules) - before:
        filename = getattr(sys.modules.get(name), "__file__", None) or ""
        if filename.startswith(inside):
            sys.modules.pop(name, None)
