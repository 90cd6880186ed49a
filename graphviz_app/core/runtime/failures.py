"""Errors of the torch work whose message is written for the user, defined without torch.

The modules that raise them (the walk, forward, backward) import torch; the command
line's error handling (:mod:`graphviz_app.errors`) must not, so that ``--help``,
``models`` and a mistyped command answer at once. Those modules hand these names on.
"""

from __future__ import annotations

import re

#: Terminal escape sequences (``\x1b[1m`` bold ... ``\x1b[0m``) torch and user code put in
#: messages meant for a terminal, and other control characters but tab and newline.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(text: str) -> str:
    """``text`` without terminal escape codes and control characters: torch's or the
    user's words as a message box, a status bar or a log file shows them."""
    return _ESCAPES.sub("", text)


def first_sentence(text: str) -> str:
    """The first sentence of ``text``'s first paragraph, whole (never cut mid-word)."""
    paragraph = plain_text(text).strip().split("\n\n")[0]
    found = re.match(r"(.+?[.!?])(\s|$)", " ".join(paragraph.split()))
    return found[1] if found else " ".join(paragraph.split())


class CaptureError(ValueError):
    """The outputs cannot be captured; the message says why in plain words."""


class ForwardError(RuntimeError):
    """The model's forward (or loss) raised; ``details`` holds the traceback text."""

    def __init__(self, summary: str, details: str) -> None:
        summary = plain_text(summary)
        super().__init__(summary)
        self.summary = summary
        self.details = plain_text(details)


class HealthError(ValueError):
    """The health check cannot run on this model; the message says why."""


class BackwardError(RuntimeError):
    """Backward raised; ``summary`` explains it in plain words, ``details`` is torch's."""

    def __init__(self, summary: str, details: str) -> None:
        summary = plain_text(summary)
        super().__init__(summary)
        self.summary = summary
        self.details = plain_text(details)
