"""The errors whose message is written for the user (shown as is, never a crash).

Anything else that escapes a job is a bug: it is logged with its traceback and
reported as "Unexpected error".
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from types import TracebackType

from graphviz_app.core.autograd.backward import BackwardError
from graphviz_app.core.autograd.forward import ForwardError
from graphviz_app.core.gradcheck.results import GradcheckError
from graphviz_app.core.graph.walk import CaptureError
from graphviz_app.core.health.check import HealthError
from graphviz_app.core.layout.engine import EngineError
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

_LIBRARY_DIRS = (
    *{sysconfig.get_path(name) for name in ("stdlib", "purelib", "platlib")},
    str(Path(__file__).resolve().parent) + os.sep,
)


def user_message(error: BaseException) -> str:
    """The one-line summary of a user error; for an error raised in the user's code
    (a forward that raises) it ends with the user's ``file:line``."""
    summary = str(getattr(error, "summary", error))
    where = user_location(error.__cause__.__traceback__) if error.__cause__ else ""
    if where and where not in summary:
        return f"{summary} (at {where})"
    return summary


def user_location(tb: TracebackType | None) -> str:
    """``model.py:12`` for the deepest frame of ``tb`` outside Python, its libraries
    and this app: the user's line that raised; "" when there is none."""
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_LIBRARY_DIRS) and not filename.startswith("<"):
            found = f"{Path(filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found
