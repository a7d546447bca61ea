"""The table of primitives: everything about every operation, once.

A ``Primitive`` is one entry: its name and inputs (with defaults, such as leaky_relu's
``alpha = 0.01``), how it is written (``a + b`` with a precedence, ``−x``, ``sigmoid(x)``, and
in LaTeX), its forward rule, the local derivative with respect to each input, its domain
check, and where it helps, the lecture's form of a derivative for printing. Everything
else reads the entry: the ``Value`` operators and methods, the free functions, the graph
language, backward and higher-order derivatives, the SymPy export, explain, trace, draw,
the derivative table, the testing strategies and nn's activations.

Each rule is a one-line expression over a *namespace* ``f`` that supplies the elementary
functions (``f.exp``, ``f.log``, ``f.where`` ...). Evaluated with

* ``FLOAT``    it is the number backward() multiplies by,
* ``VALUES``   (``engine.py``) it builds a differentiable graph: higher-order derivatives,
* ``SYMPY``    (``symbolic.py``) it is the formula ``explain`` prints and ``to_sympy`` returns.

So sigmoid's ``out * (1 - out)`` is at once the backward number, the ``s2·(1 − s2)`` of the
lecture and a ``Value`` expression for second derivatives. Nothing else in the package
writes a derivative. Every namespace provides the names of ``NAMESPACE_PROTOCOL``
(checked when it is made).

Derivative rules take the primitive's inputs, then its output ``out``, then ``f``.
New primitives are added with ``autograd_lite.extend.defprimitive``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

# A domain check gets the input numbers and returns None, or (exception type, reason).
DomainCheck = Callable[..., "tuple[type[Exception], str] | None"]
Rule = Callable[..., Any]

# How tightly an operation binds when it is written out: a sum inside a product needs
# parentheses, a call never does. Unary minus binds less than ** (−x² is −(x²)), as in Python.
SUM, PRODUCT, NEGATION, POWER, ATOM = 10, 20, 30, 40, 100

NAMESPACE_PROTOCOL: tuple[str, ...] = (
    "exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "sigmoid", "relu", "sign", "xlogy",
    "where",
)
"""The elementary functions every namespace provides to the rules."""


def check_namespace(namespace: Any, name: str) -> Any:
    """``namespace`` if it provides every function of the protocol, else a TypeError."""
    missing = [n for n in NAMESPACE_PROTOCOL if not callable(getattr(namespace, n, None))]
    if missing:
        raise TypeError(f"the {name} namespace lacks {', '.join(missing)}: every namespace "
                        f"the rules run over provides {', '.join(NAMESPACE_PROTOCOL)}")
    return namespace


@dataclass(frozen=True)
class Input:
    """One input of a primitive: its name in formulas and, if it may be left out, a default."""

    name: str
    default: float | None = None


@dataclass(frozen=True)
class Notation:
    """How a primitive is written: infix (``a + b``), prefix (``−x``) or a call (``tanh(x)``)."""

    style: str  # "infix", "prefix" or "call"
    symbol: str  # the operator ("+", "**", "-") or the function's name
    precedence: int = ATOM
    latex: str = ""  # "+", r"\cdot", r"\sigma"; a call defaults to \operatorname{name}
    right_associative: bool = False  # a ** b ** c is a ** (b ** c)

    def __post_init__(self) -> None:
        if self.style not in ("infix", "prefix", "call"):
            raise ValueError(f"Notation style must be 'infix', 'prefix' or 'call', "
                             f"not {self.style!r}")


def _call(name: str, latex: str = "") -> Notation:
    return Notation("call", name, ATOM, latex or rf"\operatorname{{{name}}}")


@dataclass(frozen=True, eq=False, kw_only=True)
class Primitive:
    """One operation: how it is called and written, computed, and differentiated.

    ``derivatives[i](*inputs, out, f)`` is d out / d input i. A primitive with any number
    of inputs (``linear``) has ``inputs=None`` and one rule ``gradient(inputs, out, f)``
    that returns every input's local derivative at once.
    """

    name: str  # the function's name: "mul", "sigmoid" (the graph language's, the method's)
    forward: Rule  # (*inputs, f) -> output
    derivatives: tuple[Rule, ...] = ()  # per input: (*inputs, out, f) -> d out/d input
    inputs: tuple[Input, ...] | None = (Input("x"),)  # None: any number (see gradient)
    notation: Notation = field(default_factory=lambda: Notation("call", "?"))
    op: str = ""  # what Value.op shows ("*", "sigmoid"); default: the notation's symbol
    check: DomainCheck | None = None  # rejects inputs outside the domain, before forward
    gradient: Rule | None = None  # only for any number of inputs: every slope at once
    # The lecture's form of a local derivative, for readers that print (explain, trace,
    # draw): sigmoid's out·(1 − out). Given only where the form that computes best differs;
    # tests prove the two equal with SymPy, so no reader ever shows a derivative of its own.
    lecture: tuple[Rule, ...] | None = None
    method: bool = True  # a Value method and a free function of this name (x.tanh(), tanh(x))
    activation: bool = False  # an nn activation: activation="name"
    # Where the primitive is smooth, per input, for the testing strategies: "positive" (log),
    # "nonzero" (a divisor), "kink" (relu: one-signed), or None (anywhere).
    smooth: tuple[str | None, ...] = ()
    internal: bool = False  # bookkeeping (grad()'s identity): not shown in the table

    def __post_init__(self) -> None:
        if self.notation.symbol == "?":
            object.__setattr__(self, "notation", _call(self.name))
        if not self.op:
            object.__setattr__(self, "op", self.notation.symbol)
        if self.inputs is None:
            if self.gradient is None:
                raise TypeError(f"primitive {self.name!r}: any number of inputs "
                                "(inputs=None) needs one gradient rule")
        elif len(self.derivatives) != len(self.inputs):
            raise TypeError(f"primitive {self.name!r} has {len(self.inputs)} input(s) but "
                            f"{len(self.derivatives)} derivative rule(s)")
        if self.lecture is not None and len(self.lecture) != len(self.derivatives):
            raise TypeError(f"primitive {self.name!r}: one lecture form per input")

    @property
    def arity(self) -> int | None:
        """How many inputs the operation takes; None: any number (``linear``)."""
        return None if self.inputs is None else len(self.inputs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return () if self.inputs is None else tuple(i.name for i in self.inputs)

    def names_for(self, count: int) -> tuple[str, ...]:
        """The names of ``count`` inputs: fixed ones, or linear's w1..wn, x1..xn, b."""
        if self.inputs is not None:
            return self.input_names
        n = count // 2
        names = [f"w{i}" for i in range(1, n + 1)] + [f"x{i}" for i in range(1, n + 1)]
        return (*names, "b") if count % 2 else tuple(names)

    def local_derivatives(self, args: Sequence[Any], out: Any, f: Any) -> tuple[Any, ...]:
        """Every input's local derivative at ``args`` (numbers, Values or SymPy)."""
        if self.gradient is not None:
            return tuple(self.gradient(args, out, f))
        return tuple(rule(*args, out, f) for rule in self.derivatives)

    def local_derivative(self, position: int, args: Sequence[Any], out: Any, f: Any) -> Any:
        """d out / d input ``position``: the rule that computes it."""
        if self.gradient is not None:
            return self.gradient(args, out, f)[position]
        return self.derivatives[position](*args, out, f)

    def shown_derivative(self, position: int, args: Sequence[Any], out: Any, f: Any) -> Any:
        """d out / d input ``position`` as printed: the lecture's form where there is one."""
        if self.lecture is not None:
            return self.lecture[position](*args, out, f)
        return self.local_derivative(position, args, out, f)

    def bind(self, inputs: Sequence[Any], keywords: dict[str, Any] | None = None
             ) -> tuple[Any, ...]:
        """The inputs in order: positional ones, then keywords by name, then the defaults
        of those left out (leaky_relu(x) is leaky_relu(x, alpha=0.01))."""
        if self.inputs is None:
            if keywords:
                raise TypeError(f"{self.name}() takes its inputs by position only")
            return tuple(inputs)
        signature = ", ".join(i.name if i.default is None else f"{i.name}={i.default!r}"
                              for i in self.inputs)
        if len(inputs) > len(self.inputs):
            raise TypeError(f"{self.name}({signature}) takes {len(self.inputs)} input(s), "
                            f"got {len(inputs)}")
        bound = list(inputs)
        keywords = dict(keywords or {})
        for spec in self.inputs[len(inputs):]:
            if spec.name in keywords:
                bound.append(keywords.pop(spec.name))
            elif spec.default is not None:
                bound.append(spec.default)
            else:
                raise TypeError(f"{self.name}({signature}): {spec.name} is missing")
        if keywords:
            raise TypeError(f"{self.name}({signature}) has no input "
                            f"{', '.join(map(repr, keywords))}")
        return tuple(bound)

    def __call__(self, *inputs: Any, **keywords: Any) -> Any:
        """Apply the primitive to Values or numbers: ``softplus(x)`` is a Value."""
        if _engine_apply is None:  # pragma: no cover - the engine binds itself on import
            raise RuntimeError("autograd_lite.engine is not loaded")
        return _engine_apply(self, *self.bind(inputs, keywords))

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


