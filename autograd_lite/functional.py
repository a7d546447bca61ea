"""Gradients as functions: ``gradients``, ``grad`` (nests to any order), ``gradcheck``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from . import primitives as P
from .engine import Constant, Value, _apply1, _as_float, _leaf, backprop

__all__ = ["grad", "gradcheck", "gradients"]


def gradients(output: Value | float, inputs: Sequence[Value],
              create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad``.

    An input the output does not depend on gets 0. With ``create_graph=True`` the results
    are Values built from the same local-derivative rules, so they can be differentiated
    again (second derivatives, Hessian entries).
    """
    if isinstance(inputs, Value):
        raise TypeError("gradients(output, inputs): inputs must be a list of Values, "
                        "not a single Value (wrap it: [x])")
    inputs = list(inputs)
    for position, item in enumerate(inputs):
        if not isinstance(item, Value):
            raise TypeError(f"gradients(): inputs[{position}] must be a Value, "
                            f"not {type(item).__name__}")
    if isinstance(output, Value):
        found = backprop(output, create_graph=create_graph)
    else:
        _as_float(output, "gradients(): output")  # a constant output: every gradient is 0
        found = {}
    results = []
    for item in inputs:
        value = 0.0 if type(item) is Constant else found.get(item, 0.0)
        if create_graph and not isinstance(value, Value):
            value = _leaf(float(value), Constant)  # a constant derivative: its own derivative is 0
        results.append(value)
    return results


def grad(f: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The function x -> df/dx (with respect to argument ``argnum``).

    ``grad(grad(f))`` is the second derivative, and so on to any order. Called with
    numbers it returns a float; called with Values (inside another ``grad``) it returns a
    Value, so the outer ``grad`` can differentiate it.
    """
    if not callable(f):
        raise TypeError(f"grad() needs a function, not {type(f).__name__}")

    def derivative(*args: Any) -> Any:
        if not -len(args) <= argnum < len(args):
            raise TypeError(f"grad(f, argnum={argnum}): the function was called with "
                            f"{len(args)} argument(s)")
        x = args[argnum]
        nested = isinstance(x, Value)
        # A fresh node to differentiate with respect to: keeps an inner grad from
        # mistaking an outer variable for its own ("perturbation confusion").
        if nested:
            wrt = _apply1(P.IDENTITY, x)
        else:
            wrt = Value(_as_float(x, f"grad(f) argument {argnum}"))
        call_args = list(args)
        call_args[argnum] = wrt
        output = f(*call_args)
        if not isinstance(output, Value):
            _as_float(output, "grad(f): f's result")
        (result,) = gradients(output, [wrt], create_graph=nested)
        return result if nested else float(result)

    derivative.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    derivative.__doc__ = f"Derivative of {getattr(f, '__name__', 'f')} w.r.t. argument {argnum}."
    return derivative


def gradcheck(f: Callable[..., Any], *inputs: float, eps: float = 1e-6,
              rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Compare the engine's gradient of ``f`` with central differences at ``inputs``.

    Returns True, or raises AssertionError listing every input whose gradients disagree
    by more than ``atol + rtol * |numeric|``.
    """
    if not inputs:
        raise TypeError("gradcheck(f, *inputs) needs at least one input")
    point = [_as_float(x.data if isinstance(x, Value) else x, f"gradcheck input {i}")
             for i, x in enumerate(inputs)]
    variables = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    output = f(*variables)
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck: f must return a Value, not {type(output).__name__}")
    analytic = gradients(output, variables)

    def evaluate(at: list[float]) -> float:
        result = f(*[Value(x) for x in at])
        return result.data if isinstance(result, Value) else float(result)

    mismatches = []
    for i in range(len(point)):
        up = point.copy()
        down = point.copy()
        up[i] += eps
        down[i] -= eps
        numeric = (evaluate(up) - evaluate(down)) / (2 * eps)
        if not math.isclose(analytic[i], numeric, rel_tol=rtol, abs_tol=atol) and not (
            abs(analytic[i] - numeric) <= atol + rtol * abs(numeric)
        ):
            mismatches.append(f"  input {i} (x{i} = {point[i]!r}): engine {analytic[i]!r}, "
                              f"central difference {numeric!r}, "
                              f"difference {analytic[i] - numeric:.3g}")
    if mismatches:
        raise AssertionError("gradcheck failed for "
                             f"{getattr(f, '__name__', 'f')}:\n" + "\n".join(mismatches))
    return True
