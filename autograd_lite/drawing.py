"""``draw(output)``: the computation graph as a ``graphviz.Digraph``; ``save_frames``: a flip-book.

Value nodes show name, data and grad; an operation node sits between a node and its inputs,
left to right as the forward pass runs. Options show the local derivatives on the edges
(the primitives table's rules, as formula and number), highlight the path(s) from one node
to the output, draw one step of a ``trace`` (the node being processed and what it sends),
and group an ``nn`` model's nodes into one cluster per layer and neuron.

``draw`` only builds DOT text, which needs no Graphviz program. Rendering (``.render()``,
``.pipe()``, Jupyter's inline display, ``save_frames``) runs Graphviz's ``dot``; when it is
missing the error says how to install it. Every run of ``dot`` is bounded in wall time
(``Drawing.render_timeout``, default 20 s) and, on Linux, in memory (``render_memory``,
default 2 GiB of data): ``dot``'s layout of some graphs grows without bound (a
weight shared by every layer of a deep chain), so past a bound ``dot`` is stopped and a
``RenderTimeoutError`` or ``RenderMemoryError`` says to draw fewer nodes.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import graphviz

from ._options import check_bool, check_choice, check_count, check_limit, check_seconds
from .engine import Constant, Value
from .graph import Graph, TooManyNodes, as_graph
from .notation import formula as format_formula
from .notation import number as format_number
from .notation import safe_filename
from .primitives import FLOAT
from .rendering import (
    DEFAULT_RENDER_MEMORY,
    DEFAULT_RENDER_TIMEOUT,
    Drawing,
    GraphvizNotFound,
    RenderError,
    RenderMemoryError,
    RenderTimeoutError,
)
from .symbolic import local_formula
from .tracing import Step, Trace
from .tracing import trace as run_trace

__all__ = ["DEFAULT_MAX_NODES", "DEFAULT_RENDER_MEMORY", "DEFAULT_RENDER_TIMEOUT",
           "HIGHLIGHT_COLOR", "ROLES", "Drawing", "GraphvizNotFound", "RenderError",
           "RenderMemoryError", "RenderTimeoutError", "draw", "neuron_groups", "node_role",
           "save_frames"]

DEFAULT_MAX_NODES = 250  # beyond this a drawing is a hairball: refuse or summarise
SOURCE_FORMATS = ("dot", "gv")  # file names that hold the DOT text itself
HIGHLIGHT_COLOR = "#d62728"  # the path(s) to the highlighted node
# Graphviz's directions (left to right, ...), and "auto": the one whose drawing is closer to a
# 16:9 slide (a long chain goes top to bottom, a network left to right).
# "wrap": a long chain laid out in rows, left to right, one under the other (16:9 on a slide).
RANKDIRS = ("auto", "wrap", "LR", "RL", "TB", "BT")
SLIDE_ASPECT = 16 / 9
STEP_COLOR = "#1f77b4"  # the node a trace step processes and the contributions it sends
STEP_FILL = "#ffe08a"
RECEIVER_FILL = "#d6e6f7"
DONE_FILL = "#e8e8e8"  # frames: a node whose gradient is complete
PENDING_GRAD = "·"  # frames: a gradient the pass has not reached yet
OP_COLOR = "gray45"  # operation nodes: lighter than the values they join

# What a value node is, as an instructor tells them apart (torchviz colours leaves and
# outputs): its fill and border, and the word in the legend. Colour-blind safe pairs.
ROLES: dict[str, tuple[str, str, str]] = {
    "input": ("#dbe9f6", "#2f6fad", "input"),
    "parameter": ("#fde3c8", "#b8651b", "parameter (weight, bias)"),
    "value": ("white", "black", "computed value"),
    "output": ("#d7eed5", "#2e7d32", "output"),
    "loss": ("#f5d3d3", "#a52a2a", "loss"),
}
LOSS_LABELS = frozenset({"loss", "cost", "C", "J", "L", "E"})


# ---------------------------------------------------------------- grouping (nn models)


def _prefix(label: str) -> str | None:
    """``L1.N0.w2`` -> ``L1.N0``; a label without a dot has no group."""
    return label.rsplit(".", 1)[0] if "." in label else None


def neuron_groups(output: Value | Graph) -> dict[Value, str]:
    """Which neuron (or layer) each node belongs to, read from dotted labels.

    ``nn`` labels a neuron's parameters ``L1.N0.w0 … L1.N0.b``, its sum ``L1.N0.z`` and its
    output ``L1.N0.a``: a labelled node belongs to its label's prefix (``L1.N0``). An
    unlabelled operation belongs to group G when it lies between nodes of G: the nearest
    labelled nodes below it (its inputs' side) and above it (its users' side) share exactly
    G. With nothing labelled above it (only the parameters are labelled), it belongs to G
    when one of its inputs is a parameter of G and no input belongs to another group.
    A loss computed from a neuron's output stays outside: nothing of the neuron is above it.
    """
    order = as_graph(output).order
    if not any("." in node.label for node in order):
        return {}
    own = {node: _prefix(node.label) for node in order if node.label}
    below: dict[Value, frozenset[str]] = {}
    for node in reversed(order):  # inputs first
        found: set[str] = set()
        for parent in node.parents:
            if type(parent) is Constant:
                continue
            if parent.label:
                group = own[parent]
                if group is not None:
                    found.add(group)
            else:
                found |= below[parent]
        below[node] = frozenset(found)
    above: dict[Value, set[str]] = {node: set() for node in order}
    for node in order:  # output first: a node's users come before it
        mine = own[node] if node.label else None
        passed: set[str] = ({mine} if mine is not None else set()) if node.label else above[node]
        for parent in node.parents:
            if type(parent) is not Constant:
                above[parent] |= passed
    groups: dict[Value, str] = {}
    for node in order:
        if node.label:
            group = own[node]
            if group is not None:
                groups[node] = group
            continue
        if node.primitive is None:
            continue
        if above[node]:
            shared = below[node] & above[node]
            if len(shared) == 1:
                groups[node] = next(iter(shared))
            continue
        parents = [p for p in node.parents if type(p) is not Constant]
        parameter_groups: set[str] = {g for p in parents
                                      if p.primitive is None and p.label
                                      and (g := own[p]) is not None}
        if len(parameter_groups) == 1 and below[node] <= parameter_groups:
            groups[node] = next(iter(parameter_groups))
    return groups


# ---------------------------------------------------------------- draw()


def _escape_record(text: str) -> str:
    """Text inside a Graphviz record label: braces, bars, angle brackets are syntax there."""
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def _resolve(target: Value | str, names: dict[Value, str], what: str,
             output_name: str) -> Value:
    if isinstance(target, Value):
        if target not in names:
            raise ValueError(f"draw: {what} {target!r} is not in the graph of {output_name}")
        return target
    if isinstance(target, str):
        for node, name in names.items():
            if name == target:
                return node
        known = ", ".join(sorted(names.values())[:12])
        raise ValueError(f"draw: {what} {target!r} names no node of the graph of {output_name} "
                         f"(names: {known}{', …' if len(names) > 12 else ''})")
    raise TypeError(f"draw: {what} must be a Value or a node name, not {type(target).__name__}")


def _nearest(order: list[Value], limit: int) -> list[Value]:
    """The ``limit`` nodes closest to the output (breadth first): what a summary keeps."""
    kept = [order[0]]
    seen = {order[0]}
    head = 0
    while head < len(kept) and len(kept) < limit:
        for parent in kept[head].parents:
            if type(parent) is not Constant and parent not in seen and len(kept) < limit:
                seen.add(parent)
                kept.append(parent)
        head += 1
    return kept


def _is_parameter(label: str) -> bool:
    """A weight or bias, by its name: ``w0``, ``W2``, ``b``, nn's ``L1.N0.w2`` / ``L1.N0.b``."""
    last = label.rsplit(".", 1)[-1]
    return bool(re.fullmatch(r"[wWbB](_?\d+)?(_\d+)*|[wWbB]\d*_\w*", last))


