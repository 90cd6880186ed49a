"""The status bar: model, counts, engine, job times, a busy bar with Cancel, and errors."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QHelpEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QProgressBar,
    QStatusBar,
    QToolButton,
    QToolTip,
    QWidget,
)

from graphviz_app.core.graph.records import AutogradGraph, NodeKind
from graphviz_app.session import PictureResult

MESSAGE_MS = 8000
MESSAGE_GAP = 6  # pixels between the message and the bar's edge or the permanent labels
BUSY_DELAY_MS = 200  # a job shorter than this never flashes the busy bar


def tensor_facts(graph: AutogradGraph) -> tuple[str, str]:
    """The devices and dtypes of the model's parameters (of any tensor when none)."""
    params = [n.tensor for n in graph.nodes if n.kind is NodeKind.PARAMETER and n.tensor]
    tensors = params or [n.tensor for n in graph.nodes if n.tensor is not None]
    devices = sorted({t.device for t in tensors})
    dtypes = sorted({t.dtype for t in tensors})
    return ", ".join(devices) or "no tensors", ", ".join(dtypes)


ZOOMED = "Zoomed in on the output, where backward starts, so labels read: F fits it all."


def picture_message(result: PictureResult, opened: bool, zoomed: bool = False) -> str:
    """What the status bar says about a new picture: why more is collapsed than asked,
    and, when a model was just opened, what was guessed (briefly: the Lesson panel has
    the whole), what was folded or collapsed and what loading skipped; ``zoomed``: that
    it opened zoomed in rather than whole."""
    parts = [result.notice] if result.notice else []
    if opened and result.guesses:
        parts.append(guesses_message(result.guesses))
    if zoomed:
        parts.append(ZOOMED)
    if opened and (result.style.collapsed or result.folds):
        done = [
            _count(len(result.folds), "run of repeated blocks", "runs of repeated blocks")
            + " folded",
            _count(len(result.style.collapsed), "module", "modules") + " collapsed",
        ]
        chosen = " and ".join(d for d in done if not d.startswith("0 "))
        parts.append(
            f"Large graph ({len(result.graph.nodes):,} nodes): opened with {chosen}. "
            "Double-click one to open it."
        )
    if opened and result.notes:
        parts.append(" ".join(result.notes))
    return " ".join(parts)


def guesses_message(guesses: tuple[str, ...]) -> str:
    """``Guessed class Net, arguments, input (File > Change class, arguments and
    inputs)``: short enough to fit beside the bar's facts in a 1280-pixel window (the
    Lesson panel has each guess whole: the values and the reasons)."""
    short = []
    for guess in guesses:
        head = re.split(r" \(| from ", guess, maxsplit=1)[0]
        if re.match(r"\w+\(", head):
            head = "arguments"  # Net(hidden=64, ...): the Lesson panel lists them
        elif head.startswith("input "):
            head = "input"  # its spec can be long: the Lesson panel has it
        if " was tried first" not in head:
            short.append(head)
    return f"Guessed {', '.join(short)} (File > Change class, arguments and inputs)"


def reading_ms(message: str) -> int:
    """How long a status message stays: long enough to read it (15 s at least)."""
    return min(60_000, max(15_000, 75 * len(message)))


