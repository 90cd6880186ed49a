"""Every lesson has its parts, and the README's lessons index covers the 18 concepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphviz_app.io.builtin import list_builtin_models
from graphviz_app.io.model_file import load_model_file

README = Path(__file__).resolve().parents[2] / "README.md"
MODELS = {entry.name: entry.path for entry in list_builtin_models()}
CONCEPTS = (
    "leaf vs non-leaf and retain_grad",
    ".grad accumulation without zero_grad",
    "retain_graph",
    "no_grad / detach / .data",
    "views vs copies",
    "in-place ops",
    "custom Function",
    "dynamic graphs and weight sharing",
    "CrossEntropy = LogSoftmax + NLL",
    "nn.Module / Sequential parameters",
    "optimizer steps",
    "train vs eval",
    "devices",
    "float32 vs float64 gradient checks",
    "NaN in backward with a finite forward",
    "parameters cut off from the loss",
    "non-scalar outputs and backward(gradient=v)",
    "higher-order gradients (create_graph=True)",
)
BACKTICKED = re.compile(r"`([^`]+)`")


def lessons_table(readme: str) -> list[list[str]]:
    """The rows (cells stripped) of the table between the lessons markers."""
    start, end = readme.index("<!-- lessons -->"), readme.index("<!-- /lessons -->")
    rows = [line for line in readme[start:end].splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    return [row for row in cells[1:] if not set(row[0]) <= {"-", " ", ":"}]  # no header


def _doc(name: str) -> str:
    return load_model_file(MODELS[name]).doc


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_lesson_says_what_to_look_at_what_to_try_and_asks_a_question(name: str) -> None:
    doc = _doc(name)
    assert "**What to look at.**" in doc
    assert "**Try" in doc
    question = doc.split("**Question.**", 1)[1] if "**Question.**" in doc else ""
    assert "?" in question, f"{name}'s lesson asks no question"


def test_the_lessons_index_maps_each_concept_to_built_in_models_and_clicks() -> None:
    rows = lessons_table(README.read_text(encoding="utf-8"))
    concepts = [row[0].replace("`", "") for row in rows]
    assert sorted(concepts) == sorted(CONCEPTS)
    for concept, models, clicks in (row[:3] for row in rows):
        names = BACKTICKED.findall(models)
        assert names, f"no model named for {concept}"
        assert set(names) <= set(MODELS), f"{concept}: {set(names) - set(MODELS)} not built in"
        assert len(clicks) > 20, f"{concept}: say what to click"


def test_the_table_parser_skips_the_header_and_its_rule() -> None:
    text = (
        "<!-- lessons -->\n| a | b | c |\n| --- | --- | --- |\n| x | `y` | z |\n<!-- /lessons -->"
    )
    assert lessons_table(text) == [["x", "`y`", "z"]]