# The engine's apply(), bound when the engine is imported: the table sits below the engine
# (the engine imports it), yet a Primitive is callable on Values.
_engine_apply: Callable[..., Any] | None = None


def bind_engine(apply: Callable[..., Any]) -> None:
    global _engine_apply
    _engine_apply = apply


# ---------------------------------------------------------------- domain checks


def _check_div(a: float, b: float) -> tuple[type[Exception], str] | None:
    if b == 0:
        return ZeroDivisionError, "division by zero"
    return None


def _check_log(x: float) -> tuple[type[Exception], str] | None:
    if x <= 0:
        return ValueError, "log of a non-positive number"
    return None


def _check_sqrt(x: float) -> tuple[type[Exception], str] | None:
    if x < 0:
        return ValueError, "sqrt of a negative number"
    return None


def _check_pow(base: float, exponent: float) -> tuple[type[Exception], str] | None:
    if base < 0 and exponent != int(exponent):
        return ValueError, "negative base to a fractional power (the result is complex)"
    if base == 0 and exponent < 0:
        return ZeroDivisionError, "zero to a negative power"
    return None


# ---------------------------------------------------------------- the table
#   name        forward                          local derivative(s)

_A, _B = Input("a"), Input("b")


def _infix(symbol: str, precedence: int, latex: str, right: bool = False) -> Notation:
    return Notation("infix", symbol, precedence, latex, right)


