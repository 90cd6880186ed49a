"""A real notebook in a real Jupyter kernel (nbclient + ipykernel): what a user sees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

SETUP = """
import sys, torch
from torch import nn
import graphviz_app as gv
torch.manual_seed(0)
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(-3.0, requires_grad=True)
c = torch.tensor(10.0, requires_grad=True)
f = torch.tensor(-2.0, requires_grad=True)
L = (a * b + c) * f
"""
DRAW = "gv.draw(L, grads=True)"
WALKTHROUGH = """
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
x = torch.randn(16, 4)
expected = torch.autograd.grad(model(x).pow(2).mean(), list(model.parameters()))
walk = gv.walkthrough(model(x).pow(2).mean(), model=model)
assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), expected))
walk
"""
WATCH = """
opt = torch.optim.SGD(model.parameters(), lr=0.05)
norms = []
with gv.watch(model) as run:
    for step in range(5):
        opt.zero_grad()
        loss = model(torch.randn(16, 4)).pow(2).mean()
        loss.backward()
        norms.append({n: p.grad.norm().item() for n, p in model.named_parameters()})
        opt.step()
assert [r.grad_norms for r in run.records] == norms
print("recorded", len(run.records), "steps")
"""
STARTED = """
started = gv.watch(model)
started.start()
"""  # the cell's result is the watch its live view shows already
LATER = """
for step in range(2):
    model(torch.randn(16, 4)).pow(2).mean().backward()
started.stop()
started
"""
NO_QT = "print('qt modules:', sorted(m for m in sys.modules if m.startswith('PySide6')))"
NETWORK = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|<script[^>]+src=|<link |@import""")


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("notebook")
    cells = [
        nbformat.v4.new_code_cell(code)
        for code in (SETUP, DRAW, WALKTHROUGH, WATCH, NO_QT, STARTED, LATER)
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    nbformat.write(notebook, str(folder / "api.ipynb"))  # as a user would save it
    return notebook, folder / "api.ipynb"


def _outputs(notebook, index: int) -> list[dict]:  # type: ignore[no-untyped-def]
    outputs = notebook.cells[index].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, "\n".join(errors[0].traceback)
    return outputs


def _data(notebook, index: int, mime: str) -> str:  # type: ignore[no-untyped-def]
    found = [o.data[mime] for o in _outputs(notebook, index) if mime in o.get("data", {})]
    assert found, f"cell {index} displayed no {mime}"
    return str(found[-1])


def test_draw_displays_an_svg(executed) -> None:  # type: ignore[no-untyped-def]
    notebook, _ = executed
    svg = _data(notebook, 1, "image/svg+xml")
    assert svg.startswith("<svg") and ">a</text>" in svg and "grad [" in svg


def test_walkthrough_displays_html_that_needs_no_network(executed) -> None:  # type: ignore[no-untyped-def]
    notebook, _ = executed
    page = _data(notebook, 2, "text/html")  # the cell's asserts on .grad passed too
    assert page.count("<svg") == 1 and '"steps":[' in page and "<script>" in page
    assert not NETWORK.search(page)


def test_watch_records_torchs_norms_and_shows_a_live_view(executed) -> None:  # type: ignore[no-untyped-def]
    notebook, _ = executed
    outputs = _outputs(notebook, 3)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "recorded 5 steps" in text
    view = _data(notebook, 3, "text/html")  # updated in place: the last state
    assert "5 steps" in view and "(stopped)" in view and "<svg" in view


def test_no_qt_was_imported_and_the_saved_notebook_keeps_it_all(executed) -> None:  # type: ignore[no-untyped-def]
    notebook, path = executed
    assert "qt modules: []" in "".join(o.get("text", "") for o in _outputs(notebook, 4))
    saved = json.loads(Path(path).read_text())
    assert saved["cells"][2]["outputs"][-1]["data"]["text/html"]


def test_a_watch_shows_its_picture_once_per_cell(executed) -> None:  # type: ignore[no-untyped-def]
    notebook, _ = executed
    outputs = _outputs(notebook, 5)
    pictures = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(pictures) == 1 and pictures[0].output_type == "display_data"  # the live view
    result = [o for o in outputs if o.output_type == "execute_result"]
    assert (
        len(result) == 1 and "<Watch Sequential: 0 steps, active>" in result[0].data["text/plain"]
    )
    later = _data(notebook, 6, "text/html")  # asked for in a later cell: the picture
    assert "2 steps" in later and "(stopped)" in later
