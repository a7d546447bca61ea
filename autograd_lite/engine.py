"""``Value``: a number that remembers how it was computed, and the backward pass.

The class holds data and wiring only. What an operation computes and how it
differentiates lives in ``primitives.py``; everything that *reads* a graph (trace,
explain, draw, to_sympy) lives in its own module and walks ``.parents``.

Why one module of this size (about 950 lines, most of them comments and messages): the node
makers, the graph search and the two backward loops read and write the nodes' private
slots (``_data``, ``_v``, ``_x``) directly, because that is what makes them fast; split
apart, each part would reach into the others' internals.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from operator import attrgetter
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from . import primitives as P
from .primitives import FLOAT, Primitive

__all__ = [
    "Constant", "StaleGraphError", "Value", "is_recording", "linear", "no_grad",
    "reverse_topological_order",
]


class StaleGraphError(RuntimeError):
    """A node's ``.data`` was set after another node was computed from it.

    The graph then mixes old and new numbers, so any derivative read off it would be
    neither the gradient at the old point nor at the new one (PyTorch's version counter
    catches the same mistake).
    """


def _as_float(data: Any, what: str) -> float:
    """The float a user meant, or a TypeError/ValueError that says what was wrong."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"{what} must be a real number (int or float), not {type(data).__name__}")
    try:
        number = float(data)
    except OverflowError:  # an int such as 10**400 has no float
        digits = int(int(cast(Any, data)).bit_length() * math.log10(2)) + 1
        raise ValueError(f"{what} is too large for a float: an int of about {digits} digits"
                         ) from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    return number


class Value:
    """A scalar in a computation graph: ``data``, ``grad``, ``label``, ``op``, ``parents``."""

    # __slots__ and no tuple per node: ~100 bytes a node instead of micrograd's ~580, and one
    # object per node for the cycle collector to walk instead of two (bench/ measures both).
    # A node keeps its inputs in _x and _y: (), (x,), (x, y); an n-ary node (linear) keeps
    # the tuple of all its inputs in _x. ``parents`` turns that into the tuple readers want.
    # _v is the node's version stamp (see _epoch): it tells a stale graph from a fresh one.
    __slots__ = ("_data", "_label", "_prim", "_v", "_x", "_y", "grad")

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {type(label).__name__}")
        self._data: float = data if type(data) is float and data - data == 0.0 else _as_float(
            data, "Value data")
        self.grad: float = 0.0
        self._label: str = label
        self._x: Any = None
        self._y: Value | None = None
        self._prim: Primitive | None = None
        self._v: int = _epoch

    # .data and .label are plain to read (a C getter) and checked when written: a wrong
    # type or a NaN is refused where it is written, not deep inside a later backward pass.
    def _set_data(self, data: float) -> None:
        global _epoch
        if type(self) is Constant:
            raise AttributeError(
                f"the constant {self._data!r} cannot be changed: it is a number written into "
                "an expression, and every expression that uses this number shares it. Make a "
                "Value for a number you want to change.")
        number = data if type(data) is float and data - data == 0.0 else _as_float(
            data, f"the data of {describe(self)}")
        self._data = number
        # An odd stamp above every node made so far: what was computed from the old number
        # is now stale, and if this node was itself computed, it no longer is its op's result.
        _epoch += 2
        self._v = _epoch - 1

    def _set_label(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"a Value's label must be a str, not {type(label).__name__} "
                            f"({label!r}), e.g. x.label = \"x1\"")
        if type(self) is Constant:
            raise AttributeError(f"the constant {self._data!r} cannot be labelled: numbers "
                                 "written into expressions are shared; label a Value instead")
        self._label = label

    data = property(attrgetter("_data"), _set_data,
                    doc="The number (a float). Setting it marks graphs computed from it stale.")
    label = property(attrgetter("_label"), _set_label, doc="The node's name (a str).")

    @property
    def op(self) -> str:
        """The operation that produced this node ("+", "*", "sigmoid" ...); "" for a leaf."""
        return "" if self._prim is None else self._prim.op

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the operation that made this node, in order; () for a leaf."""
        x, y = self._x, self._y
        if y is not None:
            return (x, y)
        if x is None:
            return ()
        return x if type(x) is tuple else (x,)

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
        # float(v) and math.sin(v) leave the graph. Inside grad() that would silently drop
        # v's dependence on the variable, so grad() has these conversions noted and checks.
        if _grad_calls:
            noted = _CONVERSIONS.get()
            if noted is not None:
                noted.append(self)
        return self._data

    # ------------------------------------------------------------ functions
    # exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, sin, cos ... are made from the table
    # (install_method, at the end of this module): one method per primitive with
    # ``method=True``, so a primitive added with ``extend.defprimitive`` gets one too.
    # Declared here only for type checkers; a test keeps the list equal to the table's.
    if TYPE_CHECKING:
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def tanh(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def relu(self) -> Value: ...
        def leaky_relu(self, alpha: Value | float = 0.01) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...

    # ------------------------------------------------------------ backward

    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d node into every node's ``.grad`` (self's own gets 1.0).

        ``gradient`` seeds the pass, as PyTorch's ``backward(gradient=...)`` does: every
        node gets ``gradient`` × d self / d node (d L / d self, when self feeds a loss L).
        Each call adds one fresh pass: calling it twice doubles every ``.grad`` exactly.
        """
        backward(self, gradient)


