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
from .engine import Constant, Value, backprop
from .graph import Graph, PathCount, TooManyPaths, as_graph
from .notation import formula as format_formula
from .notation import number as format_number
from .notation import product, sum_of
from .primitives import FLOAT
from .symbolic import (
    DEFAULT_SYMPY_TIMEOUT,
    check_depth,
    local_formula,
    run_sympy,
    sympy_expressions,
)

__all__ = ["DEFAULT_MAX_FACTORS", "DEFAULT_MAX_PATHS", "Explanation", "ExplanationSizeError",
           "Factor", "Path", "PathCount", "count_paths", "explain"]

# Paths multiply: a chain of n "diamonds" (y = a·x + b·x, repeated) has 2^n of them. Listing
# more than this is no longer an explanation, so explain() refuses with a clear error.
DEFAULT_MAX_PATHS = 1000
# The work (and the text) grows with the factors of all paths together, not with the paths
# alone: 512 paths of 1,900 factors each took 44 s and printed 24 MB (226 MB as JSON).
# 10,000 factors take about a second, also as JSON; the lectures' formulas have a handful.
DEFAULT_MAX_FACTORS = 10_000
# Made-up names (u1, v2) are defined after the formula; past this many, only those it uses.
_MAX_DEFINITIONS = 12

# The formula is bigger than the limits allow (the graph's typed error, by its old name).
ExplanationSizeError = TooManyPaths


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
                 names: dict[Value, str], expanded: bool, note: str = "",
                 graph: Graph | None = None) -> None:
        import sympy

        self.output = output
        self.wrt = wrt
        self.paths = paths
        self.value = value  # the engine's gradient (backprop): what the formula must equal
        self.names = names
        self.expanded = expanded
        self.note = note  # why the gradient is 0 when wrt is not in the graph
        self.graph = graph  # the view it was read from: it defines the generated names
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

    def _shown(self, path: Path) -> list[Factor]:
        # A factor of exactly 1 (d(a + b)/da) is left out, as the lecture leaves it out.
        return [f for f in path.factors if f.formula != 1]

    def _formula_text(self, style: str) -> str:
        if not self.paths:
            return "0"
        terms = [product([f.formula for f in shown], style) if (shown := self._shown(path))
                 else "1" for path in self.paths]
        return sum_of(terms, style)

    def _numbers_text(self, style: str) -> str:
        if not self.paths:
            return "0"
        join = {"unicode": " · ", "markdown": " · ", "ascii": "*", "latex": r" \cdot "}[style]
        terms = [join.join(format_number(f.value, style=style) for f in shown)
                 if (shown := self._shown(path)) else format_number(path.value, style=style)
                 for path in self.paths]
        return sum_of(terms, "ascii" if style == "ascii" else style)

    def symbols_text(self) -> str:
        """``w2 · s2·(1 − s2) · s1``: each path's factors in order, paths joined by +."""
        return self._sympy(lambda: self._formula_text("unicode"))

    def numbers_text(self) -> str:
        """``0.5 · 0.1982 · 0.9820``: the same factors as numbers (4 significant digits)."""
        return self._numbers_text("unicode")

    def _head(self, style: str) -> str:
        if style == "latex":
            out = format_formula(_symbol(self.output_name), "latex")
            wrt = format_formula(_symbol(self.wrt_name), "latex")
            return rf"\frac{{\partial {out}}}{{\partial {wrt}}}"
        return f"d{self.output_name}/d{self.wrt_name}"

    def to_text(self, ascii: bool = False) -> str:
        """``dout/dw1 = w2 · s2·(1 − s2) · s1 = 0.5 · 0.1982 · 0.9820 = 0.09734``.

        ``ascii=True`` writes ``*``, ``-`` and ``**`` (it pastes into Python), and the formula
        (after the first ``=``, up to the next) parses with SymPy to ``.expression``.
        """
        style = "ascii" if check_bool("to_text", "ascii", ascii) else "unicode"
        head = self._head(style)
        if self.note:
            return f"{head} = 0   ({self.note})"
        parts = [self._sympy(lambda: self._formula_text(style))]
        for text in (self._numbers_text(style), format_number(self.value, style=style)):
            if text != parts[-1]:
                parts.append(text)
        text = f"{head} = " + " = ".join(parts)
        where = self._where()
        # Made-up names are defined on a line of their own (Unicode), so that the formula's
        # line stays one equation; the ASCII form is that line alone, to paste into Python.
        return text if ascii or not where else f"{text}\n  where {where}"

    def _where(self) -> str:
        """``u1 = w * x, u2 = tanh(u1)``: every made-up name the text uses, defined."""
        graph = self.graph
        if graph is None:
            return ""
        used = {str(symbol) for symbol in self.expression.free_symbols}
        used |= {self.output_name, self.wrt_name}
        direct = {node for node in graph.reading_order
                  if graph.is_generated(node) and graph.name(node) in used}
        wanted = set(direct)
        for node in reversed(graph.reading_order):  # a definition's own made-up names too
            if node in wanted:
                wanted |= {p for p in node.parents if p in graph and graph.is_generated(p)}
        if len(wanted) > _MAX_DEFINITIONS:  # a long chain of made-up names: the ones used
            wanted = direct
        defined = [graph.definition(node) for node in graph.reading_order if node in wanted]
        if len(defined) > _MAX_DEFINITIONS:
            defined = [*defined[:_MAX_DEFINITIONS], "…"]
        return ", ".join(defined)

    def __str__(self) -> str:
        return self.to_text()

    def to_markdown(self) -> str:
        """For lecture notes: the formula as code, the numbers, the result in bold, and with
        several paths one line per path."""
        head = f"`{self._head('unicode')}`"
        if self.note:
            return f"{head} = 0 ({self.note})"
        formula = self._sympy(lambda: self._formula_text("markdown"))
        lines = [f"{head} = {formula} = {self._numbers_text('unicode')} = "
                 f"**{format_number(self.value)}**"]
        if len(self.paths) > 1:
            lines.append("")
            for k, path in enumerate(self.paths, start=1):
                route = " → ".join(self.names.get(n, "?") for n in reversed(path.nodes))
                shown = self._shown(path)
                text = product([f.formula for f in shown], "markdown") if shown else "`1`"
                lines.append(f"- path {k}, {route}: {text} = {format_number(path.value)}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """The chain rule as LaTeX (math mode, without the ``$``), factors in path order."""
        head = self._head("latex")
        if self.note:
            return rf"{head} = 0"
        formula = self._sympy(lambda: self._formula_text("latex"))
        parts = [formula]
        for text in (self._numbers_text("latex"), format_number(self.value, style="latex")):
            if text != parts[-1]:
                parts.append(text)
        return f"{head} = " + " = ".join(parts)

    def _repr_latex_(self) -> str:
        return f"${self.to_latex()}$"

    def __repr__(self) -> str:
        return f"<Explanation {self}>"



def _symbol(name: str) -> Any:
    import sympy

    return sympy.Symbol(name)


def count_paths(output: Value | Graph, wrt: Value) -> PathCount:
    """The number of paths from ``wrt`` up to ``output`` and of factors on them, in time
    linear in the graph: what ``explain`` checks against its limits before building."""
    if not isinstance(output, (Value, Graph)) or not isinstance(wrt, Value):
        raise TypeError("count_paths(output, wrt) takes two Values, not "
                        f"{type(output).__name__} and {type(wrt).__name__}")
    return as_graph(output).path_count(wrt)


def explain(output: Value | Graph, wrt: Value, *, expand: bool = False,
            max_paths: int | None = DEFAULT_MAX_PATHS,
            max_factors: int | None = DEFAULT_MAX_FACTORS,
            timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> Explanation:
    """The chain rule for d output / d wrt: the sum over paths of products of local derivatives.

    Each local derivative is written in the names of its neighbouring nodes (labels, or
    generated names such as ``u1`` for unlabelled operations, as ``node_names`` gives
    them). With ``expand=True`` every intermediate name is replaced by its expression, so
    the formula is over the leaves only (``s2`` becomes ``1/(1 + exp(-w1*s1...))``).

    ``output`` is a Value or a ``Graph`` of one: explaining several weights of one graph
    through one Graph walks it once.

    A ``wrt`` the output does not depend on (not in its graph, or a Constant) gives an
    explanation with value 0, no paths, and a note saying why. More than ``max_paths``
    paths, or more than ``max_factors`` local derivatives over all paths together (the
    work and the text grow with these), raise ``ExplanationSizeError`` (``TooManyPaths``, a
    ``ValueError``) before anything is built: use ``gradients()`` for the number in that
    case. None lifts a limit. SymPy gets ``timeout`` seconds (``SymbolicTimeoutError`` past
    them); with ``expand=True`` the graph may be up to ``symbolic.MAX_SYMBOLIC_DEPTH`` deep.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"explain() needs a Value as output, not {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain(output, wrt): wrt must be a Value in output's graph, "
                        f"not {type(wrt).__name__}")
    expand = check_bool("explain", "expand", expand)
    max_paths = check_limit("explain", "max_paths", max_paths)
    max_factors = check_limit("explain", "max_factors", max_factors)
    graph = as_graph(output)
    names = graph.names
    if wrt not in names:
        names = {**names, wrt: wrt.label or "wrt"}
        why = ("a Constant: numbers written into an expression get no gradient"
               if type(wrt) is Constant else
               f"{names[wrt]} is not in the graph of {names[graph.output]}: no path leads "
               f"from it to {names[graph.output]}")
        return Explanation(graph.output, wrt, [], 0.0, names, expand, note=why)

    head = f"d{names[graph.output]}/d{names[wrt]}"
    graph.check_paths(wrt, max_paths, max_factors, who="explain",
                      advice="a formula that long explains nothing. Pass a larger limit to "
                             "build it anyway, or use gradients() for the number.")
    if expand:
        check_depth(graph, f"explain {head} (expand=True)")
    return run_sympy(lambda: _explain(graph, wrt, expand),
                     what=f"explain {head}", timeout=timeout)


def _explain(graph: Graph, wrt: Value, expand: bool) -> Explanation:
    names = graph.names
    output = graph.output
    rewrite = sympy_expressions(graph) if expand else None
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

    leads_to_wrt = graph.on_paths_to(wrt)
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
            if type(parent) is not Constant and parent in leads_to_wrt:
                stack.append((parent, (factor(node, position), link)))

    engine_gradient = backprop(output, wrt=[wrt], order=graph.order).get(wrt, 0.0)
    return Explanation(output, wrt, paths, float(engine_gradient), names, expand, graph=graph)
