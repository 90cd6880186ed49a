"""Run a small notebook in a real Jupyter kernel and photograph its walk-through output
for the README (assets/screenshot-notebook.png).

    pip install nbconvert            # for this tool only: the notebook as an HTML page
    python -m tools.notebook_screenshot
    python -m tools.notebook_screenshot --out /tmp/shot.png --step 9

The notebook is executed by nbclient (as the tests do), converted to HTML by nbconvert's
``lab`` template, opened in Debian's chromium through playwright, stepped forward
``--step`` times with the page's own button, and the cells are photographed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CELLS = (
    "import torch\nfrom torch import nn\nimport graphviz_app as gv\n\ntorch.manual_seed(0)\n"
    "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))\n"
    "loss = model(torch.randn(16, 4)).pow(2).mean()",
    "walk = gv.walkthrough(loss, model=model)  # runs loss.backward() for real, recorded\nwalk",
)


def notebook_html(folder: Path) -> Path:
    """Execute the notebook and write it as HTML; return the page."""
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, kernel_name="python3", timeout=300).execute()
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    page = folder / "notebook.html"
    page.write_text(body, encoding="utf-8")
    return page


def photograph(page: Path, out: Path, steps: int) -> None:
    """Open ``page`` in chromium, step the walk-through, save a picture of the cells."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 1150})
        tab.goto(page.as_uri())
        for _ in range(steps):
            tab.click('[data-act="next"]')
        tab.locator(".jp-Notebook").screenshot(path=str(out))
        browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshot-notebook.png")
    parser.add_argument("--step", type=int, default=6, help="steps forward before the shot")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        photograph(notebook_html(Path(folder)), args.out, args.step)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