class Constant(Value):
    """A number written into an expression (the 2 in ``x ** 2``): a leaf that gets no gradient.

    Created for plain numbers used as operands; operations on constants alone fold into
    a constant, so rules such as ``b * a ** (b - 1)`` stay small when differentiated again.
    """

    __slots__ = ()


_new = object.__new__
_CONSTANT_CACHE: dict[float, Constant] = {}

# Version stamps. Every node made gets the current (even) epoch; writing a node's .data
# raises the epoch by 2 and gives that node the odd stamp just below it. So a node was
# computed from the numbers its inputs hold now exactly when no input's stamp is above its
# own, and its own stamp is even (its data was never overwritten). Only writes move the
# epoch, so building a graph costs one global read per node.
_epoch = 0


def constant(number: float) -> Constant:
    """A Constant for ``number``; small numbers used again and again share one node.

    Sharing is safe because a Constant cannot be changed (its data and label are fixed).
    """
    node = _CONSTANT_CACHE.get(number)
    if node is None:
        node = _new(Constant)
        node._data = number + 0.0  # -0.0 and 0.0 share a cache slot; store +0.0
        node.grad = 0.0
        node._label = ""
        node._x = node._y = None
        node._prim = None
        node._v = 0
        if len(_CONSTANT_CACHE) < 4096:
            _CONSTANT_CACHE[number] = node
    return node


def _operand(other: Any) -> Any:
    """A Value for the other side of an operator, or NotImplemented (Python's TypeError)."""
    if type(other) is float or type(other) is int:
        # Fast path: a number already cached (only finite ones are) is its Constant; an int
        # finds the float's entry, as 2 == 2.0 and hash(2) == hash(2.0).
        node = _CONSTANT_CACHE.get(other)
        if node is not None:
            return node
    if isinstance(other, Value):
        return other
    if isinstance(other, bool) or not isinstance(other, numbers.Real):
        return NotImplemented
    return constant(_as_float(other, "operand"))


def _number(other: Any) -> float:
    if isinstance(other, Value):
        return other._data
    return _as_float(other, "comparison operand")


# ---------------------------------------------------------------- recording

# no_grad() is per thread (and per asyncio task): a context variable. Reading one costs more
# than a global, so the hot path first reads how many no_grad blocks are open anywhere and
# looks at its own context only when some are.
_NO_GRAD: ContextVar[bool] = ContextVar("autograd_lite_no_grad", default=False)
_no_grad_blocks = 0
_no_grad_lock = threading.Lock()


