"""Property-testing gradients: Hypothesis strategies and assertions against SymPy.

The strategies generate random expression graphs over every primitive of the table, each
paired with a **SymPy twin** written here with SymPy's own functions (sigmoid as
``1/(1 + exp(-x))``, tanh as ``sympy.tanh`` ...). The twin is deliberately *not* made by
``to_sympy``: it is an independent second definition, so comparing the engine's gradients
with ``sympy.diff`` of the twin really checks the table of local derivatives. (The kinked
primitives abs, relu and leaky_relu keep one sign of their operand on the whole domain, so
their twin is the branch that applies there: ``relu(u)`` is ``u`` or ``0``.)

    >>> from hypothesis import given
    >>> from autograd_lite.testing import expression_and_point, assert_gradients_match_sympy
    >>> @given(expression_and_point(variables=("x", "y")))
    ... def test_engine_against_sympy(case):
    ...     expression, point = case
    ...     assert_gradients_match_sympy(expression, point)

How domains are respected. Every variable lives in a box (an interval). While an expression
is generated, each node carries an interval that encloses its value for *every* point of
the boxes (interval arithmetic). An operation is applied only where it is smooth with a
margin: before ``log``/``sqrt``/a fractional power its operand is shifted by a constant to be
at least ``MARGIN`` above 0; before ``abs``/``relu``/``leaky_relu`` or a division it is shifted
to be at least ``MARGIN`` away from the kink or pole; operands of ``exp`` and ``**`` are
shifted or scaled so nothing overflows, and any node whose magnitude could exceed ``BOUND``
is scaled down. These guards are additions and multiplications by constants, so they are
part of the graph and of its twin. Hence every point of ``expression.points()`` is valid, and
so is a finite-difference stencil around it.

Needs ``hypothesis`` and ``sympy`` (not pytest).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from hypothesis import strategies as st

from .engine import Value, linear
from .functional import gradients

__all__ = [
    "BOUND", "MARGIN", "PRIMITIVE_NAMES", "Expression", "Step",
    "assert_gradients_match_finite_differences", "assert_gradients_match_sympy",
    "assert_second_derivatives_match_finite_differences",
    "assert_second_derivatives_match_sympy", "engine_gradients", "engine_second_derivatives",
    "expression_and_point", "expressions", "sympy_gradients", "sympy_second_derivatives",
]

MARGIN = 0.25
"""Distance every generated operand keeps from a kink (abs, relu), a pole (1/x) or the edge
of a domain (log, sqrt, fractional powers), over the whole box of points."""

BOUND = 8.0
"""No generated node's value exceeds this in magnitude (larger ones are scaled down)."""

_EXP_CEILING = 2.5  # exp's operand stays below this: exp(2.5) ≈ 12
_STENCIL_STEP = 1e-3  # finite-difference step; the stencil reaches 2 steps either side
_POINT_INSET = 0.01  # points are drawn this far inside a box, so a stencil stays in the box
_REFERENCE_DIGITS = 30  # SymPy's derivatives are evaluated with mpmath at this precision

# ---------------------------------------------------------------- the SymPy twins
# Written with SymPy's functions, independently of autograd_lite's table and to_sympy.


_TWINS: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "tanh": sympy.tanh,
    "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)),
    "sin": sympy.sin,
    "cos": sympy.cos,
    # linear(w1..wn, x1..xn, b) = b + w1·x1 + ... + wn·xn (a neuron's weighted sum, one node)
    "linear": lambda *args: args[-1] + sum(w * x for w, x in _pairs(args)),
}

# abs, relu and leaky_relu have a kink at 0. The generator keeps their operand one-signed on
# the whole domain (at least MARGIN from 0), so their twin is the branch that applies there:
# relu(u) is u where u > 0 on the domain, 0 where u < 0. (A full Piecewise would carry the
# other branch along, and with it terms like 1/0 under a division that SymPy can neither
# compare nor print.) Both branches are generated: which one applies is drawn.
_KINKED: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    #              operand > 0               operand < 0
    "abs": (lambda x: x, lambda x: -x),
    "relu": (lambda x: x, lambda x: sympy.S.Zero),
    "leaky_relu": (lambda x, alpha: x, lambda x, alpha: alpha * x),
}

