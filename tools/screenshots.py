"""Render the real window offscreen in each theme and save the README's screenshots.

    python -m tools.screenshots    # assets/screenshot-<light|dark|...|training>.png
    python -m tools.screenshots --model two_layer_net --out /tmp/shots

Each shot opens the model in a fresh MainWindow (settings in a temporary file, so
yours are untouched), runs and records backward (F6), goes to its last step (End: every
gradient in), selects a parameter node and saves ``window.grab()``. The "backward" shot
stops halfway through the pass on the residual CNN; the "training" shot trains 20 steps
first and shows the Training dock; the "health" shot checks ``nan_in_backward``'s
gradient health and jumps to the first NaN.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from graphviz_app.core.runtime.threads import configure_torch_threads
from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.window.main_window import MainWindow

logger = logging.getLogger(__name__)
SHOTS = {
    "light": ("light", False),
    "dark": ("dark", False),
    "presentation": ("light", True),
    "backward": ("light", False),
    "training": ("light", False),
    "health": ("light", False),
}
TRAIN_STEPS = 20
SIZE = (1440, 900)
WAIT_MS = 120_000


def wait_for(signal: object, start: Callable[[], None]) -> None:
    """Run ``start`` and spin the event loop until ``signal`` fires (or time runs out)."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(WAIT_MS, loop.quit)
    start()
    loop.exec()


def shoot(name: str, model: str, node: str, target: Path) -> None:
    """Save one screenshot of the window in theme ``name``."""
    theme, presentation = SHOTS[name]
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        window.resize(*SIZE)
        window.show()
        window.appearance.themes.choose(theme)
        window.appearance.themes.set_presentation(presentation)
        if name == "backward":
            model, node = "residual_cnn", "block.conv1.weight"
        if name == "health":
            model = "nan_in_backward"
        wait_for(window.picture_shown, lambda: window.open_model(resolve_model(model)))
        if name == "training":
            train(window)  # each step already ran (and recorded) backward
        elif name == "health":
            check_health(window)  # selects the first NaN's node
        else:
            wait_for(window.controller.backward_ready, window.run.backward_action.trigger)
        if name != "health":
            window.stepper.go_to(window.stepper.step_count - 1)  # End: every gradient is in
            chosen = next(n for n in window.result.visible.nodes if n.title == node)  # type: ignore[union-attr]
            window.scene.select_node(chosen.id)
        if name == "backward":
            window.stepper.go_to(window.stepper.step_count // 2, follow=True)
        for _ in range(3):
            QApplication.processEvents()
        window.grab().save(str(target))
        window.close()
    logger.info("wrote %s", target)


def train(window: MainWindow) -> None:
    """Train TRAIN_STEPS steps with the Training dock and bring it to the front."""
    part = window.parts["TrainingControls"]
    part.dock.raise_()  # type: ignore[attr-defined]
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: None if part.running else loop.quit())  # type: ignore[attr-defined]
    part.train(TRAIN_STEPS)  # type: ignore[attr-defined]
    timer.start(50)
    QTimer.singleShot(WAIT_MS, loop.quit)
    loop.exec()
    timer.stop()


def check_health(window: MainWindow) -> None:
    """Run > Check gradient health, then Jump to first NaN."""
    part = window.parts["HealthControls"]
    wait_for(window.controller.backward_ready, part.check_action.trigger)  # type: ignore[attr-defined]
    QApplication.processEvents()
    part.jump_nan_action.trigger()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Parse the options and write every screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="two_layer_net", help="built-in model to show")
    parser.add_argument("--node", default="fc1.weight", help="node title to select")
    parser.add_argument("--out", default="assets", help="folder for the PNG files")
    parser.add_argument("--only", choices=sorted(SHOTS), help="one theme only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_torch_threads()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in [args.only] if args.only else list(SHOTS):
        shoot(name, args.model, args.node, out / f"screenshot-{name}.png")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