def is_recording() -> bool:
    """False inside ``no_grad()`` (in this thread): operations then make leaves."""
    return not (_no_grad_blocks and _NO_GRAD.get())


@contextmanager
def no_grad() -> Iterator[None]:
    """Evaluate without recording a graph (inference, parameter updates).

    Results are plain leaves: they hold the numbers and keep nothing alive. It holds for
    the thread (or asyncio task) that enters it; other threads go on recording.
    """
    global _no_grad_blocks
    with _no_grad_lock:
        _no_grad_blocks += 1
    token = _NO_GRAD.set(True)
    try:
        yield
    finally:
        _NO_GRAD.reset(token)
        with _no_grad_lock:
            _no_grad_blocks -= 1


# ---------------------------------------------------------------- float conversions in grad()

# While grad() runs the user's function, float(v) on a Value is noted in this list (one per
# grad() call, innermost last), so that grad() can tell a result that lost its dependence on
# the variable. _grad_calls keeps float() free of a context lookup everywhere else.
_CONVERSIONS: ContextVar[list[Value] | None] = ContextVar("autograd_lite_conversions",
                                                          default=None)
_grad_calls = 0


@contextmanager
def noting_float_conversions() -> Iterator[list[Value]]:
    """Collect the Values converted with float() (math.sin(v) ...) inside the block."""
    global _grad_calls
    noted: list[Value] = []
    outer = _CONVERSIONS.get()
    token = _CONVERSIONS.set(noted)
    with _no_grad_lock:
        _grad_calls += 1
    try:
        yield noted
    finally:
        with _no_grad_lock:
            _grad_calls -= 1
        _CONVERSIONS.reset(token)
        if outer is not None:  # an enclosing grad() loses the same dependence
            outer.extend(noted)


def _leaf(data: float, cls: type[Value]) -> Value:
    node = _new(cls)
    node._data = data
    node.grad = 0.0
    node._label = ""
    node._x = node._y = None
    node._prim = None
    node._v = _epoch
    return node


# _apply1 and _apply2 make every node of a graph: they are written out flat (no helper
# calls, no per-node closures) because their cost is the cost of building a graph.


def _apply1(prim: Primitive, x: Value) -> Value:
    a = x._data
    if prim.check is not None and (problem := prim.check(a)) is not None:
        raise _domain_error(prim, (x,), *problem)
    try:
        out = prim.forward(a, FLOAT)
    except (ArithmeticError, ValueError) as exc:
        raise _forward_error(prim, (x,), exc) from None
    if out - out != 0.0:
        raise _domain_error(prim, (x,), OverflowError, "overflow: the result is not a finite float")
    if type(x) is Constant:
        return _leaf(out, Constant)
    if _no_grad_blocks and _NO_GRAD.get():
        return _leaf(out, Value)
    node = _new(Value)
    node._data = out
    node.grad = 0.0
    node._label = ""
    node._x = x
    node._y = None
    node._prim = prim
    node._v = _epoch
    return node


def _apply2(prim: Primitive, x: Value, y: Value) -> Value:
    a = x._data
    b = y._data
    if prim.check is not None and (problem := prim.check(a, b)) is not None:
        raise _domain_error(prim, (x, y), *problem)
    try:
        out = prim.forward(a, b, FLOAT)
    except (ArithmeticError, ValueError) as exc:
        raise _forward_error(prim, (x, y), exc) from None
    if out - out != 0.0:
        raise _domain_error(prim, (x, y), OverflowError,
                            "overflow: the result is not a finite float")
    if type(x) is Constant and type(y) is Constant:
        return _leaf(out, Constant)
    if _no_grad_blocks and _NO_GRAD.get():
        return _leaf(out, Value)
    node = _new(Value)
    node._data = out
    node.grad = 0.0
    node._label = ""
    node._x = x
    node._y = y
    node._prim = prim
    node._v = _epoch
    return node


