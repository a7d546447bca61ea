"""``Graph(output)``: one view of a computation graph, walked once, shared by every reader.

A reader (trace, explain, draw, the CLI) needs the same few facts about a graph: the order
backward visits it in, the order a person reads it in, a name for every node, the paths
from a node up to the output, and the part of the graph on those paths. Each is computed
once, on first use, and kept: ``explain`` over three weights walks the graph once, not
fifteen times. Every reader accepts a ``Value`` or a ``Graph``.

Limits are typed errors (``TooManyPaths``, ``TooManyNodes``) carrying the count and the
limit, so the library and the CLI word them each their own way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .engine import Constant, Value, on_paths_to, reverse_topological_order

__all__ = ["Graph", "GraphLimitError", "PathCount", "TooManyNodes", "TooManyPaths", "as_graph",
           "node_names", "reading_order"]


@dataclass(frozen=True)
class PathCount:
    """How big the chain rule for d output / d node is, counted before anything is built."""

    paths: int  # terms of the sum: paths from the node up to the output
    factors: int  # local derivatives over all paths together (the sum of their lengths)


class GraphLimitError(ValueError):
    """A graph too big for what was asked: ``count`` (what was measured) and ``limit``."""

    def __init__(self, message: str, count: Any, limit: int | None) -> None:
        super().__init__(message)
        self.count = count
        self.limit = limit


class TooManyPaths(GraphLimitError):  # noqa: N818 - named after what the user hit
    """d output / d node has more paths, or more factors over its paths, than the limits
    allow. ``count`` is the ``PathCount``; ``max_paths`` and ``max_factors`` the limits."""

    def __init__(self, message: str, count: PathCount, max_paths: int | None,
                 max_factors: int | None) -> None:
        over_paths = max_paths is not None and count.paths > max_paths
        super().__init__(message, count, max_paths if over_paths else max_factors)
        self.max_paths = max_paths
        self.max_factors = max_factors


class TooManyNodes(GraphLimitError):  # noqa: N818
    """More value nodes than a drawing (or a page) can show: ``count`` nodes, ``limit``."""


def reading_order(output: Value) -> list[Value]:
    """Every non-constant node, inputs first, in the order a person reads the expression.

    A left-to-right depth-first postorder: in ``p - q`` the leaf ``p`` comes before ``q``.
    Iterative, and independent of the order backward() happens to use.
    """
    order: list[Value] = []
    seen = {output}
    stack: list[tuple[Value, int]] = [(output, 0)]
    while stack:
        node, next_parent = stack[-1]
        parents = node.parents
        while next_parent < len(parents):
            parent = parents[next_parent]
            next_parent += 1
            if parent not in seen and type(parent) is not Constant:
                seen.add(parent)
                stack[-1] = (node, next_parent)
                stack.append((parent, 0))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _names(order: list[Value]) -> dict[Value, str]:
    taken = {node.label for node in order if node.label}
    names: dict[Value, str] = {}
    used: set[str] = set()
    counters: dict[str, int] = {}

    def fresh(stem: str) -> str:
        while True:
            counters[stem] = counters.get(stem, 0) + 1
            candidate = f"{stem}{counters[stem]}"
            if candidate not in taken and candidate not in used:
                return candidate

    for node in order:
        if node.label:
            name = node.label
            if name in used:  # a second node with this label: label_2, label_3, ...
                counters.setdefault(f"{node.label}_", 1)
                name = fresh(f"{node.label}_")
        else:
            # v1, v2 … for inputs and u1, u2 … for results, in reading order, as autodiff
            # texts name intermediates: "cos1" would read as cos(1).
            name = fresh("v" if node.primitive is None else "u")
        used.add(name)
        names[node] = name
    return names


def node_names(output: Value | Graph) -> dict[Value, str]:
    """A unique, stable name for every non-constant node of the graph.

    A node's label when it has one (a second distinct node with the same label gets
    ``label_2``); unlabelled leaves get ``v1, v2, ...`` and unlabelled operations ``u1,
    u2, ...``, in reading order. ``Graph.definitions`` says what each generated name is.
    """
    return as_graph(output).names


class Graph:
    """The graph of ``output``: orders, names, paths, computed on first use and kept.

    A Graph is a view: it does not copy the nodes, and it describes the graph as it was
    when the view was made (build a new one after adding nodes).
    """

    def __init__(self, output: Value) -> None:
        if not isinstance(output, Value):
            raise TypeError(f"Graph() needs a Value, not {type(output).__name__}")
        self.output = output
        self._order: list[Value] | None = None
        self._reading: list[Value] | None = None
        self._names: dict[Value, str] | None = None
        self._by_name: dict[str, Value] | None = None
        self._counts: dict[Value, PathCount] | None = None
        self.walks = 0  # how many times the nodes were walked (readers' tests count them)

    # ------------------------------------------------------------ orders and names

    @property
    def order(self) -> list[Value]:
        """Every non-constant node, the output first, each before its inputs (backward's)."""
        if self._order is None:
            self._order = reverse_topological_order(self.output)
            self.walks += 1
        return self._order

    @property
    def reading_order(self) -> list[Value]:
        """Every non-constant node, inputs first, left to right as the expression reads."""
        if self._reading is None:
            self._reading = reading_order(self.output)
            self.walks += 1
        return self._reading

    @property
    def names(self) -> dict[Value, str]:
        """node -> its name (label, ``label_2`` for a repeat, or ``u1``, ``v1`` ...)."""
        if self._names is None:
            self._names = _names(self.reading_order)
        return self._names

    def name(self, node: Value) -> str:
        try:
            return self.names[node]
        except KeyError:
            return node.label or "(not in the graph)"

    def node(self, name: str) -> Value:
        """The node called ``name`` (KeyError naming the known names if there is none)."""
        if self._by_name is None:
            self._by_name = {n: v for v, n in self.names.items()}
        try:
            return self._by_name[name]
        except KeyError:
            known = sorted(self._by_name)
            shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
            raise KeyError(f"no node named {name!r} in the graph of "
                           f"{self.name(self.output)} (names: {shown})") from None

    def __contains__(self, node: object) -> bool:
        return node in self.names

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self) -> Iterator[Value]:
        return iter(self.order)

    def is_generated(self, node: Value) -> bool:
        """Is the node's name made up here (``u3``, ``v1``), not its label?"""
        return not node.label or self.names.get(node) != node.label

    def definition(self, node: Value) -> str:
        """What a name stands for: ``u1 = tanh(v1 * v2)`` or ``v1 = 2``."""
        from .notation import number, operation

        name = self.name(node)
        prim = node.primitive
        if prim is None:
            return f"{name} = {number(node.data)}"
        inputs = [number(p.data) if type(p) is Constant else self.name(p) for p in node.parents]
        return f"{name} = {operation(prim, inputs)}"

    @property
    def leaves(self) -> list[Value]:
        """The non-constant leaves (the graph's inputs), in reading order."""
        return [node for node in self.reading_order if node.primitive is None]

    # ------------------------------------------------------------ paths

    def path_count(self, target: Value) -> PathCount:
        """How many paths lead from ``target`` up to the output, and their links in all.

        One pass over the graph for every target at once: a node's paths are the sum of its
        consumers' paths; its links, the sum of its consumers' links plus one per path.
        """
        if self._counts is None:
            order = self.order
            paths: dict[Value, int] = {order[0]: 1}
            links: dict[Value, int] = {order[0]: 0}
            for node in order:  # output first: consumers come before their inputs
                here, length = paths.get(node, 0), links.get(node, 0)
                for parent in node.parents:
                    if type(parent) is not Constant:
                        paths[parent] = paths.get(parent, 0) + here
                        links[parent] = links.get(parent, 0) + length + here
            self._counts = {node: PathCount(paths.get(node, 0), links.get(node, 0))
                            for node in order}
            self.walks += 1
        return self._counts.get(target, PathCount(0, 0))

    def check_paths(self, target: Value, max_paths: int | None, max_factors: int | None,
                    *, who: str = "", advice: str = "") -> PathCount:
        """``path_count(target)``, or ``TooManyPaths`` if it is over either limit.

        ``who`` starts the message (``"explain"``), ``advice`` ends it (what to do).
        """
        count = self.path_count(target)
        name = f"d{self.name(self.output)}/d{self.name(target)}"
        lead = f"{who}: " if who else ""
        tail = f"; {advice}" if advice else ""
        if max_paths is not None and count.paths > max_paths:
            raise TooManyPaths(f"{lead}{name} is a sum over {count.paths} paths, more than "
                               f"max_paths={max_paths}{tail}", count, max_paths, max_factors)
        if max_factors is not None and count.factors > max_factors:
            raise TooManyPaths(f"{lead}{name} has {count.factors} factors over its "
                               f"{count.paths} paths, more than max_factors={max_factors}{tail}",
                               count, max_paths, max_factors)
        return count

    def check_size(self, max_nodes: int | None) -> None:
        """``TooManyNodes`` if the graph has more value nodes than ``max_nodes``."""
        if max_nodes is not None and len(self) > max_nodes:
            raise TooManyNodes(f"the graph of {self.name(self.output)} has {len(self)} value "
                               f"nodes, more than max_nodes={max_nodes}", len(self), max_nodes)

    def on_paths_to(self, targets: Value | Any) -> set[Value]:
        """The nodes on some path from a target (or one of several) up to the output."""
        chosen = {targets} if isinstance(targets, Value) else set(targets)
        return on_paths_to(self.order, chosen)

    def __repr__(self) -> str:
        return f"<Graph of {self.name(self.output)}: {len(self)} nodes>"


def as_graph(output: Value | Graph) -> Graph:
    """A reader's argument as a Graph (a Value gets a new view; a Graph is shared)."""
    if isinstance(output, Graph):
        return output
    if not isinstance(output, Value):
        raise TypeError(f"expected a Value or a Graph, not {type(output).__name__}")
    return Graph(output)
