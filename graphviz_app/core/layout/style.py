"""How a graph looks: the style model, the colour palette and node labels.

Shared by the DOT writer (and so Graphviz's own SVG) and the Qt scene, so that the
window and an exported file agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphviz_app.core.graph.records import Node, NodeKind, TensorInfo

#: Okabe-Ito colour-blind-safe hues, lightened for fills; text stays black on all.
KIND_FILL: dict[NodeKind, str] = {
    NodeKind.OUTPUT: "#9be3c6",  # bluish green
    NodeKind.BACKWARD: "#e4e4e4",  # neutral grey: the ordinary case
    NodeKind.VIEW: "#f6efa6",  # yellow
    NodeKind.COPY_SLICES: "#f2b28a",  # vermillion
    NodeKind.CUSTOM: "#e3b5d0",  # reddish purple
    NodeKind.PARAMETER: "#a9d8f5",  # sky blue
    NodeKind.INPUT: "#f5cf80",  # orange
    NodeKind.MODULE: "#c9c9e8",  # lavender: a box standing for many nodes
}
KIND_BORDER: dict[NodeKind, str] = {
    NodeKind.OUTPUT: "#00795a",
    NodeKind.BACKWARD: "#6e6e6e",
    NodeKind.VIEW: "#a59a16",
    NodeKind.COPY_SLICES: "#b04a00",
    NodeKind.CUSTOM: "#a0507c",
    NodeKind.PARAMETER: "#2a7fb8",
    NodeKind.INPUT: "#b37800",
    NodeKind.MODULE: "#5a5a96",
}
KIND_LABEL: dict[NodeKind, str] = {
    NodeKind.OUTPUT: "output / root",
    NodeKind.BACKWARD: "backward op",
    NodeKind.VIEW: "view backward",
    NodeKind.COPY_SLICES: "in-place on a view (CopySlices)",
    NodeKind.CUSTOM: "custom autograd.Function",
    NodeKind.PARAMETER: "parameter (AccumulateGrad)",
    NodeKind.INPUT: "input leaf (AccumulateGrad)",
    NodeKind.MODULE: "collapsed module (double-click to expand)",
}
EDGE_COLOR = "#555555"
NON_FINITE_COLOR = "#d00000"  # NaN/Inf: red, thick, dashed border in every renderer
# The light theme's link blue: vermillion was also CopySlices' colour, and orange is
# the backward step being executed; the window draws selection as a dashed ring.
SELECTED_COLOR = "#0056a0"
HIGHLIGHT_COLOR = "#0072b2"  # Okabe-Ito blue
# The backward stepper's marks, in the window and in exported walk-throughs.
STEP_CURRENT_COLOR = "#e69f00"  # Okabe-Ito orange: the node backward is executing
STEP_DONE_COLOR = "#009e73"  # bluish green: executed (a tick)
STEP_WAITING_COLOR = "#56b4e9"  # sky blue: waiting for gradients (their count)
CLUSTER_BORDER = "#9a9ab0"
CLUSTER_FILL = "#f4f4fa"

# Monospace metrics used to size boxes for both Graphviz and Qt (points).
CHAR_WIDTH_EM = 0.6
LINE_HEIGHT_EM = 1.35
PADDING_PT = 10.0


@dataclass(frozen=True)
class GraphStyle:
    """Options that change the picture (and so the layout or the labels)."""

    rankdir: str = "TB"  # TB (top to bottom) or LR
    clusters: bool = True  # a box per nn.Module
    show_values: bool = False  # a value-summary line on each node
    font_size: float = 10.0
    collapsed: frozenset[str] = frozenset()  # module paths drawn as one node each
    # Repeated blocks drawn folded ("x11"), named by the first module of their run.
    folded: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.rankdir not in ("TB", "LR", "BT", "RL"):
            raise ValueError(f"rankdir must be TB, LR, BT or RL, not {self.rankdir!r}")


def node_label_lines(node: Node, style: GraphStyle) -> list[str]:
    """The text lines drawn in a node's box, most important first."""
    lines = [node.title]
    detail = _detail_line(node)
    if detail:
        lines.append(detail)
    if node.grad_order > 1:  # drawn with a double border too
        lines.append(higher_order_line(node.grad_order))
    if node.tensor is not None and (node.kind is not NodeKind.BACKWARD or node.tensor.shape):
        lines.append(shape_line(node.tensor))
    stats = node.tensor.stats if node.tensor is not None else None
    if stats is not None and stats.has_non_finite:
        lines.append(f"!! {stats.non_finite_text}")  # always shown
    elif style.show_values and node.tensor is not None and stats is not None:
        lines.append(value_line(node.tensor))
    return lines


def node_tooltip(node: Node) -> str:
    """A node's class, forward op, module and source line, one per line (hover text)."""
    parts = [node.name]
    if node.op:
        parts.append(f"forward op: {node.op}")
    if node.module:
        parts.append(f"module: {node.module}" + (" (inferred)" if node.module_inferred else ""))
    if node.source:
        parts.append(f"source: {node.source}")
    if node.grad_order > 1:
        parts.append(higher_order_line(node.grad_order))
    return "\n".join(parts)


