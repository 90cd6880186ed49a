"""Graphviz's outputs kept on disk, so that a new process lays out what one laid out before.

Graphviz is most of a picture's time, and its output depends only on its input: the
DOT text, the output format, the arguments and the engine's version. A fresh process
(a notebook kernel's first ``draw()``, each ``graphviz-app export``, the window opening
a model again) finds the layouts of the graphs and repeated blocks it has seen before
here and runs no Graphviz for them.

Where: ``$GRAPHVIZ_APP_LAYOUT_CACHE`` (a folder; ``off`` turns the cache off), else
``$XDG_CACHE_HOME/graphviz_app/layouts``, else ``~/.cache/graphviz_app/layouts``. Files
are written atomically; a folder that cannot be written means no cache, never an
error. The oldest files go once there are more than :data:`MAX_FILES`. The files hold
what the pictures show (node labels: parameter names, shapes, source lines).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
from pathlib import Path

ENV = "GRAPHVIZ_APP_LAYOUT_CACHE"
OFF = ("", "0", "off", "no", "false", "none")
MAX_FILES = 2_000  # a GPT-2 picture's kinds and top level: a few files of 10-600 KB
PRUNE_EVERY = 64  # writes between two looks at the folder's size
_writes = itertools.count(1)


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in OFF else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "graphviz_app" / "layouts"


def cache_key(engine_version: str, fmt: str, args: tuple[str, ...], dot_text: str) -> str:
    """What Graphviz's output depends on, hashed."""
    digest = hashlib.sha256("\x1f".join((engine_version, fmt, *args)).encode("utf-8"))
    digest.update(b"\x1e")
    digest.update(dot_text.encode("utf-8"))
    return digest.hexdigest()


def read(key: str) -> bytes | None:
    """The output stored under ``key``, or None (not stored, cache off, unreadable)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = _path(folder, key)
    try:
        data = path.read_bytes()
        os.utime(path)  # recently used: pruned last
    except OSError:
        return None
    return data or None


def write(key: str, data: bytes) -> None:
    """Store ``data`` under ``key`` (atomically); a folder that cannot be written is
    skipped silently: the cache only ever saves time."""
    folder = cache_dir()
    if folder is None or not data:
        return
    path = _path(folder, key)
    temporary = path.with_name(f"{key}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):  # its folder may not exist at all
            temporary.unlink()
        return
    if next(_writes) % PRUNE_EVERY == 0:
        prune(folder)


def prune(folder: Path, keep: int = MAX_FILES) -> int:
    """Delete all but the ``keep`` most recently used files; returns how many went."""
    try:
        files = [p for p in folder.glob("*/*") if p.is_file()]
        files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return 0
    removed = 0
    for path in files[keep:]:
        try:
            path.unlink()
            removed += 1
        except OSError:
            continue  # another process pruned it first
    return removed


def _path(folder: Path, key: str) -> Path:
    return folder / key[:2] / key
