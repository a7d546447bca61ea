"""``explain(output, wrt)``: the chain rule for d output / d wrt, written as the lecture writes it.

The gradient is the sum, over every path from ``wrt`` up to ``output``, of the product of
the local derivatives along the path (Kramer: dout/dw1 = dout/ds2 · ds2/dx2 · dx2/dw1 =
w2 · s2(1 − s2) · s1). Each local derivative is the primitives table's rule evaluated over
SymPy symbols named after the neighbouring nodes, so sigmoid's ``out * (1 - out)`` reads
``s2*(1 - s2)``. Nothing here writes a derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._options import check_bool, check_limit
from .engine import Constant, Value, backprop, reverse_topological_order
from .primitives import FLOAT
from .symbolic import (
    DEFAULT_SYMPY_TIMEOUT,
    check_depth,
    node_names,
    run_sympy,
    sympy_expressions,
)
from .tracing import format_formula, format_number, local_formula

__all__ = ["DEFAULT_MAX_FACTORS", "DEFAULT_MAX_PATHS", "Explanation", "ExplanationSizeError",
           "Factor", "Path", "PathCount", "count_paths", "explain"]

# Paths multiply: a chain of n "diamonds" (y = a·x + b·x, repeated) has 2^n of them. Listing
# more than this is no longer an explanation, so explain() refuses with a clear error.
DEFAULT_MAX_PATHS = 1000
# The work (and the text) grows with the factors of all paths together, not with the paths
# alone: 512 paths of 1,900 factors each took 44 s and printed 24 MB (226 MB as JSON).
# 10,000 factors take about a second, also as JSON; the lectures' formulas have a handful.
DEFAULT_MAX_FACTORS = 10_000


@dataclass(frozen=True, eq=False)
class Factor:
    """One link of a path: d node / d parent, as a formula and as a number."""

    node: Value  # the consumer (closer to the output)
    parent: Value  # the input it is differentiated with respect to
    position: int  # which input of node's operation
    formula: Any  # SymPy, in node names (or in leaves when expanded)
    value: float  # the number, from the same rule evaluated on floats

    @property
    def formula_text(self) -> str:
        return format_formula(self.formula)


@dataclass(frozen=True, eq=False)
class Path:
    """One path from ``wrt`` up to the output: its factors, output end first."""

    factors: tuple[Factor, ...]

    @property
    def nodes(self) -> list[Value]:
        """The nodes along the path from the output down to ``wrt``."""
        if not self.factors:
            return []
        return [self.factors[0].node, *(factor.parent for factor in self.factors)]

    @property
    def expression(self) -> Any:
        import sympy

        return sympy.Mul(*(factor.formula for factor in self.factors))

    @property
    def value(self) -> float:
        product = 1.0
        for factor in self.factors:  # output end first: the engine's order of products
            product *= factor.value
        return product


class Explanation:
    """d output / d wrt as the chain rule: ``.expression``, ``.value``, ``.paths``, ``str()``."""

    def __init__(self, output: Value, wrt: Value, paths: list[Path], value: float,
                 names: dict[Value, str], expanded: bool, note: str = "") -> None:
        import sympy

        self.output = output
        self.wrt = wrt
        self.paths = paths
        self.value = value  # the engine's gradient (backprop): what the formula must equal
        self.names = names
        self.expanded = expanded
        self.note = note  # why the gradient is 0 when wrt is not in the graph
        self.expression = sympy.Add(*(path.expression for path in paths))

    @property
    def output_name(self) -> str:
        return self.names.get(self.output, self.output.label or "output")

    @property
    def wrt_name(self) -> str:
        return self.names.get(self.wrt, self.wrt.label or "wrt")

    @property
    def path_sum(self) -> float:
        """The sum over paths of the products of local derivatives, computed from the paths."""
        return sum(path.value for path in self.paths)

    def _sympy(self, work: Any) -> Any:
        # Expanded formulas nest as deep as the graph: SymPy's printer needs the room.
        return run_sympy(work, what="explain (printing)") if self.expanded else work()

    def symbols_text(self) -> str:
        """``w2 · s2·(1 − s2) · s1``: each path's factors in order, paths joined by +."""
        return self._sympy(lambda: self._join(lambda factor: factor.formula_text,
                                              lambda path: format_formula(path.expression)))

    def numbers_text(self) -> str:
        """``0.5 · 0.1982 · 0.982``: the same factors as numbers (4 significant digits)."""
        return self._join(lambda factor: format_number(factor.value),
                          lambda path: format_number(path.value))

    def _join(self, show: Any, show_trivial: Any) -> str:
        if not self.paths:
            return "0"
        terms = []
        for path in self.paths:
            # A factor of exactly 1 (d(a + b)/da) is left out, as the lecture leaves it out.
            shown = [show(f) for f in path.factors if f.formula != 1]
            terms.append(" · ".join(shown) if shown else show_trivial(path))
        if len(terms) == 1:
            return terms[0]
        return " + ".join(f"({term})" if " · " in term else term for term in terms)

    def __str__(self) -> str:
        head = f"d{self.output_name}/d{self.wrt_name}"
        if self.note:
            return f"{head} = 0   ({self.note})"
        parts = [self.symbols_text()]
        numbers = self.numbers_text()
        result = format_number(self.value)
        for text in (numbers, result):
            if text != parts[-1]:
                parts.append(text)
        return f"{head} = " + " = ".join(parts)

    def __repr__(self) -> str:
        return f"<Explanation {self}>"

    def _repr_latex_(self) -> str:
        import sympy

        head = rf"\frac{{d\,{self.output_name}}}{{d\,{self.wrt_name}}}"
        latex = self._sympy(lambda: sympy.latex(self.expression))
        return (f"${head} = {latex} = "
                f"{format_number(self.value).replace('−', '-')}$")


