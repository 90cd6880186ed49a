"""walkthrough(): the real backward, recorded, as one self-contained interactive page."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import graphviz_app
from graphviz_app.core.autograd.backward import BackwardError


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))


def test_grad_equals_torchs_own_backward() -> None:
    model, x = _model(), torch.randn(7, 3)
    twin = copy.deepcopy(model)
    expected = torch.autograd.grad(twin(x).pow(2).mean(), list(twin.parameters()))
    walk = graphviz_app.walkthrough(model(x).pow(2).mean(), model=model)
    for param, grad in zip(model.parameters(), expected, strict=True):
        assert torch.equal(param.grad, grad)  # the very backward torch runs: bit for bit
    names = [walk.graph.node(s.node_id).title for s in walk.steps]
    assert names[0] == "MeanBackward0" and "0.weight" in names
    assert len(names) == len(walk.graph.nodes) - 1  # every node but the output ran once


def test_a_non_scalar_root_needs_a_gradient_as_in_torch() -> None:
    model, x = _model(), torch.randn(4, 3)
    out = model(x)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar") as err:
        graphviz_app.walkthrough(out, model=model)
    assert "gradient=" in str(err.value) and "(4, 2)" in str(err.value)
    assert all(p.grad is None for p in model.parameters())  # nothing ran
    seed = torch.randn(4, 2)
    graphviz_app.walkthrough(out, model=model, gradient=seed)
    twin = copy.deepcopy(model)
    for p in twin.parameters():
        p.grad = None
    twin(x).backward(seed)
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(mine.grad, theirs.grad)


def test_retain_graph_as_in_torch() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp() * w).sum()
    graphviz_app.walkthrough(loss, retain_graph=True)
    graphviz_app.walkthrough(loss)  # retained: a second pass works and accumulates
    assert torch.allclose(w.grad, 2 * (w.exp() * (w + 1)).detach())
    with pytest.raises(BackwardError, match="twice through the same graph"):
        graphviz_app.walkthrough(loss)


def test_the_page_is_one_svg_and_its_steps_without_network(tmp_path: Path) -> None:
    model = _model()
    walk = graphviz_app.walkthrough(model(torch.randn(2, 3)).sum(), model=model)
    page = walk.save(tmp_path / "walk.html").read_text()
    assert page.count("<svg") == 1 and page.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"<script[^>]+src=|<link |@import|url\(\s*['\"]?http", page)
    data = json.loads(re.search(r'class="gvw-data">(.*?)</script>', page, re.S)[1])
    assert len(data["steps"]) == len(walk.steps)
    rule = data["steps"][0]["rule"]
    assert rule["title"] == "SumBackward0" and rule["lines"][0] == "grad = [1]"
    fragment = walk._repr_mimebundle_()["text/html"]
    assert fragment.startswith('<div class="gvw"') and "<?xml" not in fragment


def test_saving_to_a_folder_writes_one_svg_per_step_and_the_page(tmp_path: Path) -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    walk = graphviz_app.walkthrough((w * w).sum())
    page = walk.save(tmp_path / "steps")
    assert page == tmp_path / "steps" / "index.html"
    frames = sorted((tmp_path / "steps").glob("step_*.svg"))
    assert len(frames) == len(walk.steps) == 3
    last = frames[-1].read_text()
    assert last.count(">\u2713</text>") == 2  # SumBackward0 and MulBackward0 are done
    assert "AccumulateGrad</text>" in last and 'stroke="#e69f00"' in last  # running now
