"""``explore(output)``: step through the backward pass of a graph in a browser or in Jupyter.

One self-contained HTML file: the graph drawn by ``draw`` (its SVG inline), the backward
pass stepped through with buttons, a slider or the arrow keys, the chain rule of each step
as ``trace`` prints it, each node's ``explain`` on a click, and fields for the inputs that
recompute every value and gradient in the page.

Nothing about a primitive is written here or in the page's script: the page's forward and
backward code is the primitives table printed as JavaScript (``codegen``), the formulas are
the table's (``trace``, ``explain``), the numbers are formatted by the one rule of
``notation.number`` (ported once into the script, and tested against it in a browser).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from .._options import check_bool, check_count, check_limit
from ..codegen import JAVASCRIPT_HELPERS, javascript, primitive_key
from ..drawing import DEFAULT_MAX_NODES, draw
from ..engine import Constant, Value
from ..explanation import Explanation, explain
from ..graph import Graph, GraphLimitError, TooManyNodes, as_graph
from ..notation import number as format_number
from ..tracing import describe_operation, trace

__all__ = ["DEFAULT_MAX_PAGE_NODES", "Explorer", "explore"]

# A page steps through every node of the graph, and the drawing shows the nearest
# DEFAULT_MAX_NODES (draw's limit: past it a drawing is no longer read). Past this many
# the page itself would be slow to build and to use.
DEFAULT_MAX_PAGE_NODES = 20_000
# explain() for a click: every drawn node's chain rule is written into the page, within
# this many local derivatives over all of them (a node past it says how to get its own).
DEFAULT_EXPLAIN_BUDGET = 20_000
_EXPLAIN_PATHS = 64  # per node: a sum of more paths than this is not read on a page


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


class Explorer:
    """A built explorer page: ``.save(path)`` writes it, ``.html`` is its text, and in
    Jupyter it displays inline (an ``<iframe srcdoc>``, so its script runs in JupyterLab,
    classic Notebook and VS Code alike)."""

    def __init__(self, page: str, data: dict[str, Any]) -> None:
        self.html = page
        self.data = data  # what the page's script reads: nodes, steps, explanations

    @property
    def steps(self) -> int:
        return len(self.data["steps"])

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path; it opens from ``file://``."""
        target = Path(path)
        if target.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Explorer.save: {str(path)!r} should end in .html (the page is "
                             "one HTML file)")
        target.write_text(self.html, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: 760px; border: 1px solid #ddd" '
                f'sandbox="allow-scripts"></iframe>')

    def __repr__(self) -> str:
        return (f"<Explorer of {self.data['title']!r}: {len(self.data['nodes'])} nodes, "
                f"{self.steps} backward steps, {len(self.html) / 1024:.0f} KB>")


def explore(output: Value | Graph, *, title: str | None = None, rankdir: str = "wrap",
            decimals: int = 4, show_derivatives: bool = False,
            max_nodes: int | None = DEFAULT_MAX_PAGE_NODES,
            draw_nodes: int = DEFAULT_MAX_NODES,
            history: Any = None, data: tuple[Sequence[Sequence[float]], Sequence[Any]] | None
            = None) -> Explorer:
    """An explorer page for the backward pass of ``output`` (a Value, or a ``Graph`` of one).

    - ``title``: the page's heading (default: the output and its value).
    - ``rankdir``, ``decimals``, ``show_derivatives``: as for ``draw``; the default, ``"wrap"``,
      lays a chain out in rows that fit beside the page's panels (a network goes across).
    - ``max_nodes``: a graph with more value nodes is refused (``TooManyNodes``); the
      drawing shows the ``draw_nodes`` nodes nearest the output (all of them when there are
      fewer), and the page says how many more there are: stepping, the panels and the
      inputs still cover every node.
    - ``history`` (``nn.fit(..., record=True)``'s) and ``data`` ``(X, y)``: a replay of the
      training run under the graph: an epoch slider over the loss curve, each layer's
      gradient size, and for 2-D inputs the decision boundary at that epoch.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"explore() needs a Value (the output of a computation), not "
                        f"{type(output).__name__}")
    decimals = check_count("explore", "decimals", decimals, minimum=1, maximum=17)
    show_derivatives = check_bool("explore", "show_derivatives", show_derivatives)
    max_nodes = check_limit("explore", "max_nodes", max_nodes)
    draw_nodes = check_count("explore", "draw_nodes", draw_nodes, minimum=1)
    graph = as_graph(output)
    order = graph.reading_order
    if max_nodes is not None and len(order) > max_nodes:
        raise TooManyNodes(
            f"explore: the graph has {len(order)} value nodes, more than max_nodes="
            f"{max_nodes}; a page that big is slow to build and to use. Explore a part of it "
            f"(a smaller batch or network), or pass max_nodes=None.", len(order), max_nodes)
    names = graph.names
    index = {node: i for i, node in enumerate(order)}

    steps = trace(graph, accumulate=False)  # the page computes; the nodes' .grad stay
    drawing = draw(graph.output, rankdir=rankdir, decimals=decimals,
                   show_derivatives=show_derivatives, max_nodes=draw_nodes,
                   summarise=len(order) > draw_nodes, parameter_tables=False)
    svg = drawing.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # the XML prolog and doctype do not belong inside HTML
    ids = drawing.node_ids

    used: dict[str, int] = {}
    nodes = []
    for node in order:
        prim = node.primitive
        entry: dict[str, Any] = {"name": names[node], "data": node.data,
                                 "svg": ids.get(node)}
        if prim is not None:
            key = primitive_key(prim, len(node.parents))
            used[key] = len(node.parents)
            entry["prim"] = key
            entry["parents"] = [{"c": p.data} if type(p) is Constant else index[p]
                                for p in node.parents]
            entry["computation"] = describe_operation(node, names)
        nodes.append(entry)

    step_data = []
    for step in steps:
        step_data.append({"node": index[step.node], "contributions": [
            {"parent": index[c.parent], "position": c.position, "formula": c.formula_text}
            for c in step.contributions]})

    explanations: dict[int, dict[str, Any]] = {}
    budget = DEFAULT_EXPLAIN_BUDGET
    drawn_first = [n for n in order if n in ids] + [n for n in order if n not in ids]
    for node in drawn_first:
        explanations[index[node]], budget = _explanation(graph, node, index, budget)

    page_data = {
        "title": title if title is not None else (
            f"Backward pass of {names[graph.output]} = {format_number(graph.output.data)}"),
        "output": index[graph.output], "decimals": decimals, "nodes": nodes,
        "steps": step_data, "explanations": explanations,
        "drawn": len(ids), "replay": _replay(history, data, names, index) if (
            history is not None or data is not None) else None,
    }
    page = _page(page_data, svg, javascript(used))
    return Explorer(page, page_data)


def _explanation(graph: Graph, node: Value, index: dict[Value, int], budget: int
                 ) -> tuple[dict[str, Any], int]:
    """What a click on ``node`` shows: explain()'s formula in symbols (the numbers are the
    page's, at its current inputs), the paths as (node, input position) links."""
    names = graph.names
    head = f"d{names[graph.output]}/d{names[node]}"
    count = graph.path_count(node)
    if count.factors > budget or count.paths > _EXPLAIN_PATHS:
        return {"head": head, "error": (
            f"{head} has {count.paths} paths with {count.factors} local derivatives in all: "
            f"too long to write on this page. In Python: explain(output, node, max_paths="
            f"None, max_factors=None), or gradients() for the number.")}, budget
    try:
        explanation: Explanation = explain(graph, node)
    except GraphLimitError as error:  # pragma: no cover - counted above
        return {"head": head, "error": str(error)}, budget
    paths = [[[index[f.node], f.position] for f in explanation._shown(path)]
             for path in explanation.paths]
    on_path = sorted(index[n] for n in graph.on_paths_to(node))
    text = explanation.to_text()
    where = text.split("\n  where ", 1)[1] if "\n  where " in text else ""
    entry = {"head": head, "symbols": explanation.symbols_text(), "where": where,
             "paths": paths, "onPath": on_path,
             "links": sorted({(index[f.node], f.position) for path in explanation.paths
                              for f in path.factors})}
    return entry, budget - count.factors


