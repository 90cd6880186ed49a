"""A device or dtype switch never changes training and never leaves a model half-way:
failures anywhere in it (a cancel too) put the model back, with a clear message."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import torch

import graphviz_app.core.training.state as train_loop
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.compare import gradients_of
from graphviz_app.core.training.losses import TrainingError
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import list_builtin_models, resolve_model
from graphviz_app.session import ModelSession

MISMATCHED_BATCHES = """
import torch
from torch import nn

def build_model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)

def example_inputs():
    return torch.randn(4, 3)

def make_batch(step):
    generator = torch.Generator().manual_seed(step)
    return torch.randn(8, 3, generator=generator), torch.arange(8) % 2
"""


class Stopped(BaseException):
    """What the window's cancel raises in a job (``Interrupted`` is a BaseException)."""


def _open(source: str | Path = "two_layer_net") -> ModelSession:
    session = ModelSession()
    path = resolve_model(source) if isinstance(source, str) else source
    session.open(path, GraphStyle())
    return session


def _dtypes(session: ModelSession) -> set[torch.dtype]:
    return {p.dtype for p in session.training.model.parameters()}


def test_a_cancel_in_the_middle_of_a_move_puts_every_layer_back(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()
    real_move = train_loop.move_model
    calls = []

    def move_then_stop(model, optimizer, device, dtype):  # type: ignore[no-untyped-def]
        calls.append(dtype)
        if len(calls) == 1:  # the first layer moves, then the user cancels
            next(iter(model.children())).to(dtype=dtype)
            raise Stopped
        return real_move(model, optimizer, device, dtype)

    monkeypatch.setattr(train_loop, "move_model", move_then_stop)
    with pytest.raises(Stopped):
        session.set_device("cpu", "float64", GraphStyle())
    assert calls[0] == torch.float64 and calls[-1] == torch.float32  # moved back
    assert _dtypes(session) == {torch.float32}
    assert (session.training.device, session.training.dtype) == ("cpu", "float32")
    assert session.train_one(TrainSettings(), GraphStyle()).record.loss > 0  # still trains


def test_a_failure_before_the_move_is_a_message_not_an_exception(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")

    monkeypatch.setattr("graphviz_app.session.devices.gradients_of", out_of_memory)
    result = session.set_device("cpu", "float64", GraphStyle())
    assert not result.ok and "ran out of memory" in result.error
    assert "Back on cpu in float32" in result.error and "OutOfMemoryError" in result.details
    assert (result.device, result.dtype) == ("cpu", "float32") and result.picture is not None
    assert _dtypes(session) == {torch.float32}


def test_any_other_error_falls_back_too(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()

    def broken(*args: object, **kwargs: object) -> None:
        raise AssertionError("Torch not compiled with CUDA enabled")

    monkeypatch.setattr(ModelSession, "backward", broken)
    result = session.set_device("cpu", "float64", GraphStyle())
    assert not result.ok and "Torch not compiled with CUDA enabled" in result.error
    assert _dtypes(session) == {torch.float32}


def test_the_comparison_uses_one_batch_with_its_own_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mismatch.py"
    path.write_text(textwrap.dedent(MISMATCHED_BATCHES))
    session = _open(path)
    session.training.configure(TrainSettings(loss="CrossEntropy"))
    result = session.set_device("cpu", "float64", GraphStyle())
    assert result.ok and result.comparison is not None
    assert result.comparison.batch == "make_batch(0)"
    model = session.training.model
    x, y = torch.randn(8, 3, generator=torch.Generator().manual_seed(0)), torch.arange(8) % 2
    loss = lambda out, *_: torch.nn.functional.cross_entropy(out, y)  # noqa: E731
    expected = gradients_of(model, (x.double(),), loss)
    for (name, grad), diff in zip(expected.grads, result.comparison.params, strict=True):
        assert diff.name == name and diff.norm_after == pytest.approx(float(grad.norm()), rel=1e-12)


def test_a_switch_keeps_accumulated_gradients_and_batch_norm_statistics() -> None:
    session = _open("train_vs_eval")
    settings = TrainSettings(zero_grad=False)
    for _ in range(2):
        session.train_one(settings, GraphStyle())
    model = session.training.model
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}  # type: ignore[union-attr]
    stats = {n: b.clone() for n, b in model.named_buffers()}
    assert session.set_device("cpu", "float64", GraphStyle()).ok
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.dtype == torch.float64
        assert torch.equal(param.grad, grads[name].double())
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, stats[name].to(buffer.dtype))


def test_out_of_memory_in_a_training_step_says_what_to_do(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 4 GiB")

    monkeypatch.setattr(ModelSession, "backward", out_of_memory)
    with pytest.raises(TrainingError, match=r"ran out of memory .* smaller batch"):
        session.train_one(TrainSettings(), GraphStyle())


@pytest.mark.parametrize("name", [m.name for m in list_builtin_models()])
def test_every_built_in_model_switches_to_float64_and_trains(name: str) -> None:
    session = _open(name)
    if not list(session.training.model.parameters()):
        pytest.skip(f"{name} has no parameters")
    result = session.set_device("cpu", "float64", GraphStyle())
    assert result.ok, result.error
    assert _dtypes(session) == {torch.float64}
    record = session.train_one(TrainSettings(lr=0.01), GraphStyle()).record
    assert math.isfinite(record.loss)


def test_a_cancel_after_the_new_forward_keeps_the_previous_graph(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()
    graph = session.run

    def stopped(*args: object, **kwargs: object) -> None:
        raise Stopped

    monkeypatch.setattr(ModelSession, "backward", stopped)  # after the float64 forward
    with pytest.raises(Stopped):
        session.set_device("cpu", "float64", GraphStyle())
    assert session.run is graph and _dtypes(session) == {torch.float32}


def test_gradients_left_by_a_step_survive_a_switch_whatever_zero_grad_says() -> None:
    session = _open()
    session.train_one(TrainSettings(), GraphStyle())  # zero_grad on: .grad is this step's
    model = session.training.model
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}  # type: ignore[union-attr]
    assert session.set_device("cpu", "float64", GraphStyle()).ok
    for name, param in model.named_parameters():
        assert torch.equal(param.grad, grads[name].double())  # type: ignore[arg-type]
