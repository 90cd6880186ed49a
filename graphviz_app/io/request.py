"""What the user asked to load: a file and the choices that go with it.

A :class:`LoadRequest` is plain, immutable data: it crosses from the window to the
worker thread, and the window remembers it per file so the next open asks nothing.
"""

from __future__ import annotations

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

    @classmethod
    def of(cls, source: str | Path | LoadRequest) -> LoadRequest:
        """``source`` as a request (a bare path asks for the file's conventions)."""
        return source if isinstance(source, LoadRequest) else cls(str(source))
