"""autograd_lite: a scalar reverse-mode autodiff engine for learning and checking backprop.

    >>> from autograd_lite import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).sigmoid()
    >>> y.backward()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import primitives
from .engine import (
    Constant,
    StaleGraphError,
    Value,
    backward,
    is_recording,
    linear,
    no_grad,
    reverse_topological_order,
)
from .functional import grad, gradcheck, gradients
from .graph import Graph, TooManyNodes, TooManyPaths
from .primitives import PRIMITIVES, Primitive, nary_primitives
from .symbolic import node_names, to_sympy

__all__ = [
    "NARY_PRIMITIVES", "PRIMITIVES", "CompiledGraph", "Constant", "Explanation", "Explorer",
    "ForwardTrace",
    "Graph", "Primitive", "StaleGraphError", "Step", "TooManyNodes", "TooManyPaths", "Trace",
    "Update",
    "Value", "backward", "compile_graph", "cos", "detect_anomaly", "draw", "exp", "explain",
    "explain_update",
    "explore", "forward_trace",
    "grad", "gradcheck", "gradients", "is_recording", "jvp", "leaky_relu", "linear", "log",
    "no_grad",
    "node_names", "primitives", "relu", "reverse_topological_order", "save_frames", "sigmoid",
    "sin", "sqrt", "tanh", "to_sympy", "trace",
]

# Readers of the graph load on first use: they pull in SymPy and graphviz, which the engine
# itself never needs. (Their modules are named tracing/explanation/drawing so that a
# submodule never shadows the function of the same name.)
_READERS = {
    "trace": "tracing", "Trace": "tracing", "Step": "tracing",
    "explain": "explanation", "Explanation": "explanation",
    "draw": "drawing", "save_frames": "drawing",
    "explore": "explorer", "Explorer": "explorer",
    "compile_graph": "compiled", "CompiledGraph": "compiled",
    "jvp": "forward", "forward_trace": "forward", "ForwardTrace": "forward",
    "detect_anomaly": "anomaly",
    "explain_update": "updates", "Update": "updates",
}


def __getattr__(name: str) -> Any:
    if name == "NARY_PRIMITIVES":  # read off the registry now: defprimitive may have added one
        return nary_primitives()
    module = _READERS.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
    if module == "tracing":
        # A Step displays in Jupyter as its frame of the backward pass: the drawing module
        # gives Step that display when it loads, so a trace brings it along.
        importlib.import_module(".drawing", __name__)
    return getattr(importlib.import_module(f".{module}", __name__), name)


__version__ = "0.1.0"


# The same names as the Value methods, as functions: sigmoid(v) == v.sigmoid(). Each is the
# table's Primitive itself (a Primitive is callable on Values and numbers).
for _name, _prim in PRIMITIVES.items():
    if _prim.method:
        globals()[_name] = _prim
del _name, _prim

if TYPE_CHECKING:  # what the loop above defines, for type checkers (a test keeps them equal)
    from .anomaly import detect_anomaly
    from .compiled import CompiledGraph, compile_graph
    from .drawing import draw, save_frames
    from .explanation import Explanation, explain
    from .explorer import Explorer, explore
    from .forward import ForwardTrace, forward_trace, jvp
    from .tracing import Step, Trace, trace
    from .updates import Update, explain_update

    exp: Primitive
    log: Primitive
    sqrt: Primitive
    tanh: Primitive
    sigmoid: Primitive
    relu: Primitive
    leaky_relu: Primitive
    sin: Primitive
    cos: Primitive
    NARY_PRIMITIVES: dict[str, Primitive]