# How a user writes each primitive on Values: operators, and the methods of SPEC.md.
_ENGINE: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
    "abs": abs,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x, alpha: x.leaky_relu(alpha),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "linear": lambda *args: linear(args[:len(args) // 2], args[len(args) // 2:-1], args[-1]),
}

PRIMITIVE_NAMES: tuple[str, ...] = tuple(_ENGINE)
"""Every primitive the strategies generate: the table's PRIMITIVES and NARY_PRIMITIVES, all
but grad()'s internal identity."""

_UNARY = frozenset({"neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin",
                    "cos"})
_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}

# Numbers the generator writes into expressions: short decimals, so that a float and its
# SymPy Rational are the same number (or within one rounding, for 0.1 and 0.01).
_CONSTANTS = (0.5, 1.5, 2.0, 3.0, -0.75, 0.25, -2.0, 1.25)
_EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 1.5, -0.5)
_BASES = (2.0, 0.5, 3.0, 1.5)
_ALPHAS = (0.01, 0.1, 0.2, 0.5)
_CENTRES = tuple(c / 4 for c in range(-8, 9))  # box centres -2 ... 2 in steps of 1/4
_HALF_WIDTHS = (0.25, 0.5, 1.0, 2.0)

# ---------------------------------------------------------------- interval arithmetic

Interval = tuple[float, float]


def _hull(*numbers: float) -> Interval:
    return (min(numbers), max(numbers))


def _mul_range(a: Interval, b: Interval) -> Interval:
    return _hull(a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])


def _div_range(a: Interval, b: Interval) -> Interval:
    # The guards keep b away from 0, so 1/b is monotone on it.
    return _mul_range(a, (1 / b[1], 1 / b[0]))


def _pow_range(base: Interval, exponent: Interval) -> Interval:
    low, high = base
    if exponent[0] == exponent[1] and exponent[0] == int(exponent[0]):
        k = exponent[0]
        if low > 0 or high < 0:  # an integer power is monotone on a one-signed interval
            return _hull(low**k, high**k)
        if k % 2 == 0:  # the guards only let 0 into positive integer powers
            return (0.0, max(low**k, high**k))
        return (low**k, high**k)
    # base > 0 here: base ** exponent = exp(exponent * ln base), each step monotone
    logs = (math.log(low), math.log(high))
    product = _mul_range(logs, exponent)
    return (math.exp(product[0]), math.exp(product[1]))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _sin_range(a: Interval) -> Interval:
    low, high = a
    found = [math.sin(low), math.sin(high)]
    # sin peaks at pi/2 + 2k pi and dips at -pi/2 + 2k pi: include those inside [low, high]
    if math.ceil((low - math.pi / 2) / (2 * math.pi)) <= (high - math.pi / 2) / (2 * math.pi):
        found.append(1.0)
    if math.ceil((low + math.pi / 2) / (2 * math.pi)) <= (high + math.pi / 2) / (2 * math.pi):
        found.append(-1.0)
    return _hull(*found)


def _leaky_relu_range(x: Interval, alpha: Interval) -> Interval:
    parts: list[float] = []
    if x[1] >= 0:
        parts += [max(x[0], 0.0), x[1]]
    if x[0] < 0:
        parts += _mul_range(alpha, (x[0], min(x[1], 0.0)))
    return _hull(*parts)


def _pairs(args: Sequence[Any]) -> list[tuple[Any, Any]]:
    """linear's (w1..wn, x1..xn, b) as [(w1, x1), ..., (wn, xn)]."""
    n = len(args) // 2
    return list(zip(args[:n], args[n:2 * n]))


def _sum_ranges(ranges: Sequence[Interval]) -> Interval:
    return (sum(r[0] for r in ranges), sum(r[1] for r in ranges))


def _monotone(function: Callable[[float], float]) -> Callable[[Interval], Interval]:
    return lambda a: (function(a[0]), function(a[1]))


