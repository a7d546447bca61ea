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

Checking gradient code written *without* Values (``gradient_code``, ``backprop_check``):
``assert_gradient_matches(f, grad_f, domain)`` (a hand-derived derivative),
``assert_custom_backward_matches(custom, f, domain)`` (a ``torch.autograd.Function`` or a
JAX ``custom_vjp``) and ``check_backprop(backprop, Ws, x, t)`` (a NumPy backprop against the
same ``nn`` network). ``pytest_plugin``
gives them to tests as the ``gradient_check`` fixture, with Hypothesis settings from the
ini file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ below loads, for type checkers
    from .assertions import (
        assert_gradients_match_finite_differences,
        assert_gradients_match_sympy,
        assert_second_derivatives_match_finite_differences,
        assert_second_derivatives_match_sympy,
    )
    from .backprop_check import BackpropError, BackpropReport, WrongEntry, check_backprop
    from .gradient_code import (
        REFERENCES,
        assert_custom_backward_matches,
        assert_gradient_matches,
        check_settings,
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

# Every name is loaded from its module when first asked for (``from autograd_lite.testing
# import expressions`` as before). So the pytest plugin, a module of this package that pytest
# loads in every session, imports nothing heavy (Hypothesis, SymPy, nn) until a test uses
# its fixture; and check_backprop, which builds the student's network with nn (a package
# built on autograd_lite), is imported only by who calls it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("assert_gradients_match_finite_differences",
                     "assert_gradients_match_sympy",
                     "assert_second_derivatives_match_finite_differences",
                     "assert_second_derivatives_match_sympy"), "assertions"),
    **dict.fromkeys(("BackpropError", "BackpropReport", "WrongEntry", "check_backprop"),
                    "backprop_check"),
    **dict.fromkeys(("REFERENCES", "assert_custom_backward_matches",
                     "assert_gradient_matches", "check_settings"), "gradient_code"),
    **dict.fromkeys(("INTERVALS", "Interval", "output_range"), "intervals"),
    **dict.fromkeys(("engine_gradients", "engine_second_derivatives", "sympy_gradients",
                     "sympy_second_derivatives"), "references"),
    **dict.fromkeys(("BOUND", "MARGIN", "PRIMITIVE_NAMES", "Expression", "Step",
                     "expression_and_point", "expressions", "generated_names",
                     "user_spelling"), "strategies"),
}
_MODULES = ("assertions", "backprop_check", "gradient_code", "intervals", "pytest_plugin",
            "references", "strategies")


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_MODULES})


__all__ = [
    "BOUND", "INTERVALS", "MARGIN", "PRIMITIVE_NAMES", "REFERENCES", "BackpropError",
    "BackpropReport", "Expression", "Interval", "Step", "WrongEntry",
    "assert_custom_backward_matches", "assert_gradient_matches",
    "assert_gradients_match_finite_differences", "assert_gradients_match_sympy",
    "assert_second_derivatives_match_finite_differences",
    "assert_second_derivatives_match_sympy", "check_backprop", "check_settings",
    "engine_gradients", "engine_second_derivatives",
    "expression_and_point", "expressions", "generated_names", "output_range",
    "sympy_gradients", "sympy_second_derivatives", "user_spelling",
]
