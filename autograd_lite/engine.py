"""``Value``: a number that remembers how it was computed, and the backward pass.

The class holds data and wiring only. What an operation computes and how it
differentiates lives in ``primitives.py``; everything that *reads* a graph (trace,
explain, draw, to_sympy) lives in its own module and walks ``.parents``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from . import primitives as P
from .primitives import FLOAT, Primitive

__all__ = ["Constant", "Value", "is_recording", "no_grad", "reverse_topological_order"]


def _as_float(data: Any, what: str) -> float:
    """The float a user meant, or a TypeError/ValueError that says what was wrong."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"{what} must be a real number (int or float), not {type(data).__name__}")
    number = float(data)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    return number


class Value:
    """A scalar in a computation graph: ``data``, ``grad``, ``label``, ``op``, ``parents``."""

    # __slots__: ~150 bytes a node instead of ~580 with a __dict__ (bench/ measures it).
    __slots__ = ("_prim", "data", "grad", "label", "parents")

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {type(label).__name__}")
        self.data: float = data if type(data) is float and data - data == 0.0 else _as_float(
            data, "Value data")
        self.grad: float = 0.0
        self.label: str = label
        self.parents: tuple[Value, ...] = ()
        self._prim: Primitive | None = None

    @property
    def op(self) -> str:
        """The operation that produced this node ("+", "*", "sigmoid" ...); "" for a leaf."""
        return "" if self._prim is None else self._prim.op

    @property
    def primitive(self) -> Primitive | None:
        """The table entry that produced this node (None for a leaf): what readers use."""
        return self._prim

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self._prim is not None else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label}{op})"

    # ------------------------------------------------------------ arithmetic

    def __add__(self, other: Value | float) -> Value:
        if type(other) is not Value and (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.ADD, self, other)

    def __radd__(self, other: float) -> Value:
        if (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.ADD, other, self)

    def __sub__(self, other: Value | float) -> Value:
        if type(other) is not Value and (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.SUB, self, other)

    def __rsub__(self, other: float) -> Value:
        if (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.SUB, other, self)

    def __mul__(self, other: Value | float) -> Value:
        if type(other) is not Value and (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.MUL, self, other)

    def __rmul__(self, other: float) -> Value:
        if (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.MUL, other, self)

    def __truediv__(self, other: Value | float) -> Value:
        if type(other) is not Value and (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.DIV, self, other)

    def __rtruediv__(self, other: float) -> Value:
        if (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.DIV, other, self)

    def __pow__(self, other: Value | float) -> Value:
        if type(other) is not Value and (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.POW, self, other)

    def __rpow__(self, other: float) -> Value:
        if (other := _operand(other)) is NotImplemented:
            return NotImplemented
        return _apply2(P.POW, other, self)

    def __neg__(self) -> Value:
        return _apply1(P.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply1(P.ABS, self)

    # Comparisons read the numbers (as in PyTorch) and record nothing: max(values) works.
    # == and hash stay identity-based, so Values can be dict keys and set members.
    def __lt__(self, other: Value | float) -> bool:
        return self.data < _number(other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= _number(other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > _number(other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= _number(other)

    def __float__(self) -> float:
        return self.data

    # ------------------------------------------------------------ functions

    def exp(self) -> Value:
        return _apply1(P.EXP, self)

    def log(self) -> Value:
        return _apply1(P.LOG, self)

    def sqrt(self) -> Value:
        return _apply1(P.SQRT, self)

    def tanh(self) -> Value:
        return _apply1(P.TANH, self)

    def sigmoid(self) -> Value:
        return _apply1(P.SIGMOID, self)

    def relu(self) -> Value:
        return _apply1(P.RELU, self)

    def leaky_relu(self, alpha: Value | float = 0.01) -> Value:
        if type(alpha) is not Value and (alpha := _operand(alpha)) is NotImplemented:
            raise TypeError(f"leaky_relu alpha must be a real number, not {type(alpha).__name__}")
        return _apply2(P.LEAKY_RELU, self, alpha)

    def sin(self) -> Value:
        return _apply1(P.SIN, self)

    def cos(self) -> Value:
        return _apply1(P.COS, self)

    # ------------------------------------------------------------ backward

    def backward(self) -> None:
        """Add d self / d node into every node's ``.grad`` (self's own gets 1.0).

        Each call adds one fresh pass: calling it twice doubles every ``.grad`` exactly.
        """
        backward(self)


class Constant(Value):
    """A number written into an expression (the 2 in ``x ** 2``): a leaf that gets no gradient.

    Created for plain numbers used as operands; operations on constants alone fold into
    a constant, so rules such as ``b * a ** (b - 1)`` stay small when differentiated again.
    """

    __slots__ = ()


_new = object.__new__
_CONSTANT_CACHE: dict[float, Constant] = {}


def constant(number: float) -> Constant:
    """A Constant for ``number``; small numbers used again and again share one node."""
    node = _CONSTANT_CACHE.get(number)
    if node is None:
        node = _new(Constant)
        node.data = number + 0.0  # -0.0 and 0.0 share a cache slot; store +0.0
        node.grad = 0.0
        node.label = ""
        node.parents = ()
        node._prim = None
        if len(_CONSTANT_CACHE) < 4096:
            _CONSTANT_CACHE[number] = node
    return node


def _operand(other: Any) -> Value | Any:
    """A Value for the other side of an operator, or NotImplemented (Python's TypeError)."""
    if isinstance(other, Value):
        return other
    if type(other) is float or (isinstance(other, numbers.Real) and not isinstance(other, bool)):
        return constant(_as_float(other, "operand"))
    return NotImplemented


def _number(other: Any) -> float:
    if isinstance(other, Value):
        return other.data
    return _as_float(other, "comparison operand")


# ---------------------------------------------------------------- recording

_recording = True


def is_recording() -> bool:
    """False inside ``no_grad()``: operations then make leaves, not graph nodes."""
    return _recording


@contextmanager
def no_grad() -> Iterator[None]:
    """Evaluate without recording a graph (inference, parameter updates).

    Results are plain leaves: they hold the numbers and keep nothing alive.
    """
    global _recording
    previous = _recording
    _recording = False
    try:
        yield
    finally:
        _recording = previous


def _node(data: float, parents: tuple[Value, ...], prim: Primitive) -> Value:
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.parents = parents
    node._prim = prim
    return node


def _leaf(data: float, cls: type[Value]) -> Value:
    node = _new(cls)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.parents = ()
    node._prim = None
    return node


def _apply1(prim: Primitive, x: Value) -> Value:
    a = x.data
    if prim.check is not None and (problem := prim.check(a)) is not None:
        raise _domain_error(prim, (x,), *problem)
    try:
        out = prim.forward(a, FLOAT)
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(prim, (x,), OverflowError, f"overflow ({exc})") from None
    if out - out != 0.0:
        raise _domain_error(prim, (x,), OverflowError, "overflow: the result is not a finite float")
    if type(x) is Constant:
        return _leaf(out, Constant)
    if not _recording:
        return _leaf(out, Value)
    return _node(out, (x,), prim)


def _apply2(prim: Primitive, x: Value, y: Value) -> Value:
    a = x.data
    b = y.data
    if prim.check is not None and (problem := prim.check(a, b)) is not None:
        raise _domain_error(prim, (x, y), *problem)
    try:
        out = prim.forward(a, b, FLOAT)
    except (ArithmeticError, ValueError) as exc:
        raise _domain_error(prim, (x, y), OverflowError, f"overflow ({exc})") from None
    if out - out != 0.0:
        raise _domain_error(prim, (x, y), OverflowError,
                            "overflow: the result is not a finite float")
    if type(x) is Constant and type(y) is Constant:
        return _leaf(out, Constant)
    if not _recording:
        return _leaf(out, Value)
    return _node(out, (x, y), prim)


def apply(prim: Primitive, *inputs: Value | float) -> Value:
    """Apply a primitive of the table to Values or numbers (what the CLI and readers use)."""
    operands = []
    for position, item in enumerate(inputs):
        operand = _operand(item)
        if operand is NotImplemented:
            raise TypeError(f"{prim.name}: input {position} must be a Value or a real number, "
                            f"not {type(item).__name__}")
        operands.append(operand)
    if len(operands) != prim.arity:
        raise TypeError(f"{prim.name} takes {prim.arity} input(s), got {len(operands)}")
    if prim.arity == 1:
        return _apply1(prim, operands[0])
    return _apply2(prim, operands[0], operands[1])


def describe(node: Value) -> str:
    """How error messages name a node: its label and value."""
    name = repr(node.label) if node.label else "unlabelled node"
    return f"{name} = {node.data!r}"


def _call_text(prim: Primitive, operands: tuple[Value, ...]) -> str:
    return f"{prim.name}({', '.join(describe(v) for v in operands)})"


def _domain_error(prim: Primitive, operands: tuple[Value, ...],
                  error: type[Exception], reason: str) -> Exception:
    return error(f"{reason} in {_call_text(prim, operands)}")


# ---------------------------------------------------------------- graph order


def reverse_topological_order(output: Value) -> list[Value]:
    """Every non-constant node ``output`` depends on, each after all nodes that use it.

    Iterative (Kahn's algorithm on consumer counts): a chain of a million nodes needs no
    recursion. The output comes first; that is the order the backward pass visits.
    """
    pending = {output: 0}  # node -> how many of its consumers are not yet visited
    stack = [output]
    pop, push = stack.pop, stack.append
    while stack:
        for parent in pop().parents:
            if parent in pending:
                pending[parent] += 1
            elif type(parent) is not Constant:
                pending[parent] = 1
                push(parent)
    order = []
    ready = [output]
    pop, push, emit = ready.pop, ready.append, order.append
    while ready:
        node = pop()
        emit(node)
        for parent in node.parents:
            if type(parent) is not Constant:
                left = pending[parent] - 1
                pending[parent] = left
                if left == 0:
                    push(parent)
    return order


# ---------------------------------------------------------------- backward


def _backward_error(node: Value, exc: Exception) -> Exception:
    prim = node._prim
    assert prim is not None
    kind = ZeroDivisionError if isinstance(exc, ZeroDivisionError) else ValueError
    return kind(f"backward: the local derivative of {prim.name} is undefined at "
                f"{_call_text(prim, node.parents)} ({exc})")


def backward(output: Value) -> None:
    """Accumulate one backward pass from ``output`` into every node's ``.grad``.

    ``.grad`` doubles as the pass's scratch space: it is saved, zeroed, filled, then the
    saved value is added back. So a second call adds exactly the same gradients again,
    rather than pushing the first pass's gradients through a second time.
    """
    if not isinstance(output, Value):
        raise TypeError(f"backward() needs a Value, not {type(output).__name__}")
    order = reverse_topological_order(output)
    saved = [node.grad for node in order]
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    finished = False
    try:
        _propagate(order)
        finished = True
    finally:
        if finished:
            for node, before in zip(order, saved):
                node.grad += before
        else:
            for node, before in zip(order, saved):
                node.grad = before


def _propagate(order: list[Value]) -> None:
    """The hot loop: push each node's ``.grad`` to its parents, output first."""
    F = FLOAT
    node = None
    try:
        for node in order:
            prim = node._prim
            if prim is None:
                continue
            upstream = node.grad
            parents = node.parents
            rules = prim.derivatives
            if len(parents) == 2:
                a, b = parents
                x = a.data
                y = b.data
                if type(a) is not Constant:
                    a.grad += upstream * rules[0](x, y, node.data, F)
                if type(b) is not Constant:
                    b.grad += upstream * rules[1](x, y, node.data, F)
            else:
                a = parents[0]
                a.grad += upstream * rules[0](a.data, node.data, F)
    except (ArithmeticError, ValueError) as exc:
        assert node is not None
        raise _backward_error(node, exc) from None


# One contribution of a backward step: (parent, local derivative, contribution,
# the parent's gradient after adding it). Constants are skipped: they get no gradient.
Contribution = tuple[Value, Any, Any, Any]
StepHook = Callable[[Value, Any, list[Contribution]], None]


def backprop(output: Value, *, create_graph: bool = False,
             on_step: StepHook | None = None) -> dict[Value, Any]:
    """One backward pass that leaves ``.grad`` alone: {node: d output / d node}.

    With ``create_graph`` every local derivative is evaluated over Values, so the
    gradients are themselves differentiable graphs. ``on_step(node, upstream,
    contributions)`` is called for each operation in order (``trace`` records them).
    """
    order = reverse_topological_order(output)
    namespace = VALUES if create_graph else FLOAT
    grads: dict[Value, Any] = {output: 1.0}
    node = None
    try:
        for node in order:
            prim = node._prim
            if prim is None:
                continue
            upstream = grads[node]
            if create_graph:
                args: tuple[Any, ...] = node.parents
                out: Any = node
            else:
                args = tuple(parent.data for parent in node.parents)
                out = node.data
            contributions: list[Contribution] = []
            for parent, rule in zip(node.parents, prim.derivatives):
                if type(parent) is Constant:
                    continue
                local = rule(*args, out, namespace)
                contribution = upstream if _is_one(local) else upstream * local
                before = grads.get(parent)
                grads[parent] = after = contribution if before is None else before + contribution
                if on_step is not None:
                    contributions.append((parent, local, contribution, after))
            if on_step is not None:
                on_step(node, upstream, contributions)
    except (ArithmeticError, ValueError) as exc:
        assert node is not None
        raise _backward_error(node, exc) from None
    return grads


def _is_one(local: Any) -> bool:
    return type(local) is int and local == 1


# ---------------------------------------------------------------- the Value namespace
# The same rules, evaluated on Values: each derivative becomes a differentiable graph.


def _value_sign(x: Value) -> float:
    return FLOAT.sign(x.data)


VALUES = SimpleNamespace(
    exp=Value.exp,
    log=Value.log,
    sqrt=Value.sqrt,
    tanh=Value.tanh,
    sin=Value.sin,
    cos=Value.cos,
    abs=Value.__abs__,
    sigmoid=Value.sigmoid,
    relu=Value.relu,
    sign=_value_sign,
    where=FLOAT.where,  # conditions compare Values by their numbers (Value.__ge__)
)
