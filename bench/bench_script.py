"""Script mode: time to the first picture, beside the script's own time to its first
backward call.

Run from the repository root::

    python -m bench.bench_script              # 3 repeats
    python -m bench.bench_script --repeats 5

For each script (three of ``tests/data/scripts`` and a small GPT trained with AdamW,
written to a temporary folder):

1. ``python FILE``: a fresh process whose ``torch.autograd.backward`` notes the time of
   its first call and ends the process: launch to the first backward (Python and torch
   start-up included).
2. ``graphviz-app export FILE -o g.svg``: a fresh process, launch to exit, the picture
   written (the script run to its first backward, captured, its backward recorded, laid
   out, drawn by Graphviz).
3. In process, torch already imported: the plain script to its first backward (runpy,
   nothing recorded) beside ``ModelSession.open`` split into the run to the first
   backward (the script itself with the recorder, the capture and the recorded call)
   and the layout.

Medians over the repeats, after one untimed warm-up in process. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.bench_capture import load_average
from graphviz_app.core.layout.style import GraphStyle
from graphviz_app.io.request import LoadRequest
from graphviz_app.session import ModelSession

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "data" / "scripts"
FIRST_BACKWARD = """
import os, runpy, sys, time
import torch
start = float(sys.argv[2])
original = torch.autograd.backward
def backward(*args, **kwargs):
    print(time.time() - start, flush=True)
    os._exit(0)
torch.autograd.backward = backward
sys.argv = [sys.argv[1]]
os.chdir(os.path.dirname(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""
GPT_TRAIN = '''"""A small GPT (4 layers, width 128) trained on random tokens with AdamW."""
import torch
from torch import nn

torch.manual_seed(0)
VOCAB, BLOCK, WIDTH = 200, 32, 128


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.pos = nn.Embedding(BLOCK, WIDTH)
        layer = nn.TransformerEncoderLayer(WIDTH, 4, 4 * WIDTH, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, 4)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        mask = nn.Transformer.generate_square_subsequent_mask(idx.shape[1])
        return self.head(self.blocks(x, mask=mask, is_causal=True))


model = GPT()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
for step in range(100):
    idx = torch.randint(0, VOCAB, (8, BLOCK))
    logits = model(idx[:, :-1])
    loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), idx[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
'''


def plain_first_backward(path: Path) -> float:
    """Seconds from launching ``python FILE`` to its first backward call."""
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", FIRST_BACKWARD, str(path), repr(start)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return float(done.stdout.strip().splitlines()[-1])


def cli_first_picture(path: Path, out: Path) -> float:
    """Seconds from launching ``graphviz-app export FILE -o g.svg`` to its exit."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "graphviz_app", "export", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return time.perf_counter() - start


class _Reached(BaseException):
    """The plain script reached its first backward call."""


def plain_in_process(path: Path) -> float:
    """Seconds from running the script (torch already imported) to its first backward."""
    original, saved = torch.autograd.backward, (os.getcwd(), list(sys.argv))

    def reached(*args: object, **kwargs: object) -> None:
        raise _Reached

    torch.autograd.backward = reached
    os.chdir(path.parent)
    sys.argv = [str(path)]
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its prints are not the table's
            runpy.run_path(str(path), run_name="__main__")
    except _Reached:
        pass
    finally:
        torch.autograd.backward = original
        os.chdir(saved[0])
        sys.argv = saved[1]
    return time.perf_counter() - start


def in_process(path: Path) -> tuple[float, float, int]:
    """(run to the first backward, layout) seconds in a warm process, and the nodes."""
    session = ModelSession()
    try:
        picture = session.open(LoadRequest(str(path)), GraphStyle(), time_limit=600)
    finally:
        session.scripts.close()
    timings = dict(picture.timings)
    return timings["run to backward"], timings["layout"], len(picture.graph.nodes)


def measure(path: Path, repeats: int, out: Path) -> list[str]:
    plain = statistics.median(plain_first_backward(path) for _ in range(repeats))
    cli = statistics.median(cli_first_picture(path, out) for _ in range(repeats))
    plain_in_process(path), in_process(path)  # warm-up: first imports, first layouts
    own = statistics.median(plain_in_process(path) for _ in range(repeats))
    runs = [in_process(path) for _ in range(repeats)]
    run_s = statistics.median(r[0] for r in runs)
    layout_s = statistics.median(r[1] for r in runs)
    return [
        path.name,
        str(runs[0][2]),
        f"{plain:.2f}",
        f"{cli:.2f}",
        f"{cli / plain:.2f}x",
        f"{own * 1000:.0f}",
        f"{run_s * 1000:.0f}",
        f"{layout_s * 1000:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        gpt = Path(folder) / "tiny_gpt_train.py"
        gpt.write_text(GPT_TRAIN)
        out = Path(folder) / "g.svg"
        paths = [
            SCRIPTS / n for n in ("sequential_loop.py", "guarded_main.py", "nonscalar_backward.py")
        ] + [gpt]
        header = [
            "script",
            "graph nodes",
            "python FILE to 1st backward s",
            "graphviz-app export to picture s",
            "ratio",
            "in process: plain to 1st backward ms",
            "app: run to backward ms",
            "app: layout ms",
        ]
        print(f"load average before: {load_average()}\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for path in paths:
            print("| " + " | ".join(measure(path, args.repeats, out)) + " |", flush=True)
        print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
