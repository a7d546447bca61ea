"""Property-testing gradients: Hypothesis strategies and assertions against SymPy.

The strategies generate random expression graphs over every primitive of the table (and
any added with ``extend.defprimitive``), each paired with a **SymPy twin**: the same
program with each primitive's *forward* rule evaluated over SymPy. The engine's gradients
come from the table's *derivative* rules; the reference is ``sympy.diff`` of the twin, so
every local-derivative rule is checked against SymPy's own calculus. (The forward rules
themselves are checked against independent definitions in the project's tests.) The
kinked primitives (abs, relu, leaky_relu: ``smooth="kink"`` in the table) keep one sign of
their operand on the whole domain, so their twin is the branch that applies there:
``relu(u)`` is ``u`` or ``0``.

    >>> from hypothesis import given
    >>> from autograd_lite.testing import expression_and_point, assert_gradients_match_sympy
    >>> @given(expression_and_point(variables=("x", "y")))
    ... def test_engine_against_sympy(case):
    ...     expression, point = case
    ...     assert_gradients_match_sympy(expression, point)

How domains are respected. Every variable lives in a box (an interval). While an expression
is generated, each node carries an interval that encloses its value for *every* point of
the boxes: the primitive's forward rule evaluated over intervals (``INTERVALS``, one more
namespace of the table's rules). An operation is applied only where the table says it is
smooth, with a margin: before an input marked ``"positive"`` (log, sqrt) or a fractional
power its operand is shifted by a constant to be at least ``MARGIN`` above 0; before one
marked ``"nonzero"`` or ``"kink"`` (a divisor; abs, relu, leaky_relu) it is shifted to be at
least ``MARGIN`` away from 0; an operand whose output range would explode (exp) is halved,
and any node whose magnitude could exceed ``BOUND`` is scaled down. These guards are
additions and multiplications by constants, so they are part of the graph and of its twin.
Hence every point of ``expression.points()`` is valid, and so is a finite-difference stencil
around it.

Needs ``hypothesis`` and ``sympy`` (not pytest).
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import mpmath
import sympy
from hypothesis import strategies as st

from .engine import Value, linear
from .functional import gradients
from .primitives import PRIMITIVES, Primitive, check_namespace
from .symbolic import sympy_namespace

__all__ = [
    "BOUND", "INTERVALS", "MARGIN", "PRIMITIVE_NAMES", "Expression", "Interval", "Step",
    "assert_gradients_match_finite_differences", "assert_gradients_match_sympy",
    "assert_second_derivatives_match_finite_differences",
    "assert_second_derivatives_match_sympy", "engine_gradients", "engine_second_derivatives",
    "expression_and_point", "expressions", "generated_names", "output_range",
    "sympy_gradients", "sympy_second_derivatives", "user_spelling",
]

MARGIN = 0.25
"""Distance every generated operand keeps from a kink (abs, relu), a pole (1/x) or the edge
of a domain (log, sqrt, fractional powers), over the whole box of points."""

BOUND = 8.0
"""No generated node's value exceeds this in magnitude (larger ones are scaled down)."""

_STENCIL_STEP = 1e-3  # finite-difference step; the stencil reaches 2 steps either side
_POINT_INSET = 0.01  # points are drawn this far inside a box, so a stencil stays in the box
_REFERENCE_DIGITS = 30  # SymPy's derivatives are evaluated with mpmath at this precision

# ---------------------------------------------------------------- what the table says
# Everything about a primitive comes from its entry in the registry: how a user writes it
# (its notation), its SymPy twin (its forward rule over SymPy), the range of its output
# (its forward rule over intervals) and where it is smooth (its ``smooth`` hints).


def _pairs(args: Sequence[Any]) -> list[tuple[Any, Any]]:
    """linear's (w1..wn, x1..xn, b) as [(w1, x1), ..., (wn, xn)]."""
    n = len(args) // 2
    return list(zip(args[:n], args[n:2 * n]))


