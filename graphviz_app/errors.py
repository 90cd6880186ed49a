"""The errors whose message is written for the user (shown as is, never a crash).

Anything else that escapes a job is a bug: it is logged with its traceback and
reported as "Unexpected error".
"""

from __future__ import annotations

from graphviz_app.core.backward import BackwardError
from graphviz_app.core.engine import EngineError
from graphviz_app.core.forward import ForwardError
from graphviz_app.core.walk import CaptureError
from graphviz_app.io.export import ExportError
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.pdf import PdfError

USER_ERRORS: tuple[type[Exception], ...] = (
    BackwardError,
    PdfError,
    ModelFileError,
    ForwardError,
    CaptureError,
    EngineError,
    ExportError,
    FileNotFoundError,
)


def user_message(error: BaseException) -> str:
    """The one-line summary of a user error."""
    return str(getattr(error, "summary", error))
