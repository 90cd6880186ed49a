"""Entry point: the desktop app, or a headless command (``export``, ``models``, ``info``)."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from graphviz_app import __version__
from graphviz_app.io.request import add_request_options

logger = logging.getLogger(__name__)
COMMANDS = ("gui", "export", "models", "info")


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (``graphviz-app --help``)."""
    parser = argparse.ArgumentParser(
        prog="graphviz-app",
        description="See PyTorch autograd at work: capture a model's backward graph, "
        "explore it in a window, or export it headless.",
        epilog="Without a command, opens the window (on MODEL if given). "
        "Run 'graphviz-app COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"graphviz-app {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = commands.add_parser("gui", help="open the window (the default command)")
    gui.add_argument(
        "model",
        nargs="?",
        default=None,
        help="built-in model name or model .py file (default: two_layer_net)",
    )
    _add_export_parser(commands)
    commands.add_parser("models", help="list the built-in example models")
    commands.add_parser(
        "info", help="print the versions of the app, torch and the Graphviz engine in use"
    )
    return parser


def _add_export_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = commands.add_parser(
        "export",
        help="run a model headless and write its graph to a file",
        description="Run the model's forward pass (no window, no display needed) and write "
        "the captured autograd graph. The format comes from --format or the file extension.",
    )
    export.add_argument("model", help="built-in model name or model .py file")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", help="file to write")
    target.add_argument(
        "--backward-steps",
        metavar="DIR",
        help="run backward too and write a walk-through into DIR: one SVG per step and an "
        "index.html that replays them",
    )
    _add_picture_options(export)
    add_request_options(export)


def _add_picture_options(export: argparse.ArgumentParser) -> None:
    """How the exported picture looks and which engine draws it."""
    export.add_argument(
        "--format",
        choices=("svg", "png", "pdf", "dot", "json"),
        default=None,
        help="output format (default: from the extension)",
    )
    export.add_argument(
        "--rankdir",
        choices=("TB", "LR"),
        default="TB",
        help="top to bottom (TB, default) or left to right (LR)",
    )
    export.add_argument("--values", action="store_true", help="add a value summary to each node")
    export.add_argument(
        "--grads",
        action="store_true",
        help="run backward too: each node shows the gradient that reached it and is "
        "coloured by its norm (log scale)",
    )
    export.add_argument(
        "--no-clusters", action="store_true", help="do not draw a box around each nn.Module"
    )
    export.add_argument(
        "--collapse-depth",
        type=int,
        default=None,
        metavar="N",
        help="draw each module N levels down as one node (1 = the model's direct children)",
    )
    export.add_argument(
        "--engine",
        default=None,
        metavar="ENGINE",
        help="Graphviz to use: graphviz-pure (bundled, default), dot, or a path to a dot "
        "executable (default: $GRAPHVIZ_DOT, else graphviz-pure)",
    )
    export.add_argument("--dpi", type=float, default=None, help="PNG resolution (default 96)")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and not args_list[0].startswith("-")):
        args_list.insert(0, "gui")
    args = build_parser().parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command in (None, "gui"):
        return run_window(getattr(args, "model", None))
    from graphviz_app import cli

    return cli.run_command(args)


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
