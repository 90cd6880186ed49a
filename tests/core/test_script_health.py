"""The gradient health check of a script's own backward call, against torch.

Each script of ``tests/data/scripts`` also runs plainly in a separate process, where
torch is untouched: anomaly mode (``torch.autograd.set_detect_anomaly``) names the node
and the forward line of the first NaN; ``torch.autograd.grad`` at the Nth call gives
that call's own gradient of every parameter (before ``.grad`` adds it to earlier
calls'); after the call, which ``.grad`` are None. The app's report at that call,
gathered while the script ran once under the app, must say the same.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from graphviz_app.core.autograd.cuts import NO_GRAD, resolve_cuts
from graphviz_app.core.autograd.recorder import ForwardRecorder
from graphviz_app.core.health.parameters import MAYBE_INTENDED
from graphviz_app.core.health.report import CUT, ZERO, HealthReport
from graphviz_app.core.health.settings import HealthSettings
from graphviz_app.io.load_errors import ModelFileError
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import HealthResult, ModelSession

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"
#: The script's own variables named as the app names them: one model's parameters by
#: their path (``0.weight``), several models' with the variable first (``encoder.bias``),
#: and leaf tensors that require grad by their variable (``gate``).
NAMING = """
import json, os, runpy, sys, warnings
import torch

def script_globals(script):
    frame = sys._getframe(1)
    while frame.f_code.co_filename != script:
        frame = frame.f_back
    return frame.f_globals

def named(scope):
    modules = [(n, v) for n, v in scope.items() if isinstance(v, torch.nn.Module)]
    inside = {id(s) for _, m in modules for s in m.modules() if s is not m}
    roots = [(n, m) for n, m in modules if id(m) not in inside and list(m.parameters())]
    found = {}
    for name, model in roots:
        for path, p in model.named_parameters():
            found[path if len(roots) == 1 else f"{name}.{path}"] = p
    owned = {id(p) for p in found.values()}
    for name, value in scope.items():
        if isinstance(value, torch.Tensor) and value.requires_grad and value.is_leaf:
            if id(value) not in owned and not name.startswith("__"):
                found[name] = value
    return found

def run(script):
    os.chdir(os.path.dirname(script))
    sys.path.insert(0, os.path.dirname(script))
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")
"""
PLAIN = (
    NAMING
    + """
script, wanted, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
original, count = torch.autograd.backward, 0

def backward(tensors, grad_tensors=None, *args, **kwargs):
    global count
    count += 1
    if count != wanted:
        return original(tensors, grad_tensors, *args, **kwargs)
    params = named(script_globals(script))
    own = torch.autograd.grad(
        tensors, list(params.values()), grad_tensors, retain_graph=True, allow_unused=True
    )
    norms = {
        n: None if g is None else float(torch.linalg.vector_norm(g, dtype=torch.float64))
        for n, g in zip(params, own)
    }
    original(tensors, grad_tensors, *args, **kwargs)
    none = [n for n, p in params.items() if p.grad is None]
    with open(out, "w") as f:
        json.dump({"norms": norms, "grad_none": none}, f)
    os._exit(0)

torch.autograd.backward = backward
run(script)
"""
)
ANOMALY = (
    NAMING
    + """
import re
script, out = sys.argv[1], sys.argv[2]
original, count = torch.autograd.backward, 0

def backward(*args, **kwargs):
    global count
    count += 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return original(*args, **kwargs)
        except RuntimeError as exc:
            node = re.search(r"Function '(\\w+)' returned nan", str(exc)).group(1)
            trace = next(str(w.message) for w in caught if "Traceback of forward" in str(w.message))
            lines = re.findall(rf'File "{re.escape(script)}", line (\\d+)', trace)
            with open(out, "w") as f:
                json.dump({"call": count, "node": node, "line": int(lines[-1])}, f)
            os._exit(0)

