"""Running a model file's code for a command (``export``, ``check``): the time limit,
and where what it prints goes.

A model's forward, or a class file's top level, stuck past ``--time-limit`` is
stopped, and where it was is said. A script has its own limit, counted from one
backward call to the next (its runner stops it), so the whole run gets none.
A command whose stdout is its product (``check``'s report, ``--json``) runs the
model's code under :func:`prints_to_stderr`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from graphviz_app.core.runtime.user_code import TimeLimit, TimeLimitExceeded
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.request import LoadRequest
from graphviz_app.session.script import script_summary

_T = TypeVar("_T")


def within_time_limit(
    request: LoadRequest,
    args: argparse.Namespace,
    work: Callable[[], _T],
    what: str = "load and run its forward",
) -> _T:
    """``work()`` (loading ``request`` and running its code: ``what`` it does), stopped
    with a clear :class:`ModelFileError` once it runs past ``args.time_limit`` seconds."""
    script = script_summary(request) is not None
    limit = TimeLimit(0 if script else args.time_limit)
    try:
        with limit:
            return work()
    except TimeLimitExceeded as exc:
        at = f" It was at {limit.where} when it was stopped." if limit.where else ""
        raise ModelFileError(
            f"{Path(request.path).name} did not {what} within "
            f"{args.time_limit:g} s, so it was stopped.{at} Raise the limit (--time-limit) "
            "if it needs longer."
        ) from exc


@contextlib.contextmanager
def prints_to_stderr() -> Iterator[None]:
    """Inside the block, everything written to stdout goes to stderr instead.

    The user's code prints as it likes (nanoGPT's ``number of parameters: 123.69M``
    in ``__init__``, a forward that logs shapes) while stdout is the command's own
    output, which a pipe or ``> health.json`` must get alone. ``sys.stdout`` is
    redirected for Python's ``print``, and file descriptor 1 for what bypasses it
    (``os.write(1, ...)``, C extensions, child processes)."""
    sys.stdout.flush()
    saved = _dup_stdout_to_stderr()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _dup_stdout_to_stderr() -> int | None:
    """Point descriptor 1 at descriptor 2; the original's duplicate (None when the
    process has no such descriptors, as a windowless one may not)."""
    try:
        saved = os.dup(1)
    except OSError:
        return None
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(saved)
        return None
    return saved