def _apply_n(prim: Primitive, inputs: tuple[Value, ...]) -> Value:
    """A primitive with any number of inputs (``linear``): one node, its inputs in a tuple."""
    try:
        out = prim.forward(*[v._data for v in inputs], FLOAT)
    except (ArithmeticError, ValueError) as exc:
        raise _forward_error(prim, inputs, exc) from None
    if out - out != 0.0:
        raise _domain_error(prim, inputs, OverflowError,
                            "overflow: the result is not a finite float")
    if all(type(v) is Constant for v in inputs):
        return _leaf(out, Constant)
    if _no_grad_blocks and _NO_GRAD.get():
        return _leaf(out, Value)
    node = _new(Value)
    node._data = out
    node.grad = 0.0
    node._label = ""
    node._x = inputs
    node._y = None
    node._prim = prim
    node._v = _epoch
    return node


def _operands(items: Sequence[Any], where: str) -> list[Value]:
    if isinstance(items, (Value, str)) or not isinstance(items, Sequence):
        raise TypeError(f"{where} must be a list of Values or numbers, "
                        f"not {type(items).__name__}")
    operands = []
    for position, item in enumerate(items):
        operand = item if type(item) is Value else _operand(item)
        if operand is NotImplemented:
            raise TypeError(f"{where}[{position}] must be a Value or a real number, "
                            f"not {type(item).__name__}")
        operands.append(operand)
    return operands


def linear(weights: Sequence[Value | float], inputs: Sequence[Value | float],
           bias: Value | float | None = None) -> Value:
    """``bias + weights[0]*inputs[0] + ... + weights[n-1]*inputs[n-1]`` as ONE node.

    A neuron's weighted sum: the same number (added in the same order) and the same
    gradients as the 2n nodes of ``*`` and ``+``, with one node to build and to backpropagate
    through. Its parents are (w1 ... wn, x1 ... xn), then b unless ``bias`` is None; the
    "linear" primitive of the table gives d/dwi = xi, d/dxi = wi, d/db = 1.
    """
    operands = _operands(weights, "linear(): weights")
    input_values = _operands(inputs, "linear(): inputs")
    if len(operands) != len(input_values):
        raise ValueError(f"linear(): {len(operands)} weights but {len(input_values)} "
                         "inputs; they pair up one to one")
    operands += input_values
    if bias is not None:
        bias_value = bias if type(bias) is Value else _operand(bias)
        if bias_value is NotImplemented:
            raise TypeError(f"linear(): bias must be a Value, a real number or None, "
                            f"not {type(bias).__name__}")
        operands.append(bias_value)
    if not operands:
        raise ValueError("linear(): no weights, no inputs and no bias: nothing to add up")
    return _apply_n(P.LINEAR, tuple(operands))


def apply(prim: Primitive, *inputs: Value | float) -> Value:
    """Apply a primitive of the table to Values or numbers (numbers become constants).

    Every input is given (``Primitive.__call__`` fills in defaults such as alpha = 0.01).
    """
    operands = []
    names = prim.names_for(len(inputs))
    for position, item in enumerate(inputs):
        operand = item if type(item) is Value else _operand(item)
        if operand is NotImplemented:
            name = names[position] if position < len(names) else f"input {position + 1}"
            raise TypeError(f"{prim.name}({', '.join(names)}): {name} must be a real number "
                            f"or a Value, not {type(item).__name__} ({item!r})")
        operands.append(operand)
    if prim.arity is None:
        if not operands:
            raise TypeError(f"{prim.name} needs at least one input")
        return _apply_n(prim, tuple(operands))
    if len(operands) != prim.arity:
        raise TypeError(f"{prim.name}({', '.join(names)}) takes {prim.arity} input(s), "
                        f"got {len(operands)}")
    if prim.arity == 1:
        return _apply1(prim, operands[0])
    if prim.arity == 2:
        return _apply2(prim, operands[0], operands[1])
    return _apply_n(prim, tuple(operands))