def node_role(node: Value, output: Value) -> str:
    """``input``, ``parameter``, ``value``, ``output`` or ``loss`` (see ``ROLES``)."""
    if node is output:
        return "loss" if node.label in LOSS_LABELS else "output"
    if node.primitive is None:
        return "parameter" if _is_parameter(node.label) else "input"
    return "value"


def _depths(order: list[Value]) -> dict[Value, int]:
    """Each node's rank in the drawing: value and operation nodes alternate along a path."""
    depth: dict[Value, int] = {}
    for node in reversed(order):  # inputs first (inputs not drawn, as in a summary: 0)
        parents = [depth.get(p, 0) for p in node.parents if type(p) is not Constant]
        depth[node] = (2 + max(parents, default=-2)) if node.parents else 0
    return depth


def auto_rankdir(order: list[Value]) -> str:
    """LR or TB, whichever makes the drawing's shape closer to a 16:9 slide.

    Estimated from the ranks (value and operation nodes along the longest path) and the
    widest rank: a value node is about 2.4 times as wide as it is tall, with the space
    dot leaves between ranks.
    """
    depth = _depths(order)
    ranks = max(depth.values(), default=0) + 1
    breadth = max(sum(1 for d in depth.values() if d == r) for r in range(ranks)) or 1
    # inches: a node 1.7 wide, 0.55 tall; 0.5 between ranks, 0.25 between nodes of a rank
    left_right = (ranks * (1.7 + 0.5) / 2 + 0.6 * ranks / 2) / (breadth * (0.55 + 0.25))
    top_bottom = (breadth * (1.7 + 0.25)) / (ranks * (0.55 + 0.5))

    def off(aspect: float) -> float:
        return abs(math.log(aspect / SLIDE_ASPECT))

    return "LR" if off(left_right) <= off(top_bottom) else "TB"


