"""All of Qt: the window, the graph scene and the worker thread."""
