"""The table of primitives: every operation's forward rule and local derivatives, once.

Each rule is a one-line expression over a *namespace* ``f`` that supplies the elementary
functions (``f.exp``, ``f.log``, ``f.where`` ...). Evaluated with

* ``FLOAT``    it is the number backward() multiplies by,
* ``VALUES``   (``engine.py``) it builds a differentiable graph: higher-order derivatives,
* ``SYMPY``    (``symbolic.py``) it is the formula ``explain`` prints and ``to_sympy`` returns.

So sigmoid's ``out * (1 - out)`` is at once the backward number, the ``s2·(1 − s2)`` of the
lecture and a ``Value`` expression for second derivatives. Nothing else in the package
writes a derivative.

Derivative rules take the primitive's inputs, then its output ``out``, then ``f``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

# A domain check gets the input numbers and returns None, or (exception type, reason).
DomainCheck = Callable[..., "tuple[type[Exception], str] | None"]


@dataclass(frozen=True, eq=False)
class Primitive:
    """One operation: how to compute it and how its output changes with each input."""

    name: str  # the function's name: "mul", "sigmoid" (also the CLI's and Value method's)
    op: str  # what ``Value.op`` shows: "*", "sigmoid"
    forward: Callable[..., Any]  # (*inputs, f) -> output
    derivatives: Sequence[Callable[..., Any]]  # per input: (*inputs, out, f) -> d out/d input
    check: DomainCheck | None = None  # rejects inputs outside the domain, before forward
    # Only for a primitive with any number of inputs: (inputs, out, f) -> every input's local
    # derivative at once. Its ``derivatives`` are then read off this one rule (EachInput).
    gradient: Callable[..., Any] | None = None
    # The lecture's form of each local derivative, for readers that print (explain, trace,
    # draw): sigmoid's out·(1 − out). Given only where the form that computes best differs;
    # tests prove the two equal with SymPy, so no reader ever shows a derivative of its own.
    lecture: Sequence[Callable[..., Any]] | None = None

    @property
    def arity(self) -> int | None:
        """How many inputs the operation takes; None: any number (``linear``)."""
        return None if self.gradient is not None else len(self.derivatives)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def shown_derivative(self, position: int) -> Callable[..., Any]:
        """The rule readers print for input ``position``: the lecture's form if there is one."""
        rules = self.derivatives if self.lecture is None else self.lecture
        return rules[position]


class EachInput:
    """The per-input rules of a primitive with any number of inputs, read off its gradient.

    ``rules[i](*inputs, out, f)`` is entry i of ``gradient(inputs, out, f)``, so every reader
    indexes it as it indexes a fixed primitive's tuple of rules. It has no length: zip it
    with a node's parents (iterating it alone never ends).
    """

    __slots__ = ("gradient",)

    def __init__(self, gradient: Callable[..., Any]) -> None:
        self.gradient = gradient

    def __getitem__(self, index: int) -> Callable[..., Any]:
        if not isinstance(index, int) or index < 0:
            raise IndexError(f"input positions are 0, 1, 2 ...; got {index!r}")
        gradient = self.gradient
        return lambda *args: gradient(args[:-2], args[-2], args[-1])[index]

    def __repr__(self) -> str:
        return f"EachInput({self.gradient.__name__})"


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
#   name        op       forward                          local derivative(s)

ADD = Primitive("add", "+", lambda a, b, f: a + b,
                (lambda a, b, out, f: 1,
                 lambda a, b, out, f: 1))
SUB = Primitive("sub", "-", lambda a, b, f: a - b,
                (lambda a, b, out, f: 1,
                 lambda a, b, out, f: -1))
MUL = Primitive("mul", "*", lambda a, b, f: a * b,
                (lambda a, b, out, f: b,
                 lambda a, b, out, f: a))
DIV = Primitive("div", "/", lambda a, b, f: a / b,
                (lambda a, b, out, f: 1 / b,
                 lambda a, b, out, f: -a / b**2),
                check=_check_div)
# d/db a**b = a**b · ln a, written xlogy(out, a): 0 where out is 0 (0**b with b > 0), where
# ln 0 alone would be undefined.
POW = Primitive("pow", "**", lambda a, b, f: a**b,
                (lambda a, b, out, f: b * a ** (b - 1),
                 lambda a, b, out, f: f.xlogy(out, a)),
                check=_check_pow)
NEG = Primitive("neg", "neg", lambda x, f: -x,
                (lambda x, out, f: -1,))
ABS = Primitive("abs", "abs", lambda x, f: f.abs(x),
                (lambda x, out, f: f.sign(x),))
EXP = Primitive("exp", "exp", lambda x, f: f.exp(x),
                (lambda x, out, f: out,))
LOG = Primitive("log", "log", lambda x, f: f.log(x),
                (lambda x, out, f: 1 / x,),
                check=_check_log)
SQRT = Primitive("sqrt", "sqrt", lambda x, f: f.sqrt(x),
                 (lambda x, out, f: 1 / (2 * out),),
                 check=_check_sqrt)
# tanh' and sigmoid' as the lecture writes them (1 − out², out·(1 − out)) lose every digit
# once out rounds to ±1 (sigmoid'(37) would be 0.0, not 8.5e-17): the numbers come from
# forms that never subtract from 1, the printed formula from the lecture's.
TANH = Primitive("tanh", "tanh", lambda x, f: f.tanh(x),
                 # sech² x = 4t/(1 + t)² with t = e^(−2|x|) ≤ 1: nothing overflows or cancels
                 (lambda x, out, f: 4 * (t := f.exp(-2 * f.abs(x))) / (1 + t) ** 2,),
                 lecture=(lambda x, out, f: 1 - out**2,))
SIGMOID = Primitive("sigmoid", "sigmoid", lambda x, f: f.sigmoid(x),
                    (lambda x, out, f: out * f.sigmoid(-x),),
                    lecture=(lambda x, out, f: out * (1 - out),))
RELU = Primitive("relu", "relu", lambda x, f: f.relu(x),
                 (lambda x, out, f: f.where(x >= 0, 1, 0),))
LEAKY_RELU = Primitive("leaky_relu", "leaky_relu",
                       lambda x, alpha, f: f.where(x >= 0, x, alpha * x),
                       (lambda x, alpha, out, f: f.where(x >= 0, 1, alpha),
                        lambda x, alpha, out, f: f.where(x >= 0, 0, x)))
SIN = Primitive("sin", "sin", lambda x, f: f.sin(x),
                (lambda x, out, f: f.cos(x),))
COS = Primitive("cos", "cos", lambda x, f: f.cos(x),
                (lambda x, out, f: -f.sin(x),))
# The fresh node that grad() differentiates with respect to (see functional.py).
IDENTITY = Primitive("identity", "id", lambda x, f: x,
                     (lambda x, out, f: 1,))


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


LINEAR = Primitive("linear", "linear", _linear_forward, EachInput(_linear_gradient),
                   gradient=_linear_gradient)

PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID,
              RELU, LEAKY_RELU, SIN, COS, IDENTITY)
}
# The primitives with any number of inputs (``arity`` None). Kept apart from PRIMITIVES,
# whose entries the graph language and the expression generators call with a fixed arity.
NARY_PRIMITIVES: dict[str, Primitive] = {LINEAR.name: LINEAR}

# ReLU'(0) and leaky ReLU'(0) are 1, as the lecture table writes them ("ReLU' = 1 (z >= 0)");
# PyTorch and micrograd use 0 there. Only the exact point 0 differs.


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


FLOAT = SimpleNamespace(
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
)
