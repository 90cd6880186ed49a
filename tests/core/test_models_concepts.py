"""What the lessons claim about their models holds, with torch as the oracle."""

from __future__ import annotations

import warnings
from types import ModuleType

import pytest
import torch

from graphviz_app.core.autograd.backward import BackwardError, BackwardTrace, record_backward
from graphviz_app.core.autograd.forward import ForwardRun, forward_and_capture
from graphviz_app.core.graph.records import Node
from graphviz_app.core.layout.style import GraphStyle, node_label_lines
from graphviz_app.core.training.trainer import TrainSettings
from graphviz_app.io.builtin import resolve_model
from graphviz_app.io.model_file import LoadedModel, import_model_module, load_model_file
from graphviz_app.session import ModelSession


def _module(name: str) -> ModuleType:
    return import_model_module(resolve_model(name))


def _run(name: str) -> tuple[LoadedModel, ForwardRun]:
    loaded = load_model_file(resolve_model(name))
    return loaded, forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)


def _nodes(run: ForwardRun, title: str) -> list[Node]:
    return [n for n in run.graph.nodes if title in (n.name, n.leaf_name)]


def _grad_in(trace: BackwardTrace, node: Node) -> torch.Tensor:
    """The gradient that reached ``node``, rebuilt from the recorded preview."""
    step = trace.step_for(node.id)
    assert step is not None and step.grad_outputs[0] is not None
    info = step.grad_outputs[0]
    return torch.tensor(info.preview).view(info.shape)


def test_a_second_backward_needs_retain_graph_and_then_doubles_grad() -> None:
    loaded, run = _run("autograd_basics")
    record_backward(run.walk)
    with pytest.raises(BackwardError, match="twice"):
        record_backward(run.walk)
    w = loaded.model.w
    loaded.model.zero_grad(set_to_none=True)
    run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    record_backward(run.walk, retain_graph=True)
    once = w.grad.clone()
    second = record_backward(run.walk, retain_graph=True)
    torch.testing.assert_close(w.grad, 2 * once)
    (w_node,) = _nodes(run, "w")
    step = second.step_for(w_node.id)
    assert step is not None and step.leaf_grad_after is not None
    assert step.leaf_grad_after.stats.norm == pytest.approx(float(2 * once.norm()), rel=1e-5)


def test_four_ways_give_the_same_gradients_and_the_manual_way_no_graph() -> None:
    loaded, run = _run("two_layer_four_ways")
    assert not [n for n in run.graph.nodes if (n.leaf_name or "").startswith("manual.")]
    (stack,) = _nodes(run, "StackBackward0")
    assert len(run.graph.in_edges(stack.id)) == 3  # four losses stacked, one is a constant
    run.roots[0].backward()
    model, (x,) = loaded.model, loaded.inputs
    by_hand = model.manual.grads_by_hand(x, _module("two_layer_four_ways").target_of(x))
    for w, manual in zip((model.autograd.w1, model.autograd.w2), by_hand, strict=True):
        torch.testing.assert_close(w.grad, manual)
    torch.testing.assert_close(model.custom.w1.grad, model.autograd.w1.grad)
    torch.testing.assert_close(model.sequential[0].weight.grad, model.autograd.w1.grad.t())
    torch.testing.assert_close(model.sequential[2].weight.grad, model.autograd.w2.grad.t())


def test_training_four_ways_moves_the_autograd_versions_alike_and_not_the_manual_one() -> None:
    session = ModelSession()
    model = session.load(resolve_model("two_layer_four_ways")).model
    manual_before = model.manual.w1.clone()
    for _ in range(3):
        session.train_step(TrainSettings("SGD", lr=0.05), GraphStyle())
    assert not torch.equal(model.autograd.w1, manual_before)
    torch.testing.assert_close(model.custom.w1, model.autograd.w1)
    torch.testing.assert_close(model.sequential[0].weight, model.autograd.w1.t())
    assert torch.equal(model.manual.w1, manual_before)


