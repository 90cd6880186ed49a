"""``graphviz-app check``: the gradient health report of a model, for a terminal or CI.

Stdout is the report's alone: whatever the model's code prints (a model file, a class
file, a script) goes to stderr. A script (a ``.py`` whose own code calls backward)
runs as ``python FILE`` would, up to its ``--backward-call`` (the first by default):
the report is about that very call, gathered as it ran.

Exit status: 0 when the check found nothing wrong, 1 when it found a problem (a
NaN/Inf in backward, a parameter cut off or with an exactly-0 gradient, a vanishing or
exploding module, dead ReLUs, a backward that raised; a cut the check sees is intended,
a GAN's generator behind ``fake.detach()`` with its own optimizer, and uses whose
gradients cancel exactly, a WGAN critic's last bias, are listed but are not problems),
2 when nothing could be checked: a usage error
(argparse's own), a model file that does not load, a forward that raises.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from graphviz_app.cli.model_code import prints_to_stderr, within_time_limit
from graphviz_app.cli.requests import load_request
from graphviz_app.core.health.report import HealthReport
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.core.health.text import report_json, report_text
from graphviz_app.core.runtime.threads import configure_torch_threads
from graphviz_app.errors import USER_ERRORS, user_message
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.session import ModelSession

HEALTHY, PROBLEM, USAGE = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    """Load the model, run forward and a recorded backward, print the report."""
    try:
        with prints_to_stderr():  # the model's own prints: stdout is the report's
            report = _check(args)
    except USER_ERRORS as exc:
        print(f"graphviz-app: error: {user_message(exc)}", file=sys.stderr)
        return USAGE
    print(report_json(report) if args.json else report_text(report))
    return HEALTHY if report.healthy else PROBLEM


def _check(args: argparse.Namespace) -> HealthReport:
    configure_torch_threads()
    session = ModelSession()
    request = load_request(args)
    if Path(args.model).is_file() and args.model.endswith(".py"):  # naming it was consent
        print(f"graphviz-app: running {args.model} (its top-level code too)", file=sys.stderr)
    echo = ScriptOutput(echo=sys.stderr)  # a script's prints: stdout is the report's

    def work() -> HealthReport:
        loaded = session.load(request, output=echo, time_limit=args.time_limit)
        for note in loaded.notes:  # what a definitions-only load skipped, a script's call
            print(f"graphviz-app: note: {note}", file=sys.stderr)
        return session.check_health(settings_from_args(args)).report

    try:
        return within_time_limit(request, args, work, "load and run its forward and backward")
    finally:
        session.scripts.close()  # a script paused at its call ends here


def settings_from_args(args: argparse.Namespace) -> HealthSettings:
    """The thresholds the flags set (defaults: :class:`HealthSettings`'s)."""
    return HealthSettings(**{f.name: getattr(args, f.name) for f in fields(HealthSettings)})
