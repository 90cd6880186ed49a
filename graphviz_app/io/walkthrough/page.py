"""The walk-through page: one vector graph, each step's state, a small inline script.

No network, no CDN: the SVG, the data and the script are all in the page, so it works
offline, saved in an ``.ipynb``, or from a folder. The fragment (a ``<div>`` with its
own id, its style scoped to it) is what a notebook shows; :func:`page_html` wraps it
in a document. The script only applies what Python computed (:mod:`.steps`): the
looks that changed at each step, the edge labels and the texts.
"""

from __future__ import annotations

import json
import uuid
from html import escape
from typing import Any

from graphviz_app.core.layout.style import STEP_CURRENT_COLOR, STEP_DONE_COLOR, STEP_WAITING_COLOR
from graphviz_app.io.walkthrough.svg import BADGE_RADIUS, CURRENT_WIDTH, LABEL_SIZE

PLAY_MS = 700  # one step per 0.7 s while playing
# The graph opens scaled to the pane's width, within these bounds: a small graph grows
# to at most FIT_MAX x its size (no giant boxes), a wide one shrinks to FIT_MIN at most
# (labels stay readable; it scrolls sideways). +, - and Ctrl+wheel zoom from there.
FIT_MIN, FIT_MAX = 0.6, 1.6


def fragment_html(title: str, svg: str, data: dict[str, Any]) -> str:
    """The walk-through as an HTML fragment for a notebook output (or a page body)."""
    uid = "gvw-" + uuid.uuid4().hex[:10]
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    constants = json.dumps(
        {
            "current": STEP_CURRENT_COLOR,
            "done": STEP_DONE_COLOR,
            "waiting": STEP_WAITING_COLOR,
            "width": CURRENT_WIDTH,
            "radius": BADGE_RADIUS,
            "label": LABEL_SIZE,
            "playMs": PLAY_MS,
            "fitMin": FIT_MIN,
            "fitMax": FIT_MAX,
        }
    )
    return (
        _FRAGMENT.replace("__STYLE__", _STYLE.replace("#ID", f"#{uid}"))
        .replace("__ID__", uid)
        .replace("__TITLE__", escape(title))
        .replace("__SVG__", svg)
        .replace("__DATA__", payload)
        .replace("__SCRIPT__", _SCRIPT.replace("__ID__", uid).replace("__CONST__", constants))
    )


def page_html(title: str, svg: str, data: dict[str, Any]) -> str:
    """A self-contained HTML document holding the walk-through."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}: backward walk-through</title></head>\n"
        f"<body>\n{fragment_html(title, svg, data)}\n</body></html>\n"
    )


_FRAGMENT = """<div class="gvw" id="__ID__" tabindex="0">
<style>__STYLE__</style>
<div class="gvw-head"><b>__TITLE__</b>: backward, step by step</div>
<div class="gvw-bar">
<button type="button" data-act="first" title="First step (Home)">|&#x25C0;</button>
<button type="button" data-act="prev" title="Step back (Left)">&#x25C0;</button>
<button type="button" data-act="play" title="Play or pause (Space)">Play</button>
<button type="button" data-act="next" title="Step forward (Right)">&#x25B6;</button>
<button type="button" data-act="last" title="Last step (End)">&#x25B6;|</button>
<input type="range" class="gvw-slider" min="0" max="0" value="0" aria-label="step">
<button type="button" data-act="out" title="Zoom out (-; Ctrl+wheel)">&#x2212;</button>
<button type="button" data-act="fit" title="Fit the graph to the page's width (0)">Fit</button>
<button type="button" data-act="in" title="Zoom in (+; Ctrl+wheel)">+</button>
<span class="gvw-zoom"></span>
</div>
<div class="gvw-caption"></div>
<div class="gvw-main">
<div class="gvw-graph">__SVG__</div>
<div class="gvw-side">
<div class="gvw-legend"></div>
<div class="gvw-rule"><div class="gvw-rule-title"></div><div class="gvw-rule-header"></div>
<div class="gvw-rules"></div><pre class="gvw-lines"></pre></div>
</div></div>
<script type="application/json" class="gvw-data">__DATA__</script>
<script>__SCRIPT__</script>
</div>"""

_STYLE = """
#ID { font-family: sans-serif; font-size: 13px; color: #222; background: #fff;
  border: 1px solid #ccc; padding: 6px; outline: none; }