@pytest.mark.parametrize("name", ["cifar_cnn", "fashion_mlp"])
def test_the_loss_recovers_the_synthetic_labels_from_the_images(name: str) -> None:
    module = _module(name)
    for step in range(10):
        images, labels = module.make_batch(step)
        assert torch.equal(module.label_of(images), labels)


def test_the_parameter_counts_quoted_by_the_image_lessons() -> None:
    cifar = _module("cifar_cnn").build_model()
    assert cifar.conv1.weight.numel() + cifar.conv1.bias.numel() == 456
    assert cifar.fc1.weight.numel() == 48_000
    mlp = _module("fashion_mlp").build_model()
    assert sum(p.numel() for p in mlp.parameters()) == 669_706


def test_only_the_retained_non_leaf_keeps_its_grad_and_it_is_the_gradient_shown() -> None:
    loaded, run = _run("leaf_vs_nonleaf")
    trace = record_backward(run.walk)
    model, (x,) = loaded.model, loaded.inputs
    (addmm,) = _nodes(run, "AddmmBackward0")
    torch.testing.assert_close(_grad_in(trace, addmm), model.hidden.grad)
    with pytest.warns(UserWarning, match="not a leaf"):
        assert model.activated.grad is None
    (x_node,) = _nodes(run, "x")
    step = trace.step_for(x_node.id)
    assert x.is_leaf and x.grad is not None and step is not None
    assert step.leaf_grad_after is not None
    assert step.leaf_grad_after.stats.norm == pytest.approx(float(x.grad.norm()), rel=1e-5)


def test_dropout_and_batch_norm_change_the_graph_between_train_and_eval() -> None:
    loaded, run = _run("train_vs_eval")
    (mul,) = _nodes(run, "MulBackward0")
    (relu,) = _nodes(run, "ReluBackward0")
    (norm,) = _nodes(run, "NativeBatchNormBackward0")
    assert mul.tensor is not None and relu.tensor is not None
    for dropped, before in zip(mul.tensor.preview, relu.tensor.preview, strict=True):
        assert dropped == pytest.approx(0.0) or dropped == pytest.approx(2 * before)
    assert _saved_text(norm, "training") == "True"
    assert node_label_lines(mul, GraphStyle())[1] == "dropout (random mask)"
    assert node_label_lines(norm, GraphStyle())[1] == "batch_norm (batch stats)"
    loaded.model.eval()
    eval_run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
    assert not _nodes(eval_run, "MulBackward0")
    (eval_norm,) = _nodes(eval_run, "NativeBatchNormBackward0")
    assert _saved_text(eval_norm, "training") == "False"
    assert node_label_lines(eval_norm, GraphStyle())[1] == "batch_norm (running stats)"
    saved_mean = next(s for s in eval_norm.saved if s.name == "result1")
    assert saved_mean.tensor is not None and saved_mean.tensor.shape == (0,)
    (x,) = loaded.inputs  # in eval, a sample's output no longer depends on its batch
    torch.testing.assert_close(loaded.model(x)[:1], loaded.model(x[:1]))


def test_a_training_step_in_eval_mode_draws_no_dropout_node() -> None:
    session = ModelSession()
    session.load(resolve_model("train_vs_eval"))
    picture, _, _ = session.train_step(TrainSettings(lr=0.01, train_mode=False), GraphStyle())
    names = {n.name for n in picture.graph.nodes}
    assert "NativeBatchNormBackward0" in names and "MulBackward0" not in names


def _saved_text(node: Node, name: str) -> str | None:
    return next(s.text for s in node.saved if s.name == name)


def test_gradcheck_fails_in_float32_and_passes_in_float64() -> None:
    module = _module("gradient_check")
    model = module.build_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gradcheck warns about float32 inputs
        fn32, params32 = module.check_function(model, torch.float32)
        assert not torch.autograd.gradcheck(fn32, params32, raise_exception=False)
    fn64, params64 = module.check_function(model, torch.float64)
    assert torch.autograd.gradcheck(fn64, params64)
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is untouched
    loss = float(fn32(*params32).detach())
    assert 5 < loss < 20  # "the loss (about 10)"