ADD = Primitive(name="add", forward=lambda a, b, f: a + b,
                derivatives=(lambda a, b, out, f: 1,
                             lambda a, b, out, f: 1),
                inputs=(_A, _B), notation=_infix("+", SUM, "+"), method=False)
SUB = Primitive(name="sub", forward=lambda a, b, f: a - b,
                derivatives=(lambda a, b, out, f: 1,
                             lambda a, b, out, f: -1),
                inputs=(_A, _B), notation=_infix("-", SUM, "-"), method=False)
MUL = Primitive(name="mul", forward=lambda a, b, f: a * b,
                derivatives=(lambda a, b, out, f: b,
                             lambda a, b, out, f: a),
                inputs=(_A, _B), notation=_infix("*", PRODUCT, r"\cdot"), method=False)
DIV = Primitive(name="div", forward=lambda a, b, f: a / b,
                derivatives=(lambda a, b, out, f: 1 / b,
                             lambda a, b, out, f: -a / b**2),
                inputs=(_A, _B), notation=_infix("/", PRODUCT, "/"), check=_check_div,
                method=False, smooth=(None, "nonzero"))
# d/db a**b = a**b · ln a, written xlogy(out, a): 0 where out is 0 (0**b with b > 0), where
# ln 0 alone would be undefined.
POW = Primitive(name="pow", forward=lambda a, b, f: a**b,
                derivatives=(lambda a, b, out, f: b * a ** (b - 1),
                             lambda a, b, out, f: f.xlogy(out, a)),
                inputs=(_A, _B), notation=_infix("**", POWER, "^", right=True),
                check=_check_pow, method=False)