def describe(node: Value) -> str:
    """How error messages name a node: its label and value (an unlabelled one by its op)."""
    if node._label:
        name = repr(node._label)
    elif node._prim is None or type(node) is Constant:
        name = "unlabelled node"
    else:
        name = f"unlabelled {node._prim.name} node"
    return f"{name} = {node._data!r}"


def _call_text(prim: Primitive, operands: tuple[Value, ...]) -> str:
    return f"{prim.name}({', '.join(describe(v) for v in operands)})"


def _forward_error(prim: Primitive, operands: tuple[Value, ...], exc: Exception) -> Exception:
    """What a forward rule raised (math.exp(1000) overflows), said in the graph's terms."""
    if isinstance(exc, OverflowError):
        return _domain_error(prim, operands, OverflowError,
                             "overflow: the result is too large for a float")
    return _domain_error(prim, operands, type(exc), str(exc))


def _domain_error(prim: Primitive, operands: tuple[Value, ...],
                  error: type[Exception], reason: str) -> Exception:
    return error(f"{reason} in {_call_text(prim, operands)}{_anomaly_note(None)}")


# Set by anomaly.detect_anomaly() while a block is open: node (None: the one being made
# now) -> a line saying where it was created. Consulted only when an error is built.
anomaly_site: Callable[[Value | None], str] | None = None


def _anomaly_note(node: Value | None) -> str:
    return "" if anomaly_site is None else anomaly_site(node)



def _stale_error(node: Value, changed: Value | None) -> StaleGraphError:
    prim = node._prim
    assert prim is not None
    if changed is None:
        return StaleGraphError(
            f"{describe(node)} was computed by {prim.name} and then had its .data set, so it "
            f"no longer is {_call_text(prim, node.parents)}: derivatives read off it would be "
            "wrong. Compute it again from its inputs (run the forward pass again) instead of "
            "setting its data.")
    return StaleGraphError(
        f"the graph is stale: {describe(changed)} had its .data set after "
        f"{describe(node)} was computed from it by {prim.name}, so a backward pass would mix "
        "the old and the new number. Run the forward pass again from the new value.")


# ---------------------------------------------------------------- graph order


def reverse_topological_order(output: Value) -> list[Value]:
    """Every non-constant node ``output`` depends on, each before all of its parents.

    The output comes first; that is the order the backward pass visits. Raises
    ``StaleGraphError`` if a node's data was set after something was computed from it.
    """
    return _search(output, None)


def _search(output: Value, saved: list[tuple[Value, float]] | None) -> list[Value]:
    """A depth-first search that emits a node once all its parents are out (post-order),
    then reversed. Iterative, with an explicit stack: a chain of a million nodes needs no
    recursion. With ``saved``, each node's non-zero ``.grad`` is saved there and zeroed on
    the way (backward's scratch space), while the node is at hand. Every operation is
    checked on the way against its inputs' version stamps (a stale graph is refused).
    """
    seen: set[Value] = set()  # nodes expanded (a node may sit on the stack more than once)
    post_order: list[Value] = []
    stack: list[Any] = [output]
    pop, push, emit, see = stack.pop, stack.append, post_order.append, seen.add
    while stack:
        node = pop()
        if node is _ALL_PARENTS_DONE:  # the marker pushed under a node's parents
            emit(pop())
            continue
        if node in seen:
            continue
        see(node)
        if saved is not None and node.grad:
            saved.append((node, node.grad))
            node.grad = 0.0
        x = node._x
        if x is None:  # a leaf: nothing to wait for
            emit(node)
            continue
        stamp = node._v
        if stamp & 1:
            raise _stale_error(node, None)
        push(node)
        push(_ALL_PARENTS_DONE)
        # Pushed last to first, so the first parent is expanded first: reversed back, the
        # order reads like the expression (node_names calls p - q's leaves v1, v2).
        y = node._y
        if y is not None and type(y) is not Constant:
            if y._v > stamp:
                raise _stale_error(node, y)
            if y not in seen:
                push(y)
        if type(x) is tuple:
            for parent in reversed(x):
                if type(parent) is not Constant:
                    if parent._v > stamp:
                        raise _stale_error(node, parent)
                    if parent not in seen:
                        push(parent)
        elif type(x) is not Constant:
            if x._v > stamp:
                raise _stale_error(node, x)
            if x not in seen:
                push(x)
    post_order.reverse()
    return post_order


