"""The walk-through page in a real browser (Debian's chromium, driven by playwright):
stepping and the slider change what the page shows, as Python computed it, and the
page raises no script error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

import graphviz_app
from graphviz_app.io.walkthrough.steps import TICK, RecordedPass, looks, pass_fills

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed here (apt-get install chromium; CI installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RecordedPass]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    walk = graphviz_app.walkthrough(model(torch.randn(5, 3)).pow(2).mean(), model=model)
    path = walk.save(tmp_path_factory.mktemp("page") / "walk.html")
    return path, RecordedPass(walk.graph, walk.trace, walk.title)


@pytest.fixture(scope="module")
def page(saved):  # type: ignore[no-untyped-def]
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.goto(saved[0].as_uri())
        yield tab, errors
        browser.close()


def _shown(tab) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the page shows now: step, caption, the running node, ticks and counts."""
    return tab.evaluate(
        """() => {
      const root = document.querySelector('.gvw');
      const current = root.querySelector('g.node[data-state="current"]');
      const badges = [...root.querySelectorAll('g.gv-badge text')].map(t => t.textContent);
      return {step: Number(root.dataset.step), caption: root.querySelector('.gvw-caption')
        .textContent, current: current && current.id, badges: badges.sort(),
        labels: root.querySelectorAll('text.gv-label').length};
    }"""
    )


def _expected(recorded: RecordedPass, index: int) -> dict[str, object]:
    shown = list(recorded.views())[index]
    marks = looks(recorded, shown, pass_fills(recorded))
    return {
        "step": index,
        "caption": shown.caption,
        "current": shown.current,
        "badges": sorted(m.badge for m in marks.values() if m.badge),
        "labels": len(shown.labels),
    }


def test_buttons_slider_and_keys_step_as_python_computed(page, saved) -> None:  # type: ignore[no-untyped-def]
    tab, errors = page
    recorded = saved[1]
    last = recorded.count - 1
    assert _shown(tab) == _expected(recorded, 0)
    tab.click('[data-act="next"]')
    tab.click('[data-act="next"]')
    assert _shown(tab) == _expected(recorded, 2)
    tab.click('[data-act="prev"]')
    assert _shown(tab) == _expected(recorded, 1)
    tab.eval_on_selector(
        ".gvw-slider", "(e) => { e.value = 6; e.dispatchEvent(new Event('input')); }"
    )
    assert _shown(tab) == _expected(recorded, 6)
    tab.click('[data-act="last"]')
    assert _shown(tab) == _expected(recorded, last)
    assert _shown(tab)["badges"].count(TICK) == last  # every node ran but the current
    tab.click('[data-act="first"]')
    tab.focus(".gvw")
    tab.keyboard.press("ArrowRight")
    assert _shown(tab)["step"] == 1
    assert "grad =" in tab.inner_text(".gvw-lines")
    assert not errors


def test_play_advances_and_pauses(page) -> None:  # type: ignore[no-untyped-def]
    tab, errors = page
    tab.click('[data-act="first"]')
    tab.click('[data-act="play"]')
    tab.wait_for_function(
        "Number(document.querySelector('.gvw').dataset.step) >= 2", timeout=10_000
    )
    tab.click('[data-act="play"]')
    assert tab.inner_text('[data-act="play"]') == "Play"
    assert not errors


def _sizes(tab) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The graph's drawn width, its size in points (zoom 1), the pane's width, the zoom."""
    return tab.evaluate(
        """() => {
      const root = document.querySelector('.gvw'), svg = root.querySelector('.gvw-graph svg');
      return {drawn: svg.getBoundingClientRect().width, natural: svg.width.baseVal.value,
        pane: root.querySelector('.gvw-graph').clientWidth, zoom: Number(root.dataset.zoom)};
    }"""
    )


def test_the_graph_opens_fitted_to_the_page_and_zooms(page) -> None:  # type: ignore[no-untyped-def]
    tab, errors = page
    tab.set_viewport_size({"width": 1600, "height": 900})
    tab.reload()
    first = _sizes(tab)  # a small graph: grown to the pane (up to 1.6x), not left tiny
    assert first["drawn"] == pytest.approx(first["natural"] * first["zoom"], abs=1)
    assert first["zoom"] > 1 and first["drawn"] <= first["pane"]
    assert first["drawn"] >= min(first["pane"] - 4, 1.6 * first["natural"] - 1)
    tab.click('[data-act="in"]')
    assert _sizes(tab)["zoom"] == pytest.approx(first["zoom"] * 1.25, abs=0.002)
    tab.focus(".gvw")
    tab.keyboard.press("-")
    tab.keyboard.press("-")
    assert _sizes(tab)["zoom"] == pytest.approx(first["zoom"] / 1.25, abs=0.002)
    assert tab.inner_text(".gvw-zoom") == f"{round(_sizes(tab)['zoom'] * 100)}%"
    tab.click('[data-act="fit"]')
    assert _sizes(tab)["zoom"] == pytest.approx(first["zoom"], abs=0.002)
    tab.set_viewport_size({"width": 700, "height": 700})  # fitted: it follows the page
    tab.wait_for_function(f"Number(document.querySelector('.gvw').dataset.zoom) < {first['zoom']}")
    narrow = _sizes(tab)
    assert narrow["zoom"] >= 0.6 and narrow["drawn"] <= max(
        narrow["pane"], 0.6 * narrow["natural"] + 1
    )
    assert not errors
