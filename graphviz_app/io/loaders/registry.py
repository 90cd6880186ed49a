"""Which loader reads which format."""

from __future__ import annotations

from collections.abc import Callable

from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest

Loader = Callable[[LoadRequest], LoadedModel]
_LOADERS: dict[str, Loader] = {}


def register(fmt: str, loader: Loader) -> None:
    """Make ``loader`` the one for ``fmt`` (a :class:`~.detect.FileFormat` value)."""
    _LOADERS[fmt] = loader


def loader_for(fmt: str) -> Loader:
    """The loader registered for ``fmt``."""
    try:
        return _LOADERS[fmt]
    except KeyError:
        raise ModelFileError(f"No loader reads {fmt} files.") from None
