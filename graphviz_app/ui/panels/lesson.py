"""The Lesson panel: the open model's lesson (its docstring, in Markdown).

Links written ``[text](node:NAME)`` select and centre the node called NAME (a
parameter such as ``fc1.weight`` or a backward class such as ``AddmmBackward0``).
"""

from __future__ import annotations

import re

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from graphviz_app.core.graph.records import AutogradGraph

NODE_SCHEME = "node"


class LessonView(QTextBrowser):
    """Shows a lesson; clicking a node link asks for that node."""

    node_requested = Signal(str)  # a node's title (leaf name or class name)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)
        self.markdown = ""
        self.guesses: tuple[str, ...] = ()
        self.link_colour = ""
        self.show_lesson("")

    def show_lesson(self, markdown: str, guesses: tuple[str, ...] = ()) -> None:
        """Show ``markdown`` (a model's docstring; a note when there is none), after
        what opening its file guessed, if anything, and how to change it."""
        self.markdown, self.guesses = markdown, guesses
        lesson = markdown or "_This model has no lesson: its file has no docstring._"
        self.setMarkdown(f"{guesses_note(guesses)}\n\n{lesson}" if guesses else lesson)
        if self.link_colour:
            self._colour_links()

    def set_link_colour(self, colour: str) -> None:
        """Draw links in ``colour`` (the theme's)."""
        self.link_colour = colour
        self.show_lesson(self.markdown, self.guesses)

    def _colour_links(self) -> None:
        # Markdown import bakes the application palette's link colour into each link.
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().isAnchor():
                    cursor = QTextCursor(self.document())
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    form = fragment.charFormat()
                    form.setForeground(QColor(self.link_colour))
                    cursor.setCharFormat(form)
                it += 1
            block = block.next()

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == NODE_SCHEME:
            self.node_requested.emit(url.path())


def guesses_note(guesses: tuple[str, ...]) -> str:
    """The Markdown that says what opening a file guessed (its class, arguments and
    input, each with why) and where to change it."""
    items = "\n".join(f"- {_escaped(guess)}" for guess in guesses)
    return (
        "**Opened with guesses.** The file does not say all a model needs, so these "
        f"were guessed:\n\n{items}\n\nChange them with **File > Change class, arguments "
        "and inputs...**\n\n---"
    )


def _escaped(text: str) -> str:
    """``text`` shown as it is in Markdown (``*``, ``_``, ``[``... are not markup)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~-])", r"\\\1", text)


def find_node(graph: AutogradGraph, title: str) -> str | None:
    """The id of the first node whose leaf name or class name is ``title``."""
    for node in graph.nodes:
        if title in (node.leaf_name, node.name):
            return node.id
    return None
