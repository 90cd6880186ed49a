"""Our DOT quoting agrees with the ``graphviz`` package's, which it replaced for speed."""

from __future__ import annotations

import graphviz
import pytest

from graphviz_app.core.layout.dot import dot_text, quote

TEXTS = [
    "",
    "n0",
    "n12",
    "_x",
    "-4.2",
    ".42",
    "4.",
    "node",
    "Graph",
    "spam spam",
    "#555555",
    "rounded,filled",
    'we"ird',
    'back\\"slash',
    'two\\\\"quotes"',
    "<b>html-like</b>",
    "line\nbreak",
    "é unicode",
    "tail;->",
    "{<name>}",
    "a:b",
]


@pytest.mark.parametrize("text", TEXTS)
def test_quote_matches_the_graphviz_package(text: str) -> None:
    assert quote(text) == graphviz.quoting.quote(graphviz.nohtml(text))


@pytest.mark.parametrize("text", TEXTS)
def test_dot_text_quotes_as_the_packages_escape_and_nohtml(text: str) -> None:
    theirs = graphviz.nohtml("\n".join(graphviz.escape(line) for line in text.split("\n")))
    assert quote(dot_text(text)) == graphviz.quoting.quote(theirs)
