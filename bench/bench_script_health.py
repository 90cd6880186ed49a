"""The gradient health check of a script's backward call: what gathering its evidence
costs at the call the script pauses at, and what the report then costs.

Run from the repository root::

    python -m bench.bench_script_health              # 5 calls each way
    python -m bench.bench_script_health --calls 9

Each script runs once under script mode's runner (``ScriptRunner``, forward recorder
on); its backward calls alternate between being recorded the way script mode recorded
them before the health check (``record_call``) and being recorded with the health
evidence gathered too (``check_call``: the ReLUs measured before backward, a hook per
parameter noting its gradient norm in float64, the cut points resolved, weight norms).
The same script, the same process, interleaved: the load moves both columns alike.
Then the report is assembled from the last call's evidence (``assemble_report``).
Medians over the calls (the first call of each kind is a warm-up). Prints a Markdown
table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from bench.bench_capture import load_average
from bench.bench_script import GPT_TRAIN, SCRIPTS
from graphviz_app.core.autograd.calls import record_call
from graphviz_app.core.autograd.capture import CaptureOptions
from graphviz_app.core.autograd.intercept import BackwardCall
from graphviz_app.core.health.assemble import HealthEvidence, assemble_report
from graphviz_app.core.health.call_check import check_call
from graphviz_app.io.script.output import ScriptOutput
from graphviz_app.io.script.runner import CallContext, CallOutcome, Paused, ScriptRunner

CNN_TRAIN = '''"""A residual CNN (8 blocks, 32 channels, batch 16 of 32x32) trained with SGD."""
import torch
from torch import nn

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


model = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), *[Block(32) for _ in range(8)],
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
for step in range(100):
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
'''


class Timer:
    """The handler: odd calls recorded plainly, even ones with the evidence too."""

    def __init__(self) -> None:
        self.plain: list[float] = []
        self.checked: list[float] = []
        self.evidence: HealthEvidence | None = None
        self.nodes = 0

    def __call__(self, call: BackwardCall, context: CallContext) -> CallOutcome:
        options = CaptureOptions()
        start = time.perf_counter()
        if context.number % 2:
            recorded = record_call(call, context.names, options)
            self.plain.append(time.perf_counter() - start)
        else:
            checked = check_call(call, context.names, options, context.forward)
            self.checked.append(time.perf_counter() - start)
            recorded, self.evidence = checked.recorded, checked.evidence
        self.nodes = len(recorded.graph.nodes)
        return CallOutcome(recorded.result, payload=context.number)


def measure(path: Path, calls: int) -> list[str]:
    timer = Timer()
    runner = ScriptRunner(path, timer, ScriptOutput())
    try:
        for number in range(1, 2 * calls + 1):
            event = runner.run_until(number, time_limit=600)
            assert isinstance(event, Paused), event
    finally:
        runner.stop()
    assert timer.evidence is not None
    evidence = timer.evidence
    start = time.perf_counter()
    report = assemble_report(path.name, evidence)
    assemble_s = time.perf_counter() - start
    plain = statistics.median(timer.plain[1:]) * 1000
    checked = statistics.median(timer.checked[1:]) * 1000
    return [
        path.name,
        str(timer.nodes),
        str(len(evidence.params)),
        str(len(evidence.activations)),
        f"{plain:.1f}",
        f"{checked:.1f}",
        f"{checked - plain:+.1f}",
        f"{checked / plain:.2f}x",
        f"{assemble_s * 1000:.1f}",
        str(len(report.problems())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5, help="calls of each kind")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the app runs torch (see LEADS: 2 shared cores)
    print(f"load average at the start: {load_average()}\n")
    header = [
        "script",
        "graph nodes",
        "parameters",
        "ReLUs",
        "call recorded ms",
        "call recorded + evidence ms",
        "extra ms",
        "ratio",
        "report from evidence ms",
        "problems",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        mlp = Path(folder) / "healthy_training.py"  # the test script, trained for longer
        text = (SCRIPTS / "healthy_training.py").read_text()
        mlp.write_text(text.replace("range(4)", "range(100)"))
        gpt, cnn = Path(folder) / "tiny_gpt_train.py", Path(folder) / "resnet_train.py"
        gpt.write_text(GPT_TRAIN)
        cnn.write_text(CNN_TRAIN)
        for path in (mlp, cnn, gpt):
            print("| " + " | ".join(measure(path, args.calls)) + " |", flush=True)
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    main()
