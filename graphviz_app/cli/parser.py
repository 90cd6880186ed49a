"""The command line's parser: every command and option, and nothing heavy imported.

``graphviz-app --help`` and every command's ``--help`` answer from here alone: no torch,
no Qt. Each command's work lives in its own module (:mod:`graphviz_app.cli.commands`
imports it only when the command runs).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from graphviz_app import __version__
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.io.request import add_request_options

COMMANDS = ("gui", "export", "check", "models", "info")


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
    _add_check_parser(commands)
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
        help="run backward too and write a walk-through into DIR: an index.html that steps "
        "through it in a browser (no network needed) and one SVG per step",
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


_DEFAULTS = HealthSettings()


def _add_check_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``check`` command: a model and the thresholds of the report."""
    check = commands.add_parser(
        "check",
        help="check a model's gradients: first Inf/NaN, cut-off parameters, vanishing "
        "and exploding gradients, dead ReLUs",
        description="Run the model's forward pass and a recorded backward (no window) and "
        "report where gradients go wrong. Backward starts from the loss, seeded with 1; a "
        "model without a loss has each output seeded with 1 / its size, as "
        "output.mean().backward() would. Vanishing and exploding are judged on each "
        "module's gradient RMS: vanishing next to the largest module's, exploding next "
        "to max(1, |loss|), so a sum loss is judged as its mean. Whatever the model's "
        "code prints goes to stderr: stdout is the report's. A script (a .py that calls "
        "backward itself) runs as python FILE would, and the report is about its own "
        "--backward-call. A parameter cut off (detach, no_grad) is a problem unless the "
        "check sees it is intended: in a script's call, another of its optimizers "
        "trains it (a GAN's generator in the critic's step); an exactly-0 gradient is one "
        "unless the gradients of several uses cancel (a WGAN critic's last bias). "
        "Exit status: 0 healthy, 1 a problem was found, 2 usage error "
        "(bad options, a model file that does not load or whose forward raises, a script "
        "that never reaches the call: nothing was checked).",
    )
    check.add_argument("model", help="built-in model name or model file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    thresholds = check.add_argument_group("thresholds")
    for flag, field, kind, metavar, text in _THRESHOLDS:
        default = getattr(_DEFAULTS, field)
        thresholds.add_argument(
            flag, dest=field, type=kind, default=default, metavar=metavar,
            help=f"{text} (default {default:g})",
        )  # fmt: skip
    add_request_options(check)


def _checked(
    convert: Callable[[str], float], test: Callable[[float], bool], what: str
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_POSITIVE = _checked(float, lambda v: 0 < v < float("inf"), "a positive number")
_SHARE = _checked(float, lambda v: 0 < v <= 1, "a share between 0 and 1 (e.g. 0.5)")
_FACTOR = _checked(float, lambda v: 1 < v < float("inf"), "a factor above 1")
_COUNT = _checked(int, lambda v: v >= 1, "a whole number of at least 1")
#: flag, HealthSettings field, type, metavar, help.
_THRESHOLDS = (
    ("--vanishing", "vanishing_ratio", _POSITIVE, "R",
     "flag a module whose gradient RMS is below this fraction of the largest module's"),
    ("--exploding", "exploding_ratio", _POSITIVE, "R",
     "flag a module whose gradient RMS is above R times max(1, |loss|); a model "
     "without a loss is seeded with the mean of its outputs, as output.mean() would"),
    ("--growth", "growth_factor", _FACTOR, "F",
     "flag norms that grow by this factor per layer, from the output layers back"),
    ("--growth-layers", "growth_layers", _COUNT, "N", "... for this many layers in a row"),
    ("--dead-relu", "dead_fraction", _SHARE, "SHARE",
     "flag a ReLU with more than this share of dead units (0 for the whole batch)"),
)  # fmt: skip
