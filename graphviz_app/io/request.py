"""What the user asked to load: a file and the choices that go with it.

A :class:`LoadRequest` is plain, immutable data: it crosses from the window to the
worker thread, and the window remembers it per file so the next open asks nothing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadRequest:
    """A model file plus the choices needed when it does not follow the conventions.

    Every field but ``path`` is optional: a ``.py`` file with ``build_model()`` and
    ``example_inputs()`` needs nothing else.
    """

    path: str
    class_name: str = ""  # the nn.Module subclass to build, for files without build_model()
    init_args: str = ""  # constructor arguments as a Python literal: "(1, 2)", "{'n': 3}"
    input_spec: str = ""  # "1x3x32x32:float32"; several inputs separated by ";"
    definitions_only: bool = False  # run only imports, constants, defs and classes
    architecture: str = ""  # a state_dict's model: the .py file that builds it
    allow_pickle: bool = False  # the user agreed to unpickle (run code from) the file
    structure_only: bool = False  # build on the meta device: structure, no values
    backward_call: int = 1  # a script: show its Nth backward call (it runs on to it)
    lenient: bool = False  # run the top level but loops, skipping what fails (a fallback)

    @classmethod
    def of(cls, source: str | Path | LoadRequest) -> LoadRequest:
        """``source`` as a request (a bare path asks for the file's conventions)."""
        return source if isinstance(source, LoadRequest) else cls(str(source))


#: ``graphviz-app export`` flags that fill a request: flag, request field, metavar
#: (None for an on/off switch), help.
_FLAGS: tuple[tuple[str, str, str | None, str], ...] = (
    (
        "--class",
        "class_name",
        "NAME",
        "the nn.Module class to build, for a .py file without build_model()",
    ),
    (
        "--args",
        "init_args",
        "ARGS",
        'constructor arguments as Python literals: "(1, 2)", '
        '"{\'hidden\': 16}" or "1, 2, hidden=16"',
    ),
    (
        "--input",
        "input_spec",
        "SPEC",
        'input shapes and dtypes: "1x3x32x32:float32", token '
        "ids \"4x16:int64[0,1000)\", several separated by ';'",
    ),
    (
        "--definitions-only",
        "definitions_only",
        None,
        "run only the file's imports, "
        "constants, functions and classes (for scripts that train at top level)",
    ),
    (
        "--architecture",
        "architecture",
        "FILE",
        "the .py file that builds the model a state_dict or .safetensors file belongs to",
    ),
    (
        "--allow-pickle",
        "allow_pickle",
        None,
        "load a pickled model (torch.save(model)): "
        "this runs code from the file; use only for files you trust",
    ),
    (
        "--structure-only",
        "structure_only",
        None,
        "build the model on the meta device: the "
        "graph without values (for models too large for memory)",
    ),
)


#: Seconds a script may run without reaching its next backward call (``--time-limit``).
SCRIPT_TIME_LIMIT_S = 60.0


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """The command-line flags that fill a :class:`LoadRequest` (``graphviz-app export``)."""
    group = parser.add_argument_group("loading the model file")
    for flag, field, metavar, text in _FLAGS:
        if metavar is None:
            group.add_argument(flag, dest=field, action="store_true", help=text)
        else:
            group.add_argument(flag, dest=field, default="", metavar=metavar, help=text)
    scripts = parser.add_argument_group(
        "scripts (a .py that calls backward runs as python FILE would, up to that call) "
        "and model code that never ends"
    )
    scripts.add_argument(
        "--backward-call",
        type=int,
        default=1,
        metavar="N",
        help="show (or check) the script's Nth backward call (default: its first)",
    )
    scripts.add_argument(
        "--time-limit",
        type=float,
        default=SCRIPT_TIME_LIMIT_S,
        metavar="SECONDS",
        help="stop model code stuck in a loop: a model that has not loaded and run its "
        "forward, or a script that has not reached its next backward call, within this "
        f"many seconds (default {SCRIPT_TIME_LIMIT_S:g}; 0: no limit)",
    )


def request_from_args(path: str | Path, args: argparse.Namespace) -> LoadRequest:
    """The request the command-line flags of :func:`add_request_options` describe."""
    return LoadRequest(
        path=str(path),
        class_name=getattr(args, "class_name", ""),
        init_args=getattr(args, "init_args", ""),
        input_spec=getattr(args, "input_spec", ""),
        definitions_only=getattr(args, "definitions_only", False),
        architecture=getattr(args, "architecture", ""),
        allow_pickle=getattr(args, "allow_pickle", False),
        structure_only=getattr(args, "structure_only", False),
        backward_call=getattr(args, "backward_call", 1),
    )
