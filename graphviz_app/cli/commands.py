"""Run one headless command; its module is imported only then (``models`` and
``info`` stay light, ``export`` brings torch)."""

from __future__ import annotations

import argparse
import importlib
import sys
import threading

from graphviz_app.errors import USER_ERRORS, user_message

#: command -> the module whose ``run(args) -> int`` does it.
RUNNERS = {
    "export": "graphviz_app.cli.export",
    "check": "graphviz_app.cli.check",
    "models": "graphviz_app.cli.info",
    "info": "graphviz_app.cli.info",
}


def run_command(args: argparse.Namespace) -> int:
    """Run one headless command; user errors print one line on stderr and return 1.

    A model's own ``sys.exit()``, ``exit()``, ``os._exit()`` or ``KeyboardInterrupt``
    is such an error too (never a silent exit). Threads the model's code left running
    do not keep the process alive once the command is done.
    """
    from graphviz_app.core.runtime.user_code import ABORTS, describe_abort, guard_process_exit

    runner = importlib.import_module(RUNNERS[args.command])
    try:
        with guard_process_exit():
            status: int = runner.run(args)
    except USER_ERRORS as exc:
        print(f"graphviz-app: error: {user_message(exc)}", file=sys.stderr)
        status = 1
    except ABORTS as exc:
        print(f"graphviz-app: error: the model's code {describe_abort(exc)}.", file=sys.stderr)
        status = 1
    _leave_if_threads_remain(status)
    return status


def _leave_if_threads_remain(status: int) -> None:
    """End the process now when model code left threads running that Python would
    wait for at exit (the output is written; nothing of ours runs in them)."""
    from graphviz_app.core.runtime.user_code import REAL_OS_EXIT

    left = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if not left:
        return
    names = ", ".join(t.name for t in left[:5]) + (", ..." if len(left) > 5 else "")
    threads = "thread" if len(left) == 1 else "threads"
    print(
        f"graphviz-app: note: the model's code left {len(left)} {threads} running "
        f"({names}); ending {'it' if len(left) == 1 else 'them'} with the command.",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    REAL_OS_EXIT(status)