NEG = Primitive(name="neg", forward=lambda x, f: -x,
                derivatives=(lambda x, out, f: -1,),
                notation=Notation("prefix", "-", NEGATION, "-"), op="neg", method=False)
ABS = Primitive(name="abs", forward=lambda x, f: f.abs(x),
                derivatives=(lambda x, out, f: f.sign(x),),
                lecture=(lambda x, out, f: f.where(x >= 0, 1, -1),),  # "1 if x ≥ 0, else −1"
                notation=_call("abs", r"\operatorname{abs}"), method=False, smooth=("kink",))
EXP = Primitive(name="exp", forward=lambda x, f: f.exp(x),
                derivatives=(lambda x, out, f: out,),
                notation=_call("exp", r"\exp"))
LOG = Primitive(name="log", forward=lambda x, f: f.log(x),
                derivatives=(lambda x, out, f: 1 / x,),
                notation=_call("log", r"\log"), check=_check_log, smooth=("positive",))
SQRT = Primitive(name="sqrt", forward=lambda x, f: f.sqrt(x),
                 derivatives=(lambda x, out, f: 1 / (2 * out),),
                 notation=_call("sqrt", r"\sqrt"), check=_check_sqrt, smooth=("positive",))
# tanh' and sigmoid' as the lecture writes them (1 − out², out·(1 − out)) lose every digit
# once out rounds to ±1 (sigmoid'(37) would be 0.0, not 8.5e-17): the numbers come from
# forms that never subtract from 1, the printed formula from the lecture's.
TANH = Primitive(name="tanh", forward=lambda x, f: f.tanh(x),
                 # sech² x = 4t/(1 + t)² with t = e^(−2|x|) ≤ 1: nothing overflows or cancels
                 derivatives=(lambda x, out, f: 4 * (t := f.exp(-2 * f.abs(x))) / (1 + t) ** 2,),
                 lecture=(lambda x, out, f: 1 - out**2,),
                 notation=_call("tanh", r"\tanh"), activation=True)
SIGMOID = Primitive(name="sigmoid", forward=lambda x, f: f.sigmoid(x),
                    derivatives=(lambda x, out, f: out * f.sigmoid(-x),),
                    lecture=(lambda x, out, f: out * (1 - out),),
                    notation=_call("sigmoid", r"\sigma"), activation=True)
RELU = Primitive(name="relu", forward=lambda x, f: f.relu(x),
                 derivatives=(lambda x, out, f: f.where(x >= 0, 1, 0),),
                 notation=_call("relu", r"\operatorname{ReLU}"), activation=True,
                 smooth=("kink",))
LEAKY_RELU = Primitive(name="leaky_relu",
                       forward=lambda x, alpha, f: f.where(x >= 0, x, alpha * x),
                       derivatives=(lambda x, alpha, out, f: f.where(x >= 0, 1, alpha),
                                    lambda x, alpha, out, f: f.where(x >= 0, 0, x)),
                       inputs=(Input("x"), Input("alpha", 0.01)),
                       notation=_call("leaky_relu", r"\operatorname{LeakyReLU}"),
                       activation=True, smooth=("kink", None))
# The perceptron's threshold unit (Kauchak, Lecture 5): 1 from 0 on, else 0. Its slope is 0
# wherever it is defined, which is why a perceptron is trained by its own rule, not by
# gradient descent (the table's 0 at x = 0 is the one-sided value, as ReLU'(0) takes one).
STEP = Primitive(name="step", forward=lambda x, f: f.where(x >= 0, 1, 0),
                 derivatives=(lambda x, out, f: 0,),
                 notation=_call("step", r"\operatorname{step}"), activation=True,
                 smooth=("kink",), method=False)