#ID .gvw-head { margin-bottom: 4px; }
#ID .gvw-bar { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
#ID .gvw-bar button { min-width: 2.2em; padding: 2px 6px; cursor: pointer; }
#ID .gvw-slider { flex: 1; min-width: 120px; }
#ID .gvw-caption { font-family: monospace; margin: 4px 0; min-height: 1.3em; }
#ID .gvw-main { display: flex; gap: 8px; align-items: flex-start; }
#ID .gvw-graph { flex: 3; min-width: 0; overflow: auto; max-height: 80vh;
  border: 1px solid #eee; }
#ID .gvw-graph svg { display: block; }
#ID .gvw-zoom { min-width: 3.5em; color: #555; }
#ID .gvw-side { flex: 2; min-width: 220px; max-width: 420px; }
#ID .gvw-rule-title { font-weight: bold; }
#ID .gvw-rule-header { color: #555; margin: 2px 0; }
#ID .gvw-rules { color: #00529b; font-family: monospace; white-space: pre-wrap; }
#ID .gvw-lines { font-size: 12px; white-space: pre-wrap; margin: 4px 0; }
#ID .gvw-ramp { height: 10px; border: 1px solid #999; margin: 2px 0; }
#ID .gvw-ends { display: flex; justify-content: space-between; font-size: 11px; }
"""

_SCRIPT = r"""(function () {
  "use strict";
  var K = __CONST__;
  var root = document.getElementById("__ID__");
  var data = JSON.parse(root.querySelector("script.gvw-data").textContent);
  var steps = data.steps, NS = "http://www.w3.org/2000/svg";
  var graph = root.querySelector(".gvw-graph"), svg = graph.querySelector("svg");
  var overlay = svg.querySelector("g.gv-overlay");
  var slider = root.querySelector(".gvw-slider");
  var nodes = {}, index = 0, timer = null;
  Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (g) {
    var shape = null;
    Array.prototype.some.call(g.querySelectorAll("path, polygon, ellipse"), function (el) {
      var fill = el.getAttribute("fill");
      if (fill && fill !== "none") { shape = el; return true; }
      return false;
    });
    if (!shape) { return; }
    var texts = Array.prototype.slice.call(g.querySelectorAll("text"));
    nodes[g.getAttribute("id")] = {
      group: g, shape: shape, texts: texts, fill: shape.getAttribute("fill"),
      stroke: shape.getAttribute("stroke"), width: shape.getAttribute("stroke-width"),
      inks: texts.map(function (t) { return t.getAttribute("fill"); })
    };
  });
  function el(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function setOrDrop(e, name, value) {
    if (value === null || value === undefined) { e.removeAttribute(name); }
    else { e.setAttribute(name, value); }
  }
  function looksAt(i) {
    var state = {};
    for (var k = 0; k <= i; k++) {
      var changed = steps[k].looks;
      Object.keys(changed).forEach(function (id) { state[id] = changed[id]; });
    }
    return state;
  }
  function badge(box, text) {
    var x = box[2] - 1, y = box[1] + 1;
    var g = el("g", {"class": "gv-badge"});
    g.appendChild(el("circle", {cx: x, cy: y, r: K.radius, stroke: "white",
      fill: text === "\u2713" ? K.done : K.waiting}));
    g.appendChild(el("text", {x: x, y: y + 3.5, "text-anchor": "middle", fill: "white",
      "font-family": "sans-serif", "font-size": "10", "font-weight": "bold"}, text));
    overlay.appendChild(g);
  }
  function label(at, text) {
    overlay.appendChild(el("text", {"class": "gv-label", x: at[0] + 4, y: at[1] + 3,
      "font-family": "monospace", "font-size": K.label, fill: "#8a5a00", stroke: "white",
      "stroke-width": "3", "paint-order": "stroke"}, text));
  }
  function reveal(id) {
    var node = nodes[id];
    if (!node) { return; }
    var box = node.shape.getBoundingClientRect(), view = graph.getBoundingClientRect();
    if (box.top < view.top || box.bottom > view.bottom) {
      graph.scrollTop += box.top - view.top - (view.height - box.height) / 2;
    }
    if (box.left < view.left || box.right > view.right) {
      graph.scrollLeft += box.left - view.left - (view.width - box.width) / 2;
    }
  }
  // Graphviz sizes the SVG in points; zoom 1 is that size, in CSS pixels.
  var natural = {w: svg.width.baseVal.value || 1, h: svg.height.baseVal.value || 1};
  var zoom = 1, fitting = true;
  function fitZoom() {
    var room = graph.clientWidth - 2;
    return room > 0 ? Math.max(K.fitMin, Math.min(K.fitMax, room / natural.w)) : 1;
  }
  function zoomTo(z, fit) {
    zoom = Math.max(0.1, Math.min(5, z));
    fitting = !!fit;
    svg.style.width = natural.w * zoom + "px";
    svg.style.height = natural.h * zoom + "px";
    text(".gvw-zoom", Math.round(zoom * 100) + "%");
    root.setAttribute("data-zoom", zoom.toFixed(3));
  }
  function text(selector, value) { root.querySelector(selector).textContent = value; }
  function show(i) {
    if (!steps.length) { return; }
    index = Math.max(0, Math.min(steps.length - 1, i));
    var looks = looksAt(index), step = steps[index], current = null;
    while (overlay.firstChild) { overlay.removeChild(overlay.firstChild); }
    Object.keys(nodes).forEach(function (id) {
      var n = nodes[id], look = looks[id] || ["", "", 0, ""];
      n.shape.setAttribute("fill", look[0] || n.fill);
      n.texts.forEach(function (t, j) { setOrDrop(t, "fill", look[1] || n.inks[j]); });
      setOrDrop(n.shape, "stroke", look[2] ? K.current : n.stroke);
      setOrDrop(n.shape, "stroke-width", look[2] ? K.width : n.width);
      n.group.setAttribute("data-state", look[2] ? "current" :
        look[3] === "\u2713" ? "done" : look[3] ? "waiting" : "");
      if (look[2]) { current = id; }
      if (look[3] && data.boxes[id]) { badge(data.boxes[id], look[3]); }
    });
    step.labels.forEach(function (l) {
      if (data.anchors[l[0]]) { label(data.anchors[l[0]], l[1]); }
    });
    slider.value = index;
    text(".gvw-caption", step.caption);
    text(".gvw-rule-title", step.rule.title);
    text(".gvw-rule-header", step.rule.header);
    text(".gvw-rules", step.rule.rules.join("\n"));
    text(".gvw-lines", step.rule.lines.join("\n"));
    root.setAttribute("data-step", String(index));
    if (current) { reveal(current); }
  }
  function play() {
    var button = root.querySelector('[data-act="play"]');
    if (timer) { clearInterval(timer); timer = null; button.textContent = "Play"; return; }
    if (index >= steps.length - 1) { show(0); }
    button.textContent = "Pause";
    timer = setInterval(function () {
      if (index >= steps.length - 1) { play(); } else { show(index + 1); }
    }, K.playMs);
  }
  var acts = {
    first: function () { show(0); }, prev: function () { show(index - 1); },
    next: function () { show(index + 1); }, last: function () { show(steps.length - 1); },
    play: play,
    fit: function () { zoomTo(fitZoom(), true); },
    "in": function () { zoomTo(zoom * 1.25); }, out: function () { zoomTo(zoom / 1.25); }
  };
  Array.prototype.forEach.call(root.querySelectorAll("[data-act]"), function (b) {
    b.addEventListener("click", function (e) { acts[b.getAttribute("data-act")](e); });
  });
  slider.max = Math.max(steps.length - 1, 0);
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  root.addEventListener("keydown", function (e) {
    var keys = {ArrowRight: acts.next, ArrowLeft: acts.prev, Home: acts.first,
      End: acts.last, " ": play, "+": acts["in"], "=": acts["in"], "-": acts.out,
      "0": acts.fit};
    if (keys[e.key]) { e.preventDefault(); keys[e.key](e); }
  });
  if (data.legend) {
    var legend = root.querySelector(".gvw-legend");
    legend.appendChild(document.createTextNode("Gradient norm (log scale)"));
    var ramp = document.createElement("div");
    ramp.className = "gvw-ramp";
    ramp.style.background = "linear-gradient(to right, " + data.legend.colors.join(", ") + ")";
    legend.appendChild(ramp);
    var ends = document.createElement("div");
    ends.className = "gvw-ends";
    [data.legend.low, data.legend.high].forEach(function (v) {
      var s = document.createElement("span"); s.textContent = v; ends.appendChild(s);
    });
    legend.appendChild(ends);
  }
  graph.addEventListener("wheel", function (e) {
    if (!e.ctrlKey) { return; }
    e.preventDefault();
    zoomTo(zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, {passive: false});
  window.addEventListener("resize", function () { if (fitting) { acts.fit(); } });
  acts.fit();
  show(0);
})();"""