_ALL_PARENTS_DONE = object()


def on_paths_to(order: list[Value], targets: set[Value] | frozenset[Value]) -> set[Value]:
    """The nodes on some path from a target up to the output (the targets included).

    ``order`` is ``reverse_topological_order(output)``. Only these nodes carry a gradient
    from the output to a target: the part of the graph a restricted backward pass walks.
    """
    on: set[Value] = set()
    for node in reversed(order):  # inputs first
        if node in targets or any(parent in on for parent in node.parents):
            on.add(node)
    return on


# ---------------------------------------------------------------- backward


def _output_name(output: Value) -> str:
    return repr(output._label) if output._label else "the output"


def _local_number(node: Value, position: int) -> Any:
    """d node / d node.parents[position], the table's rule on floats."""
    prim = node._prim
    assert prim is not None
    return prim.local_derivative(position, [p._data for p in node.parents], node._data, FLOAT)


def _backward_error(node: Value, exc: Exception, output: Value) -> Exception:
    """A local derivative that does not exist at this point, naming the input it is for."""
    prim = node._prim
    assert prim is not None
    parents = node.parents
    failing = ""
    for position, parent in enumerate(parents):
        if type(parent) is Constant:
            continue
        try:
            _local_number(node, position)
        except (ArithmeticError, ValueError) as cause:
            failing = (f" with respect to its input {position + 1} ({describe(parent)}), so "
                       f"the gradient of {_output_name(output)} with respect to that input is "
                       f"undefined too ({cause})")
            exc = cause
            break
    kind = ZeroDivisionError if isinstance(exc, ZeroDivisionError) else ValueError
    if not failing:
        failing = f" ({exc})"
    return kind(f"backward: the local derivative of {prim.name} is undefined at "
                f"{_call_text(prim, parents)}{failing}{_anomaly_note(node)}")


def _gradient_overflow(node: Value, grad: Any, order: list[Value],
                       grads: dict[Value, Any] | None = None) -> OverflowError:
    """d output / d node is not a finite float: name the node and, if one, the product that
    overflowed (upstream × local derivative) and the operation it came through."""
    output = order[0]
    through = ""
    via = node  # the operation the overflow came through (detect_anomaly names its line)
    for consumer in order:
        if consumer is node:
            break
        prim = consumer._prim
        if prim is None:
            continue
        for position, parent in enumerate(consumer.parents):
            if parent is not node:
                continue
            upstream = consumer.grad if grads is None else grads.get(consumer, 0.0)
            upstream = upstream.data if isinstance(upstream, Value) else upstream
            try:
                local = float(_local_number(consumer, position))
            except (ArithmeticError, ValueError):
                continue
            if not math.isfinite(upstream * local):
                through = (f"; it came through {_call_text(prim, consumer.parents)}: upstream "
                           f"{upstream!r} × local derivative {local!r}")
                via = consumer
                break
        if through:
            break
    number = grad.data if isinstance(grad, Value) else grad
    return OverflowError(
        f"backward: overflow: the gradient of {_output_name(output)} with respect to "
        f"{describe(node)} is {number!r}, too large for a float{through}. Scale the inputs, "
        "or write the computation in a form whose derivatives stay finite (e.g. log-space)."
        f"{_anomaly_note(via)}")


