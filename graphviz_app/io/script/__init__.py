"""Run a user's script as ``python FILE`` would, on its own thread, and pause it at
each of its backward calls (``output``: its printed text; ``environment``: what
``python FILE`` sets up; ``runner``: the thread and its pauses)."""