_RANGES: dict[str, Callable[..., Interval]] = {
    "add": lambda a, b: (a[0] + b[0], a[1] + b[1]),
    "sub": lambda a, b: (a[0] - b[1], a[1] - b[0]),
    "mul": _mul_range,
    "div": _div_range,
    "pow": _pow_range,
    "neg": lambda a: (-a[1], -a[0]),
    "abs": lambda a: _hull(abs(a[0]), abs(a[1])),  # a is one-signed (guarded)
    "exp": _monotone(math.exp),
    "log": _monotone(math.log),
    "sqrt": _monotone(math.sqrt),
    "tanh": _monotone(math.tanh),
    "sigmoid": _monotone(_sigmoid),
    "relu": lambda a: (max(a[0], 0.0), max(a[1], 0.0)),
    "leaky_relu": _leaky_relu_range,
    "sin": _sin_range,
    "cos": lambda a: _sin_range((a[0] + math.pi / 2, a[1] + math.pi / 2)),
    "linear": lambda *ranges: _sum_ranges([ranges[-1]] + [_mul_range(w, x)
                                                         for w, x in _pairs(ranges)]),
}

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Step:
    """One operation of a generated program: ``nodes[i] = primitive(*operands)``.

    An operand is an ``int`` (the index of an earlier node; the variables come first) or a
    ``float`` (a number written into the expression). ``role`` says why the step is there:
    ``"operation"`` (drawn by the strategy) or ``"guard"`` (a shift or scale that keeps the
    next operation inside its domain). ``side`` is +1 or -1 for the kinked primitives (abs,
    relu, leaky_relu): the sign their operand has everywhere on the domain.
    """

    primitive: str
    operands: tuple[int | float, ...]
    role: str = "operation"
    side: int = 0  # abs, relu, leaky_relu: the sign of the first operand on the whole domain

    @property
    def form(self) -> str:
        """The primitive with the kind of its operands: ``"pow(value, number)"`` ..."""
        kinds = ", ".join("value" if isinstance(o, int) else "number" for o in self.operands)
        return f"{self.primitive}({kinds})"


