"""Running a model file's code for a command (``export``, ``check``): the time limit.

A model's forward, or a class file's top level, stuck past ``--time-limit`` is
stopped, and where it was is said. A script has its own limit, counted from one
backward call to the next (its runner stops it), so the whole run gets none.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