_PYTHON_OPERATORS: dict[str, Callable[..., Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow,
}


def user_spelling(primitive: Primitive) -> Callable[..., Any]:
    """How a user writes ``primitive`` on Values: its operator (``a * b``, ``-x``), its
    method (``x.tanh()``), Python's own function (``abs(x)``), ``linear(w, x, b)``, or the
    primitive called as a function."""
    notation = primitive.notation
    if notation.style == "infix" and notation.symbol in _PYTHON_OPERATORS:
        return _PYTHON_OPERATORS[notation.symbol]
    if notation.style == "prefix" and notation.symbol == "-":
        return operator.neg
    if primitive.name == "linear":
        return lambda *args: linear(args[:len(args) // 2], args[len(args) // 2:-1], args[-1])
    if primitive.method:
        name = primitive.name
        return lambda x, *rest: getattr(x, name)(*rest)
    if notation.style == "call" and callable(getattr(builtins, notation.symbol, None)):
        return getattr(builtins, notation.symbol)  # abs(x) calls Value.__abs__
    return primitive


def generated_names() -> tuple[str, ...]:
    """Every registered primitive the strategies can generate (all but bookkeeping ones)."""
    return tuple(name for name, p in PRIMITIVES.items() if not p.internal)


PRIMITIVE_NAMES: tuple[str, ...] = generated_names()
"""The built-in primitives the strategies generate by default: the whole table but grad()'s
internal identity. A primitive added with ``extend.defprimitive`` is generated when named
(``expressions(primitives=["softplus"])``)."""

# Numbers the generator writes into expressions: short decimals, so that a float and its
# SymPy Rational are the same number (or within one rounding, for 0.1 and 0.01).
_CONSTANTS = (0.5, 1.5, 2.0, 3.0, -0.75, 0.25, -2.0, 1.25)
_EXPONENTS = (2.0, 3.0, -1.0, -2.0, 0.5, 1.5, -0.5)
_BASES = (2.0, 0.5, 3.0, 1.5)
_SLOPES = (0.1, 0.2, 0.5)  # drawn beside an input's default (leaky_relu's alpha = 0.01)
_CENTRES = tuple(c / 4 for c in range(-8, 9))  # box centres -2 ... 2 in steps of 1/4
_HALF_WIDTHS = (0.25, 0.5, 1.0, 2.0)
_OVERFLOW_CEILING = 16.0  # an operation's output range may reach this before its operand is
#                           halved (exp(2.77) = 16); larger outputs are then scaled to BOUND

# ---------------------------------------------------------------- interval arithmetic


class _Undecided:
    """A comparison of intervals that holds for some of their points and not others."""

    def __bool__(self) -> bool:
        raise TypeError("a comparison of intervals is undecided here: rules must choose "
                        "with f.where(...), not with if")


_UNDECIDED = _Undecided()


Range = tuple[float, float]  # an interval as (low, high), as the generator keeps them


def _hull(*numbers: float) -> Range:
    return (min(numbers), max(numbers))


class Interval:
    """[low, high]: encloses a node's value at every point of the domain box.

    The primitives' forward rules evaluated over these (the ``INTERVALS`` namespace) give
    each generated node's range, so no primitive needs range code of its own.
    """

    __slots__ = ("high", "low")

    def __init__(self, low: float, high: float) -> None:
        self.low = float(low)
        self.high = float(high)

    @staticmethod
    def of(x: Interval | float) -> Interval:
        return x if isinstance(x, Interval) else Interval(x, x)

    def __iter__(self) -> Iterator[float]:
        return iter((self.low, self.high))

    def __repr__(self) -> str:
        return f"Interval({self.low!r}, {self.high!r})"

    def __add__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        return Interval(self.low + o.low, self.high + o.high)

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.high, -self.low)

    def __sub__(self, other: Interval | float) -> Interval:
        return self + (-Interval.of(other))

    def __rsub__(self, other: float) -> Interval:
        return Interval.of(other) - self

    def __mul__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        return Interval(*_hull(self.low * o.low, self.low * o.high, self.high * o.low,
                               self.high * o.high))

    __rmul__ = __mul__

    def __truediv__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        if o.low <= 0 <= o.high:
            raise ZeroDivisionError(f"interval division by {o}, which holds 0")
        return self * Interval(1 / o.high, 1 / o.low)  # 1/b is monotone on a one-signed b

    def __rtruediv__(self, other: float) -> Interval:
        return Interval.of(other) / self

    def __pow__(self, other: Interval | float) -> Interval:
        exponent = Interval.of(other)
        low, high = self.low, self.high
        if exponent.low == exponent.high and exponent.low == int(exponent.low):
            k = exponent.low
            if low > 0 or high < 0:  # an integer power is monotone on a one-signed interval
                return Interval(*_hull(low**k, high**k))
            if k < 0:
                raise ZeroDivisionError(f"interval {self} to the power {k}: it holds 0")
            if k % 2 == 0:
                return Interval(0.0, max(low**k, high**k))
            return Interval(low**k, high**k)
        if low <= 0:
            raise ValueError(f"interval {self} to a fractional power: not all positive")
        # base ** exponent = exp(exponent · ln base), each step monotone
        product = Interval(math.log(low), math.log(high)) * exponent
        return Interval(math.exp(product.low), math.exp(product.high))

    def __rpow__(self, other: float) -> Interval:
        return Interval.of(other) ** self

    def _compare(self, other: Interval | float, holds: Callable[[float, float], bool]) -> Any:
        o = Interval.of(other)
        # An order holds for all points of two intervals iff it holds at all four corners.
        corners = {holds(a, b) for a in (self.low, self.high) for b in (o.low, o.high)}
        return corners.pop() if len(corners) == 1 else _UNDECIDED

    def __ge__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.ge)

    def __gt__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.gt)

    def __le__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.le)

    def __lt__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.lt)


