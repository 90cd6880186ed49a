"""``walkthrough()``: run the real backward, recorded, and step through it in a notebook.

The page is one vector picture of the graph plus each step's state, with a slider
and buttons; it needs no network and stays small in a saved notebook
(:mod:`graphviz_app.io.walkthrough` writes it, as for the command line and the window).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from graphviz_app.api.drawing import svg_element
from graphviz_app.api.tensors import caller_leaves, parameter_names, user_frame
from graphviz_app.core.autograd.backward import BackwardStep, BackwardTrace, record_backward
from graphviz_app.core.autograd.live import capture_live
from graphviz_app.core.graph.records import AutogradGraph
from graphviz_app.core.layout.dot import to_dot
from graphviz_app.core.layout.engine import GraphvizEngine, find_engine
from graphviz_app.core.layout.svg import graph_svg
from graphviz_app.io.export import write_atomic
from graphviz_app.io.walkthrough import RecordedPass, walkthrough_html, write_walkthrough


@dataclass(frozen=True, eq=False)
class Walkthrough:
    """A recorded backward pass: every node's execution in the engine's order.

    In a notebook it shows as one interactive page (slider; first, back, play,
    forward and last buttons; the node being executed, fills by gradient magnitude,
    pending-gradient counts, the chain rule and the gradient values of each step).
    ``steps`` are the records (``grad_outputs``, ``grad_inputs``, a leaf's ``.grad``
    before and after), ``graph`` the captured graph; :meth:`save` writes the page.

    >>> import torch, graphviz_app
    >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> walk = graphviz_app.walkthrough((w * w).sum())
    >>> [walk.graph.node(s.node_id).name for s in walk.steps]
    ['SumBackward0', 'MulBackward0', 'AccumulateGrad']
    >>> w.grad
    tensor([2., 4.])
    """

    graph: AutogradGraph
    trace: BackwardTrace
    engine: GraphvizEngine
    title: str = "autograd graph"

    @property
    def steps(self) -> tuple[BackwardStep, ...]:
        """The recorded steps, in the order the engine ran them."""
        return self.trace.steps

    @cached_property
    def dot(self) -> str:
        """The DOT text of the graph (made when first asked for)."""
        return to_dot(self.graph)

    @cached_property
    def svg(self) -> str:
        """The picture of the graph as ``draw()`` and the window lay it out (repeated
        modules once per kind), made when first asked for."""
        return graph_svg(self.graph, engine=self.engine)

    @cached_property
    def html(self) -> str:
        """The walk-through as a self-contained HTML document (what :meth:`save` writes)."""
        return walkthrough_html(self._recorded(), self.svg)

    def save(self, path: str | Path) -> Path:
        """``*.html``: the page, one file. Any other path is a folder: one SVG per step
        (``step_0001.svg``...) and ``index.html``, as ``graphviz-app export
        --backward-steps`` writes. Returns the page's path."""
        target = Path(path)
        if target.suffix.lower() in (".html", ".htm"):
            write_atomic(target, self.html.encode("utf-8"))
            return target
        return write_walkthrough(target, self._recorded(), self.svg)[-1]

    def _recorded(self) -> RecordedPass:
        return RecordedPass(self.graph, self.trace, self.title)

    def _repr_html_(self) -> str:
        return walkthrough_html(self._recorded(), svg_element(self.svg), fragment=True)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<Walkthrough: {len(self.steps)} backward steps over {len(self.graph.nodes)} nodes>"


def walkthrough(
    root: torch.Tensor,
    model: torch.nn.Module | None = None,
    gradient: torch.Tensor | None = None,
    retain_graph: bool = False,
) -> Walkthrough:
    """Run ``root.backward(gradient, retain_graph)`` for real, recording every node.

    ``.grad`` afterwards is exactly what that call gives (gradients accumulate, as in
    PyTorch); without ``retain_graph`` the graph's saved tensors are freed. A root
    with more than one element needs ``gradient`` (torch's own rule). ``model`` names
    the parameters and draws its modules as boxes.

    >>> import torch, graphviz_app
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    >>> loss = model(torch.randn(8, 3)).pow(2).mean()
    >>> walk = graphviz_app.walkthrough(loss, model=model)
    >>> walk.steps[-1].node_id in walk.graph and model[0].weight.grad is not None
    True
    >>> walk.save("walk.html").name  # doctest: +SKIP
    'walk.html'
    """
    if not isinstance(root, torch.Tensor):
        raise TypeError(f"walkthrough() takes the tensor to run backward from, not {root!r}.")
    if gradient is None and root.numel() != 1:
        _raise_torchs_scalar_error(root)
    names = parameter_names(model, None)
    walk, graph = capture_live((root,), names, caller_leaves(user_frame(1)))
    seeds = [gradient] if gradient is not None else None
    trace = record_backward(walk, seeds, retain_graph=retain_graph)
    title = type(model).__name__ if model is not None else "autograd graph"
    return Walkthrough(graph, trace, find_engine(), title)


def _raise_torchs_scalar_error(root: torch.Tensor) -> None:
    """Torch's own error for an implicit gradient of a non-scalar root, explained."""
    try:
        torch.autograd.backward(root)  # fails in torch's argument check, before running
    except RuntimeError as exc:
        raise RuntimeError(
            f"{exc}. walkthrough() runs root.backward(gradient) as torch does, and the root "
            f"has shape {tuple(root.shape)}: pass gradient= a tensor of that shape (the "
            "gradient of your final scalar with respect to the root; "
            "torch.ones_like(root) sums it), or walk through a scalar such as root.sum()."
        ) from exc
