"""grad, gradients and gradcheck (autograd_lite.functional): derivatives as functions.

Expected numbers come from outside the engine: by hand (written next to them), SymPy,
central differences, or HIPS autograd (the reference implementation of nested
differentiation). Issue 10's silent wrong answers for these functions are here too: nested
grad without perturbation confusion, a float() that escapes the graph, gradcheck's step at
large inputs. The SPEC's sentences about these functions (gradients leaves .grad alone,
create_graph gives Hessian entries, grad nests, argnum, gradcheck's report) are checked in
tests/contract/test_spec_contract.py.
"""

from __future__ import annotations

import itertools
import math

import pytest

import autograd_lite as ag
from autograd_lite import Value, grad, gradcheck, gradients, no_grad
from autograd_lite.primitives import Primitive

# ---------------------------------------------------------------- gradients


def test_gradients_rejects_bad_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match="list of Values"):
        gradients(x * 2, x)
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, not float"):
        gradients(x * 2, [x, 2.0])


def test_gradients_only_walks_between_the_output_and_the_inputs_asked_for():
    # sqrt'(0) is undefined, but d out/d w does not pass through it.
    w, z = Value(3.0, "w"), Value(0.0, "z")
    out = w * 2.0 + z.sqrt()
    assert gradients(out, [w]) == [2.0]
    with pytest.raises(ZeroDivisionError, match="sqrt"):
        gradients(out, [w, z])


# ---------------------------------------------------------------- grad, nested


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(grad(lambda x: x + 1))(1.0) == 0.0


def test_mixed_partial_of_x_times_y_through_argnums_is_one():
    # d/dy d/dx (x·y) = d/dy y = 1
    assert grad(grad(lambda x, y: x * y, 0), 1)(2.0, 3.0) == 1.0


def test_inner_grad_closing_over_the_outer_variable():
    # d/dx [d/dy (x·y) at y = 1] = d/dx x = 1
    assert grad(lambda x: grad(lambda y: x * y)(1.0))(2.0) == 1.0
    # d/dx [x · (d/dy x·y at y = x)] = d/dx [x · x] = 2x: the inner y is a different variable
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0


def test_perturbation_confusion_example_of_siskind_and_pearlmutter():
    # d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1 at any x; the confused answer is 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0


def test_the_same_function_differentiated_by_a_closure_and_by_argnum_agree():
    # f = x²y: f_xy = 2x = 4 at x = 2, whichever way it is nested.
    by_argnum = grad(grad(lambda x, y: x * x * y, 0), 1)(2.0, 3.0)
    by_closure = grad(lambda x: grad(lambda y: x * x * y)(3.0))(2.0)
    assert by_argnum == by_closure == 4.0


@pytest.fixture(scope="module")
def hips():
    """HIPS autograd (in the test extra): its numpy and its grad. Only the tests that compare
    with it are skipped when it is missing, not the whole file."""
    return pytest.importorskip("autograd.numpy"), pytest.importorskip("autograd").grad


# Functions of (x, y) over a module m of elementary functions: autograd_lite or
# autograd.numpy. Each is differentiated up to order 3 in every order of arguments.
FUNCTIONS = {
    "x*y": lambda x, y, m: x * y,
    "x**y": lambda x, y, m: x**y,
    "sin(x)*exp(y)": lambda x, y, m: m.sin(x) * m.exp(y),
    "x/y + tanh(x*y)": lambda x, y, m: x / y + m.tanh(x * y),
    "log(x)*cos(x*y) - y**3": lambda x, y, m: m.log(x) * m.cos(x * y) - y**3,
    "sqrt(x*x + y)": lambda x, y, m: m.sqrt(x * x + y),
}
POINTS = [(2.0, 2.5), (0.7, 1.3)]
ORDERS = [seq for n in (1, 2, 3) for seq in itertools.product((0, 1), repeat=n)]


def _nested(grad_function, f, argnums):
    g = f
    for argnum in argnums:
        g = grad_function(g, argnum)
    return g


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_partial_up_to_order_three_agrees_with_hips_autograd(name, hips):
    anp, hips_grad = hips
    f = FUNCTIONS[name]
    ours_f = lambda x, y: f(x, y, ag)  # the same function for both
    hips_f = lambda x, y: f(x, y, anp)
    checked = 0
    for (x, y), argnums in itertools.product(POINTS, ORDERS):
        ours = _nested(grad, ours_f, argnums)(x, y)
        reference = float(_nested(hips_grad, hips_f, argnums)(x, y))
        assert isinstance(ours, float)
        assert ours == pytest.approx(reference, rel=1e-10, abs=1e-12), (name, argnums, x, y)
        checked += 1
    assert checked == 2 * 14  # 2 + 4 + 8 partials of orders 1-3, at two points