def _replay(history: Any, data: Any, names: dict[Value, str], index: dict[Value, int]
            ) -> dict[str, Any]:
    """The training run for the replay panel: losses, parameter values and each layer's
    gradient size per epoch (``nn.fit(..., record=True)``), and the data points."""
    snapshots: list[dict[str, float]] = list(getattr(history, "snapshots", None) or [])
    if history is not None and not snapshots:
        raise ValueError("explore(history=...): the history has no parameter snapshots; "
                         "train with nn.fit(..., record=True) to replay it")
    by_label = {name: i for node, i in index.items() if (name := names[node])}
    replay: dict[str, Any] = {}
    if history is not None:
        missing = [label for label in snapshots[0] if label not in by_label]
        if missing:
            raise ValueError(f"explore(history=...): the graph has no node labelled "
                             f"{missing[0]!r}: explore the loss of the model that was trained")
        replay["loss"] = [float(v) for v in history.loss]
        replay["snapshots"] = [{str(by_label[k]): float(v) for k, v in snap.items()}
                               for snap in snapshots]
        replay["gradSizes"] = [dict(sizes) for sizes in getattr(history, "grad_sizes", [])]
    if data is not None:
        xs, ys = data
        points = [[float(v) for v in row] for row in xs]
        if points and len(points[0]) == 2:
            inputs = [by_label.get(f"x{k}") for k in range(2)]
            if None in inputs:
                raise ValueError("explore(data=...): a decision boundary needs the inputs "
                                 "labelled x0 and x1 in the graph, as nn labels them")
            predictions = sorted(
                (int(m.group(1)), i) for name, i in by_label.items()
                if (m := re.fullmatch(r"L(\d+)\.N0\.a", name)))
            if not predictions:
                raise ValueError("explore(data=...): no model output in the graph (nn labels "
                                 "it like L2.N0.a): explore the loss of an nn model")
            replay["prediction"] = predictions[-1][1]
            replay["points"] = points
            replay["labels"] = [float(y[0] if isinstance(y, (list, tuple)) else y)
                                for y in ys]
            replay["inputs"] = inputs
    return replay


def _json(value: Any) -> str:
    """JSON for a <script> element, which no label can end early; NaN and inf as strings."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    # Every "<" escaped: "</script>" would end the element, and "<!--<script" would make
    # the HTML parser skip the element's own end (JSON reads \u003c back as "<").
    return json.dumps(clean(value), ensure_ascii=False).replace("<", "\\u003c")


def _page(data: dict[str, Any], svg: str, primitives_js: str) -> str:
    script = (f"const PRIMITIVES = {primitives_js};\n{JAVASCRIPT_HELPERS}\n"
              f"{_asset('replay.js')}\n{_asset('page.js')}")
    parts = {"/*STYLE*/": _asset("page.css"), "<!--SVG-->": svg, "/*DATA*/": _json(data),
             "/*SCRIPT*/": script.replace("</", "<\\/"),
             "<!--TITLE-->": html.escape(data["title"])}
    # One pass over the template's markers (not str.format: the style sheet and the script
    # are full of braces), so that no marker inside the inserted text is replaced again.
    page = re.sub("|".join(re.escape(m) for m in parts), lambda m: parts[m.group(0)],
                  _asset("page.html"))
    return page