def _count(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


class AppStatusBar(QStatusBar):
    """Permanent facts on the right, passing messages on the left."""

    def __init__(self, cancel_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._job_message = ""  # the running job's "Doing x..." while it is shown
        self._before_job = ""  # the message that one replaced
        self.model_label = QLabel("no model")
        self.model_label.setToolTip("The open model and its parameter count")
        self.device_label = QLabel("")
        self.device_label.setToolTip("Device and dtype of the model's parameters")
        self.count_label = QLabel("")
        self.count_label.setToolTip("Nodes and edges of the captured autograd graph")
        self.engine_label = QLabel("")
        self.engine_label.setToolTip("The Graphviz engine laying out the graph")
        self.time_label = QLabel("")
        self.time_label.setToolTip("How long the last job (load, layout, backward...) took")
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self._show_busy(True))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: jobs report no fraction yet
        self.progress.setMaximumWidth(140)
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(cancel_action)
        for widget in self._permanent():
            self.addPermanentWidget(widget)
        self.set_busy(False, "")

    def show_picture(self, result: PictureResult) -> None:
        """The facts of a new picture, and how long each step took."""
        self.model_label.setText(f"{result.model_name} ({result.parameter_count:,} parameters)")
        graph = result.graph
        devices, dtypes = tensor_facts(graph)
        self.device_label.setText(f"{devices} {dtypes}".strip())
        self.count_label.setText(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges")
        self._set_engine(result.engine)
        steps = " | ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.timings)
        self.showMessage(steps, MESSAGE_MS)

    def show_engine(self, description: str) -> None:
        """The Graphviz engine now in use."""
        self._set_engine(description)
        self.showMessage(f"Graphviz engine: {description}", MESSAGE_MS)

    def _set_engine(self, description: str) -> None:
        # "graphviz-pure 0.2.2 (Rust port of Graphviz 16.1.0)": the name stays, the rest
        # goes to the tooltip (the bar's room is the job messages').
        self.engine_label.setText(description.split(" (")[0])
        self.engine_label.setToolTip(f"The Graphviz engine laying out the graph: {description}")

    def set_busy(self, busy: bool, description: str) -> None:
        """Show the busy bar and its Cancel button once a job has run for
        :data:`BUSY_DELAY_MS`; hide them when it ends. Cancel (Esc) works at once."""
        self.cancel_button.defaultAction().setEnabled(busy)
        self.progress.setToolTip(description)
        if busy:
            if self.progress.isVisible():
                self._show_job_message(description)
            else:
                self._busy_timer.start()
        else:
            self._busy_timer.stop()
            if self._job_message and self.currentMessage() == self._job_message:
                self.showMessage(self._before_job, reading_ms(self._before_job))  # job over
            self._job_message = ""
            self._show_busy(False)

    def _show_job_message(self, description: str) -> None:
        if self.currentMessage() != self._job_message:  # a result came between two jobs
            self._before_job = self.currentMessage()  # it comes back when they end
        self._job_message = description + "..."
        self.showMessage(self._job_message)

    def _show_busy(self, shown: bool) -> None:
        if shown:  # a quick job leaves the message of the one before in place
            self._show_job_message(self.progress.toolTip())
        self.progress.setVisible(shown)
        self.cancel_button.setVisible(shown)

    def show_job_time(self, seconds: float) -> None:
        """How long the last job took."""
        self.time_label.setText(f"last job {seconds * 1000:.0f} ms")

    # --- a message longer than its room: elided, whole in the tooltip -------------
    def message_room(self) -> QRect:
        """Where the message is drawn: left of the permanent widgets shown."""
        shown = [w.x() for w in self._permanent() if w.isVisible()]
        right = min(shown, default=self.width()) - MESSAGE_GAP
        return QRect(MESSAGE_GAP, 0, max(right - MESSAGE_GAP, 0), self.height())

    def shown_message(self) -> str:
        """The message as drawn: cut at a word's end with "…" when it is too long (Qt
        cut it off mid-letter under the permanent labels on a narrow window)."""
        room = self.message_room().width()
        return self.fontMetrics().elidedText(
            self.currentMessage(), Qt.TextElideMode.ElideRight, room
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        message, shown = self.currentMessage(), self.shown_message()
        if message and shown != message:  # paint over Qt's cut text
            painter, room = QPainter(self), self.message_room()
            cover = room.adjusted(0, 0, MESSAGE_GAP - 1, 0)  # all of Qt's text
            painter.fillRect(cover, self.palette().window())
            align = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(room, int(align | Qt.TextFlag.TextSingleLine), shown)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            message = self.currentMessage()
            if self.message_room().contains(event.pos()) and self.shown_message() != message:
                QToolTip.showText(event.globalPos(), message, self)
                return True
        return super().event(event)

    def _permanent(self) -> tuple[QWidget, ...]:
        labels = (self.model_label, self.device_label, self.count_label, self.engine_label)
        return (*labels, self.time_label, self.progress, self.cancel_button)


class ErrorReporter:
    """One non-blocking message box at a time, with the details under 'Show Details'."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self._box: QMessageBox | None = None

    def show(self, summary: str, details: str) -> None:
        """Replace any open error box with one for ``summary``: what happened, what to
        do, and the details (traceback) behind "Show Details"."""
        self.close()
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "graphviz_app",
            summary,
            QMessageBox.StandardButton.Ok,
            self._parent,
        )
        box.setInformativeText(advice_for(summary))
        box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Forget only this box: an old box's destroyed signal arrives after its successor.
        box.destroyed.connect(lambda _=None, shown=box: self._forget(shown))
        box.open()  # window-modal, does not block the event loop
        self._box = box

    def close(self) -> None:
        """Close the open error box, if any."""
        if self._box is not None:
            self._box.close()

    def _forget(self, box: QMessageBox) -> None:
        if self._box is box:
            self._box = None


def advice_for(summary: str) -> str:
    """What the user can do about the failure ``summary`` says."""
    if summary.startswith("Unexpected error"):
        return (
            "This is a bug in graphviz_app, not in your model. The window keeps the "
            "previous graph and goes on working; please report it with the details below."
        )
    if "Graphviz" in summary or "engine" in summary:
        return "Check Settings > Use the system's Graphviz, or reinstall graphviz-pure."
    if "second time" in summary or "retain" in summary:
        return "Turn on Run > Retain graph, or run forward (F5) before backward again."
    return (
        "The previous graph is still shown. Fix the cause (the details below show where it "
        "happened) and try again."
    )
