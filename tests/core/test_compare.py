"""A device or dtype comparison warns when the forward itself is random: two gradient
snapshots on the same device and dtype must agree first."""

from __future__ import annotations

import random

import torch

from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.compare import GradSnapshot, gradients_of, repeat_warning
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import load_model_file
from graphviz_app.session import ModelSession


def _snapshot(**grads: torch.Tensor) -> GradSnapshot:
    return GradSnapshot("cpu", "float32", tuple(grads.items()))


def test_equal_snapshots_need_no_warning_and_different_ones_get_one() -> None:
    a = torch.tensor([3.0, 4.0])
    assert repeat_warning(_snapshot(w=a), _snapshot(w=a.clone())) == ""
    assert repeat_warning(_snapshot(w=a), _snapshot(w=a * (1 + 1e-6))) == ""  # GPU-sized noise
    warning = repeat_warning(_snapshot(w=a), _snapshot(w=torch.tensor([3.0, 0.0])))
    assert warning.startswith("Your forward is not deterministic") and "cpu float32" in warning
    assert "w's gradient differs by 0.8 x its norm" in warning  # |(0, 4)| / |(3, 4)|
    only_one = repeat_warning(_snapshot(w=a, b=a), _snapshot(w=a))
    assert "b got a gradient in only one of them" in only_one


def test_a_random_depth_gives_different_gradients_on_the_same_device() -> None:
    loaded = load_model_file(resolve_model("dynamic_net"))
    loaded.model.rng = random.Random(0)  # type: ignore[assignment]
    depths = random.Random(0)
    assert [depths.randint(1, 4) for _ in range(3)] == [4, 4, 1]
    gradients_of(loaded.model, loaded.inputs, loaded.loss_fn)  # depth 4; then 4 and 1
    first = gradients_of(loaded.model, loaded.inputs, loaded.loss_fn)
    second = gradients_of(loaded.model, loaded.inputs, loaded.loss_fn)
    first_grads, second_grads = dict(first.grads), dict(second.grads)
    assert not torch.equal(first_grads["input.weight"], second_grads["input.weight"])
    assert repeat_warning(first, second)


def _switch(name: str) -> str:
    session = ModelSession()
    session.open(resolve_model(name), GraphStyle())
    result = session.set_device("cpu", "float64", GraphStyle())
    assert result.ok and result.comparison is not None
    return result.comparison.warning


def test_switching_a_random_depth_net_warns_and_a_plain_net_does_not() -> None:
    warning = _switch("dynamic_net")
    assert warning.startswith("Your forward is not deterministic")
    assert "cpu float32" in warning and "Seed the randomness" in warning
    assert _switch("two_layer_net") == ""