@dataclass(frozen=True)
class PathCount:
    """How big the chain rule for d output / d wrt is, counted before anything is built."""

    paths: int  # terms of the sum: paths from wrt up to the output
    factors: int  # local derivatives over all paths together (the sum of the paths' lengths)


class ExplanationSizeError(ValueError):
    """The formula has more paths or factors than the limits allow; ``.count`` says how many."""

    def __init__(self, message: str, count: PathCount, max_paths: int | None,
                 max_factors: int | None) -> None:
        super().__init__(message)
        self.count = count
        self.max_paths = max_paths
        self.max_factors = max_factors


def _count_all(order: list[Value]) -> dict[Value, PathCount]:
    """For each node: the paths from it up to the output and their total length.

    One pass, output first (``order`` as ``reverse_topological_order`` gives it): a node
    receives its users' paths, each one link longer. An input used twice (``x*x``) is two
    links, as the chain rule has two terms.
    """
    paths = {order[0]: 1}
    links = {order[0]: 0}
    for node in order:
        here, length = paths.get(node, 0), links.get(node, 0)
        if not here:
            continue
        for parent in node.parents:
            if type(parent) is not Constant:
                paths[parent] = paths.get(parent, 0) + here
                links[parent] = links.get(parent, 0) + length + here
    return {node: PathCount(paths[node], links[node]) for node in paths}


def count_paths(output: Value, wrt: Value) -> PathCount:
    """The number of paths from ``wrt`` up to ``output`` and of factors on them, in time
    linear in the graph: what ``explain`` checks against its limits before building."""
    if not isinstance(output, Value) or not isinstance(wrt, Value):
        raise TypeError("count_paths(output, wrt) takes two Values, not "
                        f"{type(output).__name__} and {type(wrt).__name__}")
    return _count_all(reverse_topological_order(output)).get(wrt, PathCount(0, 0))


def _check_size(count: PathCount, max_paths: int | None, max_factors: int | None,
                head: str) -> None:
    if max_paths is not None and count.paths > max_paths:
        raise ExplanationSizeError(
            f"explain: {head} is a sum over {count.paths} paths, more than "
            f"max_paths={max_paths}; a formula that long explains nothing. Pass a larger "
            f"max_paths to list them anyway, or use gradients() for the number.",
            count, max_paths, max_factors)
    if max_factors is not None and count.factors > max_factors:
        raise ExplanationSizeError(
            f"explain: {head} has {count.factors} factors over its {count.paths} paths, more "
            f"than max_factors={max_factors}; a formula that long explains nothing. Pass a "
            f"larger max_factors to build it anyway, or use gradients() for the number.",
            count, max_paths, max_factors)