torch.autograd.backward = backward
torch.autograd.set_detect_anomaly(True)
run(script)
"""
)


def _plain(program: str, *args: str) -> dict[str, object]:
    out = Path(args[-1])
    done = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and out.exists(), done.stderr
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def plain_call(script: Path, call: int, tmp_path: Path) -> dict[str, object]:
    """What the Nth backward call of the plain script gives: each parameter's own
    gradient norm from that call (None: unused) and those whose .grad is None after it."""
    return _plain(PLAIN, str(script), str(call), str(tmp_path / "plain.json"))


def anomaly_says(script: Path, tmp_path: Path) -> dict[str, object]:
    """The call, node and script line at which anomaly mode stops the plain script."""
    return _plain(ANOMALY, str(script), str(tmp_path / "anomaly.json"))


def checked(name: str, call: int = 1, settings: HealthSettings | None = None) -> HealthResult:
    session = ModelSession()
    try:
        session.load(LoadRequest(str(SCRIPTS / name), backward_call=call), time_limit=60)
        return session.check_health(settings)
    finally:
        session.scripts.close()


def module_norms(report: HealthReport) -> dict[str, float]:
    return {m.label: m.grad_norm for m in report.modules}


def expected_module_norms(norms: dict[str, float | None]) -> dict[str, float]:
    """Per module (a plain leaf on its own), the norm of its parameters' gradients."""
    groups: dict[str, float] = {}
    for name, norm in norms.items():
        if norm is not None:
            module = name.rpartition(".")[0] if "." in name else name
            groups[module or "(model)"] = groups.get(module or "(model)", 0.0) + norm**2
    return {module: math.sqrt(total) for module, total in groups.items()}


@pytest.mark.parametrize(
    ("name", "call"), [("same_pair_distance.py", 1), ("bad_second_call.py", 2)]
)
def test_the_first_nan_is_the_node_and_line_anomaly_mode_names(
    name: str, call: int, tmp_path: Path
) -> None:
    anomaly = anomaly_says(SCRIPTS / name, tmp_path)
    assert anomaly["call"] == call  # the call where torch itself stops
    report = checked(name, call).report
    first = report.first_nan
    assert first is not None and first.node == anomaly["node"]
    assert first.source is not None
    assert (first.source.file, first.source.line) == (str(SCRIPTS / name), anomaly["line"])
    assert report.forward_origin is None  # the loss is finite: NaN only in backward
    assert report.first_inf is not None and report.first_inf.node == "SqrtBackward0"
    assert report.first_inf.index < first.index
    assert not report.healthy


def test_the_call_before_the_bad_one_is_healthy() -> None:
    report = checked("bad_second_call.py", 1).report
    assert report.healthy and report.first_nan is None and report.first_inf is None
    assert report.model == "bad_second_call.py, backward call 1"


@pytest.mark.parametrize(
    ("name", "call", "cut"),
    [
        ("detached_branch.py", 1, {"encoder.weight", "encoder.bias", "gate"}),
        ("critic_then_generator.py", 1, {"encoder.weight", "encoder.bias", "generator.0.weight",
                                         "generator.0.bias", "generator.2.weight",
                                         "generator.2.bias"}),
        # The generator's step goes back through a graph built before the critic's call.
        ("critic_then_generator.py", 2, {"encoder.weight", "encoder.bias"}),
        ("critic_then_generator.py", 4, {"encoder.weight", "encoder.bias"}),
        ("gan_critic_step.py", 1, {"generator.0.weight", "generator.0.bias",
                                   "generator.2.weight", "generator.2.bias"}),
        ("gan_critic_step.py", 2, set()),
    ],
)  # fmt: skip
def test_cut_off_parameters_are_those_whose_grad_is_none_after_the_plain_call(
    name: str, call: int, cut: set[str], tmp_path: Path
) -> None:
    plain = plain_call(SCRIPTS / name, call, tmp_path)
    report = checked(name, call).report
    assert {p.name for p in report.cut_off} == set(plain["grad_none"]) == cut  # type: ignore[arg-type]
    assert {p.reason for p in report.cut_off} == ({CUT} if cut else set())
    lines = (SCRIPTS / name).read_text().splitlines()
    for finding in report.cut_off:  # each names the line that detached it
        assert finding.source is not None and "detach()" in lines[finding.source.line - 1]