def test_the_apps_gradient_check_fails_in_float32_and_passes_in_float64() -> None:
    session = ModelSession()
    session.load(resolve_model("gradient_check"))
    report = session.check_gradients(TrainSettings())
    assert report.run("float64").passed and not report.run("float32").passed
    assert not report.sampled  # every element of every parameter was compared


def test_modifying_a_saved_output_in_place_fails_backward_with_torchs_error() -> None:
    module = _module("inplace_error")
    assert module.MODIFY_SAVED_OUTPUT is False  # the built-in loads and runs backward
    model = module.InPlaceDemo(modify_saved_output=True)
    run = forward_and_capture(model, (module.example_inputs(),), module.loss_fn)
    assert _nodes(run, "SigmoidBackward0")  # the forward runs and the graph is drawn
    with pytest.raises(BackwardError, match="modified by an inplace operation") as caught:
        record_backward(run.walk)
    assert "output 0 of Sigmoid, is at version 1; expected version 0" in caught.value.details


def test_the_in_place_multiply_on_a_slice_doubles_only_the_slices_gradient() -> None:
    _, run = _run("views_inplace")
    trace = record_backward(run.walk)
    (mul,) = [n for n in _nodes(run, "CopySlices") if n.op == "mul_"]
    step = trace.step_for(mul.id)
    assert step is not None and step.grad_outputs[0] and step.grad_inputs[0]
    incoming = torch.tensor(step.grad_outputs[0].preview).view(2, 4)
    outgoing = torch.tensor(step.grad_inputs[0].preview).view(2, 4)
    torch.testing.assert_close(outgoing[:, :2], 2 * incoming[:, :2])
    torch.testing.assert_close(outgoing[:, 2:], incoming[:, 2:])


def test_the_dynamic_nets_shared_weight_has_one_consumer_per_reuse() -> None:
    loaded = load_model_file(resolve_model("dynamic_net"))
    reuses = set()
    for _ in range(4):
        state = loaded.model.rng.getstate()
        count = loaded.model.rng.randint(1, 4)
        loaded.model.rng.setstate(state)  # the forward draws this same count
        run = forward_and_capture(loaded.model, loaded.inputs, loaded.loss_fn)
        (weight,) = _nodes(run, "middle.weight")
        assert len(run.graph.out_edges(weight.id)) == count
        reuses.add(count)
    assert len(reuses) > 1  # the graph changes between forwards


def test_cross_entropy_and_log_softmax_nll_send_the_same_gradient() -> None:
    _, run = _run("cross_entropy_vs_nll")
    trace = record_backward(run.walk)
    first, second = _nodes(run, "LogSoftmaxBackward0")
    sent = [trace.step_for(n.id) for n in (first, second)]
    assert sent[0] is not None and sent[1] is not None
    grads = [torch.tensor(s.grad_inputs[0].preview) for s in sent if s.grad_inputs[0]]
    assert len(grads) == 2
    torch.testing.assert_close(grads[0], grads[1])


def test_no_grad_detach_and_data_leave_only_the_main_branch_trained() -> None:
    loaded, run = _run("no_grad_detach")
    leaves = {n.leaf_name for n in run.graph.nodes if n.leaf_name}
    assert {"main.weight", "main.bias"} <= leaves
    assert not {n for n in leaves if n.split(".")[0] in {"frozen", "detached", "via_data"}}
    trace = record_backward(run.walk)
    for add in _nodes(run, "AddBackward0"):  # "out [1]: no gradient flows"
        step = trace.step_for(add.id)
        assert step is not None and step.grad_inputs[0] is not None
        assert step.grad_inputs[1] is None
    trained = {name for name, p in loaded.model.named_parameters() if p.grad is not None}
    assert trained == {"main.weight", "main.bias"}
