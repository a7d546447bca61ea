"""autograd_lite: a scalar reverse-mode autodiff engine for learning and checking backprop.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).sigmoid()
    >>> y.backward()
"""

from __future__ import annotations

import importlib
from typing import Any

from . import primitives
from .engine import (
    Constant,
    Value,
    backward,
    is_recording,
    linear,
    no_grad,
    reverse_topological_order,
)
from .functional import grad, gradcheck, gradients
from .primitives import NARY_PRIMITIVES, PRIMITIVES, Primitive
from .symbolic import node_names, to_sympy

__all__ = [
    "NARY_PRIMITIVES", "PRIMITIVES", "Constant", "Explanation", "Primitive", "Step", "Trace",
    "Value", "backward", "cos", "draw", "exp", "explain", "grad", "gradcheck", "gradients",
    "is_recording", "leaky_relu", "linear", "log", "no_grad", "node_names", "primitives", "relu",
    "reverse_topological_order", "save_frames", "sigmoid", "sin", "sqrt", "tanh", "to_sympy",
    "trace",
]

# Readers of the graph load on first use: they pull in SymPy and graphviz, which the engine
# itself never needs. (Their modules are named tracing/explanation/drawing so that a
# submodule never shadows the function of the same name.)
_READERS = {
    "trace": "tracing", "Trace": "tracing", "Step": "tracing",
    "explain": "explanation", "Explanation": "explanation",
    "draw": "drawing", "save_frames": "drawing",
}


def __getattr__(name: str) -> Any:
    module = _READERS.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__version__ = "0.1.0"


def _as_value(x: Value | float, function: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or (not isinstance(x, (int, float)) and not hasattr(x, "__float__")):
        raise TypeError(f"{function}() needs a Value or a real number, not {type(x).__name__}")
    return Value(x)


# The same names as the Value methods, as functions: sigmoid(v) == v.sigmoid().
def exp(x: Value | float) -> Value:
    return _as_value(x, "exp").exp()


def log(x: Value | float) -> Value:
    return _as_value(x, "log").log()


def sqrt(x: Value | float) -> Value:
    return _as_value(x, "sqrt").sqrt()


def tanh(x: Value | float) -> Value:
    return _as_value(x, "tanh").tanh()


def sigmoid(x: Value | float) -> Value:
    return _as_value(x, "sigmoid").sigmoid()


def relu(x: Value | float) -> Value:
    return _as_value(x, "relu").relu()


def leaky_relu(x: Value | float, alpha: Value | float = 0.01) -> Value:
    return _as_value(x, "leaky_relu").leaky_relu(alpha)


def sin(x: Value | float) -> Value:
    return _as_value(x, "sin").sin()


def cos(x: Value | float) -> Value:
    return _as_value(x, "cos").cos()