class Expression:
    """A function of named variables, as engine code and as its independent SymPy twin.

    ``build(**values)`` evaluates it with the engine and returns the output ``Value``;
    ``sympy`` is the twin over real symbols named like ``variables``; ``domain`` maps each
    variable to the interval it may take; ``points()`` is a Hypothesis strategy for points
    in it. Generated expressions (``expressions()``) also carry their ``steps``.
    """

    def __init__(self, variables: Sequence[str], twin: Any,
                 build: Callable[[dict[str, Value]], Any],
                 domain: Mapping[str, tuple[float, float]],
                 steps: Sequence[Step] = (), text: str = "") -> None:
        self.variables: tuple[str, ...] = tuple(variables)
        self.domain: dict[str, tuple[float, float]] = dict(domain)
        self.steps: tuple[Step, ...] = tuple(steps)
        self._twin = twin
        self._build = build
        self._text = text
        self._references: dict[str, Callable[..., Any]] = {}

    @property
    def sympy(self) -> Any:
        """The SymPy twin, over real symbols named like ``variables``."""
        if isinstance(self._twin, _Deferred):  # generated: SymPy work only when asked for
            self._twin = self._twin.make()
        return self._twin

    # ---------------------------------------------------------- made by hand

    @classmethod
    def from_function(cls, function: Callable[..., Any], twin: Any,
                      domain: Mapping[str, tuple[float, float]]) -> Expression:
        """Wrap your own code: ``function(**values)`` computes with Values, ``twin`` is the
        same function in SymPy (an expression over symbols named like the domain's keys, or a
        callable taking those symbols in order), ``domain`` the box of points to test,
        e.g. ``{"x": (-3, 3)}``: keep it where the function is smooth.
        """
        if not callable(function):
            raise TypeError(f"Expression.from_function: function must be callable, "
                            f"not {type(function).__name__}")
        domain = _checked_domain(domain)
        variables = tuple(domain)
        symbols = [sympy.Symbol(name, real=True) for name in variables]
        if callable(twin) and not isinstance(twin, sympy.Basic):
            twin = twin(*symbols)
        twin = sympy.sympify(twin)
        # Symbols the user made without real=True name the same variables: make them real.
        by_name = dict(zip(variables, symbols))
        unknown = sorted(s.name for s in twin.free_symbols if s.name not in by_name)
        if unknown:
            raise ValueError(f"Expression.from_function: the twin uses {', '.join(unknown)}, "
                             f"which the domain does not give (domain has "
                             f"{', '.join(variables)})")
        twin = twin.subs({s: by_name[s.name] for s in twin.free_symbols})
        name = getattr(function, "__name__", "function")
        return cls(variables, twin, lambda values: function(**values), domain, text=name)

    # ---------------------------------------------------------- using it

    def build(self, **values: float | Value) -> Value:
        """The engine's output at ``values``: numbers become leaves labelled by variable name;
        pass ``Value``s to keep hold of the leaves (to ask for their gradients)."""
        missing = [name for name in self.variables if name not in values]
        extra = sorted(set(values) - set(self.variables))
        if missing or extra:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(extra)}"] if extra else [])
            raise TypeError(f"build(): {'; '.join(problems)} (the expression's variables are "
                            f"{', '.join(self.variables)})")
        leaves = {name: v if isinstance(v, Value) else Value(v, label=name)
                  for name, v in values.items()}
        return self._build(leaves)

    def points(self) -> st.SearchStrategy[dict[str, float]]:
        """Points of the domain, a little inside its edges (a finite-difference stencil
        around them stays inside)."""
        coordinates = {}
        for name, (low, high) in self.domain.items():
            inset = min(_POINT_INSET, (high - low) / 4)
            coordinates[name] = st.floats(low + inset, high - inset,
                                          allow_nan=False, allow_infinity=False)
        return st.fixed_dictionaries(coordinates)

    def check_point(self, point: Mapping[str, float]) -> dict[str, float]:
        """The point as floats, or an error saying which coordinate is missing or outside."""
        if not isinstance(point, Mapping):
            raise TypeError(f"a point must be a mapping of variable name to number, "
                            f"not {type(point).__name__}")
        missing = [name for name in self.variables if name not in point]
        extra = sorted(set(point) - set(self.variables))
        if missing or extra:
            raise KeyError(f"point {dict(point)} does not match the variables "
                           f"{', '.join(self.variables)}"
                           + (f": missing {', '.join(missing)}" if missing else "")
                           + (f": unknown {', '.join(extra)}" if extra else ""))
        checked = {}
        for name in self.variables:
            number = point[name]
            if isinstance(number, bool) or not isinstance(number, numbers.Real):
                raise TypeError(f"point[{name!r}] must be a real number, "
                                f"not {type(number).__name__}")
            low, high = self.domain[name]
            if not low <= number <= high:
                raise ValueError(f"point[{name!r}] = {number!r} is outside the domain "
                                 f"[{low}, {high}] of {self}")
            checked[name] = float(number)
        return checked

    @property
    def primitives(self) -> frozenset[str]:
        """The primitives the steps use (guards included)."""
        return frozenset(step.primitive for step in self.steps)

    @property
    def forms(self) -> frozenset[str]:
        """The operation forms drawn by the strategy, e.g. ``"pow(number, value)"`` (2 ** v)."""
        return frozenset(step.form for step in self.steps if step.role == "operation")

    @property
    def reused_operations(self) -> int:
        """How many operation nodes (not variables) feed two or more consumers."""
        uses: dict[int, int] = {}
        for step in self.steps:
            for operand in set(step.operands):
                if isinstance(operand, int):
                    uses[operand] = uses.get(operand, 0) + 1
        first_operation = len(self.variables)
        return sum(1 for node, count in uses.items() if node >= first_operation and count > 1)

    def program(self) -> str:
        """The steps as lines of code, one node each (``n3 = sigmoid(n2)``)."""
        lines = [f"n{i} = {name}" for i, name in enumerate(self.variables)]
        for i, step in enumerate(self.steps, start=len(self.variables)):
            args = [f"n{o}" if isinstance(o, int) else repr(o) for o in step.operands]
            if step.primitive in _OPERATORS:
                code = f" {_OPERATORS[step.primitive]} ".join(args)
            elif step.primitive == "neg":
                code = f"-{args[0]}"
            elif step.primitive == "linear":
                n = len(args) // 2
                code = f"linear([{', '.join(args[:n])}], [{', '.join(args[n:2 * n])}], {args[-1]})"
            else:
                code = f"{step.primitive}({', '.join(args)})"
            guard = "    # guard" if step.role == "guard" else ""
            lines.append(f"n{i} = {code}{guard}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text or str(self.sympy)

    def __repr__(self) -> str:
        domain = ", ".join(f"{name} in [{low}, {high}]" for name, (low, high)
                           in self.domain.items())
        return f"<Expression {self} ; {domain}>"

    # ---------------------------------------------------------- SymPy references

    def _reference(self, kind: str) -> Callable[..., Any]:
        """SymPy's gradient or Hessian of the twin, compiled once for mpmath."""
        if kind not in self._references:
            symbols = [sympy.Symbol(name, real=True) for name in self.variables]
            if kind == "gradient":
                formulas = [sympy.diff(self.sympy, s) for s in symbols]
            else:
                first = [sympy.diff(self.sympy, s) for s in symbols]
                formulas = [sympy.diff(first[i], s) for i in range(len(symbols))
                            for s in symbols]
            formulas = [_smooth_part(formula) for formula in formulas]
            self._references[kind] = sympy.lambdify(symbols, formulas, modules="mpmath")
        return self._references[kind]


def _smooth_part(formula: Any) -> Any:
    """A derivative formula as it is away from kinks, in terms lambdify can print.

    SymPy brings in |u| by itself (sqrt(u**2) is Abs(u) for real u), and differentiating
    |u| twice leaves 2·DiracDelta(u), or an unevaluated Derivative(sign(u)) when SymPy
    cannot tell that u is real. Both are 0 away from u = 0, where every point is.
    A Piecewise branch the domain never reaches may hold 1/0 (a user's relu under a
    division): SymPy writes zoo there, which lambdify cannot print; NaN would fail loudly
    if it were ever reached.
    """
    formula = formula.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    formula = formula.replace(
        lambda e: isinstance(e, sympy.Derivative) and isinstance(e.expr, sympy.sign),
        lambda e: sympy.S.Zero)
    return formula.xreplace({sympy.zoo: sympy.nan})


def _checked_domain(domain: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    if not isinstance(domain, Mapping) or not domain:
        raise TypeError("domain must be a non-empty mapping of variable name to (low, high), "
                        f"not {domain!r}")
    checked = {}
    for name, bounds in domain.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"domain: variable name {name!r} is not an identifier")
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise TypeError(f"domain[{name!r}] must be (low, high), not {bounds!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"domain[{name!r}] = {bounds!r} must be finite with low < high")
        checked[name] = (low, high)
    return checked


# ---------------------------------------------------------------- the generator


def _round_up(x: float) -> float:
    """The smallest multiple of 1/4 that is >= x (a constant SymPy holds exactly)."""
    return math.ceil(x * 4) / 4


class _Program:
    """A straight-line program being drawn: nodes, their intervals, the steps."""

    def __init__(self, variables: Sequence[str], domain: dict[str, Interval]) -> None:
        self.variables = tuple(variables)
        self.domain = domain
        self.ranges: list[Interval] = [domain[name] for name in variables]
        self.steps: list[Step] = []

    def emit(self, primitive: str, operands: tuple[int | float, ...],
             role: str = "operation") -> int:
        ranges = [self.ranges[o] if isinstance(o, int) else (o, o) for o in operands]
        low, high = _RANGES[primitive](*ranges)
        # A whisker of slack against rounding in the interval arithmetic itself.
        slack = 1e-9 * (1 + max(abs(low), abs(high)))
        side = 0
        if primitive in _KINKED:
            side = 1 if ranges[0][0] > 0 else -1
        self.steps.append(Step(primitive, operands, role, side))
        self.ranges.append((low - slack, high + slack))
        node = len(self.ranges) - 1
        return self.bounded(node, BOUND) if role == "operation" else node

    # Guards: each returns a node index satisfying the requirement, adding a step if needed.

    def bounded(self, node: int, bound: float) -> int:
        low, high = self.ranges[node]
        largest = max(abs(low), abs(high))
        if largest <= bound:
            return node
        halvings = math.ceil(math.log2(largest / bound))
        return self.emit("mul", (node, 2.0**-halvings), "guard")

    def positive(self, node: int, draw: Any) -> int:
        low = self.ranges[node][0]
        if low >= MARGIN:
            return node
        shift = _round_up(MARGIN - low) + draw(st.sampled_from((0.0, 0.25, 1.0)))
        return self.emit("add", (node, shift), "guard")

    def away_from_zero(self, node: int, draw: Any) -> int:
        low, high = self.ranges[node]
        if low >= MARGIN or high <= -MARGIN:
            return node
        if draw(st.booleans()):
            return self.emit("add", (node, _round_up(MARGIN - low)), "guard")
        return self.emit("add", (node, -_round_up(high + MARGIN)), "guard")

    def below(self, node: int, ceiling: float) -> int:
        high = self.ranges[node][1]
        if high <= ceiling:
            return node
        return self.emit("add", (node, -_round_up(high - ceiling)), "guard")

    # One drawn operation applied to the latest node (so every node reaches the output).

    def operation(self, draw: Any, primitive: str, latest: int) -> int:
        if primitive in _UNARY:
            x = latest
            if primitive in ("log", "sqrt"):
                x = self.positive(x, draw)
            elif primitive in ("abs", "relu"):
                x = self.away_from_zero(x, draw)
            elif primitive == "exp":
                x = self.below(x, _EXP_CEILING)
            return self.emit(primitive, (x,))
        if primitive == "leaky_relu":
            x = self.away_from_zero(latest, draw)
            alpha: int | float = (draw(st.sampled_from(_ALPHAS)) if draw(st.booleans())
                                  else self.bounded(self.earlier_node(draw), 2.0))
            return self.emit(primitive, (x, alpha))
        if primitive == "pow":
            return self.power(draw, latest)
        if primitive == "linear":
            return self.linear(draw, latest)
        # add, sub, mul, div: the latest node with an earlier node (reuse) or a number
        other: int | float = (draw(st.sampled_from(_CONSTANTS)) if draw(st.integers(0, 3)) == 0
                              else self.earlier_node(draw))
        if other == latest and primitive in ("sub", "div"):
            other = draw(st.sampled_from(_CONSTANTS))  # x - x and x / x are constants
        left, right = (latest, other) if draw(st.booleans()) else (other, latest)
        if primitive == "div" and isinstance(right, int):
            right = self.away_from_zero(right, draw)
        return self.emit(primitive, (left, right))

    def power(self, draw: Any, latest: int) -> int:
        form = draw(st.sampled_from(("value ** number", "number ** value", "value ** value")))
        if form == "number ** value":
            exponent = self.bounded(latest, 4.0)
            return self.emit("pow", (draw(st.sampled_from(_BASES)), exponent))
        if form == "value ** number":
            k = draw(st.sampled_from(_EXPONENTS))
            base = self.bounded(latest, 3.0)
            if k != int(k):
                base = self.positive(base, draw)
            elif k < 0:
                base = self.away_from_zero(base, draw)
            return self.emit("pow", (base, k))
        exponent = self.bounded(self.earlier_node(draw), 2.0)
        base = self.positive(self.bounded(latest, 3.0), draw)
        return self.emit("pow", (base, exponent))

    def linear(self, draw: Any, latest: int) -> int:
        # 1 or 2 (weight, input) pairs and a bias; the latest node takes one of the slots.
        pairs = draw(st.integers(1, 2))
        slots: list[int | float] = []
        for _ in range(2 * pairs + 1):
            if draw(st.integers(0, 2)) == 0:
                slots.append(draw(st.sampled_from(_CONSTANTS)))
            else:
                slots.append(self.bounded(self.earlier_node(draw), 3.0))
        slots[draw(st.integers(0, 2 * pairs))] = self.bounded(latest, 3.0)
        return self.emit("linear", tuple(slots))

    def earlier_node(self, draw: Any) -> int:
        first_operation = len(self.variables)
        if len(self.ranges) > first_operation and draw(st.booleans()):
            # Half the time an operation node: it then feeds two consumers (a reused node).
            return draw(st.integers(first_operation, len(self.ranges) - 1))
        return draw(st.integers(0, len(self.ranges) - 1))

    def expression(self) -> Expression:
        steps = tuple(self.steps)
        variables = self.variables
        twin = _Deferred(lambda: _run(steps, [sympy.Symbol(name, real=True)
                                              for name in variables], _twin, _exact))

        def build(leaves: dict[str, Value]) -> Value:
            return _run(steps, [leaves[name] for name in variables], _engine, float)

        return Expression(variables, twin, build, self.domain, steps)


@dataclass
class _Deferred:
    """A twin not built yet (building SymPy expressions is most of a generator's time)."""

    make: Callable[[], Any]


def _exact(number: float) -> Any:
    return sympy.Rational(repr(number))  # the decimal as written: 0.1 -> 1/10, 0.25 -> 1/4


def _twin(step: Step) -> Callable[..., Any]:
    if step.primitive in _KINKED:
        positive, negative = _KINKED[step.primitive]
        return positive if step.side > 0 else negative
    return _TWINS[step.primitive]


def _engine(step: Step) -> Callable[..., Any]:
    return _ENGINE[step.primitive]


def _run(steps: Sequence[Step], nodes: list[Any], function: Callable[[Step], Callable[..., Any]],
         number: Callable[[float], Any]) -> Any:
    nodes = list(nodes)
    for step in steps:
        args = [nodes[o] if isinstance(o, int) else number(o) for o in step.operands]
        nodes.append(function(step)(*args))
    return nodes[-1]


def _checked_primitives(primitives: Iterable[str] | None) -> tuple[str, ...]:
    if primitives is None:
        return PRIMITIVE_NAMES
    if isinstance(primitives, str):
        primitives = (primitives,)
    chosen = tuple(primitives)
    unknown = [p for p in chosen if p not in _ENGINE]
    if unknown or not chosen:
        raise ValueError(f"expressions(primitives=...): unknown primitive(s) "
                         f"{', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {', '.join(PRIMITIVE_NAMES)}")
    return chosen


def expressions(variables: Sequence[str] = ("x", "y"), *, max_operations: int = 5,
                primitives: Iterable[str] | None = None,
                min_operations: int = 1) -> st.SearchStrategy[Expression]:
    """Random expression graphs over ``variables``, each with its SymPy twin.

    Each draws a box for every variable (centre in [-2, 2], half-width 0.25 to 2), then
    ``min_operations`` to ``max_operations`` operations from ``primitives`` (default: all of
    ``PRIMITIVE_NAMES``). Each operation takes the latest node, and binary ones an earlier
    node (so nodes get reused) or a number, on either side: ``x * 3``, ``2 - x``, ``2 ** x``,
    ``x ** 0.5``, ``x ** y``, ``leaky_relu(x, 0.1)`` and ``leaky_relu(x, alpha=y)``. Guards
    (additions and multiplications by constants, see the module doc) are inserted wherever
    an operand could leave its primitive's smooth domain, so ``points()`` are always valid.
    """
    if isinstance(variables, str) or not variables:
        raise TypeError(f"expressions(variables=...) must be a non-empty sequence of names, "
                        f"not {variables!r}")
    variables = tuple(variables)
    _checked_domain({name: (0, 1) for name in variables})  # identifiers
    if len(set(variables)) != len(variables):
        raise ValueError(f"expressions(variables=...): names repeat in {variables}")
    if not 1 <= min_operations <= max_operations:
        raise ValueError(f"expressions(): need 1 <= min_operations <= max_operations, "
                         f"got {min_operations} and {max_operations}")
    chosen = _checked_primitives(primitives)

    @st.composite
    def draw_expression(draw: Any) -> Expression:
        domain = {}
        for name in variables:
            centre = draw(st.sampled_from(_CENTRES))
            half_width = draw(st.sampled_from(_HALF_WIDTHS))
            domain[name] = (centre - half_width, centre + half_width)
        program = _Program(variables, domain)
        latest = draw(st.integers(0, len(variables) - 1))
        for _ in range(draw(st.integers(min_operations, max_operations))):
            latest = program.operation(draw, draw(st.sampled_from(chosen)), latest)
        return program.expression()

    return draw_expression()


def expression_and_point(variables: Sequence[str] = ("x", "y"),
                         **options: Any) -> st.SearchStrategy[tuple[Expression, dict[str, float]]]:
    """An expression from ``expressions(variables, **options)`` and a point of its domain."""
    return expressions(variables, **options).flatmap(
        lambda expression: st.tuples(st.just(expression), expression.points()))


# ---------------------------------------------------------------- engine and SymPy numbers


def engine_gradients(expression: Expression, point: Mapping[str, float]) -> dict[str, float]:
    """The engine's d output / d variable at ``point`` (``autograd_lite.gradients``)."""
    point = expression.check_point(point)
    leaves = [Value(point[name], label=name) for name in expression.variables]
    output = expression.build(**dict(zip(expression.variables, leaves)))
    return dict(zip(expression.variables, map(float, gradients(output, leaves))))


def engine_second_derivatives(expression: Expression,
                              point: Mapping[str, float]) -> dict[tuple[str, str], float]:
    """The engine's d²output / d a d b for every pair of variables, by differentiating the
    ``create_graph=True`` gradients again."""
    point = expression.check_point(point)
    names = expression.variables
    leaves = [Value(point[name], label=name) for name in names]
    output = expression.build(**dict(zip(names, leaves)))
    first = gradients(output, leaves, create_graph=True)
    result = {}
    for a, derivative in zip(names, first):
        for b, second in zip(names, gradients(derivative, leaves)):
            result[(a, b)] = float(second)
    return result


def _mp_point(expression: Expression, point: dict[str, float]) -> list[Any]:
    return [mpmath.mpf(point[name]) for name in expression.variables]


def sympy_gradients(expression: Expression, point: Mapping[str, float]) -> dict[str, float]:
    """``sympy.diff`` of the twin, evaluated at ``point`` with 30 significant digits."""
    point = expression.check_point(point)
    with mpmath.workdps(_REFERENCE_DIGITS):
        values = expression._reference("gradient")(*_mp_point(expression, point))
        return {name: float(v) for name, v in zip(expression.variables, values)}


def sympy_second_derivatives(expression: Expression,
                             point: Mapping[str, float]) -> dict[tuple[str, str], float]:
    """The twin's Hessian from ``sympy.diff``, evaluated at ``point`` with 30 digits."""
    point = expression.check_point(point)
    names = expression.variables
    with mpmath.workdps(_REFERENCE_DIGITS):
        values = iter(expression._reference("hessian")(*_mp_point(expression, point)))
        return {(a, b): float(next(values)) for a in names for b in names}


def _central_difference(function: Callable[[dict[str, float]], Any], point: dict[str, float],
                        name: str, step: float) -> Any:
    """d function / d name by the five-point central difference (error O(step⁴))."""

    def at(offset: float) -> Any:
        moved = dict(point)
        moved[name] += offset
        return function(moved)

    return (at(-2 * step) - 8 * at(-step) + 8 * at(step) - at(2 * step)) / (12 * step)


# ---------------------------------------------------------------- assertions


def _compare(what: str, expression: Expression, point: dict[str, float],
             engine: Mapping[Any, float], expected: Mapping[Any, float], reference: str,
             rtol: float, atol: float) -> None:
    lines = []
    for key, wanted in expected.items():
        got = engine[key]
        allowed = atol + rtol * abs(wanted)
        ok = abs(got - wanted) <= allowed  # NaN compares False: it fails
        if not ok:
            name = key if isinstance(key, str) else " d".join(key)
            order = "" if isinstance(key, str) else "²"
            lines.append(f"  d{order}out/d{name}: engine {got!r}, {reference} {wanted!r} "
                         f"(difference {got - wanted:.3g}, allowed {allowed:.3g})")
    if lines:
        where = ", ".join(f"{name} = {value!r}" for name, value in point.items())
        steps = ("\n  program:\n    " + expression.program().replace("\n", "\n    ")
                 if expression.steps else "")
        raise AssertionError(f"{what} disagree with {reference}\n"
                             f"  expression: {expression.sympy}\n  point: {where}{steps}\n"
                             + "\n".join(lines))


def assert_gradients_match_sympy(expression: Expression, point: Mapping[str, float], *,
                                 rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """The engine's gradient equals ``sympy.diff`` of the twin at ``point``, for every
    variable, within ``atol + rtol·|SymPy's|``; else AssertionError listing each mismatch."""
    point = expression.check_point(point)
    _compare("engine gradients", expression, point, engine_gradients(expression, point),
             sympy_gradients(expression, point), "SymPy's diff", rtol, atol)


def assert_second_derivatives_match_sympy(expression: Expression, point: Mapping[str, float],
                                          *, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Every second derivative (the Hessian) from ``gradients(..., create_graph=True)``
    equals SymPy's, within ``atol + rtol·|SymPy's|``."""
    point = expression.check_point(point)
    _compare("engine second derivatives", expression, point,
             engine_second_derivatives(expression, point),
             sympy_second_derivatives(expression, point), "SymPy's diff", rtol, atol)


def assert_gradients_match_finite_differences(expression: Expression,
                                              point: Mapping[str, float], *,
                                              step: float = _STENCIL_STEP, rtol: float = 1e-5,
                                              atol: float = 1e-7) -> None:
    """The engine's gradient equals the five-point central difference of the engine's own
    forward values, within ``atol + rtol·|difference quotient|``."""
    point = expression.check_point(point)

    def forward(at: dict[str, float]) -> float:
        return float(expression.build(**at).data)

    numeric = {name: _central_difference(forward, point, name, step)
               for name in expression.variables}
    _compare("engine gradients", expression, point, engine_gradients(expression, point),
             numeric, "central differences", rtol, atol)


def assert_second_derivatives_match_finite_differences(
        expression: Expression, point: Mapping[str, float], *, step: float = _STENCIL_STEP,
        rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """The engine's second derivatives equal central differences of its own gradients."""
    point = expression.check_point(point)
    names = expression.variables
    numeric = {}
    for b in names:
        column = _central_difference(
            lambda at: _Vector(engine_gradients(expression, at)), point, b, step)
        for a in names:
            numeric[(a, b)] = column[a]
    _compare("engine second derivatives", expression, point,
             engine_second_derivatives(expression, point), numeric, "central differences",
             rtol, atol)


class _Vector(dict):
    """A gradient dict with the arithmetic the difference quotient needs."""

    def _combine(self, other: Any, op: Callable[[float, float], float]) -> _Vector:
        if isinstance(other, dict):
            return _Vector({k: op(v, other[k]) for k, v in self.items()})
        return _Vector({k: op(v, other) for k, v in self.items()})

    def __add__(self, other: Any) -> _Vector:
        return self._combine(other, operator.add)

    def __sub__(self, other: Any) -> _Vector:
        return self._combine(other, operator.sub)

    def __mul__(self, other: Any) -> _Vector:
        return self._combine(other, operator.mul)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> _Vector:
        return self._combine(other, operator.truediv)