def backward(output: Value, gradient: float = 1.0) -> None:
    """Accumulate one backward pass from ``output`` into every node's ``.grad``.

    ``gradient`` is the seed, d L / d output (1.0: the output itself is differentiated).

    ``.grad`` doubles as the pass's scratch space: it is saved, zeroed, filled, then the
    saved value is added back. So a second call adds exactly the same gradients again,
    rather than pushing the first pass's gradients through a second time. Whatever is
    raised, wherever (a domain error, an overflow, Ctrl-C), every ``.grad`` is left exactly
    as it was before the call.
    """
    if not isinstance(output, Value):
        raise TypeError(f"backward() needs a Value, not {type(output).__name__}")
    if gradient != 1.0 or type(gradient) is not float:  # the default costs no check
        gradient = _as_float(gradient, "backward(gradient=...): the seed")
    saved: list[tuple[Value, float]] = []  # the non-zero grads: usually none, a fresh graph
    order: list[Value] = []
    try:
        order = _search(output, saved)
        output.grad = gradient
        _propagate(order)
        for node, before in saved:
            node.grad += before
    except BaseException:
        _restore(order, saved)
        raise


def _restore(order: list[Value], saved: list[tuple[Value, float]]) -> None:
    """Put back every ``.grad`` as it was before backward(): the saved numbers are exact, so
    this needs no arithmetic, only assignments; a second interrupt restarts it."""
    for _ in range(3):
        try:
            for node in order:
                node.grad = 0.0
            for node, before in saved:
                node.grad = before
            return
        except BaseException:  # finish restoring first; the caller re-raises its error
            continue


def _propagate(order: list[Value]) -> None:
    """The hot loop: push each node's ``.grad`` to its parents, output first.

    The local derivatives are the table's rules evaluated on floats. Written out per
    number of inputs, so that a node costs one call per rule and nothing else. A node's
    gradient is complete when it is reached, so that is where overflow is checked.
    """
    F = FLOAT
    node = None
    try:
        for node in order:
            upstream = node.grad
            if upstream - upstream != 0.0:  # inf or nan
                break
            prim = node._prim
            if prim is None:
                continue
            a = node._x
            b = node._y
            if b is not None:  # two inputs
                rules = prim.derivatives
                x = a._data
                y = b._data
                if type(a) is not Constant:
                    a.grad += upstream * rules[0](x, y, node._data, F)
                if type(b) is not Constant:
                    b.grad += upstream * rules[1](x, y, node._data, F)
            elif type(a) is not tuple:  # one input (never a Constant: that folds)
                a.grad += upstream * prim.derivatives[0](a._data, node._data, F)
            else:  # any number of inputs (linear): every local derivative from one call
                slopes = prim.gradient([p._data for p in a], node._data, F)  # type: ignore[misc]
                for parent, slope in zip(a, slopes):
                    if type(parent) is not Constant:
                        parent.grad += upstream * slope
        else:
            return
    except (ArithmeticError, ValueError) as exc:
        assert node is not None
        raise _backward_error(node, exc, order[0]) from None
    assert node is not None
    raise _gradient_overflow(node, node.grad, order)


# One contribution of a backward step: (parent, local derivative, contribution,
# the parent's gradient after adding it). Constants are skipped: they get no gradient.
Contribution = tuple[Value, Any, Any, Any]
StepHook = Callable[[Value, Any, list[Contribution]], None]


