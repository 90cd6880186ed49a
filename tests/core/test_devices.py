"""Devices and dtypes: listing, moving a training state, comparing gradients."""

from __future__ import annotations

import pytest
import torch

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.runtime.devices import list_devices, move_model, supported_dtypes
from graphviz_app.core.training.compare import compare_grads, snapshot_grads
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.session import ModelSession

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _open(name: str = "two_layer_net") -> ModelSession:
    session = ModelSession()
    session.open(resolve_model(name), GraphStyle())
    return session


def test_the_cpu_is_always_listed_and_unavailable_devices_say_why() -> None:
    devices = list_devices()
    assert devices[0].name == "cpu" and devices[0].available
    assert {"float32", "float64"} <= set(devices[0].dtypes)
    for device in devices:
        assert device.available or device.reason
    names = [d.name for d in devices]
    assert ("mps" in names) and any(n.startswith("cuda") for n in names)


def test_switching_to_float64_makes_every_parameter_and_gradient_float64() -> None:
    session = _open()
    result = session.set_device("cpu", "float64", GraphStyle())
    assert result.ok and result.picture is not None and result.backward is not None
    model = session.loaded.model  # type: ignore[union-attr]
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert {p.grad.dtype for p in model.parameters()} == {torch.float64}  # type: ignore[union-attr]
    tensors = [n.tensor for n in result.picture.graph.nodes if n.tensor is not None]
    assert tensors and {t.dtype for t in tensors} == {"float64"}


def test_the_comparison_numbers_are_the_differences_of_the_two_runs() -> None:
    session = _open()
    model, loaded = session.loaded.model, session.loaded  # type: ignore[union-attr]
    loss_fn = loaded.loss_fn  # type: ignore[union-attr]
    x, _ = loaded.make_batch(0)  # type: ignore[union-attr,misc]  # the next step's batch
    params = list(model.parameters())
    g32 = torch.autograd.grad(loss_fn(model(x), x), params)  # type: ignore[misc]
    model64 = _open().loaded.model.double()  # type: ignore[union-attr]
    g64 = torch.autograd.grad(loss_fn(model64(x.double()), x), list(model64.parameters()))  # type: ignore[misc]
    result = session.set_device("cpu", "float64", GraphStyle())
    assert result.comparison is not None
    assert result.comparison.before == "cpu float32" and result.comparison.after == "cpu float64"
    assert result.comparison.batch == "make_batch(0)"
    for diff, a, b in zip(result.comparison.params, g32, g64, strict=True):
        delta = (a.double() - b).abs()
        assert diff.max_abs == pytest.approx(float(delta.max()), rel=1e-9, abs=1e-15)
        rel = delta / torch.maximum(a.double().abs(), b.abs())
        assert diff.max_rel == pytest.approx(float(rel.nan_to_num(0.0).max()), rel=1e-9)
    assert 0 < result.comparison.max_rel < 1e-3  # float32 agrees to a few digits


def test_compare_by_hand() -> None:
    named = [("w", torch.zeros(3))]
    before = snapshot_grads(named, [torch.tensor([1.0, 2.0, 0.0])])
    after = snapshot_grads(named, [torch.tensor([1.5, 2.0, 0.0])])
    (diff,) = compare_grads(before, after).params
    assert (diff.max_abs, diff.max_rel) == (0.5, pytest.approx(1 / 3))


def test_the_optimizer_state_moves_with_the_model() -> None:
    session = _open()
    session.train_one(TrainSettings("Adam", lr=0.01), GraphStyle())
    state = session.training.trainer.optimizer.state
    moments = {id(p): s["exp_avg"].clone() for p, s in state.items()}
    assert session.set_device("cpu", "float64", GraphStyle()).ok
    moved = session.training.trainer.optimizer
    for param, values in moved.state.items():
        assert values["exp_avg"].dtype == torch.float64
        assert torch.equal(values["exp_avg"], moments[id(param)].double())
    assert moved.param_groups[0]["lr"] == 0.01
    session.train_one(TrainSettings("Adam", lr=0.01), GraphStyle())  # and keeps training


def test_a_failed_move_falls_back_to_where_the_model_was(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = _open()
    session.set_device("cpu", "float64", GraphStyle())

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(ModelSession, "backward", out_of_memory)  # the run on the new dtype
    result = session.set_device("cpu", "float32", GraphStyle())
    assert not result.ok and "ran out of memory" in result.error
    assert (result.device, result.dtype) == ("cpu", "float64")
    assert {p.dtype for p in session.loaded.model.parameters()} == {torch.float64}  # type: ignore[union-attr]
    assert result.picture is not None  # forward ran again where the model is


def test_an_unknown_device_is_a_clear_message_not_a_crash() -> None:
    session = _open()
    result = session.set_device("nosuchdevice", "float32", GraphStyle())
    assert not result.ok and "nosuchdevice" in result.error
    assert {str(p.device) for p in session.loaded.model.parameters()} == {"cpu"}  # type: ignore[union-attr]


def test_move_model_without_an_optimizer() -> None:
    model = torch.nn.Linear(2, 2)
    assert move_model(model, None, "cpu", torch.float64) is None
    assert model.weight.dtype == torch.float64


def test_half_precisions_are_listed_only_when_the_cpu_trains_in_them() -> None:
    assert supported_dtypes("cpu")[:2] == ("float32", "float64")


@pytest.mark.cuda
@cuda
def test_cuda_switch_moves_everything_and_matches_the_cpu() -> None:
    session = _open()
    session.train_one(TrainSettings("SGD", lr=0.1, momentum=0.9), GraphStyle())
    result = session.set_device("cuda:0", "float32", GraphStyle())
    assert result.ok, result.error
    model = session.loaded.model  # type: ignore[union-attr]
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert {p.grad.device.type for p in model.parameters()} == {"cuda"}  # type: ignore[union-attr]
    buffers = session.training.trainer.optimizer.state.values()
    assert all(s["momentum_buffer"].device.type == "cuda" for s in buffers)
    assert result.comparison is not None and result.comparison.max_rel < 1e-3
    devices = {n.tensor.device for n in result.picture.graph.nodes if n.tensor}  # type: ignore[union-attr]
    assert devices == {"cuda:0"}
    session.train_one(TrainSettings("SGD", lr=0.1, momentum=0.9), GraphStyle())
    assert session.set_device("cpu", "float64", GraphStyle()).ok


@pytest.mark.cuda
@cuda
def test_cuda_is_listed_with_name_and_memory() -> None:
    device = next(d for d in list_devices() if d.name == "cuda:0")
    assert device.available and device.memory_bytes > 0 and "GiB" in device.label