def _monotone(function: Callable[[float], float]) -> Callable[[Any], Interval]:
    def apply(x: Any) -> Interval:
        x = Interval.of(x)
        return Interval(function(x.low), function(x.high))
    return apply


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _sin_range(x: Any) -> Interval:
    low, high = Interval.of(x)
    found = [math.sin(low), math.sin(high)]
    # sin peaks at pi/2 + 2k pi and dips at -pi/2 + 2k pi: include those inside [low, high]
    if math.ceil((low - math.pi / 2) / (2 * math.pi)) <= (high - math.pi / 2) / (2 * math.pi):
        found.append(1.0)
    if math.ceil((low + math.pi / 2) / (2 * math.pi)) <= (high + math.pi / 2) / (2 * math.pi):
        found.append(-1.0)
    return Interval(*_hull(*found))


def _abs_range(x: Any) -> Interval:
    low, high = Interval.of(x)
    if low <= 0 <= high:
        return Interval(0.0, max(-low, high))
    return Interval(*_hull(abs(low), abs(high)))


def _where_range(condition: Any, if_true: Any, if_false: Any) -> Any:
    if condition is _UNDECIDED:
        a, b = Interval.of(if_true), Interval.of(if_false)
        return Interval(min(a.low, b.low), max(a.high, b.high))
    return if_true if condition else if_false


INTERVALS = check_namespace(SimpleNamespace(
    exp=_monotone(math.exp),
    log=_monotone(math.log),
    sqrt=_monotone(math.sqrt),
    tanh=_monotone(math.tanh),
    sigmoid=_monotone(_sigmoid),
    sin=_sin_range,
    cos=lambda x: _sin_range(Interval.of(x) + math.pi / 2),
    abs=_abs_range,
    relu=lambda x: Interval(max(Interval.of(x).low, 0.0), max(Interval.of(x).high, 0.0)),
    sign=lambda x: Interval(math.copysign(1, Interval.of(x).low) if Interval.of(x).low else 0.0,
                            math.copysign(1, Interval.of(x).high) if Interval.of(x).high
                            else 0.0),
    xlogy=lambda x, y: Interval.of(x) * _monotone(math.log)(y),
    where=_where_range,
), "interval")
"""The forward rules evaluated over intervals: one more namespace of the table's rules."""