def higher_order_line(order: int) -> str:
    """The label line of a node a ``create_graph=True`` backward made."""
    return f"made by backward (order {order})"


def has_non_finite(node: Node) -> bool:
    """True when the node's tensor holds a NaN or an infinity."""
    stats = node.tensor.stats if node.tensor is not None else None
    return stats is not None and stats.has_non_finite


def _detail_line(node: Node) -> str:
    if node.is_leaf:
        return "AccumulateGrad" if node.leaf_name else ""
    if node.kind is NodeKind.MODULE:
        return node.name
    if node.kind is NodeKind.OUTPUT:
        return ""
    op = node.op or ""
    mode = mode_note(node)
    return f"{op} ({mode})" if op and mode else op or mode


def mode_note(node: Node) -> str:
    """What train()/eval() changes in this node, for the label: dropout's random mask
    exists only in train mode (in eval there is no node at all); batch norm normalises
    with the batch's statistics (train mode, or no running statistics kept) or with its
    running statistics (eval mode), as its saved ``training`` flag says."""
    if node.op == "dropout":
        return "random mask"
    training = next((v.text for v in node.saved if v.name == "training"), None)
    if training == "True":
        return "batch stats"
    if training == "False":
        return "running stats"
    return ""


def shape_line(info: TensorInfo) -> str:
    """``(3, 8) float32``, with the device when it is not the CPU."""
    device = "" if info.device == "cpu" else f" {info.device}"
    return f"{info.shape_text} {info.dtype}{device}"


def value_line(info: TensorInfo) -> str:
    """A one-line value summary: mean and norm, or the NaN/Inf counts."""
    stats = info.stats
    if stats is None:
        return "values unavailable"
    if stats.has_non_finite:
        return stats.non_finite_text
    return f"mean {stats.mean:.3g} norm {stats.norm:.3g}"


def node_size_pt(lines: list[str], font_size: float) -> tuple[float, float]:
    """Box width and height in points for these label lines in a monospace font."""
    longest = max((len(line) for line in lines), default=1)
    width = longest * CHAR_WIDTH_EM * font_size + 2 * PADDING_PT
    height = len(lines) * LINE_HEIGHT_EM * font_size + PADDING_PT
    return max(width, 48.0), height


#: Viridis (perceptually uniform, colour-blind safe) for gradient magnitudes, cut
#: before its yellow end: yellow (and orange) are node-kind colours (view, input,
#: CopySlices), and a lesson's "the yellow node" must not also mean "a large gradient".
#: Dark purple to green is still monotone in lightness, so the order reads in grey too.
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962")
ZERO_GRAD_FILL = "#f0f0f0"  # no gradient reached the node, or it is exactly zero


@dataclass(frozen=True)
class GradRamp:
    """Log-scale colour ramp over the non-zero finite gradient norms of one trace."""

    low: float  # smallest non-zero finite norm
    high: float  # largest finite norm

    @classmethod
    def over(cls, norms: dict[str, float]) -> GradRamp | None:
        """The ramp spanning ``norms``, or None when no norm is non-zero and finite."""
        usable = [v for v in norms.values() if v > 0 and math.isfinite(v)]
        return cls(min(usable), max(usable)) if usable else None

    def position(self, norm: float) -> float:
        """Where ``norm`` falls on the ramp, 0..1 (log scale)."""
        if self.high <= self.low:
            return 1.0
        span = math.log10(self.high) - math.log10(self.low)
        return min(max((math.log10(norm) - math.log10(self.low)) / span, 0.0), 1.0)

    def color(self, norm: float) -> str:
        """The fill colour for a node whose incoming gradient has this norm."""
        if not math.isfinite(norm):
            return NON_FINITE_COLOR
        if norm <= 0:
            return ZERO_GRAD_FILL
        return _interpolate(VIRIDIS, self.position(norm))


def grad_fills(norms: dict[str, float]) -> dict[str, str]:
    """Node id -> fill colour by gradient magnitude (empty when there is nothing to show)."""
    ramp = GradRamp.over(norms)
    if ramp is None:
        return {node_id: ZERO_GRAD_FILL for node_id in norms}
    return {node_id: ramp.color(norm) for node_id, norm in norms.items()}


def _interpolate(stops: tuple[str, ...], t: float) -> str:
    scaled = t * (len(stops) - 1)
    i = min(int(scaled), len(stops) - 2)
    frac = scaled - i
    a, b = _rgb(stops[i]), _rgb(stops[i + 1])
    mixed = (round(x + (y - x) * frac) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def text_color_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    r, g, b = _rgb(fill)
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "#ffffff"


SMALL_GRAD = 4  # gradients with at most this many values are printed in full


def grad_text(info: TensorInfo) -> str:
    """A gradient in a few characters: its values when tiny, else shape and norm."""
    stats = info.stats
    if stats is None:
        return info.shape_text
    if stats.numel <= SMALL_GRAD and info.preview:
        return "[" + ", ".join(f"{v:.3g}" for v in info.preview) + "]"
    if stats.has_non_finite:
        return f"{info.shape_text} {stats.non_finite_text}"
    return f"{info.shape_text} |g|={stats.norm:.3g}"