def explain(output: Value, wrt: Value, *, expand: bool = False,
            max_paths: int | None = DEFAULT_MAX_PATHS,
            max_factors: int | None = DEFAULT_MAX_FACTORS,
            timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> Explanation:
    """The chain rule for d output / d wrt: the sum over paths of products of local derivatives.

    Each local derivative is written in the names of its neighbouring nodes (labels, or
    generated names such as ``mul1`` for unlabelled operations, as ``node_names`` gives
    them). With ``expand=True`` every intermediate name is replaced by its expression, so
    the formula is over the leaves only (``s2`` becomes ``1/(1 + exp(-w1*s1...))``).

    A ``wrt`` the output does not depend on (not in its graph, or a Constant) gives an
    explanation with value 0, no paths, and a note saying why. More than ``max_paths``
    paths, or more than ``max_factors`` local derivatives over all paths together (the
    work and the text grow with these), raise ``ExplanationSizeError`` (a ``ValueError``)
    before anything is built: use ``gradients()`` for the number in that case. None lifts
    a limit. SymPy gets ``timeout`` seconds (``SymbolicTimeoutError`` past them); with
    ``expand=True`` the graph may be up to ``symbolic.MAX_SYMBOLIC_DEPTH`` deep.
    """
    if not isinstance(output, Value):
        raise TypeError(f"explain() needs a Value as output, not {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain(output, wrt): wrt must be a Value in output's graph, "
                        f"not {type(wrt).__name__}")
    expand = check_bool("explain", "expand", expand)
    max_paths = check_limit("explain", "max_paths", max_paths)
    max_factors = check_limit("explain", "max_factors", max_factors)
    names = node_names(output)
    order = reverse_topological_order(output)
    if wrt not in names:
        names = {**names, wrt: wrt.label or "wrt"}
        why = ("a Constant: numbers written into an expression get no gradient"
               if type(wrt) is Constant else
               f"{names[wrt]} is not in the graph of {names[output]}: no path leads from it "
               f"to {names[output]}")
        return Explanation(output, wrt, [], 0.0, names, expand, note=why)

    head = f"d{names[output]}/d{names[wrt]}"
    _check_size(_count_all(order)[wrt], max_paths, max_factors, head)
    if expand:
        check_depth(output, f"explain {head} (expand=True)")
    return run_sympy(lambda: _explain(output, wrt, expand, names, order),
                     what=f"explain {head}", timeout=timeout)


def _explain(output: Value, wrt: Value, expand: bool, names: dict[Value, str],
             order: list[Value]) -> Explanation:
    rewrite = sympy_expressions(output, names) if expand else None
    factors: dict[tuple[Value, int], Factor] = {}

    def factor(node: Value, position: int) -> Factor:
        key = (node, position)
        if key not in factors:
            prim = node.primitive
            assert prim is not None
            formula = local_formula(node, position, names, rewrite)
            number = prim.local_derivative(position, [p.data for p in node.parents],
                                           node.data, FLOAT)
            factors[key] = Factor(node, node.parents[position], position, formula,
                                  float(number))
        return factors[key]

    leads_to_wrt = _leads_to(order, wrt)
    paths: list[Path] = []
    # Depth-first from the output, iteratively (a path may be a million links long). Each
    # partial path is a linked list (factor, rest) so that extending it costs O(1).
    Link = tuple[Factor, Any] | None
    stack: list[tuple[Value, Link]] = [(output, None)]
    while stack:
        node, link = stack.pop()
        if node is wrt:
            links: list[Factor] = []
            while link is not None:
                links.append(link[0])
                link = link[1]
            paths.append(Path(tuple(reversed(links))))
            continue
        # Push inputs right to left so that paths come out left operand first.
        for position in reversed(range(len(node.parents))):
            parent = node.parents[position]
            if type(parent) is not Constant and leads_to_wrt.get(parent, False):
                stack.append((parent, (factor(node, position), link)))

    engine_gradient = backprop(output).get(wrt, 0.0)
    return Explanation(output, wrt, paths, float(engine_gradient), names, expand)


def _leads_to(order: list[Value], wrt: Value) -> dict[Value, bool]:
    """For each node: does a path lead from ``wrt`` up to it (is wrt in its subgraph)?"""
    leads: dict[Value, bool] = {}
    for node in reversed(order):  # inputs first
        leads[node] = node is wrt or any(
            leads.get(parent, False) for parent in node.parents if type(parent) is not Constant)
    return leads