def output_range(primitive: Primitive, ranges: Sequence[tuple[float, float]]
                 ) -> tuple[float, float]:
    """The range of ``primitive``'s output over the box of input ``ranges``."""
    result = primitive.forward(*(Interval(low, high) for low, high in ranges), INTERVALS)
    result = Interval.of(result)
    return (result.low, result.high)


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
        checked: dict[str, float] = {}
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
            code = _written(PRIMITIVES[step.primitive], args)
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


def _written(primitive: Primitive, args: list[str]) -> str:
    """One step as a line of code, in the primitive's notation (``n0 * n1``, ``tanh(n2)``)."""
    notation = primitive.notation
    if notation.style == "infix":
        return f" {notation.symbol} ".join(args)
    if notation.style == "prefix":
        return f"{notation.symbol}{args[0]}"
    if primitive.name == "linear":
        n = len(args) // 2
        return f"linear([{', '.join(args[:n])}], [{', '.join(args[n:2 * n])}], {args[-1]})"
    return f"{notation.symbol}({', '.join(args)})"


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

    def __init__(self, variables: Sequence[str], domain: dict[str, Range]) -> None:
        self.variables = tuple(variables)
        self.domain = domain
        self.ranges: list[Range] = [domain[name] for name in variables]
        self.steps: list[Step] = []

    def emit(self, primitive: str, operands: tuple[int | float, ...],
             role: str = "operation") -> int:
        entry = PRIMITIVES[primitive]
        ranges: list[Range] = [self.ranges[o] if isinstance(o, int) else (o, o)
                               for o in operands]
        low, high = output_range(entry, ranges)
        # A whisker of slack against rounding in the interval arithmetic itself.
        slack = 1e-9 * (1 + max(abs(low), abs(high)))
        side = 0
        if "kink" in entry.smooth:  # the sign the kinked operand has on the whole box
            side = 1 if ranges[entry.smooth.index("kink")][0] > 0 else -1
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

    def smooth(self, node: int, where: str | None, draw: Any) -> int:
        """``node``, shifted if needed to where the table says its primitive is smooth."""
        if where == "positive":
            return self.positive(node, draw)
        if where in ("nonzero", "kink"):
            return self.away_from_zero(node, draw)
        return node

    def overflows(self, primitive: str, operands: tuple[int | float, ...]) -> bool:
        ranges: list[Range] = [self.ranges[o] if isinstance(o, int) else (o, o)
                               for o in operands]
        try:
            low, high = output_range(PRIMITIVES[primitive], ranges)
        except (OverflowError, ValueError, ZeroDivisionError):
            return True
        return max(abs(low), abs(high)) > _OVERFLOW_CEILING

    # One drawn operation applied to the latest node (so every node reaches the output).

    def operation(self, draw: Any, primitive: str, latest: int) -> int:
        if primitive == "pow":  # its domain couples base and exponent: drawn by form
            return self.power(draw, latest)
        if primitive == "linear":
            return self.linear(draw, latest)
        entry = PRIMITIVES[primitive]
        assert entry.inputs is not None
        smooth = entry.smooth or (None,) * len(entry.inputs)
        if len(entry.inputs) == 1:
            x = latest
            for _ in range(12):  # halve an operand that would make the output explode (exp)
                x = self.smooth(x, smooth[0], draw)
                if not self.overflows(primitive, (x,)):
                    break
                x = self.emit("mul", (x, 0.5), "guard")
            return self.emit(primitive, (x,))
        if entry.inputs[1].default is not None:  # x and settings with defaults (alpha)
            x = self.smooth(latest, smooth[0], draw)
            rest: list[int | float] = []
            for spec, where in zip(entry.inputs[1:], smooth[1:]):
                if draw(st.booleans()):
                    rest.append(draw(st.sampled_from((spec.default, *_SLOPES))))
                else:
                    rest.append(self.smooth(self.bounded(self.earlier_node(draw), 2.0), where,
                                            draw))
            return self.emit(primitive, (x, *rest))
        # binary: the latest node with an earlier node (reuse) or a number, on either side
        other: int | float = (draw(st.sampled_from(_CONSTANTS)) if draw(st.integers(0, 3)) == 0
                              else self.earlier_node(draw))
        if other == latest and primitive in ("sub", "div"):
            other = draw(st.sampled_from(_CONSTANTS))  # x - x and x / x are constants
        pair: list[int | float] = [latest, other] if draw(st.booleans()) else [other, latest]
        for position in range(2):
            operand = pair[position]
            if isinstance(operand, int):
                pair[position] = self.smooth(operand, smooth[position], draw)
        return self.emit(primitive, (pair[0], pair[1]))

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
        domain = self.domain
        twin = _Deferred(lambda: _sympy_twin(steps, variables, domain))

        def build(leaves: dict[str, Value]) -> Value:
            return _run(steps, [leaves[name] for name in variables], _engine, float)

        return Expression(variables, twin, build, self.domain, steps)


