"""Backward in the window: record it, step through it, see gradients and errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

from graphviz_app.io.builtin import resolve_model
from graphviz_app.ui.graph.items import StepState
from graphviz_app.ui.window.main_window import MainWindow

WAIT_MS = 60_000


def states(window: MainWindow) -> dict[str, StepState]:
    return {key: item.step_state for key, item in window.scene.nodes.items()}


def test_backward_opens_on_its_first_step_so_right_walks_it(qtbot, stepped: MainWindow) -> None:
    """The lessons say "press F6 and step with Right": F6 lands on step 1."""
    steps = stepped.stepper.result.trace.steps
    assert stepped.stepper.index == 0
    assert states(stepped)[steps[0].node_id] is StepState.CURRENT
    assert stepped.stepper_panel.label.text().startswith(f"Step 1/{len(steps)}:")
    assert "End: the finished pass" in stepped.stepper_panel.label.text()
    stepped.view.setFocus()
    qtbot.keyClick(stepped.view, Qt.Key.Key_Right)
    assert stepped.stepper.index == 1 and "End:" not in stepped.stepper_panel.label.text()
    qtbot.keyClick(stepped.view, Qt.Key.Key_End)
    assert stepped.stepper.index == len(steps) - 1


def test_backward_records_every_node_and_ends_with_all_done(stepped: MainWindow) -> None:
    graph = stepped.result.graph
    assert stepped.stepper.step_count == len(graph.nodes) - len(graph.roots)
    stepped.stepper.go_to(stepped.stepper.step_count - 1)  # End
    final = states(stepped)
    last = stepped.stepper.result.trace.steps[-1].node_id
    assert final[last] is StepState.CURRENT
    assert all(s is StepState.DONE for k, s in final.items() if k not in (last, *graph.roots))


def test_stepping_with_keys_moves_the_current_node(qtbot, stepped: MainWindow) -> None:
    steps = stepped.stepper.result.trace.steps
    stepped.view.setFocus()
    qtbot.keyClick(stepped.view, Qt.Key.Key_End)
    assert stepped.stepper.index == len(steps) - 1
    qtbot.keyClick(stepped.view, Qt.Key.Key_Home)
    assert stepped.stepper.index == 0
    assert states(stepped)[steps[0].node_id] is StepState.CURRENT
    qtbot.keyClick(stepped.view, Qt.Key.Key_Right)
    assert stepped.stepper.index == 1
    now = states(stepped)
    assert now[steps[1].node_id] is StepState.CURRENT
    assert now[steps[0].node_id] is StepState.DONE
    assert "Step 2/" in stepped.stepper_panel.label.text()


def test_the_current_node_labels_the_gradients_it_sends(stepped: MainWindow) -> None:
    trace = stepped.stepper.result.trace
    addmm = next(
        s for s in trace.steps if stepped.result.graph.node(s.node_id).name == "AddmmBackward0"
    )
    stepped.stepper.go_to(addmm.index)
    labels = {e.edge_id: e.label for e in stepped.scene.edges.values() if e.label}
    incoming = [e for e in stepped.result.graph.in_edges(addmm.node_id)]
    assert len(labels) == len(incoming)
    assert all("|g|=" in text or text.startswith("[") for text in labels.values())


def test_gradient_colours_legend_and_inspector(stepped: MainWindow) -> None:
    stepped.stepper.go_to(stepped.stepper.step_count - 1)  # End: every gradient is in
    assert stepped.legend.isVisible() and stepped.legend.ramp is not None
    leaf = next(n for n in stepped.result.graph.nodes if n.leaf_name == "fc1.weight")
    item = stepped.scene.nodes[leaf.id]
    assert item.fill_color() != item.theme.kind_fill[leaf.kind]
    stepped.scene.select_node(leaf.id)
    text = stepped.inspector.toPlainText()
    assert ".grad after" in text and "(16, 8)" in text
    assert "no .grad yet: the first backward, or cleared by zero_grad" in text  # .grad before
    stepped.stepper_panel.colour_box.setChecked(False)
    assert item.fill_color() == item.theme.kind_fill[leaf.kind] and not stepped.legend.isVisible()


def test_a_second_backward_without_retain_graph_is_explained(qtbot, stepped: MainWindow) -> None:
    with qtbot.waitSignal(stepped.error_shown, timeout=WAIT_MS) as blocker:
        stepped.run.backward_action.trigger()
    assert "retain_graph=True" in blocker.args[0]


def test_retained_backward_twice_accumulates_grad(qtbot, stepped: MainWindow) -> None:
    with qtbot.waitSignal(stepped.picture_shown, timeout=WAIT_MS):
        stepped.run.forward_action.trigger()
    assert stepped.stepper.step_count == 0  # a new graph: the old trace is gone
    stepped.run.retain_action.setChecked(True)
    norms = []
    for _ in range(2):
        with qtbot.waitSignal(stepped.controller.backward_ready, timeout=WAIT_MS) as blocker:
            stepped.run.backward_action.trigger()
        step = next(s for s in blocker.args[0].trace.steps if s.leaf_grad_after is not None)
        norms.append((step.leaf_grad_before, step.leaf_grad_after))
    (first_before, first_after), (second_before, second_after) = norms
    # The first forward's backward already filled .grad; each later pass adds to it the
    # same gradient (same graph, same values): accumulation, value by value.
    assert second_before.preview == pytest.approx(first_after.preview)
    added_first = [a - b for a, b in zip(first_after.preview, first_before.preview, strict=True)]
    added_second = [a - b for a, b in zip(second_after.preview, second_before.preview, strict=True)]
    assert added_second == pytest.approx(added_first, rel=1e-5, abs=1e-7)
    assert any(abs(v) > 0 for v in added_first)


def test_play_advances_to_the_end_and_stops(qtbot, stepped: MainWindow) -> None:
    stepped.stepper_panel.speed.setValue(20)
    stepped.stepper.go_to(0)
    stepped.stepper.play_action.trigger()
    assert stepped.stepper.playing
    qtbot.waitUntil(lambda: not stepped.stepper.playing, timeout=WAIT_MS)
    assert stepped.stepper.index == stepped.stepper.step_count - 1
    assert not stepped.stepper.play_action.isChecked()


def test_pause_keeps_the_current_step(qtbot, stepped: MainWindow) -> None:
    stepped.stepper_panel.speed.setValue(1)
    stepped.stepper.go_to(0)
    stepped.stepper.set_playing(True)
    stepped.stepper.set_playing(False)
    assert not stepped.stepper.playing and stepped.stepper.index == 0


def test_scrubber_and_run_to_node_follow_the_trace(stepped: MainWindow) -> None:
    steps = stepped.stepper.result.trace.steps
    stepped.stepper_panel.slider.setValue(3)
    assert stepped.stepper.index == 3
    assert states(stepped)[steps[3].node_id] is StepState.CURRENT
    leaf = next(s for s in steps if stepped.result.graph.node(s.node_id).leaf_name == "fc1.bias")
    stepped.run.run_to_node(leaf.node_id)
    assert stepped.stepper.index == leaf.index
    assert stepped.stepper_panel.slider.value() == leaf.index


def test_right_click_on_a_node_offers_run_to_node(qtbot, stepped: MainWindow) -> None:
    node_id = stepped.stepper.result.trace.steps[2].node_id
    item = stepped.scene.nodes[node_id]
    stepped.view.centerOn(item)
    pos = stepped.view.mapFromScene(item.sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, stepped.view.mapToGlobal(pos))
    with qtbot.waitSignal(stepped.scene.node_context_menu) as blocker:
        QApplication.sendEvent(stepped.view.viewport(), event)
    assert blocker.args[0] == node_id
    menu = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible())
    run_to = next(a for a in menu.actions() if a.text() == "Run backward to this node")
    assert run_to.isEnabled()
    run_to.trigger()
    menu.close()
    assert stepped.stepper.index == 2


def test_the_chain_rule_panel_shows_the_steps_numbers(stepped: MainWindow) -> None:
    steps = stepped.stepper.result.trace.steps
    relu = next(s for s in steps if stepped.result.graph.node(s.node_id).name == "ReluBackward0")
    stepped.stepper.go_to(relu.index)
    text = stepped.stepper_panel.chain_view.toPlainText()
    assert "grad_self = grad x (result > 0)" in text
    assert "|g|" not in text and f"norm {relu.grad_outputs[0].stats.norm:.4g}" in text


def test_walkthrough_export_writes_vector_frames_that_show_what_the_window_shows(
    qtbot, stepped: MainWindow, tmp_path
) -> None:
    stepped.stepper.go_to(2)
    window_states = states(stepped)
    with qtbot.waitSignal(stepped.run.walkthrough_exported, timeout=WAIT_MS):
        stepped.run.export_walkthrough_to(tmp_path / "walk")
    svgs = sorted((tmp_path / "walk").glob("step_*.svg"))
    assert len(svgs) == stepped.stepper.step_count
    frame = svgs[2].read_text()
    root = ET.fromstring(frame)
    svg = "{http://www.w3.org/2000/svg}"
    assert not list(root.iter(f"{svg}image"))  # shapes and text, no embedded pictures
    texts = [t.text for t in root.iter(f"{svg}text")]
    assert "fc1.weight" in texts and len(frame) < 60_000
    groups = {g.get("id"): g for g in root.iter(f"{svg}g") if g.get("class") == "node"}
    current = next(k for k, s in window_states.items() if s is StepState.CURRENT)
    shape = next(e for e in groups[current].iter() if e.get("fill") not in (None, "none"))
    assert shape.get("stroke") == "#e69f00"  # the window's orange border, on the same node
    ticks = [g for g in root.iter(f"{svg}g") if g.get("class") == "gv-badge"]
    done = sum(1 for s in window_states.values() if s is StepState.DONE)
    assert sum(1 for g in ticks if g.findtext(f"{svg}text") == "\u2713") == done
    page = (tmp_path / "walk" / "index.html").read_text()
    assert page.count("<svg") == 1 and "Step 1/" in page and "fc1.weight" in page
    assert stepped.stepper.index == 2  # the window is left where it was


def test_walkthrough_without_backward_is_a_message(qtbot, window: MainWindow, tmp_path) -> None:
    with qtbot.waitSignal(window.error_shown) as blocker:
        window.run.export_walkthrough_to(tmp_path / "walk")
    assert "run backward first" in blocker.args[0]


def test_svg_export_keeps_the_gradient_colours(qtbot, stepped: MainWindow, tmp_path) -> None:
    target = tmp_path / "grads.svg"
    with qtbot.waitSignal(stepped.controller.exported, timeout=WAIT_MS):
        stepped.files.export_to(target)
    text = target.read_text().lower()
    fills = stepped.stepper.current_fills()
    assert fills and all(f'fill="{color}"' in text for color in set(fills.values()))


def test_train_step_shows_the_steps_graph_gradients_and_loss(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("two_layer_net"))
    losses = []
    for _ in range(2):
        with qtbot.waitSignal(window.controller.trained, timeout=WAIT_MS) as blocker:
            window.run.train_action.trigger()
        losses.append(blocker.args[0].loss)
        qtbot.waitUntil(lambda: window.stepper.step_count > 0, timeout=WAIT_MS)
    assert window.stepper.result.graph is window.result.graph  # this step's backward
    message = window.status.currentMessage()  # one short line per step; the dock says more
    assert message.startswith("Step 2: loss ")
    assert all(loss > 0 for loss in losses)


def test_vector_jacobian_lesson_f6_then_right_shows_v_sent_on(qtbot, window: MainWindow) -> None:
    """The lesson's "Press F6, then Right": MulBackward0 runs and sends V = (0, 1, 0)."""
    with qtbot.waitSignal(window.picture_shown, timeout=WAIT_MS):
        window.open_model(resolve_model("vector_jacobian"))
    assert "Press F6, then Right" in window.lesson.toPlainText()
    with qtbot.waitSignal(window.controller.backward_ready, timeout=WAIT_MS):
        window.run.backward_action.trigger()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    text = window.stepper_panel.chain_view.toPlainText()
    assert text.startswith("MulBackward0") and "sent to input 0 = [0, 1, 0]" in text


def test_before_any_pass_the_chain_rule_box_says_what_it_will_show(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.stepper_panel
    assert panel.chain_view.toPlainText() == ""  # no pass yet
    assert "chain rule" in panel.chain_view.placeholderText()
    assert "Run backward (F6)" in panel.label.text()
