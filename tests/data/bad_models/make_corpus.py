"""Write the binary files of this corpus (run from the repository root)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
MARKER_CODE = (
    "import os, pathlib; m = os.environ.get('GRAPHVIZ_APP_TEST_MARKER'); "
    "m and pathlib.Path(m).write_text('unpickled')"
)


class RunsCodeWhenUnpickled:
    """Unpickling this calls exec(MARKER_CODE): what a malicious checkpoint does."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (MARKER_CODE,))


def main() -> None:
    torch.manual_seed(0)
    (HERE / "binary.py").write_bytes(bytes(range(256)) * 4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    data = buffer.getvalue()
    (HERE / "truncated_torchscript.pt").write_bytes(data[: len(data) // 2])
    weights = {"fc1.weight": torch.zeros(3, 4), "fc1.bias": torch.zeros(3)}
    weights["head.weight"] = torch.zeros(2, 3)  # the model calls it fc2
    torch.save(weights, HERE / "state_dict_mismatch.pt")
    torch.save({"model": RunsCodeWhenUnpickled()}, HERE / "pickle_marker.pt")
    assert zipfile.is_zipfile(HERE / "pickle_marker.pt")
    assert not os.environ.get("GRAPHVIZ_APP_TEST_MARKER")


if __name__ == "__main__":
    main()
