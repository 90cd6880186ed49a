"""Every test script, opened as the app opens it, against the same script run plainly.

The plain run is a separate Python process in which torch's own backward runs
untouched; after the Nth backward call it walks ``grad_fn`` from the tensors that
call differentiated and saves the multiset of node classes and every leaf's ``.grad``.
The app's run must show exactly that graph and leave exactly those ``.grad`` values.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from core_helpers import PLAIN_WALK, leaves_and_names

from graphviz_app.core.graph.records import NodeKind
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.request import LoadRequest
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.session import ModelSession

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"
PLAIN = (
    "import os, runpy, sys\nimport torch\n"
    + PLAIN_WALK
    + """
script, wanted, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
original, count = torch.autograd.backward, 0

def backward(tensors, *args, **kwargs):
    global count
    result = original(tensors, *args, **kwargs)
    count += 1
    if count == wanted:
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        leaves, names = leaves_and_names(roots)
        grads = [None if leaf.grad is None else leaf.grad.clone() for leaf in leaves]
        torch.save({"names": names, "grads": grads}, out)
        os._exit(0)
    return result

torch.autograd.backward = backward
os.chdir(os.path.dirname(script))
sys.path.insert(0, os.path.dirname(script))
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
"""
)

CASES = [
    ("sequential_loop.py", 1),
    ("sequential_loop.py", 4),
    ("plain_tensors.py", 1),
    ("plain_tensors.py", 3),
    ("guarded_main.py", 2),
    ("custom_function.py", 1),
    ("custom_function.py", 3),
    ("nonscalar_backward.py", 1),
    ("nonscalar_backward.py", 2),
    ("two_models.py", 2),
    # The health check's evidence is gathered at every call paused at: .grad unchanged.
    ("accumulate.py", 2),
    ("detached_branch.py", 2),
    ("healthy_training.py", 3),
    ("bad_second_call.py", 1),
]


def plain_run(script: Path, call: int, tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "plain.pt"
    done = subprocess.run(
        [sys.executable, "-c", PLAIN, str(script), str(call), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and out.exists(), done.stderr
    return torch.load(out, weights_only=True)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "call"), CASES)
def test_the_graph_and_grad_are_those_of_the_plain_script(
    name: str, call: int, tmp_path: Path
) -> None:
    expected = plain_run(SCRIPTS / name, call, tmp_path)
    session = ModelSession()
    try:
        session.load(LoadRequest(str(SCRIPTS / name), backward_call=call), time_limit=60)
        assert session.run is not None and session.scripts.state().call == call
        graph_names = [n.name for n in session.run.graph.nodes if n.kind is not NodeKind.OUTPUT]
        assert collections.Counter(graph_names) == collections.Counter(expected["names"])
        leaves, names = leaves_and_names(list(session.run.roots))
        assert names == expected["names"]
        assert len(leaves) == len(expected["grads"])
        for leaf, grad in zip(leaves, expected["grads"], strict=True):
            assert (leaf.grad is None) == (grad is None)
            if grad is not None:
                torch.testing.assert_close(leaf.grad, grad, rtol=1e-5, atol=1e-6)
    finally:
        session.scripts.close()


def test_autograd_grad_gives_the_script_the_plain_gradient(tmp_path: Path) -> None:
    script = SCRIPTS / "autograd_grad.py"
    plain = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    session, output = ModelSession(), ScriptOutput()
    try:
        session.load(LoadRequest(str(script)), output=output, time_limit=60)
        names = {n.name for n in session.run.graph.nodes}
        assert {"SinBackward0", "MulBackward0", "SumBackward0"} <= names
        step = session.scripts.next(1, GraphStyle(), None, 60)
    finally:
        session.scripts.close()
    assert step.state.status == "finished"
    assert output.text() == plain.stdout  # it printed the very gradient torch gives


def test_the_recorded_backward_is_the_scripts_own_call() -> None:
    session = ModelSession()
    try:
        session.load(LoadRequest(str(SCRIPTS / "nonscalar_backward.py")), time_limit=60)
        recorded = session.backward()
        assert recorded is session.backward()  # the call that ran, not a second backward
        assert recorded.trace.retain_graph is True  # the script's own retain_graph=True
        root = recorded.trace.steps[0]
        assert root.grad_outputs[0] is not None and root.grad_outputs[0].shape == (1, 10)
    finally:
        session.scripts.close()
