"""The errors a model file can cause, each with a message that names the problem.

Every one is a :class:`ModelFileError`, so ``graphviz_app.errors.USER_ERRORS`` covers
them all. The subclasses tell the UI what it can do about the problem: ask for
consent, for a class or an architecture, or offer a structure-only load.
"""

from __future__ import annotations

from pathlib import Path

from graphviz_app.core.runtime.failures import plain_text


class ModelFileError(RuntimeError):
    """A model file could not be loaded; ``details`` holds the traceback text."""

    #: What the UI may offer: "" (nothing, just the message), "pickle_consent",
    #: "choice" (a class, architecture or input spec is missing), "too_large".
    kind = ""

    def __init__(self, summary: str, details: str = "") -> None:
        summary = plain_text(summary)  # torch's and the user's words, without escape codes
        super().__init__(summary)
        self.summary = summary
        self.details = plain_text(details)


class PickleConsentError(ModelFileError):
    """The file is a pickle that only loads by running code from it; the user must agree
    (``LoadRequest.allow_pickle``)."""

    kind = "pickle_consent"


class ChoiceNeededError(ModelFileError):
    """The file loads only with a choice the user has not made yet: a class to build,
    an architecture for a state_dict, or an input spec."""

    kind = "choice"


class ModelTooLargeError(ModelFileError):
    """Building the model needs more memory than there is; a structure-only load
    (on the meta device) would work."""

    kind = "too_large"


class StateDictMismatchError(ModelFileError):
    """A state_dict's keys or shapes do not fit the chosen architecture."""


class InputSpecError(ModelFileError):
    """An input spec (``1x3x32x32:float32``) could not be parsed."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its type's name when it has none), without
    terminal escape codes."""
    text = plain_text(str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def where_in(path: Path, exc: BaseException) -> str:
    """`` (at model.py:12)``: the deepest frame of the traceback in the user's file."""
    tb, line = exc.__traceback__, 0
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (at {path.name}:{line})" if line else ""
