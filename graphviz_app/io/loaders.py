"""The one entry point for loading a model, whatever the file's format."""

from __future__ import annotations

from graphviz_app.io.model_file import LoadedModel, load_model_file
from graphviz_app.io.request import LoadRequest


def load_model(request: LoadRequest) -> LoadedModel:
    """Load the model ``request`` names, honouring its choices."""
    return load_model_file(request.path)