def test_mixed_third_partials_of_x_to_the_y_through_closures_agree_with_hips(hips):
    _, hips_grad = hips
    # The same partials written as closures: each level differentiates an inner function
    # of one variable that closes over the outer ones.
    x0, y0 = 2.0, 2.5

    def d3(grad_function, power, which):
        # which: the variable of each level, outermost first, e.g. ("x", "x", "y")
        def level(k, x, y):
            if k == 3:
                return power(x, y)
            if which[k] == "x":
                return grad_function(lambda t: level(k + 1, t, y))(x)
            return grad_function(lambda t: level(k + 1, x, t))(y)
        return level(0, x0, y0)

    for which in itertools.product("xy", repeat=3):
        ours = d3(grad, lambda x, y: x**y, which)
        reference = float(d3(hips_grad, lambda x, y: x**y, which))
        assert ours == pytest.approx(reference, rel=1e-10), which
    # ∂³/∂x∂x∂y of x**y at (2, 2.5), by hand: d/dy [y(y−1)x^(y−2)]
    #   = (2y − 1)·x^(y−2) + y(y−1)·x^(y−2)·ln x
    by_hand = (2 * y0 - 1) * x0 ** (y0 - 2) + y0 * (y0 - 1) * x0 ** (y0 - 2) * math.log(x0)
    assert grad(grad(grad(lambda x, y: x**y, 0), 0), 1)(x0, y0) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(9.3328, abs=5e-5)  # the number in the issue


def test_grad_at_the_top_level_still_returns_a_float():
    assert type(grad(lambda x: x * x)(3.0)) is float
    assert type(grad(grad(lambda x: x * x * x))(3.0)) is float  # 6x = 18
    assert grad(grad(lambda x: x * x * x))(3.0) == 18.0


# ---------------------------------------------------------------- float() escaping the graph


def test_math_sin_of_the_variable_is_refused_not_differentiated_as_zero():
    with pytest.raises(TypeError, match="into a float.*does not depend on it at all"):
        grad(lambda x: math.sin(x))(1.0)


def test_a_partly_escaped_variable_is_refused_too():
    # x·sin(x) with math.sin: the engine would give sin(1) = 0.84 instead of
    # sin(1) + cos(1) = 1.38.
    with pytest.raises(TypeError, match="would miss every path through that float"):
        grad(lambda x: x * math.sin(x))(1.0)


def test_float_of_a_value_that_does_not_depend_on_the_variable_is_fine():
    scale = Value(2.0)
    assert grad(lambda x: x * float(scale))(1.0) == 2.0


def test_float_inside_an_inner_grad_is_seen_by_the_outer_one():
    with pytest.raises(TypeError, match="into a float"):
        grad(lambda x: grad(lambda y: y * math.exp(x))(1.0))(0.5)


def test_float_outside_grad_is_ordinary():
    assert float(Value(2.5)) == 2.5
    assert math.sin(Value(0.0)) == 0.0


# ---------------------------------------------------------------- gradcheck


def test_gradcheck_passes_and_reports_each_mismatch():
    assert gradcheck(lambda a, b: (a * b).tanh() / b + a**b, 1.3, 0.7)

    def wrong(x):  # forward is x², but the graph is cut: gradient 0 instead of 2x
        with no_grad():
            y = x * x
        return y + 0 * x

    with pytest.raises(AssertionError, match=r"input 0 \(x0 = 1.5\): engine 0.0"):
        gradcheck(wrong, 1.5)


def test_gradcheck_scales_its_step_with_the_input():
    assert gradcheck(lambda x: x * x, 1e20)
    assert gradcheck(lambda x, y: x * y, 1e-20, 3e15)


def test_gradcheck_still_catches_a_wrong_derivative_at_a_large_input():
    # x² with the slope 2.1x instead of 2x: 5 % off, which a step of 1e-6 could not see at
    # 1e20 (1e20 + 1e-6 == 1e20) but a scaled step does.
    wrong = Primitive(name="wrong_square", forward=lambda x, f: x * x,
                      derivatives=(lambda x, out, f: 2.1 * x,))
    from autograd_lite.engine import apply

    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda x: apply(wrong, x), 1e20)
