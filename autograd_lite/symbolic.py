"""The graph as SymPy: the primitives' rules evaluated over symbols.

``to_sympy`` applies each primitive's *forward* rule to SymPy expressions; ``explain``
(another module) applies the *derivative* rules. Both use the namespace built here, so
SymPy never gets a second copy of the table.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from .engine import Constant, Value
from .graph import Graph, node_names, reading_order

__all__ = ["node_names", "sympy_namespace", "sympy_number", "to_sympy"]


@functools.cache
def sympy_namespace() -> SimpleNamespace:
    """The elementary functions as SymPy writes them (SymPy is imported on first use)."""
    import sympy

    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        if condition is True or condition is False:  # a number compared with 0
            return if_true if condition else if_false
        return sympy.Piecewise((if_true, condition), (if_false, True))

    from .primitives import check_namespace

    return check_namespace(SimpleNamespace(
        exp=sympy.exp,
        log=sympy.log,
        sqrt=sympy.sqrt,
        tanh=sympy.tanh,
        sin=sympy.sin,
        cos=sympy.cos,
        abs=sympy.Abs,
        sigmoid=lambda x: 1 / (1 + sympy.exp(-x)),
        relu=lambda x: sympy.Max(0, x),
        sign=sympy.sign,
        xlogy=lambda x, y: x * sympy.log(y),
        where=where,
    ), "SymPy")


def sympy_number(number: float) -> Any:
    """A float as SymPy should show it: 2.0 -> 2, 0.5 -> 1/2, 0.1 -> 1/10, else a Float."""
    import sympy

    if number == int(number) and abs(number) < 2**53:
        return sympy.Integer(int(number))
    text = repr(number)
    if len(text) <= 8 and "e" not in text:
        return sympy.Rational(text)
    return sympy.Float(number)


def to_sympy(output: Value | Graph, names: dict[Value, str] | None = None) -> Any:
    """The whole expression as SymPy, over one symbol per leaf (named by ``node_names``).

    Constants (numbers written into the expression) appear as numbers.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"to_sympy() needs a Value, not {type(output).__name__}")
    root = output.output if isinstance(output, Graph) else output
    return sympy_expressions(output, names)[root]


def sympy_expressions(output: Value | Graph,
                      names: dict[Value, str] | None = None) -> dict[Value, Any]:
    """Every non-constant node of the graph as a SymPy expression over the leaves' symbols.

    The primitives' forward rules evaluated over SymPy: ``to_sympy`` is the output's entry,
    ``explain(expand=True)`` writes each local derivative with these.
    """
    import sympy

    f = sympy_namespace()
    graph = output if isinstance(output, Graph) else None
    root: Value = graph.output if graph is not None else output  # type: ignore[assignment]
    names = (graph.names if graph is not None else node_names(root)) if names is None else names
    expressions: dict[Value, Any] = {}
    for node in (graph.reading_order if graph is not None else reading_order(root)):
        prim = node._prim
        if prim is None:
            expressions[node] = sympy.Symbol(names[node])
            continue
        args = [sympy_number(p.data) if type(p) is Constant else expressions[p]
                for p in node.parents]
        expressions[node] = prim.forward(*args, f)
    return expressions


def derivative_table() -> str:
    """The lecture's "Name | Function | Gradient" table, read straight off the primitives.

    Each row evaluates the primitive's forward rule and its local-derivative rules over
    SymPy symbols (inputs ``x`` or ``a, b``, output ``out``): nothing here is written by hand.
    """
    import sympy

    from .primitives import PRIMITIVES

    f = sympy_namespace()
    out = sympy.Symbol("out")
    rows = ["| name | function | local derivative(s) |", "|---|---|---|"]
    for prim in PRIMITIVES.values():
        if prim.internal:  # grad()'s bookkeeping node, not a lecture operation
            continue
        names = prim.names_for(3)  # linear with one weight: w1, x1, b
        inputs = sympy.symbols(" ".join(names), seq=True)
        function = prim.forward(*inputs, f)
        slopes = [f"d/d{name} = "
                  f"{sympy.sstr(prim.shown_derivative(position, inputs, out, f))}"
                  for position, name in enumerate(names)]
        rows.append(f"| {prim.name} | out = {sympy.sstr(function)} | {'; '.join(slopes)} |")
    return "\n".join(rows)