def test_a_critic_step_s_detach_is_intended_and_a_cancelled_bias_says_where(
    tmp_path: Path,
) -> None:
    """critic(fake.detach()).mean() - critic(torch.randn(...)).mean(): opt_g trains the
    generator and holds none of the critic's parameters, so its cut at fake.detach()
    is the intended one (listed, not a problem); the encoder, in no optimizer, stays a
    problem. The critic's last bias gets +1 from one use and -1 from the other: exactly
    0 (torch's own), summed at its own AccumulateGrad (it was "the gradient given to the
    root is 0"): the loss's form, listed, not a problem."""
    report = checked("critic_then_generator.py", 1).report
    found = {p.name: p for p in report.parameters}
    generator = [p for name, p in found.items() if name.startswith("generator.")]
    assert len(generator) == 4 and not any(p.is_problem for p in generator)
    for finding in generator:
        assert finding.expected and finding.detail.startswith(
            "cut off at fake.detach() at critic_then_generator.py:18: intended in GAN-style "
            "training? opt_g trains it"
        )
    encoder = found["encoder.bias"]
    assert encoder.is_problem and not encoder.expected and encoder.detail.endswith(MAYBE_INTENDED)
    assert "encoder(torch.randn(16, 4)).detach()" in encoder.detail
    bias = found["critic.2.bias"]
    plain = plain_call(SCRIPTS / "critic_then_generator.py", 1, tmp_path)
    assert plain["norms"]["critic.2.bias"] == 0.0  # type: ignore[index]  # torch's own
    assert bias.reason == ZERO and bias.at_node == bias.node_id is not None
    assert "2 uses (from AddmmBackward0 and AddmmBackward0) cancel" in bias.detail
    assert "root" not in bias.detail and bias.expected and not bias.is_problem
    problems = {line.split(":")[0] for line in report.problems()}
    assert problems == {"encoder.weight", "encoder.bias"}


def test_a_gan_s_discriminator_step_is_healthy_its_generator_cut_listed() -> None:
    report = checked("gan_critic_step.py", 1).report
    assert report.healthy, report.problems()
    assert {p.name for p in report.parameters if p.expected} == {
        "generator.0.weight",
        "generator.0.bias",
        "generator.2.weight",
        "generator.2.bias",
    }
    assert checked("gan_critic_step.py", 2).report.healthy  # the generator's own step


def test_a_detached_plain_leaf_says_where_it_was_detached() -> None:
    found = {p.name: p for p in checked("detached_branch.py").report.parameters}
    assert found["encoder.bias"].source is not None
    assert found["encoder.bias"].source.text == "features = encoder(x).detach()"
    gate = found["gate"]  # a plain leaf, used only through .detach()
    assert gate.detail.startswith("cut off at gate.detach() at detached_branch.py:17")
    assert gate.source is not None
    assert gate.source.text == "prediction = head(features * gate.detach())"


@pytest.mark.parametrize("call", [1, 3])
def test_a_detached_branch_is_reported_at_every_call(call: int) -> None:
    # Cut points are those of the forward since the call before (not earlier ones,
    # and not the optimizer's own updates under no_grad).
    report = checked("detached_branch.py", call).report
    assert {p.name for p in report.cut_off} == {"encoder.weight", "encoder.bias", "gate"}
    assert {p.detail.split(":")[0] for p in report.parameters} == {
        "cut off at encoder(x).detach() at detached_branch.py",
        "cut off at gate.detach() at detached_branch.py",
    }


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("healthy_training.py", 1),
        ("healthy_training.py", 3),
        ("accumulate.py", 2),
        ("bad_second_call.py", 1),
        ("two_models.py", 2),
        ("detached_branch.py", 2),
    ],
)
def test_gradient_norms_are_those_of_that_call_alone(name: str, call: int, tmp_path: Path) -> None:
    plain = plain_call(SCRIPTS / name, call, tmp_path)
    report = checked(name, call).report
    expected = expected_module_norms(plain["norms"])  # type: ignore[arg-type]
    assert module_norms(report) == pytest.approx(expected, rel=1e-9)


