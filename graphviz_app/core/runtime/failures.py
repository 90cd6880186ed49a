"""Errors of the torch work whose message is written for the user, defined without torch.

The modules that raise them (the walk, forward, backward) import torch; the command
line's error handling (:mod:`graphviz_app.errors`) must not, so that ``--help``,
``models`` and a mistyped command answer at once. Those modules hand these names on.
"""

from __future__ import annotations


class CaptureError(ValueError):
    """The outputs cannot be captured; the message says why in plain words."""


class ForwardError(RuntimeError):
    """The model's forward (or loss) raised; ``details`` holds the traceback text."""

    def __init__(self, summary: str, details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details


class HealthError(ValueError):
    """The health check cannot run on this model; the message says why."""


class BackwardError(RuntimeError):
    """Backward raised; ``summary`` explains it in plain words, ``details`` is torch's."""

    def __init__(self, summary: str, details: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details
