"""Every backward call of the user's code reaches the handler, with torch's own result."""

from __future__ import annotations

import threading

import torch

from graphviz_app.core.autograd.intercept import BackwardCall, intercept_backward


def _net() -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return w, (w * w).sum()


def test_tensor_backward_is_seen_and_grad_equals_torch() -> None:
    seen: list[BackwardCall] = []
    w, loss = _net()

    def handler(call: BackwardCall) -> object:
        seen.append(call)
        return call.call()

    with intercept_backward(handler):
        loss.backward(retain_graph=True)
    assert [c.kind for c in seen] == ["backward"]
    assert seen[0].roots[0] is loss and seen[0].retain_graph is True
    assert torch.equal(w.grad, 2 * w.detach())  # type: ignore[arg-type]


def test_autograd_grad_and_nonscalar_seed_are_seen() -> None:
    seen: list[BackwardCall] = []
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    out = w * 3
    seed = torch.tensor([1.0, 10.0])

    def handler(call: BackwardCall) -> object:
        seen.append(call)
        return call.call()

    with intercept_backward(handler):
        (g,) = torch.autograd.grad(out, w, grad_outputs=seed)
    assert seen[0].kind == "grad" and seen[0].inputs[0] is w
    assert seen[0].seeds is not None and seen[0].seeds[0] is seed
    assert torch.equal(g, torch.tensor([3.0, 30.0])) and w.grad is None


def test_everything_is_restored_and_other_threads_pass_through() -> None:
    original = torch.autograd.backward
    seen: list[BackwardCall] = []
    other_thread_grads: list[torch.Tensor] = []

    def elsewhere() -> None:
        w, loss = _net()
        loss.backward()
        other_thread_grads.append(w.grad)  # type: ignore[arg-type]

    with intercept_backward(lambda call: (seen.append(call), call.call())[1]):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert not seen and torch.equal(other_thread_grads[0], torch.tensor([2.0, 4.0, 6.0]))
    assert torch.autograd.backward is original


def test_the_handlers_own_backward_is_not_intercepted_again() -> None:
    calls = 0
    w, loss = _net()

    def handler(call: BackwardCall) -> object:
        nonlocal calls
        calls += 1
        torch.autograd.backward([loss], retain_graph=True)  # the handler's own run
        return None

    with intercept_backward(handler):
        loss.backward(retain_graph=True)
    assert calls == 1 and torch.equal(w.grad, 2 * w.detach())  # type: ignore[arg-type]