@dataclass
class _Deferred:
    """A twin not built yet (building SymPy expressions is most of a generator's time)."""

    make: Callable[[], Any]


def _exact(number: float) -> Any:
    return sympy.Rational(repr(number))  # the decimal as written: 0.1 -> 1/10, 0.25 -> 1/4


def _twin(step: Step, centre: Mapping[Any, Any]) -> Callable[..., Any]:
    """The step's primitive over SymPy: its forward rule. Where the rule branches (relu,
    abs, where), the branch is the one that holds on the whole box: the generator keeps a
    kinked operand one-signed there, so deciding at the box's centre decides everywhere
    (and the twin carries no Piecewise, whose other branch may divide by 0)."""
    entry = PRIMITIVES[step.primitive]
    namespace = _branch_namespace(centre) if "kink" in entry.smooth else sympy_namespace()
    return lambda *args: entry.forward(*args, namespace)


def _branch_namespace(centre: Mapping[Any, Any]) -> SimpleNamespace:
    f = sympy_namespace()

    def positive(u: Any) -> bool:
        return bool(sympy.sympify(u).subs(centre).evalf() > 0)

    def holds(condition: Any) -> bool:
        if condition is True or condition is False:
            return bool(condition)
        return bool(sympy.sympify(condition).subs(centre))

    return SimpleNamespace(**{**vars(f),
                              "abs": lambda u: u if positive(u) else -u,
                              "relu": lambda u: u if positive(u) else sympy.S.Zero,
                              "sign": lambda u: sympy.S.One if positive(u) else -sympy.S.One,
                              "where": lambda c, a, b: a if holds(c) else b})


def _engine(step: Step) -> Callable[..., Any]:
    return user_spelling(PRIMITIVES[step.primitive])


def _run(steps: Sequence[Step], nodes: list[Any], function: Callable[[Step], Callable[..., Any]],
         number: Callable[[float], Any]) -> Any:
    nodes = list(nodes)
    for step in steps:
        args = [nodes[o] if isinstance(o, int) else number(o) for o in step.operands]
        nodes.append(function(step)(*args))
    return nodes[-1]


def _sympy_twin(steps: Sequence[Step], variables: Sequence[str],
                domain: Mapping[str, tuple[float, float]]) -> Any:
    symbols = [sympy.Symbol(name, real=True) for name in variables]
    centre = {symbol: (_exact(domain[name][0]) + _exact(domain[name][1])) / 2
              for symbol, name in zip(symbols, variables)}
    return _run(steps, symbols, lambda step: _twin(step, centre), _exact)


def _checked_primitives(primitives: Iterable[str] | None) -> tuple[str, ...]:
    if primitives is None:
        return PRIMITIVE_NAMES
    if isinstance(primitives, str):
        primitives = (primitives,)
    chosen = tuple(primitives)
    known = generated_names()
    unknown = [p for p in chosen if p not in known]
    if unknown or not chosen:
        raise ValueError(f"expressions(primitives=...): unknown primitive(s) "
                         f"{', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {', '.join(known)}")
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