SIN = Primitive(name="sin", forward=lambda x, f: f.sin(x),
                derivatives=(lambda x, out, f: f.cos(x),),
                notation=_call("sin", r"\sin"))
COS = Primitive(name="cos", forward=lambda x, f: f.cos(x),
                derivatives=(lambda x, out, f: -f.sin(x),),
                notation=_call("cos", r"\cos"))
# The fresh node that grad() differentiates with respect to (see functional.py), and the
# node of the graph language's "y = x" (so that x keeps its own name).
IDENTITY = Primitive(name="identity", forward=lambda x, f: x,
                     derivatives=(lambda x, out, f: 1,),
                     op="id", method=False, internal=True)


# Any number of inputs, (w1 ... wn, x1 ... xn) then b if there is a bias: a neuron's weighted
# sum as one node instead of 2n. Added in the order micrograd's sum((w*x ...), b) adds, so the
# number is the same as that of the graph of + and * it replaces.


def _linear_forward(*inputs_then_f: Any) -> Any:
    """b + w1·x1 + ... + wn·xn"""
    inputs = inputs_then_f[:-1]
    n = len(inputs) // 2
    weights, xs = inputs[:n], inputs[n:2 * n]
    if len(inputs) % 2:  # a bias, added first
        total, start = inputs[-1], 0
    else:
        total, start = weights[0] * xs[0], 1
    for w, x in zip(weights[start:], xs[start:]):
        total = total + w * x
    return total


def _linear_gradient(inputs: Sequence[Any], out: Any, f: Any) -> tuple[Any, ...]:
    """d out/d wi = xi,  d out/d xi = wi,  d out/d b = 1"""
    n = len(inputs) // 2
    slopes = (*inputs[n:2 * n], *inputs[:n])
    return (*slopes, 1) if len(inputs) % 2 else slopes


# Its function is engine.linear(weights, inputs, bias), so no method of its own here.
LINEAR = Primitive(name="linear", forward=_linear_forward, inputs=None,
                   gradient=_linear_gradient, method=False)

PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID,
              RELU, LEAKY_RELU, STEP, SIN, COS, IDENTITY, LINEAR)
}
"""The registry: every primitive by name, built-in or added with ``extend.defprimitive``."""

# ReLU'(0) and leaky ReLU'(0) are 1, as the lecture table writes them ("ReLU' = 1 (z >= 0)");
# PyTorch and micrograd use 0 there. Only the exact point 0 differs.


def nary_primitives() -> dict[str, Primitive]:
    """The registered primitives that take any number of inputs (``linear``)."""
    return {name: p for name, p in PRIMITIVES.items() if p.arity is None}


def register(primitive: Primitive) -> Primitive:
    """Add ``primitive`` to the registry (``extend.defprimitive`` is the public way)."""
    if not isinstance(primitive, Primitive):
        raise TypeError(f"register() takes a Primitive, not {type(primitive).__name__}")
    PRIMITIVES[primitive.name] = primitive
    return primitive


# ---------------------------------------------------------------- the float namespace


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: sigmoid(-1000) is 0.0, sigmoid(1000) is 1.0.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _xlogy(x: float, y: float) -> float:
    """x·ln y, and 0 where x is 0 (whatever y): the limit the derivative of 0**b takes."""
    return 0.0 if x == 0 else x * math.log(y)


FLOAT = check_namespace(SimpleNamespace(
    exp=math.exp,
    log=math.log,
    sqrt=math.sqrt,
    tanh=math.tanh,
    sin=math.sin,
    cos=math.cos,
    abs=abs,
    sigmoid=_sigmoid,
    relu=lambda x: x if x > 0 else 0.0,
    sign=_sign,
    xlogy=_xlogy,
    where=lambda condition, if_true, if_false: if_true if condition else if_false,
), "float")
