"""The numbers gradient code is checked against: the engine's, SymPy's (30 digits) and
central differences of the forward values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mpmath

from ..engine import Value
from ..functional import gradients
from .strategies import _REFERENCE_DIGITS, Expression


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


