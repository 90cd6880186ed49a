"""Failures say why, leave no hook or mode behind, and a graph keeps no tensor alive."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.nn.modules import module as nn_module

from graphviz_app.core.autograd.backward import BackwardError, record_backward
from graphviz_app.core.autograd.capture import CaptureError, capture_graph
from graphviz_app.core.autograd.forward import ForwardError, forward_and_capture
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.graph.walk import walk_autograd

GlobalState = tuple[tuple[int, ...], ...]


def global_state() -> GlobalState:
    """Ids of the global module hooks, and the depth of the torch-function mode stack."""
    hook_dicts = (
        nn_module._global_forward_pre_hooks,
        nn_module._global_forward_hooks,
        nn_module._global_forward_hooks_always_called,
        nn_module._global_forward_hooks_with_kwargs,
    )
    return (*(tuple(d) for d in hook_dicts), (torch._C._len_torch_function_stack(),))


def _no_grad(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return layer(x)


def _frozen(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    layer.requires_grad_(False)
    return layer(x)


def _inference(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return layer(x)


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (_no_grad, "torch.no_grad()"),
        (lambda layer, x: layer(x).detach(), ".detach()"),
        (_frozen, "requires_grad=True"),
        (_inference, "inference_mode"),
        (lambda layer, x: layer.weight, "leaf tensor"),
    ],
    ids=["no_grad", "detach", "frozen", "inference_mode", "leaf"],
)
def test_output_without_graph_says_why(
    make: Callable[[nn.Module, torch.Tensor], torch.Tensor], cause: str
) -> None:
    output = make(nn.Linear(3, 2), torch.randn(4, 3))
    with pytest.raises(CaptureError, match="Output 0") as info:
        capture_graph(output)
    assert cause in str(info.value)


def test_bad_second_output_is_named_by_position() -> None:
    x = torch.randn(3, requires_grad=True)
    with pytest.raises(CaptureError, match=r"Output 1 \(shape \(3,\), torch.float32\)"):
        capture_graph([x * 2, x.detach()])


def test_no_outputs_is_a_capture_error() -> None:
    with pytest.raises(CaptureError, match="no output"):
        capture_graph([])


class NoGradInside(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.fc(x)


class ReturnsNumbers(nn.Module):
    def forward(self, x: torch.Tensor) -> dict[str, int]:
        return {"answer": 42}


def test_forward_under_no_grad_is_a_capture_error() -> None:
    with pytest.raises(CaptureError, match="no_grad"):
        forward_and_capture(NoGradInside(), (torch.randn(1, 3),))


def test_forward_without_tensors_is_a_capture_error() -> None:
    with pytest.raises(CaptureError, match="no tensor"):
        forward_and_capture(ReturnsNumbers(), (torch.randn(1, 3),))


class Explodes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(3, 3), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inner(x)
        raise ValueError(f"boom at {tuple(h.shape)}")


def test_forward_error_restores_global_state() -> None:
    before = global_state()
    with pytest.raises(ForwardError) as info:
        forward_and_capture(Explodes(), (torch.randn(2, 3),))
    assert global_state() == before
    error = info.value
    assert error.summary == "The model's forward raised ValueError: boom at (2, 3)"
    assert isinstance(error.__cause__, ValueError)
    assert "boom at (2, 3)" in error.details and "Traceback" in error.details


def test_loss_error_restores_global_state() -> None:
    def bad_loss(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise KeyError("target")

    before = global_state()
    with pytest.raises(ForwardError, match="loss function raised KeyError"):
        forward_and_capture(nn.Linear(3, 1), (torch.randn(2, 3),), bad_loss)
    assert global_state() == before


def test_recorder_installs_then_removes_everything() -> None:
    before = global_state()
    with ForwardRecorder(nn.Linear(2, 2)):
        during = global_state()
    assert during != before  # it did install hooks and a mode: the check can fail
    assert global_state() == before


def test_recorder_reraises_and_cleans_up() -> None:
    before = global_state()
    model = Explodes()
    with pytest.raises(ValueError, match="boom"), ForwardRecorder(model):
        model(torch.randn(2, 3))
    assert global_state() == before


def test_success_restores_global_state() -> None:
    before = global_state()
    forward_and_capture(nn.Linear(3, 1), (torch.randn(2, 3),))
    assert global_state() == before


class BigMiddle(nn.Module):
    """A model whose (4 MB) hidden activation is saved for backward by sin()."""

    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Linear(16, 4096)
        self.hidden: weakref.ref[torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        big = self.wide(x)
        self.hidden = weakref.ref(big)
        return big.sin().sum()


def test_graph_keeps_no_tensor_alive() -> None:
    model = BigMiddle()
    run = forward_and_capture(model, (torch.randn(256, 16),))
    graph, hidden = run.graph, model.hidden
    assert hidden is not None
    gc.collect()
    assert hidden() is not None  # the autograd graph (not ours) holds it so far
    del run, model
    gc.collect()
    assert hidden() is None
    assert len(graph.nodes) > 3 and '"numel": 1048576' in graph.to_json()


def test_an_inplace_change_of_a_saved_tensor_is_explained() -> None:
    w = torch.randn(3, requires_grad=True)
    y = w.sigmoid()  # sigmoid saves its output for backward
    y.mul_(2)  # ...which this changes in place
    with pytest.raises(BackwardError) as caught:
        record_backward(walk_autograd([y.sum()]))
    assert "out of place" in caught.value.summary
    assert "modified by an inplace operation" in caught.value.details
