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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from graphviz_app.core.layout import disk_cache
from graphviz_app.core.runtime.cancel import Cancelled, CancelToken

PURE = "graphviz-pure"
SYSTEM = "dot"
DEFAULT_TIMEOUT_S = 60.0
POLL_S = 0.1  # how often a running layout checks for cancel and timeout


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
        cancel: CancelToken | None = None,
    ) -> bytes:
        """Lay out ``dot_text`` and return the output in ``fmt`` (``json``, ``svg``, ...).

        Raises :class:`EngineError` on failure or after ``timeout`` seconds, and
        :class:`Cancelled` soon after ``cancel`` is set; the process is killed then.
        """
        return self.run_many([dot_text], fmt, timeout, extra_args, cancel)[0]

    def run_many(
        self,
        dot_texts: list[str],
        fmt: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        extra_args: tuple[str, ...] = (),
        cancel: CancelToken | None = None,
    ) -> list[bytes]:
        """:meth:`run` on each text, the processes running side by side (one per core
        is the caller's choice); outputs in the order of ``dot_texts``. An output laid
        out before, by this process or another, comes from the disk cache
        (:mod:`~graphviz_app.core.layout.disk_cache`)."""
        keys = [disk_cache.cache_key(self.version, fmt, extra_args, t) for t in dot_texts]
        outputs = [disk_cache.read(key) for key in keys]
        missing = [i for i, output in enumerate(outputs) if output is None]
        if missing:
            made = self._run_processes(
                [dot_texts[i] for i in missing], fmt, timeout, extra_args, cancel
            )
            for index, output in zip(missing, made, strict=True):
                outputs[index] = output
                disk_cache.write(keys[index], output)
        return [output for output in outputs if output is not None]

    def _run_processes(
        self,
        dot_texts: list[str],
        fmt: str,
        timeout: float,
        extra_args: tuple[str, ...],
        cancel: CancelToken | None,
    ) -> list[bytes]:
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for _ in dot_texts:
                processes.append(self._start(fmt, extra_args))
            jobs = list(zip(processes, (t.encode("utf-8") for t in dot_texts), strict=True))
            if len(jobs) == 1:
                return [self._finish(*jobs[0], timeout, cancel)]
            with ThreadPoolExecutor(len(jobs)) as pool:  # each feeds and reads its own
                futures = [pool.submit(self._finish, p, data, timeout, cancel) for p, data in jobs]
                return [future.result() for future in futures]
        finally:
            for process in processes:  # after a failure: none is left running
                if process.poll() is None:
                    _kill(process)

    def _start(self, fmt: str, extra_args: tuple[str, ...]) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                [self.path, f"-T{fmt}", *extra_args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise EngineError(f"Could not run Graphviz at {self.path}: {exc}") from exc

    def _finish(
        self,
        process: subprocess.Popen[bytes],
        data: bytes,
        timeout: float,
        cancel: CancelToken | None,
    ) -> bytes:
        out, err = self._wait(process, data, timeout, cancel)
        if process.returncode != 0:
            message = err.decode("utf-8", "replace").strip()[-800:]
            raise EngineError(f"Graphviz ({self.kind}) failed: {message or 'no message'}")
        return out

    def _wait(
        self,
        process: subprocess.Popen[bytes],
        data: bytes | None,
        timeout: float,
        cancel: CancelToken | None,
    ) -> tuple[bytes, bytes]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return process.communicate(data, timeout=POLL_S)
            except subprocess.TimeoutExpired:
                data = None  # sent already; retrying communicate() loses no output
            if cancel is not None and cancel.cancelled:
                _kill(process)
                raise Cancelled("layout cancelled")
            if time.monotonic() > deadline:
                _kill(process)
                raise EngineError(
                    f"Graphviz ({self.kind}) did not finish within {timeout:g} s; the graph "
                    "is probably too large to lay out at once. Collapse modules and try again."
                )


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.communicate()


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
