"""``explain_update(loss, wrt, lr)``: one gradient-descent step, written as the lecture writes it.

    w1 ← w1 − α·(out − target)·w2·s2·(1 − s2)·s1 = 1 − 0.5·(−0.03273) = 1.0164

The gradient is ``explain``'s chain rule (the table's local derivatives along each path),
put in the form a slide uses: the numbers along a path multiplied into one coefficient in
front (½ · 2 of a squared error cancel), and a made-up name standing for one operation
replaced by what it is (``u1`` by ``out − target``). The numbers are the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._options import check_bool, check_count
from .engine import Constant, Value
from .explanation import explain
from .graph import Graph, as_graph
from .notation import number as format_number
from .notation import product, sum_of

__all__ = ["Update", "explain_update"]


@dataclass(frozen=True)
class Update:
    """One step ``wrt ← wrt − lr · d loss / d wrt``: the numbers and the line that shows it."""

    name: str  # the weight's name
    old_value: float
    gradient: float  # d loss / d wrt, the engine's
    lr: float
    new_value: float
    formula: str  # d loss / d wrt in the lecture's symbols
    text: str  # the whole line
    node: Value

    def apply(self) -> None:
        """Write ``new_value`` into the weight (its ``.data``)."""
        self.node.data = self.new_value

    def __str__(self) -> str:
        return self.text


def _inlined(graph: Graph, expression: Any) -> Any:
    """Each made-up name of an operation replaced by the operation (``u1`` -> ``out −
    target``), one level, so the formula reads in the names the lecture uses."""
    import sympy

    from .symbolic import sympy_namespace, sympy_number

    f = sympy_namespace()
    swaps = {}
    for symbol in expression.free_symbols:
        try:
            node = graph.node(str(symbol))
        except (KeyError, ValueError):
            continue
        if node.primitive is None or not graph.is_generated(node):
            continue
        args = [sympy_number(p.data) if type(p) is Constant else sympy.Symbol(graph.names[p])
                for p in node.parents]
        swaps[symbol] = node.primitive.forward(*args, f)
    return expression.subs(swaps) if swaps else expression


def _lecture_form(graph: Graph, explanation: Any) -> str:
    """The chain rule as a slide writes it: per path, the numbers multiplied in front, the
    other factors in the path's order."""
    import sympy

    terms = []
    for path in explanation.paths:
        coefficient: Any = sympy.Integer(1)
        factors = []
        for factor in path.factors:
            number, rest = sympy.sympify(factor.formula).as_coeff_Mul()
            coefficient *= number
            if rest != 1:
                factors.append(_inlined(graph, rest))
        if coefficient != 1 or not factors:
            factors.insert(0, coefficient)
        terms.append(product(factors))
    return sum_of(terms) if terms else "0"


def _digits(old: float, new: float, digits: int) -> int:
    """``digits`` significant digits, or more until old and new differ (a tiny step)."""
    for more in range(digits, 18):
        if format_number(old, digits=more) != format_number(new, digits=more):
            return more
    return digits


def explain_update(loss: Value | Graph, wrt: Value, lr: float, *, symbol: str = "α",
                   digits: int = 5, apply: bool = False) -> Update:
    """One gradient-descent step for ``wrt``, in the lecture's notation.

    ``str(explain_update(C, w1, lr=0.5))`` is ``w1 ← w1 − α·(out − target)·w2·s2·(1 − s2)·s1
    = 1 − 0.5·(−0.03273) = 1.0164``: the learning rate as ``symbol`` (α, or η as H&J and
    Kauchak write it), the gradient's formula, the numbers, the weights to ``digits``
    significant digits (one more than elsewhere: a step changes the later digits; more
    when the step is smaller still). ``.new_value`` is the new weight; ``apply=True`` (or
    ``.apply()``) writes it into ``wrt``.
    """
    if not isinstance(wrt, Value):
        raise TypeError(f"explain_update(loss, wrt, lr): wrt must be a Value (a weight), "
                        f"not {type(wrt).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"explain_update: lr must be a positive number, not {lr!r}")
    if not isinstance(symbol, str) or not symbol:
        raise TypeError("explain_update: symbol must be a non-empty str such as 'α' or 'η'")
    apply = check_bool("explain_update", "apply", apply)
    digits = check_count("explain_update", "digits", digits, minimum=1, maximum=17)
    graph = as_graph(loss)
    explanation = explain(graph, wrt)
    name = explanation.wrt_name
    if wrt.primitive is not None:
        raise ValueError(f"explain_update: {name} is computed ({graph.definition(wrt)}); "
                         "gradient descent updates a weight, a leaf of the graph")
    gradient = float(explanation.value)
    old = float(wrt.data)
    new = old - lr * gradient
    formula = _lecture_form(graph, explanation)
    digits = _digits(old, new, digits)
    shown_gradient = format_number(gradient)
    if gradient < 0:
        shown_gradient = f"({shown_gradient})"
    factor = f"({formula})" if len(explanation.paths) > 1 else formula  # a sum of paths
    text = (f"{name} ← {name} − {symbol}·{factor} = {format_number(old, digits=digits)} − "
            f"{format_number(lr)}·{shown_gradient} = {format_number(new, digits=digits)}")
    update = Update(name, old, gradient, float(lr), new, formula, text, wrt)
    if apply:
        update.apply()
    return update



