"""Run one headless command; its module is imported only then (``models`` and
``info`` stay light, ``export`` brings torch)."""

from __future__ import annotations

import argparse
import importlib
import sys

from graphviz_app.errors import USER_ERRORS, user_message

#: command -> the module whose ``run(args) -> int`` does it.
RUNNERS = {
    "export": "graphviz_app.cli.export",
    "check": "graphviz_app.cli.check",
    "models": "graphviz_app.cli.info",
    "info": "graphviz_app.cli.info",
}


def run_command(args: argparse.Namespace) -> int:
    """Run one headless command; user errors print one line on stderr and return 1."""
    runner = importlib.import_module(RUNNERS[args.command])
    try:
        status: int = runner.run(args)
    except USER_ERRORS as exc:
        print(f"graphviz-app: error: {user_message(exc)}", file=sys.stderr)
        return 1
    return status
