"""Plain-language explanations of autograd node types, for learners (no Qt here)."""

from __future__ import annotations

import re

from graphviz_app.core.graph.records import Node, NodeKind

_SUFFIX = re.compile(r"Backward(\d+)$")

KIND_HELP = {
    NodeKind.OUTPUT: (
        "A tensor you asked to see: backward starts here, with a gradient of ones "
        "(or 1.0 for a scalar loss)."
    ),
    NodeKind.PARAMETER: (
        "AccumulateGrad: the end of the line for a parameter. It adds the gradient it "
        "receives into the parameter's .grad (it adds, so gradients of several backward "
        "calls pile up until you call optimizer.zero_grad())."
    ),
    NodeKind.INPUT: (
        "AccumulateGrad of a leaf tensor that is not a parameter (created by you with "
        "requires_grad=True): its gradient ends up in that tensor's .grad."
    ),
    NodeKind.VIEW: (
        "The backward of a view (view, reshape, transpose, t, expand, slicing...). A view "
        "shares memory with its base and only rearranges it, so its backward just "
        "rearranges the gradient back into the base's shape: no arithmetic."
    ),
    NodeKind.COPY_SLICES: (
        "CopySlices: an in-place op changed part of a tensor through a view (x[0] += 1, "
        "x[:, 1].mul_(2)). Autograd rewrote the base tensor's history: this node runs the "
        "in-place op's backward on the slice and passes the rest of the gradient through."
    ),
    NodeKind.CUSTOM: (
        "A custom torch.autograd.Function: its backward is the Python backward() you "
        "wrote; autograd trusts it (check it with torch.autograd.gradcheck)."
    ),
    NodeKind.MODULE: (
        "A collapsed nn.Module: it stands for every node inside that module. "
        "Double-click it to see them."
    ),
    NodeKind.BACKWARD: (
        "The backward of one forward op: it receives the gradient of the op's output and "
        "sends, to each input, that gradient times the op's local derivative (the chain rule)."
    ),
}

TRANSPOSE_IN_LINEAR = (
    "Inside a linear layer: nn.Linear computes x @ W.T + b, so the weight is transposed "
    "first (a view, no copy) and this TBackward0 transposes the weight's gradient back."
)


def explain_node(node: Node) -> list[str]:
    """Paragraphs explaining what ``node`` is, most specific first."""
    paragraphs = [KIND_HELP[node.kind]]
    if node.name == "TBackward0" and (node.op in ("linear", "t") or _in_linear(node)):
        paragraphs.insert(0, TRANSPOSE_IN_LINEAR)
    suffix = _SUFFIX.search(node.name)
    if suffix and node.kind not in (NodeKind.CUSTOM, NodeKind.MODULE):
        op = node.name[: suffix.start()]
        paragraphs.append(
            f"The name: {op} is the op, Backward says this is its gradient function, and "
            f"the {suffix.group(1)} is a version number: PyTorch adds Backward1, Backward2... "
            "when one op has several backward formulas (overloads), not a count of calls."
        )
    if node.kind is NodeKind.BACKWARD and node.op:
        paragraphs.append(f"It was made by the forward op {node.op}().")
    return paragraphs


def _in_linear(node: Node) -> bool:
    return bool(node.module) and "linear" in (node.op or "")
