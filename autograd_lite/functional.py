"""Gradients as functions: ``gradients``, ``grad`` (nests to any order), ``gradcheck``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from . import primitives as P
from .engine import (
    Constant,
    Value,
    _apply1,
    _as_float,
    _leaf,
    backprop,
    noting_float_conversions,
)

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
        # Only the part of the graph between the output and these inputs: a local derivative
        # elsewhere (d/dy of (-2)**y when only d/dx is asked for) is never needed.
        found = backprop(output, create_graph=create_graph, wrt=inputs)
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


# How many grad() calls are running in this thread (or task). Inside one, every grad()
# returns a Value that the enclosing one can differentiate, even when called with plain
# numbers: grad(lambda x: grad(lambda y: x * y)(1.0))(2.0) is d/dx x = 1, not 0.
_GRAD_DEPTH: ContextVar[int] = ContextVar("autograd_lite_grad_depth", default=0)


def grad(f: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The function x -> df/dx (with respect to argument ``argnum``).

    ``grad(grad(f))`` is the second derivative, and so on to any order; mixed partials
    (``grad(grad(f, 0), 1)``) and closures over an outer variable work too. Called with
    numbers at the top level it returns a float; inside another ``grad`` it returns a
    Value, so the outer ``grad`` can differentiate it. Each call differentiates with
    respect to a fresh node of its own, so an inner ``grad`` never mistakes an outer
    variable for its own ("perturbation confusion").

    If ``f`` turns a Value that depends on the variable into a float (``float(v)``,
    ``math.sin(v)``), the result would silently lose that dependence: ``TypeError``.
    """
    if not callable(f):
        raise TypeError(f"grad() needs a function, not {type(f).__name__}")
    name = getattr(f, "__name__", "f")

    def derivative(*args: Any) -> Any:
        if not -len(args) <= argnum < len(args):
            raise TypeError(f"grad(f, argnum={argnum}): the function was called with "
                            f"{len(args)} argument(s)")
        x = args[argnum]
        depth = _GRAD_DEPTH.get()
        nested = depth > 0 or isinstance(x, Value)
        if isinstance(x, Value):
            wrt = _apply1(P.IDENTITY, x)
        else:
            wrt = Value(_as_float(x, f"grad(f) argument {argnum}"))
        call_args = list(args)
        call_args[argnum] = wrt
        token = _GRAD_DEPTH.set(depth + 1)
        try:
            with noting_float_conversions() as converted:
                output = f(*call_args)
        finally:
            _GRAD_DEPTH.reset(token)
        if not isinstance(output, Value):
            _as_float(output, "grad(f): f's result")
        if converted and _depends_on(converted, wrt):
            cut = ("f's result does not depend on it at all any more" if not isinstance(
                output, Value) or not _depends_on([output], wrt) else
                "the derivative would miss every path through that float")
            raise TypeError(
                f"grad({name}): {name} turned a Value that depends on its argument {argnum} "
                "into a float (float(v), a math-module function such as math.sin(v), or "
                f"another library's number), so {cut}. Use autograd_lite's functions "
                "(autograd_lite.sin(v), v.exp(), ...) and compare Values directly (v > 0) "
                "instead of converting them.")
        (result,) = gradients(output, [wrt], create_graph=nested)
        return result if nested else float(result)

    derivative.__name__ = f"grad_{name}"
    derivative.__doc__ = f"Derivative of {name} w.r.t. argument {argnum}."
    return derivative


def _depends_on(nodes: Sequence[Value], target: Value) -> bool:
    """Is ``target`` in the graph of any of ``nodes`` (one search over all of them)?"""
    seen: set[Value] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(p for p in node.parents if type(p) is not Constant)
    return False


def gradcheck(f: Callable[..., Any], *inputs: float, eps: float = 1e-6,
              rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Compare the engine's gradient of ``f`` with central differences at ``inputs``.

    Returns True, or raises AssertionError listing every input whose gradients disagree
    by more than ``atol + rtol * |numeric|``. The step for input x is ``eps·max(1, |x|)``:
    a fixed step would vanish next to a large x (1e20 + 1e-6 == 1e20).
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
        step = eps * max(1.0, abs(point[i]))
        up = point.copy()
        down = point.copy()
        up[i] += step
        down[i] -= step
        numeric = (evaluate(up) - evaluate(down)) / (up[i] - down[i])
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
