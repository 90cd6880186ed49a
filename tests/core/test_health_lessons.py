"""What the gradient lessons claim holds, with torch as the oracle."""

from __future__ import annotations

import copy
import re
import warnings

import pytest
import torch

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.autograd.forward import forward_and_capture
from graphviz_app.core.health.check import diagnose
from graphviz_app.core.health.report import CUT, MODULE_NOT_RUN, HealthReport
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import LoadedModel, import_model_module, load_model_file
from graphviz_app.session import ModelSession


def _report(loaded: LoadedModel) -> HealthReport:
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    return diagnose(run, loaded.model, loaded.name).report


def test_nan_in_backward_has_a_finite_loss_and_anomaly_mode_agrees() -> None:
    loaded = load_model_file(resolve_model("nan_in_backward"))
    report = _report(loaded)
    assert report.first_inf is not None and report.first_inf.node == "SqrtBackward0"
    assert report.first_nan is not None and report.first_nan.node == "MulBackward0"
    assert report.forward_origin is None
    twin = copy.deepcopy(loaded.model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.set_detect_anomaly(True):
            loss = loaded.loss_fn(twin(*loaded.inputs), *loaded.inputs)  # type: ignore[misc]
            assert torch.isfinite(loss)
            with pytest.raises(RuntimeError) as raised:
                loss.backward()
    assert re.search(r"Function 'MulBackward0' returned nan", str(raised.value))


def test_nan_in_backward_one_sgd_step_poisons_the_weights() -> None:
    session = ModelSession()
    model = session.load(resolve_model("nan_in_backward")).model
    first = session.train_step(TrainSettings("SGD", lr=0.1), GraphStyle())[2]
    assert torch.isfinite(torch.tensor(first.loss))
    assert all(torch.isnan(p).all() for p in model.parameters())


def test_nan_in_backward_is_healthy_with_an_epsilon() -> None:
    module = import_model_module(resolve_model("nan_in_backward"))
    module.EPS = 1e-12  # what the lesson asks to try, in a copy of the file
    try:
        model = module.build_model()
        run = forward_and_capture(model, (module.example_inputs(),), module.loss_fn)
        assert diagnose(run, model, "eps").report.healthy
    finally:
        module.EPS = 0.0


def test_detached_branch_names_each_cut_and_the_module_never_called() -> None:
    report = _report(load_model_file(resolve_model("detached_branch")))
    found = {p.name: p for p in report.parameters}
    assert set(found) == {
        "gate.weight",
        "gate.bias",
        "log_temperature",
        "aux_head.weight",
        "aux_head.bias",
    }
    assert found["gate.weight"].reason == CUT and "detach()" in found["gate.weight"].detail
    gate_line = found["gate.weight"].source
    assert gate_line is not None and ".detach()" in gate_line.text
    assert "item()" in found["log_temperature"].detail
    assert found["aux_head.bias"].reason == MODULE_NOT_RUN


def test_vector_jacobian_gives_the_vjp_torch_computes() -> None:
    loaded = load_model_file(resolve_model("vector_jacobian"))
    module = import_model_module(resolve_model("vector_jacobian"))
    (x,) = loaded.inputs
    v = torch.tensor(module.V)
    _, expected = torch.autograd.functional.vjp(copy.deepcopy(loaded.model), x.detach(), v)
    twin = copy.deepcopy(loaded.model)
    twin(x.detach()).backward(gradient=v)  # the same backward, spelled as the lesson says
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    trace = record_backward(run.walk)
    torch.testing.assert_close(x.grad, expected)
    torch.testing.assert_close(loaded.model.fc.weight.grad, twin.fc.weight.grad)
    mul = next(s for s in trace.steps if run.graph.node(s.node_id).name == "MulBackward0")
    assert mul.grad_inputs[0] is not None and mul.grad_inputs[0].preview == tuple(module.V)


def test_double_backward_draws_its_second_order_nodes_and_trains_like_torch() -> None:
    loaded = load_model_file(resolve_model("double_backward"))
    twin = copy.deepcopy(loaded.model)
    x = loaded.inputs[0].detach().requires_grad_()
    loaded.loss_fn(twin(x), x).backward()  # type: ignore[misc]
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    second = {n.name for n in run.graph.nodes if n.grad_order == 2}
    assert {"TanhBackwardBackward0", "MmBackward0"} <= second
    record_backward(run.walk)
    for name, param in loaded.model.named_parameters():
        torch.testing.assert_close(param.grad, twin.get_parameter(name).grad)