def backprop(output: Value, *, create_graph: bool = False,
             on_step: StepHook | None = None,
             wrt: Sequence[Value] | None = None,
             order: list[Value] | None = None) -> dict[Value, Any]:
    """One backward pass that leaves ``.grad`` alone: {node: d output / d node}.

    With ``create_graph`` every local derivative is evaluated over Values, so the
    gradients are themselves differentiable graphs. ``on_step(node, upstream,
    contributions)`` is called for each operation in order (``trace`` records them).
    With ``wrt``, only the part of the graph on paths from those nodes to the output is
    walked: a local derivative elsewhere (even an undefined one) is never evaluated.
    ``order``: ``reverse_topological_order(output)`` if the caller has it already (a Graph).
    """
    if order is None:
        order = reverse_topological_order(output)
    relevant = None if wrt is None else on_paths_to(order, set(wrt))
    namespace = VALUES if create_graph else FLOAT
    grads: dict[Value, Any] = {output: 1.0}
    node = receiver = None
    try:
        for node in order:
            receiver = None
            if relevant is not None and node not in relevant:
                continue
            upstream = grads[node]
            number = upstream.data if isinstance(upstream, Value) else upstream
            if number - number != 0.0:
                raise _gradient_overflow(node, upstream, order, grads)
            prim = node._prim
            if prim is None:
                continue
            parents = node.parents
            if create_graph:
                args: tuple[Any, ...] = parents
                out: Any = node
            else:
                args = tuple(parent._data for parent in parents)
                out = node._data
            # Any number of inputs: every local derivative from one call of the rule.
            slopes = None if prim.gradient is None else prim.gradient(args, out, namespace)
            contributions: list[Contribution] = []
            for position, parent in enumerate(parents):
                if type(parent) is Constant or (relevant is not None
                                                and parent not in relevant):
                    continue
                receiver = parent
                local = (prim.derivatives[position](*args, out, namespace) if slopes is None
                         else slopes[position])
                contribution = upstream if _is_one(local) else upstream * local
                before = grads.get(parent)
                grads[parent] = after = contribution if before is None else before + contribution
                if on_step is not None:
                    contributions.append((parent, local, contribution, after))
            if on_step is not None:
                on_step(node, upstream, contributions)
    except OverflowError as exc:
        if str(exc).startswith("backward: overflow"):
            raise
        # create_graph: upstream × local, a product of Values, overflowed in its forward pass.
        assert node is not None
        raise _gradient_overflow(receiver or node, math.inf, order, grads) from None
    except (ArithmeticError, ValueError) as exc:
        assert node is not None
        raise _backward_error(node, exc, output) from None
    return grads


def _is_one(local: Any) -> bool:
    return type(local) is int and local == 1


# ---------------------------------------------------------------- the Value namespace
# The same rules, evaluated on Values: each derivative becomes a differentiable graph.


def _value_sign(x: Value) -> float:
    return FLOAT.sign(x._data)


def _value_xlogy(x: Value, y: Value) -> Value | float:
    # 0·log(y) is 0 where x is 0, even where log(y) is not defined (d/db 0**b = 0).
    if x._data == 0:
        return constant(0.0)
    return x * y.log()


# ---------------------------------------------------------------- methods from the table


def install_method(prim: Primitive) -> None:
    """Give ``Value`` the method ``prim.name`` (``x.tanh()``), if the primitive asks for one.

    A one-input primitive's method calls the node maker directly (the hot path of nn's
    activations); others go through ``prim`` itself, which fills in defaults and keywords.
    """
    if not prim.method or prim.arity is None or prim.arity < 1:
        return
    def unary(self: Value) -> Value:
        return _apply1(prim, self)

    def with_settings(self: Value, *rest: Any, **keywords: Any) -> Value:
        return prim(self, *rest, **keywords)

    method: Callable[..., Value] = unary if prim.arity == 1 else with_settings
    names = prim.input_names
    method.__name__ = prim.name
    method.__qualname__ = f"Value.{prim.name}"
    shown = ", ".join(names[1:] if prim.inputs is None else [
        i.name if i.default is None else f"{i.name}={i.default!r}" for i in prim.inputs[1:]])
    method.__doc__ = (f"{prim.name}({', '.join(names)}) of this Value"
                      + (f" (other inputs: {shown})" if shown else "")
                      + "; the rule is the table's (autograd_lite.PRIMITIVES).")
    setattr(Value, prim.name, method)


for _prim in P.PRIMITIVES.values():
    install_method(_prim)
P.bind_engine(apply)


# ---------------------------------------------------------------- the Value namespace
# The same rules, evaluated on Values: each derivative becomes a differentiable graph.

VALUES = P.check_namespace(SimpleNamespace(
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
    xlogy=_value_xlogy,
    where=FLOAT.where,  # conditions compare Values by their numbers (Value.__ge__)
), "Value")
