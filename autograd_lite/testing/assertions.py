"""Assertions: the engine against SymPy and against finite differences, failing with the
expression, the point and both numbers."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .references import (
    _central_difference,
    engine_gradients,
    engine_second_derivatives,
    sympy_gradients,
    sympy_second_derivatives,
)
from .strategies import _STENCIL_STEP, Expression


def _compare(what: str, expression: Expression, point: dict[str, float],
             engine: Mapping[Any, float], expected: Mapping[Any, float], reference: str,
             rtol: float, atol: float) -> None:
    lines = []
    for key, wanted in expected.items():
        got = engine[key]
        allowed = atol + rtol * abs(wanted)
        ok = abs(got - wanted) <= allowed  # NaN compares False: it fails
        if not ok:
            name = key if isinstance(key, str) else " d".join(key)
            order = "" if isinstance(key, str) else "²"
            lines.append(f"  d{order}out/d{name}: engine {got!r}, {reference} {wanted!r} "
                         f"(difference {got - wanted:.3g}, allowed {allowed:.3g})")
    if lines:
        where = ", ".join(f"{name} = {value!r}" for name, value in point.items())
        steps = ("\n  program:\n    " + expression.program().replace("\n", "\n    ")
                 if expression.steps else "")
        raise AssertionError(f"{what} disagree with {reference}\n"
                             f"  expression: {expression.sympy}\n  point: {where}{steps}\n"
                             + "\n".join(lines))


def assert_gradients_match_sympy(expression: Expression, point: Mapping[str, float], *,
                                 rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """The engine's gradient equals ``sympy.diff`` of the twin at ``point``, for every
    variable, within ``atol + rtol·|SymPy's|``; else AssertionError listing each mismatch."""
    point = expression.check_point(point)
    _compare("engine gradients", expression, point, engine_gradients(expression, point),
             sympy_gradients(expression, point), "SymPy's diff", rtol, atol)


def assert_second_derivatives_match_sympy(expression: Expression, point: Mapping[str, float],
                                          *, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Every second derivative (the Hessian) from ``gradients(..., create_graph=True)``
    equals SymPy's, within ``atol + rtol·|SymPy's|``."""
    point = expression.check_point(point)
    _compare("engine second derivatives", expression, point,
             engine_second_derivatives(expression, point),
             sympy_second_derivatives(expression, point), "SymPy's diff", rtol, atol)


def assert_gradients_match_finite_differences(expression: Expression,
                                              point: Mapping[str, float], *,
                                              step: float = _STENCIL_STEP, rtol: float = 1e-5,
                                              atol: float = 1e-7) -> None:
    """The engine's gradient equals the five-point central difference of the engine's own
    forward values, within ``atol + rtol·|difference quotient|``."""
    point = expression.check_point(point)

    def forward(at: dict[str, float]) -> float:
        return float(expression.build(**at).data)

    numeric = {name: _central_difference(forward, point, name, step)
               for name in expression.variables}
    _compare("engine gradients", expression, point, engine_gradients(expression, point),
             numeric, "central differences", rtol, atol)


def assert_second_derivatives_match_finite_differences(
        expression: Expression, point: Mapping[str, float], *, step: float = _STENCIL_STEP,
        rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """The engine's second derivatives equal central differences of its own gradients."""
    point = expression.check_point(point)
    names = expression.variables
    numeric = {}
    for b in names:
        column = _central_difference(
            lambda at: _Vector(engine_gradients(expression, at)), point, b, step)
        for a in names:
            numeric[(a, b)] = column[a]
    _compare("engine second derivatives", expression, point,
             engine_second_derivatives(expression, point), numeric, "central differences",
             rtol, atol)


class _Vector(dict):
    """A gradient dict with the arithmetic the difference quotient needs."""

    def _combine(self, other: Any, op: Callable[[float, float], float]) -> _Vector:
        if isinstance(other, dict):
            return _Vector({k: op(v, other[k]) for k, v in self.items()})
        return _Vector({k: op(v, other) for k, v in self.items()})

    def __add__(self, other: Any) -> _Vector:
        return self._combine(other, operator.add)

    def __sub__(self, other: Any) -> _Vector:
        return self._combine(other, operator.sub)

    def __mul__(self, other: Any) -> _Vector:
        return self._combine(other, operator.mul)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> _Vector:
        return self._combine(other, operator.truediv)