def test_accumulated_grad_is_not_what_is_reported() -> None:
    # The second micro-batch's own gradient, not .grad (which holds both micro-batches').
    session = ModelSession()
    try:
        session.load(LoadRequest(str(SCRIPTS / "accumulate.py"), backward_call=2), time_limit=60)
        last = session.loaded.model[2]  # type: ignore[union-attr,index]
        grads = torch.cat([last.weight.grad.reshape(-1), last.bias.grad])
        accumulated = float(torch.linalg.vector_norm(grads, dtype=torch.float64))
        report = session.check_health().report
    finally:
        session.scripts.close()
    own = next(m for m in report.modules if m.module == "2")
    assert own.grad_norm != pytest.approx(accumulated, rel=1e-3)


def test_updates_under_no_grad_are_no_cuts_and_each_call_notes_afresh() -> None:
    layer, gate = nn.Linear(3, 2), torch.ones(2, requires_grad=True)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, weight_decay=0.1)
    recorder = ForwardRecorder(layer)
    with recorder:
        (layer(torch.ones(1, 3)) * gate).sum().backward()
        optimizer.step()  # reads the parameters (weight decay) to update them
        with torch.no_grad():
            gate -= 0.1 * gate.grad  # a training step by hand
            gate[0] = 1.0
        updates = recorder.take_notes()
        with torch.no_grad():
            layer(torch.ones(1, 3))  # a forward under no_grad: a cut
        forward = recorder.take_notes()
    assert updates.cuts == [] and updates.modules_run == ("",)
    cuts = resolve_cuts(forward.cuts, dict(layer.named_parameters()))
    assert [(c.kind, c.op, c.params) for c in cuts] == [(NO_GRAD, "linear", ("weight", "bias"))]


def test_a_healthy_training_script_reports_nothing() -> None:
    result = checked("healthy_training.py", 2)
    report = result.report
    assert report.healthy and not report.problems() and not report.parameters
    assert [m.module for m in report.modules] == ["0", "2", "4"]
    assert [a.module for a in report.activations] == ["1", "3"]
    assert report.steps == len(result.backward.trace.steps) > 0  # type: ignore[union-attr]


def test_the_report_comes_from_the_call_shown_and_leaves_grad_alone() -> None:
    session = ModelSession()
    try:
        session.load(LoadRequest(str(SCRIPTS / "bad_second_call.py")), time_limit=60)
        shown = session.backward()
        grad = session.scripts.current.runner.module.globals["w"].grad.clone()  # type: ignore[union-attr]
        result = session.check_health()
        again = session.check_health(HealthSettings(exploding_ratio=1.0))
        assert result.backward is shown and result.picture is None  # the call's own pass
        assert torch.equal(session.scripts.current.runner.module.globals["w"].grad, grad)  # type: ignore[union-attr]
        assert result.report.healthy and not again.report.healthy  # thresholds apply anew
    finally:
        session.scripts.close()


def test_a_script_without_a_backward_call_cannot_be_checked() -> None:
    with pytest.raises(ModelFileError, match="made no backward call"):
        checked("graph_no_backward.py")


COMPLEX = """import torch
torch.manual_seed(0)
w = torch.randn(3, dtype=torch.cfloat, requires_grad=True)
x = torch.randn(3, dtype=torch.cfloat)
loss = (x * w).abs().sum()
loss.backward()
"""


def test_a_complex_leaf_has_its_norm(tmp_path: Path) -> None:
    script = tmp_path / "complex_leaf.py"
    script.write_text(COMPLEX)
    session = ModelSession()
    try:
        session.load(LoadRequest(str(script)), time_limit=60)
        grad = session.scripts.current.runner.module.globals["w"].grad  # type: ignore[union-attr]
        report = session.check_health().report
    finally:
        session.scripts.close()
    assert report.healthy and [m.module for m in report.modules] == ["w"]
    assert report.modules[0].grad_norm == pytest.approx(float(torch.linalg.vector_norm(grad)))
