"""The errors whose message is written for the user (shown as is, never a crash).

Anything else that escapes a job is a bug: it is logged with its traceback and
reported as "Unexpected error". Nothing here imports torch or Qt: the command line
handles errors with it before any model is loaded.
"""

from __future__ import annotations

from graphviz_app.core.gradcheck.results import GradcheckError
from graphviz_app.core.layout.engine import EngineError
from graphviz_app.core.runtime.failures import (
    BackwardError,
    CaptureError,
    ForwardError,
    HealthError,
    plain_text,
)
from graphviz_app.core.runtime.user_code import user_location
from graphviz_app.io.export import ExportError
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.pdf import PdfError

#: ModelFileError covers every loader error (consent, choices, too large, mismatches).
USER_ERRORS: tuple[type[Exception], ...] = (
    BackwardError,
    PdfError,
    ModelFileError,
    ForwardError,
    GradcheckError,
    HealthError,
    CaptureError,
    EngineError,
    ExportError,
    FileNotFoundError,
)


def user_message(error: BaseException) -> str:
    """The one-line summary of a user error; for an error raised in the user's code
    (a forward that raises) it ends with the user's ``file:line``."""
    summary = plain_text(str(getattr(error, "summary", error)))
    where = user_location(error.__cause__.__traceback__) if error.__cause__ else ""
    if where and where not in summary:
        return f"{summary} (at {where})"
    return summary