def wrap_rows(order: list[Value]) -> list[list[Value]]:
    """The value nodes of a drawing in rows (each with its operation, and a leaf in the row
    of its first use), as many rows as bring the drawing's shape closest to 16:9."""
    depth = _depths(order)
    consumers: dict[Value, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            consumers.setdefault(parent, []).append(node)
    place = {}
    for node in order:
        if node.primitive is None and consumers.get(node):
            place[node] = min(depth[c] for c in consumers[node]) - 2  # beside its use
        else:
            place[node] = depth[node]
    ranks = max(place.values(), default=0) + 1
    # inches: a value node about 1.7 wide (its operation 0.9 more) and 1.35 tall with the gap
    width_at = [0.0] * ranks
    for node, r in place.items():
        width_at[r] += 1.7 + (0.9 if node.primitive is not None else 0.0)
    best: tuple[float, int] = (math.inf, 1)
    for count in range(1, ranks + 1):
        size = math.ceil(ranks / count)
        widths = [sum(width_at[i:i + size]) for i in range(0, ranks, size)]
        aspect = max(widths) / (1.35 * len(widths))
        best = min(best, (abs(math.log(aspect / SLIDE_ASPECT)), count))
    size = math.ceil(ranks / best[1])
    rows: list[list[Value]] = [[] for _ in range(math.ceil(ranks / size))]
    for node in reversed(order):  # inputs first: each row left to right
        rows[place[node] // size].append(node)
    return [row for row in rows if row]


def _wrap_edges(edges: list[tuple[str, str, dict[str, str]]], rows: list[list[Value]],
                ids: dict[Value, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Edges between rows do not pull the rows apart (each row starts at the left margin);
    invisible edges between the rows' first nodes keep them in order, one under the other."""
    row_of: dict[str, int] = {}
    for index, row in enumerate(rows):
        for node in row:
            row_of[ids[node]] = index
            row_of[f"{ids[node]}_op"] = index
    kept = []
    for tail, head, attrs in edges:
        base = tail.split("_c")[0]
        if row_of.get(base, row_of.get(tail)) != row_of.get(head):
            attrs = {**attrs, "constraint": "false"}
        kept.append((tail, head, attrs))
    for upper, lower in itertools.pairwise(rows):
        kept.append((ids[upper[0]], ids[lower[0]], {"style": "invis", "weight": "10"}))
    return kept


def _as_table(attrs: dict[str, str], fields: tuple[str, str, str],
              across: bool = False) -> dict[str, str]:
    """A value node as an HTML-like table: name (bold), data, grad, one under the other (or
    ``across``, side by side, as a record reads in a left-to-right drawing); its colours
    kept."""
    fill = attrs.get("fillcolor", "white") if "filled" in attrs.get("style", "") else "white"
    border = attrs.get("color", "black")
    width = "2" if float(attrs.get("penwidth", "1")) > 1.5 else "1"
    dashed = ' STYLE="dashed"' if "dashed" in attrs.get("style", "") else ""
    font = attrs.get("fontcolor", "black")
    name, data, grad = (html.escape(text) for text in fields)
    cells = [f'<TD><FONT COLOR="{font}">{cell}</FONT></TD>'
             for cell in (f"<B>{name}</B>", data, grad)]
    rows = f"<TR>{''.join(cells)}</TR>" if across else "".join(f"<TR>{c}</TR>" for c in cells)
    label = (f'<<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
             f'BGCOLOR="{fill}" COLOR="{border}"{dashed}>{rows}</TABLE>>')
    return {"shape": "plain", "label": label}


def _parameter_blocks(statements: dict[str | None, list[tuple[str, dict[str, str]]]],
                      edges: list[tuple[str, str, dict[str, str]]],
                      chains: dict[str | None, list[list[str]]],
                      fields: dict[str, tuple[str, str, str]], across: bool,
                      ) -> tuple[dict[str | None, list[tuple[str, dict[str, str]]]],
                                 list[tuple[str, str, dict[str, str]]]]:
    """Each neuron's parameters as one table, a row per parameter in order (w0, w1, ..., b),
    its edges leaving from the parameter's own row. dot orders separate nodes to cross the
    fewest edges, and its ordering constraints do not hold inside clusters: one node with
    ports is the only order it keeps."""
    port_of: dict[str, str] = {}
    for group, group_chains in chains.items():
        entries = dict(statements[group])
        for chain in group_chains:
            block_id = f"{chain[0]}_params"
            rows = []
            for node_id in chain:
                attrs = entries.pop(node_id)
                fill = (attrs.get("fillcolor", "white")
                        if "filled" in attrs.get("style", "") else "white")
                border = attrs.get("color", "black")
                font = attrs.get("fontcolor", "black")
                dashed = ' STYLE="dashed"' if "dashed" in attrs.get("style", "") else ""
                width = "2" if float(attrs.get("penwidth", "1")) > 1.5 else "1"
                name, data, grad = (html.escape(text) for text in fields[node_id])
                cells = [f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="{width}"{dashed}'
                         f'{port}><FONT COLOR="{font}">{cell}</FONT></TD>'
                         for cell, port in ((name, ""), (data, ""),
                                            (grad, f' PORT="{node_id}"'))]
                rows.append(cells)
                port_of[node_id] = f"{block_id}:{node_id}"
            if across:  # a row per parameter, read left to right like a record
                body = "".join(f"<TR>{''.join(cells)}</TR>" for cells in rows)
            else:  # a column per parameter
                body = "".join(f"<TR>{''.join(cells[i] for cells in rows)}</TR>"
                               for i in range(3))
            entries[block_id] = {"shape": "plain", "label": (
                f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="4">'
                f"{body}</TABLE>>")}
        statements[group] = list(entries.items())
    edges = [(port_of.get(tail, tail), head, attrs) for tail, head, attrs in edges]
    return statements, edges


def draw(output: Value, *, show_derivatives: bool = False,
         highlight: Value | str | Iterable[Value | str] | None = None,
         step: Step | None = None,
         clusters: bool | Callable[[Value], str | None] = True,
         max_nodes: int | None = DEFAULT_MAX_NODES, summarise: bool = False,
         decimals: int = 4, rankdir: str = "auto", title: str | None = None,
         size: tuple[float, float] | None = None, roles: bool = True, legend: bool = True,
         parameter_tables: bool = True,
         render_timeout: float | None = DEFAULT_RENDER_TIMEOUT,
         render_memory: int | None = DEFAULT_RENDER_MEMORY) -> Drawing:
    """The computation graph of ``output`` as a ``graphviz.Digraph`` (left to right).

    Each value node shows its name (label, or a generated name such as ``u1``), data and
    grad to ``decimals`` significant digits; operation nodes sit between values, lighter;
    numbers written into the expression are drawn as a small node at each use.

    - ``roles`` (default on): inputs, parameters (``w0``, ``L1.N0.b``), the output and a loss
      (an output labelled ``loss``, ``C``, ``J`` ...) each have their colour, and
      ``legend`` says which is which.
    - ``rankdir``: ``"auto"`` (the default) draws left to right or top to bottom, whichever
      is closer to a 16:9 slide (a long chain goes down, a network across); ``"wrap"`` lays
      a chain out in rows, left to right and row under row, as many as bring it closest to
      16:9 (Kramer's chain: three rows, text at slide size); ``"LR"``, ``"TB"``, ``"RL"``,
      ``"BT"`` choose. ``size=(width, height)`` in inches shrinks the
      drawing to fit (a 16:9 slide is about ``(13.3, 7.5)``).

    - ``show_derivatives``: label each input edge with the local derivative from the
      primitives table, as formula and number (``ds2/dx2 = s2·(1 − s2)``, ``= 0.1982``).
    - ``highlight``: a node (Value or name) or several; every node and edge on a path from
      it to the output is drawn in ``HIGHLIGHT_COLOR``.
    - ``step``: one step of ``trace(output)``: the node being processed, and the edges the
      gradient flows back along, arrows reversed, labelled with what each input receives
      (``+0.09912``); every gradient as the pass knows it after that step. Nodes whose
      gradient is complete are grey, those not reached yet dashed (``·``).
    - ``clusters``: group an ``nn`` model's nodes into one box per layer and neuron, read
      from dotted labels (see ``neuron_groups``); or a function node -> group name or None.
    - ``parameter_tables`` (default on): a neuron's parameters as one table, in order (w0,
      w1, ..., b); False draws each as a node of its own (the explorer marks each).
    - ``max_nodes``: a graph with more value nodes is refused with a ``ValueError`` —
      or, with ``summarise=True``, drawn as its ``max_nodes`` nodes nearest the output
      plus one node counting the rest. ``max_nodes=None`` draws everything.
    - ``render_timeout`` (seconds) and ``render_memory`` (bytes): the bounds on each run
      of Graphviz's ``dot`` that renders this drawing (``RenderTimeoutError``,
      ``RenderMemoryError`` past them); None lifts one. Also settable later:
      ``drawing.render_timeout = 60``.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"draw() needs a Value, not {type(output).__name__}")
    show_derivatives = check_bool("draw", "show_derivatives", show_derivatives)
    summarise = check_bool("draw", "summarise", summarise)
    max_nodes = check_limit("draw", "max_nodes", max_nodes)
    # Significant digits, as trace and explain print them (a float holds at most 17): a
    # vanishing gradient of 5.5e-06 shows as that, never as 0.0000.
    decimals = check_count("draw", "decimals", decimals, minimum=1, maximum=17)
    # dot ignores any other rankdir without a word and draws top to bottom.
    rankdir = check_choice("draw", "rankdir", rankdir, RANKDIRS)
    roles = check_bool("draw", "roles", roles)
    parameter_tables = check_bool("draw", "parameter_tables", parameter_tables)
    legend = check_bool("draw", "legend", legend)
    if size is not None:
        try:
            width, height = (float(v) for v in size)
        except (TypeError, ValueError):
            raise TypeError(f"draw: size must be (width, height) in inches, not {size!r}"
                            ) from None
        if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
            raise ValueError(f"draw: size must be two positive numbers of inches, not {size!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw: title must be text or None, not {type(title).__name__}")
    graph = step.trace.graph if isinstance(step, Step) and step.trace is not None else (
        as_graph(output))
    root = output.output if isinstance(output, Graph) else output
    if step is not None:
        if not isinstance(step, Step) or step.trace is None:
            raise TypeError("draw(step=...) takes a Step of a Trace: trace(output)[k]")
        if step.trace.output is not root:
            raise ValueError(f"draw: the step belongs to the trace of "
                             f"{step.trace.names[step.trace.output]}, not of this output "
                             f"({root.label or 'unlabelled'}): draw(trace.output, step=...)")
    render_timeout = check_seconds("draw", "render_timeout", render_timeout)
    render_memory = check_limit("draw", "render_memory", render_memory)
    output = root
    order = graph.order
    names = step.trace.names if step is not None and step.trace is not None else graph.names
    output_name = names[output]

    shown: set[Value] = set(order)
    hidden = 0
    if max_nodes is not None and len(order) > max_nodes:
        if not summarise:
            raise TooManyNodes(
                f"draw: the graph of {output_name} has {len(order)} value nodes, more than "
                f"max_nodes={max_nodes}: a drawing that size is unreadable (and slow to lay "
                f"out). Pass summarise=True to draw the {max_nodes} nodes nearest the output, "
                f"or max_nodes=None (or a larger number) to draw everything.",
                len(order), max_nodes)
        shown = set(_nearest(order, max_nodes))
        hidden = len(order) - len(shown)

    # Gradients to print: the nodes' .grad, or the pass's own numbers at a trace step.
    grads: dict[Value, float] | None = None
    if step is not None and step.trace is not None:
        grads = step.trace.grads_after(step.index)

    on_path: set[Value] = set()
    targets: list[Value] = []
    if highlight is not None:
        items = [highlight] if isinstance(highlight, (Value, str)) else list(highlight)
        targets = [_resolve(item, names, "highlight", output_name) for item in items]
        on_path = graph.on_paths_to(targets)

    if clusters is True:
        groups = neuron_groups(graph)
        if groups and output.label in LOSS_LABELS:
            # A network's loss, and the operations between its last layer and the loss,
            # form one box of their own, named, after the layers.
            for node in order:
                if node not in groups and node.primitive is not None:
                    groups[node] = "loss"
    elif clusters is False or clusters is None:
        groups = {}
    elif callable(clusters):
        groups = {node: g for node in order if (g := clusters(node))}
    else:
        raise TypeError(f"draw: clusters must be True, False or a function, "
                        f"not {type(clusters).__name__}")

    # Frames: which nodes have their whole gradient (every node processed before this step,
    # and a leaf whose consumers all have been), to draw them apart from those still open.
    done: set[Value] = set()
    if step is not None and step.trace is not None:
        processed = {s.node for s in step.trace.steps[:step.index]}
        consumers: dict[Value, list[Value]] = {}
        for node in order:
            for parent in node.parents:
                consumers.setdefault(parent, []).append(node)
        done = {s.node for s in step.trace.steps[:step.index - 1]}
        done |= {n for n in order if n.primitive is None and n in (grads or {})
                 and all(c in processed for c in consumers.get(n, []))}
    if rankdir == "auto":
        rankdir = auto_rankdir([n for n in order if n in shown])
    rows: list[list[Value]] = []
    if rankdir == "wrap":
        if groups:  # rows would cut through the layers' boxes: a network goes across
            rankdir = "LR"
        else:
            rows = wrap_rows([n for n in order if n in shown])
    ids = {node: f"n{i}" for i, node in enumerate(reversed(order))}
    graph = Drawing(name=output_name, format="svg")
    graph.render_timeout = render_timeout
    graph.render_memory = render_memory
    graph.nodes = len(shown)
    graph.node_ids = {node: ids[node] for node in order if node in shown}
    # nslimit bounds the network-simplex passes that place nodes across ranks, to once per
    # node. A leaf used by every layer (h_k = tanh(w·h_k-1)) draws edges over all ranks and
    # made those passes run for minutes (60 layers: over 120 s, now about 1 s); the
    # lectures' and nn's drawings converge sooner, so their layout is the same.
    graph.attr(rankdir="TB" if rows else rankdir, nslimit="1")
    if rows:
        graph.attr(newrank="true")
    if size is not None:
        graph.attr(size=f"{size[0]:g},{size[1]:g}")  # dot shrinks a bigger drawing to fit
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9")
    caption = title
    if caption is None and step is not None and step.trace is not None:
        caption = (f"step {step.index} of {len(step.trace)}: {step.name} = {step.computation} "
                   f"passes d{output_name}/d{step.name} = "
                   f"{format_number(step.upstream, digits=decimals)} "
                   f"to its inputs")
    if caption is None and hidden:
        caption = (f"summary: the {len(shown)} nodes nearest {output_name}, "
                   f"{hidden} more not drawn")
    if caption:
        graph.attr(label=caption, labelloc="t", fontname="Helvetica", fontsize="12")

    # Statements per group, so every node is declared inside its cluster.
    statements: dict[str | None, list[tuple[str, dict[str, str]]]] = {}

    def node_stmt(node: Value, node_id: str, attrs: dict[str, str]) -> None:
        statements.setdefault(groups.get(node), []).append((node_id, attrs))

    edges: list[tuple[str, str, dict[str, str]]] = []
    def fmt(number: float) -> str:
        return format_number(number, digits=decimals)

    sent = {c.parent: c for c in step.contributions} if step is not None else {}
    roles_seen: set[str] = set()
    chains: dict[str | None, list[list[str]]] = {}
    fields: dict[str, tuple[str, str, str]] = {}
    for node in reversed(order):
        if node not in shown:
            continue
        node_id = ids[node]
        if grads is None:
            grad_text = fmt(node.grad)
        else:
            grad_text = fmt(grads[node]) if node in grads else PENDING_GRAD
        label = (f"{{ {_escape_record(names[node])} | data {fmt(node.data)} "
                 f"| grad {grad_text} }}")
        attrs = {"shape": "record", "label": label}
        # Rows and ordered parameters need flat edges, which dot cannot route at records.
        fields[node_id] = (names[node], f"data {fmt(node.data)}", f"grad {grad_text}")
        role = node_role(node, output)
        roles_seen.add(role)
        if roles:
            fill, border, _ = ROLES[role]
            attrs.update(color=border)
            if step is None:
                attrs.update(style="filled", fillcolor=fill)
        if node in on_path:
            attrs.update(color=HIGHLIGHT_COLOR, penwidth="2.5", fontcolor=HIGHLIGHT_COLOR)
        if step is not None and node is step.node:
            attrs.update(style="filled", fillcolor=STEP_FILL, color=STEP_COLOR, penwidth="2.5")
        elif node in sent:
            attrs.update(style="filled", fillcolor=RECEIVER_FILL, penwidth="1.5")
        elif node in done:
            attrs.update(style="filled", fillcolor=DONE_FILL)
        elif step is not None and grads is not None and node not in grads:
            attrs.update(style="dashed", fontcolor="gray40")
        node_stmt(node, node_id, attrs)

        prim = node.primitive
        if prim is None:
            continue
        op_id = f"{node_id}_op"
        # ordering=in: the inputs enter in their order (w0, w1, ..., b), not shuffled.
        op_attrs = {"shape": "ellipse", "label": prim.op, "margin": "0.02,0.02",
                    "fontsize": "10", "color": OP_COLOR, "fontcolor": "gray20",
                    "height": "0.3", "ordering": "in"}
        op_on_path = node in on_path and node not in targets
        if op_on_path:
            op_attrs.update(color=HIGHLIGHT_COLOR, penwidth="2.5", fontcolor=HIGHLIGHT_COLOR)
        current = step is not None and node is step.node
        if current:
            op_attrs.update(color=STEP_COLOR, penwidth="2.5")
        node_stmt(node, op_id, op_attrs)
        out_edge = {"color": HIGHLIGHT_COLOR, "penwidth": "2.5"} if op_on_path else {}
        if current:  # the gradient arrives at the node and flows back through its operation
            out_edge = {"color": STEP_COLOR, "penwidth": "2.5", "dir": "back"}
        edges.append((op_id, node_id, out_edge))

        # A neuron's parameters stand in their order (w0, w1, ..., b) beside its operation:
        # dot would otherwise stack them in whatever order crosses fewest edges.
        in_box = [ids[p] for p in dict.fromkeys(node.parents)
                  if p in shown and p.primitive is None and _is_parameter(p.label)
                  and groups.get(p) is not None and groups.get(p) == groups.get(node)]
        if len(in_box) > 1 and parameter_tables:
            chains.setdefault(groups[node], []).append(in_box)
        datas = [p.data for p in node.parents]
        for position, parent in enumerate(node.parents):
            edge: dict[str, str] = {}
            if type(parent) is Constant:
                const_id = f"{node_id}_c{position}"
                node_stmt(node, const_id, {"shape": "plaintext", "fontsize": "9",
                                           "label": fmt(parent.data)})
                edges.append((const_id, op_id, {"color": "gray55", "arrowsize": "0.6"}))
                continue
            labels = []
            if show_derivatives:
                formula = format_formula(local_formula(node, position, names))
                number = fmt(prim.local_derivative(position, datas, node.data,
                                                             FLOAT))
                value = number if formula == number else f"{formula}\n= {number}"
                # A backslash starts an escape (\n, \l) in a DOT label: keep a name's literal.
                labels.append(f"d{names[node]}/d{names[parent]} = {value}".replace(
                    "\\", "\\\\"))
            if step is not None and node is step.node:
                contribution = next(c for c in step.contributions if c.position == position)
                labels.append(f"+{fmt(contribution.contribution)}")
                # Arrow reversed: the gradient flows from the operation back to its input.
                edge.update(color=STEP_COLOR, fontcolor=STEP_COLOR, penwidth="2.5", dir="back")
            if op_on_path and parent in on_path:
                edge.update(color=HIGHLIGHT_COLOR, penwidth="2.5")
            if labels:
                edge["label"] = "\n".join(labels)
            source = ids[parent] if parent in shown else "more"
            edges.append((source, op_id, edge))

    if hidden:
        more_leaves = sum(1 for n in order if n not in shown and n.primitive is None)
        statements.setdefault(None, []).append(("more", {
            "shape": "note", "style": "dashed",
            "label": f"… {hidden} more nodes\n({more_leaves} leaves) not drawn"}))

    if legend and (roles or step is not None):
        statements.setdefault("legend", []).extend(
            _legend(roles_seen if roles else set(), step is not None))
    if rows:
        statements = {group: [(node_id, _as_table(attrs, fields[node_id])
                               if node_id in fields else attrs)
                              for node_id, attrs in entries]
                      for group, entries in statements.items()}
        edges = _wrap_edges(edges, rows, ids)
    elif chains:
        statements, edges = _parameter_blocks(statements, edges, chains, fields,
                                              across=rankdir in ("LR", "RL"))
        chains = {}
    _emit(graph, statements, chains, column=rankdir in ("TB", "BT") or bool(rows))
    for row in rows:
        with graph.subgraph() as same:
            same.attr(rank="same")
            for node in row:
                same.node(ids[node])
                if node.primitive is not None:
                    same.node(f"{ids[node]}_op")
    drawn_edges: set[tuple[str, str]] = set()
    for tail, head, attrs in edges:
        if tail == "more":  # one edge per operation from the summary node, not one per input
            if (tail, head) in drawn_edges:
                continue
            drawn_edges.add((tail, head))
            attrs = {"style": "dashed", "color": "gray55"}
        graph.edge(tail, head, **attrs)
    return graph


def _legend(roles_seen: set[str], frame: bool) -> list[tuple[str, dict[str, str]]]:
    """One node, a small table: a swatch per role drawn (and, in a frame, per state of a
    node). One node, so it takes one rank whichever way the drawing runs."""
    rows: list[tuple[str, str, str, str]] = []  # (fill, border, style, words)
    for role in ("input", "parameter", "output", "loss"):
        if role in roles_seen:
            fill, border, words = ROLES[role]
            rows.append(("white" if frame else fill, border, "solid", words))
    if frame:
        rows += [(STEP_FILL, STEP_COLOR, "solid", "processed now"),
                 (RECEIVER_FILL, "black", "solid", "receives now"),
                 (DONE_FILL, "black", "solid", "gradient complete"),
                 ("white", "black", "dashed", "not reached yet (·)")]
    if not rows:
        return []
    dashed = ' STYLE="dashed"'
    cells = "".join(
        f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1"'
        f'{dashed if style == "dashed" else ""}>{html.escape(words)}</TD></TR>'
        for fill, border, style, words in rows)
    label = f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="3">{cells}</TABLE>>'
    return [("legend", {"shape": "plain", "label": label, "fontsize": "9"})]


def _natural(text: str) -> list[Any]:
    """Sort key that puts L2 before L10 and N9 before N10."""
    return [int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", text)]


def _emit(graph: graphviz.Digraph,
          statements: dict[str | None, list[tuple[str, dict[str, str]]]],
          chains: dict[str | None, list[list[str]]] | None = None,
          column: bool = False) -> None:
    """Declare nodes, each inside nested clusters ``L1`` ⊃ ``L1.N0`` for its group; each
    chain of node ids is kept in its order (one rank, invisible edges; the legend's, in a
    top-to-bottom drawing, a column)."""
    chains = chains or {}

    def order(where: graphviz.Digraph, group: str | None) -> None:
        for chain in chains.get(group, []):
            if group == "legend" and column:
                for tail, head in itertools.pairwise(chain):
                    where.edge(tail, head, style="invis")
                continue
            with where.subgraph() as same:
                same.attr(rank="same")
                for tail, head in itertools.pairwise(chain):
                    same.edge(tail, head, style="invis")

    for node_id, attrs in statements.get(None, []):
        graph.node(node_id, **attrs)
    order(graph, None)
    tree: dict[str, Any] = {}
    for group in statements:
        if group is None:
            continue
        level = tree
        for part in group.split("."):
            level = level.setdefault(part, {})

    def add(parent: graphviz.Digraph, level: dict[str, Any], prefix: str) -> None:
        for part, children in sorted(level.items(), key=lambda item: _natural(item[0])):
            name = f"{prefix}.{part}" if prefix else part
            with parent.subgraph(name=f"cluster_{name}") as cluster:
                if name == "legend":
                    cluster.attr(label="", style="rounded", color="gray80", margin="6")
                else:
                    cluster.attr(label=name, style="rounded,dashed", color="gray55",
                                 fontcolor="gray20", fontsize="12", fontname="Helvetica")
                for node_id, attrs in statements.get(name, []):
                    cluster.node(node_id, **attrs)
                order(cluster, name)
                add(cluster, children, name)

    add(graph, tree, "")


# ---------------------------------------------------------------- frames


def save_frames(output: Value | Trace, directory: str | Path, format: str = "svg",
                **draw_options: Any) -> list[Path]:
    """Write one image per backward step into ``directory``: the backward pass as a flip-book.

    ``output`` is a Value (it is traced with ``accumulate=False``: ``.grad`` is left alone)
    or an existing ``Trace``. Frame ``k`` is ``draw(output, step=trace[k])``: the node being
    processed, the contributions it sends, and every gradient as the pass knows it then.
    ``draw_options`` go to ``draw`` (``show_derivatives=True``, ``highlight=...``).
    ``format="dot"`` (or ``"gv"``) writes each frame's DOT text, without running Graphviz.
    Returns the files written, in step order (as many as the trace has steps).
    """
    if format not in graphviz.FORMATS and format not in SOURCE_FORMATS:
        raise ValueError(f"save_frames: unknown image format {format!r} "
                         f"(try 'svg', 'png' or 'pdf', or 'dot' for the DOT text itself)")
    if "step" in draw_options:
        raise TypeError("save_frames draws every step itself: do not pass step=")
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"save_frames: directory must be a path (str or Path), not "
                        f"{type(directory).__name__}")
    if isinstance(output, Trace):
        recorded = output
    elif isinstance(output, Value):
        recorded = run_trace(output, accumulate=False)
    else:
        raise TypeError(f"save_frames() needs a Value or a Trace, not {type(output).__name__}")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"save_frames: {folder} exists and is not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(len(recorded)))
    paths = []
    for step in recorded:
        drawing = draw(recorded.output, step=step, **draw_options)
        path = folder / f"step-{step.index:0{width}d}-{safe_filename(step.name)}.{format}"
        if format in SOURCE_FORMATS:  # the DOT text: needs no Graphviz program
            path.write_text(drawing.source, encoding="utf-8")
        else:
            path.write_bytes(drawing.pipe(format=format))
        paths.append(path)
    return paths


# ---------------------------------------------------------------- Jupyter


def _step_display(self: Step, include: Any = None, exclude: Any = None,
                  **_: Any) -> dict[str, Any]:
    """A Step shows in Jupyter as its frame: draw(trace.output, step=step), fitted to the cell
    (the text form, its repr, stays for terminals)."""
    bundle: dict[str, Any] = {"text/plain": repr(self)}
    if self.trace is not None:
        with suppress(RenderError, TooManyNodes):  # too big to draw, or no dot: text stays
            bundle["image/svg+xml"] = draw(self.trace.output, step=self)._repr_image_svg_xml()
    return bundle


Step._repr_mimebundle_ = _step_display  # type: ignore[attr-defined]
