"""The model a command names: a built-in, a ``.py`` file, or any model file, with the
loading flags (``--class``, ``--input``...) of
:func:`~graphviz_app.io.request.add_request_options`."""

from __future__ import annotations

import argparse
from pathlib import Path

from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.request import LoadRequest, request_from_args


def load_request(args: argparse.Namespace) -> LoadRequest:
    """The model file (any format, or a built-in name) and the flags' choices.

    Naming a file is the consent to run it; a pickle also needs --allow-pickle."""
    given = Path(args.model)
    path = given if given.is_file() and given.suffix != ".py" else resolve_model(args.model)
    return request_from_args(path.resolve(), args)  # absolute: a script runs in its folder
