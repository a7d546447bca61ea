"""Expressions and the strategies that generate them (see the package's docstring).

About 600 lines: an ``Expression`` (built by hand or drawn) and the generator that draws
one are kept together, since every guard the generator inserts is a step the Expression
replays over Values, over SymPy and over intervals.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import sympy
from hypothesis import strategies as st

from ..engine import Value, linear
from ..primitives import PRIMITIVES, Primitive
from ..symbolic import sympy_namespace
from .intervals import Range, output_range

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
                              "where": lambda c, a, b: sympy.sympify(a if holds(c) else b)})


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


