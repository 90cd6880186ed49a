"""Start and stop, from process start: the window, the first picture, the exit; and the
command line against ``python -c "import torch"``.

    python -m bench.bench_startup               # 3 runs of each
    python -m bench.bench_startup --runs 5

**Window** (``QT_QPA_PLATFORM=offscreen``, a throwaway settings folder): each run starts
``python -m bench.bench_startup --probe``, which is ``python -m graphviz_app`` plus an
event filter that prints a time stamp when the main window is first shown (and
whether torch and pyqtgraph were imported by then), when its first picture is on
screen, then closes the window as a user would and stamps the moment the window is
closed. The parent stamps the launch and the moment the process has ended. All stamps
are wall-clock ``time.time()`` on one machine.

**Command line**: ``graphviz-app export two_layer_net -o g.svg``, ``--help`` and
``models`` as processes, against ``python -c "import torch"`` and ``python -c pass``.

Compiled modules are cached as after a pip install (this machine's environment sets
PYTHONDONTWRITEBYTECODE; the children run without it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

MARK = "STARTUP-MARK"


# -------------------------------------------------------------------------- the probe


def mark(name: str, extra: str = "") -> None:
    """One time stamp on stdout, read by the parent."""
    print(f"{MARK} {name} {time.time():.6f} {extra}", flush=True)


def probe() -> int:
    """The app, plus time stamps; closes its window once the first picture is shown."""
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    watcher = _watcher()
    app.installEventFilter(watcher)
    from graphviz_app.app import main

    status = main([])
    mark("returned")
    return status


def _watcher() -> object:
    """An event filter that marks the window's first show, its first picture and its
    close (Qt imported here: the parent process never needs it)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow

    class Watcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.window: QMainWindow | None = None

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
            if (
                self.window is None
                and event.type() == QEvent.Type.Show
                and isinstance(watched, QMainWindow)
            ):
                self.window = watched
                heavy = [m for m in ("torch", "pyqtgraph", "numpy") if m in sys.modules]
                mark("shown", "imported:" + (",".join(heavy) or "none"))
                watched.picture_shown.connect(self.on_picture)  # type: ignore[attr-defined]
            return False

        def on_picture(self) -> None:
            mark("picture")
            QTimer.singleShot(0, self.close_window)

        def close_window(self) -> None:
            assert self.window is not None
            self.window.close()
            mark("closed")

    return Watcher()


# ------------------------------------------------------------------------- the parent


def child_env(settings: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(settings)  # QSettings: a fresh user, no last model
    return env


def window_run() -> dict[str, float | str]:
    """One launch of the window; seconds from launch to each stamp, and the exit."""
    with tempfile.TemporaryDirectory() as settings:
        start = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_startup", "--probe"],
            capture_output=True,
            text=True,
            env=child_env(Path(settings)),
            timeout=300,
            check=False,
        )
        ended = time.time()
    stamps: dict[str, float | str] = {}
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            _, name, stamp, *extra = line.split()
            stamps[name] = float(stamp) - start
            if extra:
                stamps[name + " note"] = extra[0]
    stamps["ended"] = ended - start
    if "closed" not in stamps:
        stamps["error"] = (done.stderr.strip().splitlines() or ["no output"])[-1][:100]
    return stamps


def process_seconds(command: list[str]) -> float:
    """Wall time of one process, start to end."""
    with tempfile.TemporaryDirectory() as folder:
        env = child_env(Path(folder))
        env.pop("QT_QPA_PLATFORM")
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, cwd=folder, timeout=300, check=True)
        return time.perf_counter() - start


def spread(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        sys.exit(probe())
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}")
    print_window_runs([window_run() for _ in range(args.runs)])
    print_commands(args.runs)
    print(f"\nfinished {time.strftime('%H:%M')}, load average {os.getloadavg()[0]:.2f}")


def print_window_runs(runs: Sequence[dict[str, float | str]]) -> None:
    """The window's table: shown, first picture, closed -> ended."""
    print("\n| window (offscreen), seconds from launch | median (range) |\n|---|---|")
    for key, label in (
        ("shown", "main window shown"),
        ("picture", "first picture (two_layer_net) on screen"),
    ):
        print(f"| {label} | {spread([float(r[key]) for r in runs if key in r])} |")
    exits = [float(r["ended"]) - float(r["closed"]) for r in runs if "closed" in r]
    print(f"| window closed -> process ended | {spread(exits)} |")
    notes = {str(r.get("shown note", "")) for r in runs}
    print(f"\nimported when the window was shown: {', '.join(sorted(notes))}")
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        print(f"errors: {errors}")


def print_commands(runs: int) -> None:
    """Headless commands, from process start to end, beside plain Python and torch."""
    app = [sys.executable, "-m", "graphviz_app"]
    commands = {
        'python -c "pass"': [sys.executable, "-c", "pass"],
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "graphviz-app --help": [*app, "--help"],
        "graphviz-app models": [*app, "models"],
        "graphviz-app export two_layer_net -o g.svg": [
            *app,
            "export",
            "two_layer_net",
            "-o",
            "g.svg",
        ],
    }
    print("\n| command, seconds from process start to end | median (range) |\n|---|---|")
    for label, command in commands.items():
        print(f"| `{label}` | {spread([process_seconds(command) for _ in range(runs)])} |")


if __name__ == "__main__":
    main()
