"""The one entry point for loading a model, whatever the file's format.

:func:`load_model` detects the format from the file's content (not only its name)
and hands the request to the loader registered for it: one module per format.
"""

from __future__ import annotations

from graphviz_app.io.loaders import exported, python, torchscript
from graphviz_app.io.loaders import state_dict as state_dict_loader
from graphviz_app.io.loaders.detect import FileFormat, detect_format
from graphviz_app.io.loaders.registry import Loader, loader_for, register
from graphviz_app.io.model_file import LoadedModel
from graphviz_app.io.request import LoadRequest

__all__ = ["FileFormat", "Loader", "detect_format", "load_model", "loader_for", "register"]

for _module in (python, torchscript, exported, state_dict_loader):
    _module.register_loaders()


def load_model(request: LoadRequest) -> LoadedModel:
    """Load the model ``request`` names, honouring its choices."""
    return loader_for(detect_format(request.path))(request)
