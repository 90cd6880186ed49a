"""Entry point: the desktop app, or a headless command (``export``, ``models``, ``info``)."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

from graphviz_app.cli.parser import COMMANDS, build_parser

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and not args_list[0].startswith("-")):
        args_list.insert(0, "gui")
    args = build_parser().parse_args(args_list)
    window = args.command in (None, "gui")
    # A command says what it has to say in its own lines ("graphviz-app: note: ..."):
    # the log shows only warnings there, unless -v asks for everything.
    quiet = logging.INFO if window else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if window:
        return run_window(getattr(args, "model", None))
    from graphviz_app.cli.commands import run_command

    return run_command(args)


def run_window(model: str | None) -> int:
    """The desktop app; a library that fails to import (a broken torch) is a dialog."""
    try:
        from graphviz_app.ui.window.application import run_gui  # Qt is imported only for the window
    except (ImportError, OSError) as exc:  # OSError: a shared library that will not load
        details = traceback.format_exc()
        logger.error("cannot start the window\n%s", details)
        return startup_failure(f"A library the app needs does not load: {exc}", details)
    return run_gui(model)


def startup_failure(summary: str, details: str) -> int:
    """Say why the app cannot start, in a dialog when Qt works; returns the exit status."""
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox
    except ImportError:
        return 1  # no Qt at all: the log line above is all we can give
    app = QApplication.instance() or QApplication(sys.argv[:1])
    box = QMessageBox(QMessageBox.Icon.Critical, "graphviz_app cannot start", summary)
    box.setInformativeText(
        "Reinstall the app's dependencies in this Python environment (for example "
        "pip install -e . or pip install torch), then start it again."
    )
    box.setDetailedText(details)
    box.exec()
    del app
    return 1


if __name__ == "__main__":
    sys.exit(main())
