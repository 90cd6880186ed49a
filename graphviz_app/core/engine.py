"""The one place that runs Graphviz.

The default engine is the pip-installed ``graphviz-pure`` (a self-contained port
of ``dot``), so a user who only ran pip has a working layout. A system ``dot`` is
used when asked for, by the ``GRAPHVIZ_DOT`` environment variable (a path or
``dot``) or a setting passed to :func:`find_engine`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from functools import lru_cache

PURE = "graphviz-pure"
SYSTEM = "dot"
DEFAULT_TIMEOUT_S = 60.0


class EngineError(RuntimeError):
    """Graphviz is missing, failed, or ran past its time limit."""


@dataclass(frozen=True)
class GraphvizEngine:
    """A Graphviz ``dot``-compatible executable and its version line."""

    kind: str  # PURE or SYSTEM
    path: str
    version: str

    def describe(self) -> str:
        """Human text for status bars: ``graphviz-pure 0.2.2 (...)``."""
        return self.version

    def run(
        self,
        dot_text: str,
        fmt: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        extra_args: tuple[str, ...] = (),
    ) -> bytes:
        """Lay out ``dot_text`` and return the output in ``fmt`` (``json``, ``svg``, ...)."""
        command = [self.path, f"-T{fmt}", *extra_args]
        try:
            done = subprocess.run(
                command,
                input=dot_text.encode("utf-8"),
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(
                f"Graphviz ({self.kind}) did not finish within {timeout:.0f} s; the graph is "
                "probably too large to lay out at once. Collapse modules and try again."
            ) from exc
        except OSError as exc:
            raise EngineError(f"Could not run Graphviz at {self.path}: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()[-800:]
            raise EngineError(f"Graphviz ({self.kind}) failed: {message or 'no message'}")
        return done.stdout


def find_engine(preference: str | None = None) -> GraphvizEngine:
    """The engine to use: ``preference`` (``graphviz-pure``, ``dot`` or a path), else
    ``$GRAPHVIZ_DOT``, else graphviz-pure, else a system ``dot``.

    Raises :class:`EngineError` with install advice when none is found.
    """
    wanted = preference or os.environ.get("GRAPHVIZ_DOT") or PURE
    if wanted == PURE:
        return _probe(PURE) or _fallback_system()
    engine = _probe(wanted)
    if engine is None:
        raise EngineError(
            f"The Graphviz engine {wanted!r} was asked for but was not found. Install "
            "Graphviz (https://graphviz.org/download/) or unset GRAPHVIZ_DOT to use the "
            "bundled graphviz-pure engine."
        )
    return engine


def _fallback_system() -> GraphvizEngine:
    engine = _probe(SYSTEM)
    if engine is None:
        raise EngineError(
            "No Graphviz engine was found: the bundled 'graphviz-pure' command is not on "
            "PATH. Reinstall the app with pip (pip install graphviz-pure) or install Graphviz."
        )
    return engine


def _beside_python(name: str) -> str | None:
    """A console script installed next to this Python (a venv that is not activated)."""
    scripts = sysconfig.get_path("scripts")
    return shutil.which(name, path=scripts) if scripts else None


@lru_cache(maxsize=8)
def _probe(name_or_path: str) -> GraphvizEngine | None:
    path = shutil.which(name_or_path) or _beside_python(name_or_path)
    if path is None:
        return None
    try:
        done = subprocess.run([path, "-V"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
    line = text[0] if text else ""
    kind = PURE if "graphviz-pure" in line or name_or_path == PURE else SYSTEM
    return GraphvizEngine(kind=kind, path=path, version=_version_text(kind, line))


def _version_text(kind: str, line: str) -> str:
    """``dot - graphviz version 2.43.0 (0)`` -> ``dot 2.43.0 (0)``."""
    found = re.search(r"version\s+(\S+)(.*)", line)
    return f"{kind} {found.group(1)}{found.group(2)}" if found else f"{kind} (version unknown)"
