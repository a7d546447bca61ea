"""Property-testing gradients: Hypothesis strategies and assertions against SymPy.

The strategies generate random expression graphs over every primitive of the table (and
any added with ``extend.defprimitive``), each paired with a **SymPy twin**: the same
program with each primitive's *forward* rule evaluated over SymPy. The engine's gradients
come from the table's *derivative* rules; the reference is ``sympy.diff`` of the twin, so
every local-derivative rule is checked against SymPy's own calculus. (The forward rules
themselves are checked against independent definitions in the project's tests.) The
kinked primitives (abs, relu, leaky_relu: ``smooth="kink"`` in the table) keep one sign of
their operand on the whole domain, so their twin is the branch that applies there:
``relu(u)`` is ``u`` or ``0``.

    >>> from hypothesis import given
    >>> from autograd_lite.testing import expression_and_point, assert_gradients_match_sympy
    >>> @given(expression_and_point(variables=("x", "y")))
    ... def test_engine_against_sympy(case):
    ...     expression, point = case
    ...     assert_gradients_match_sympy(expression, point)

How domains are respected. Every variable lives in a box (an interval). While an expression
is generated, each node carries an interval that encloses its value for *every* point of
the boxes: the primitive's forward rule evaluated over intervals (``INTERVALS``, one more
namespace of the table's rules). An operation is applied only where the table says it is
smooth, with a margin: before an input marked ``"positive"`` (log, sqrt) or a fractional
power its operand is shifted by a constant to be at least ``MARGIN`` above 0; before one
marked ``"nonzero"`` or ``"kink"`` (a divisor; abs, relu, leaky_relu) it is shifted to be at
least ``MARGIN`` away from 0; an operand whose output range would explode (exp) is halved,
and any node whose magnitude could exceed ``BOUND`` is scaled down. These guards are
additions and multiplications by constants, so they are part of the graph and of its twin.
Hence every point of ``expression.points()`` is valid, and so is a finite-difference stencil
around it.

The package: ``strategies`` (expressions and the strategies that draw them), ``intervals``
(ranges), ``references`` (the numbers to compare with) and ``assertions``. Needs
``hypothesis`` (the ``testing`` extra) and ``sympy``, not pytest.
"""

from __future__ import annotations

from .assertions import (
    assert_gradients_match_finite_differences,
    assert_gradients_match_sympy,
    assert_second_derivatives_match_finite_differences,
    assert_second_derivatives_match_sympy,
)
from .intervals import INTERVALS, Interval, output_range
from .references import (
    engine_gradients,
    engine_second_derivatives,
    sympy_gradients,
    sympy_second_derivatives,
)
from .strategies import (
    BOUND,
    MARGIN,
    PRIMITIVE_NAMES,
    Expression,
    Step,
    expression_and_point,
    expressions,
    generated_names,
    user_spelling,
)

__all__ = [
    "BOUND", "INTERVALS", "MARGIN", "PRIMITIVE_NAMES", "Expression", "Interval", "Step",
    "assert_gradients_match_finite_differences", "assert_gradients_match_sympy",
    "assert_second_derivatives_match_finite_differences",
    "assert_second_derivatives_match_sympy", "engine_gradients", "engine_second_derivatives",
    "expression_and_point", "expressions", "generated_names", "output_range",
    "sympy_gradients", "sympy_second_derivatives", "user_spelling",
]
