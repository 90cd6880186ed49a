"""The model a command names: a built-in, a ``.py`` file, or any model file, with the
loading flags (``--class``, ``--input``...) of
:func:`~graphviz_app.io.request.add_request_options`."""

from __future__ import annotations

import argparse
from pathlib import Path

from graphviz_app.io.builtin import builtin_models_dir, resolve_model
from graphviz_app.io.request import LoadRequest, request_from_args


def load_request(args: argparse.Namespace) -> LoadRequest:
    """The model file (any format, or a built-in name) and the flags' choices.

    Naming a file is the consent to run it; a pickle also needs --allow-pickle."""
    given = Path(args.model)
    path = given if given.is_file() and given.suffix != ".py" else resolve_model(args.model)
    return request_from_args(path.resolve(), args)  # absolute: a script runs in its folder


def running_line(request: LoadRequest) -> str:
    """What the command line says before it runs a ``.py`` file's code (naming the
    file was the consent): all its top level, or only its definitions; "" for a
    built-in model or a file that is not Python."""
    path = Path(request.path)
    if path.suffix != ".py" or path.parent.resolve() == builtin_models_dir().resolve():
        return ""
    if request.definitions_only:
        return (
            f"graphviz-app: running only the definitions in {path.name} (its imports, "
            "constants, functions and classes; the rest of its top-level code is skipped)"
        )
    return f"graphviz-app: running {path.name} (its top-level code too)"
