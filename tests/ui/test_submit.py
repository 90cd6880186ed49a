"""The controller's generic task channel: results come back on the GUI thread."""

from __future__ import annotations

import threading

from graphviz_app.io.request import LoadRequest
from graphviz_app.ui.jobs.controller import SessionController


def test_a_task_runs_on_the_worker_and_reports_on_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    seen: list[tuple[object, bool]] = []
    gui = threading.current_thread()

    def task(session: object) -> object:
        return (type(session).__name__, threading.current_thread() is gui)

    try:
        controller.submit("probe", task, lambda result: seen.append((result, True)))
        qtbot.waitUntil(lambda: bool(seen) and not controller.busy)
        assert seen == [(("ModelSession", False), True)]
    finally:
        controller.shutdown()


def test_a_failing_task_reports_once_and_forgets_its_callback(qtbot) -> None:  # type: ignore[no-untyped-def]
    controller = SessionController()
    seen: list[object] = []

    def task(session: object) -> object:
        raise RuntimeError("no model is open")

    try:
        with qtbot.waitSignal(controller.failed) as blocker:
            controller.submit("probe", task, seen.append)
        qtbot.waitUntil(lambda: not controller.busy)
        assert blocker.args[0] == "no model is open"
        assert seen == []
    finally:
        controller.shutdown()


def test_a_bare_path_becomes_a_request_with_no_choices() -> None:
    request = LoadRequest.of("m.py")
    assert request == LoadRequest("m.py")
    assert LoadRequest.of(request) is request


def test_a_cancelled_task_that_ends_anyway_does_not_report(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Inspecting a file ignores the cancel token and ends with its result: cancelled,
    the window must not go on to open the file."""
    controller = SessionController()
    started, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def task(session: object) -> object:
        started.set()
        release.wait(timeout=30)  # the user's Esc comes while this runs
        return "inspected"

    try:
        controller.submit("Inspecting model.py", task, seen.append)
        qtbot.waitUntil(started.is_set)
        controller.cancel()
        release.set()
        qtbot.waitUntil(lambda: not controller.busy)
        controller.submit("probe", lambda session: "next", seen.append)  # later ones do
        qtbot.waitUntil(lambda: bool(seen) and not controller.busy)
        assert seen == ["next"]
    finally:
        release.set()
        controller.shutdown()
