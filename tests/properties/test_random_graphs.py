"""Property tests: the engine's gradients on random expression graphs, against independent sources.

Expected values never come from the engine:
  * SymPy: ``sympy.diff`` of each expression's twin, which ``autograd_lite.testing`` writes
    with SymPy's own functions (sigmoid as 1/(1 + exp(−x)) ...), evaluated to 30 digits;
  * central differences (five-point stencil) of the engine's *forward* values, which checks
    the backward rules against the forward rules;
  * mpmath at 40 digits for to_sympy's export against the twin.
(The small reused-node graphs worked by hand are unit tests: tests/unit/test_engine.py.)

How many generated expressions go through SymPy with the suite's own settings (the issue
asks for at least 1,000; the "ci" profile of conftest.py is derandomized, so these numbers
are the same on every run):
  * test_composite_graphs_match_sympy: 2 variable sets × 550 *distinct*, non-constant
    formulas (counted and asserted in the test) = 1,100,
  * test_each_primitive_*_match_sympy: 17 primitives × (30 first + 15 second derivative)
    examples = 765,
  * composite second derivatives 80, reused nodes 80, to_sympy 80, backward twice 60.
"""

import mpmath
import pytest
import sympy
from hypothesis import assume, given, settings

from autograd_lite import Value, reverse_topological_order, to_sympy
from autograd_lite.testing import (
    PRIMITIVE_NAMES,
    assert_gradients_match_finite_differences,
    assert_gradients_match_sympy,
    assert_second_derivatives_match_finite_differences,
    assert_second_derivatives_match_sympy,
    expression_and_point,
    sympy_gradients,
)

# ---------------------------------------------------------------- every primitive


def one_primitive(name):
    # Graphs of up to 3 applications of one primitive (plus the additions and
    # multiplications by constants that keep operands inside its domain).
    return expression_and_point(("x", "y"), primitives=[name], max_operations=3)


@pytest.mark.parametrize("primitive", PRIMITIVE_NAMES)
def test_each_primitive_first_derivatives_match_sympy(primitive):
    @settings(max_examples=30)
    @given(one_primitive(primitive))
    def check(case):
        expression, point = case
        assert primitive in expression.primitives
        assert_gradients_match_sympy(expression, point)

    check()


@pytest.mark.parametrize("primitive", PRIMITIVE_NAMES)
def test_each_primitive_second_derivatives_match_sympy(primitive):
    # d²/dxdy through gradients(..., create_graph=True): the same rules applied to Values
    @settings(max_examples=15)
    @given(one_primitive(primitive))
    def check(case):
        expression, point = case
        assert_second_derivatives_match_sympy(expression, point)

    check()


@pytest.mark.parametrize("primitive", PRIMITIVE_NAMES)
def test_each_primitive_matches_central_differences(primitive):
    @settings(max_examples=15)
    @given(one_primitive(primitive))
    def check(case):
        expression, point = case
        assert_gradients_match_finite_differences(expression, point)
        assert_second_derivatives_match_finite_differences(expression, point)

    check()


# ---------------------------------------------------------------- composite graphs

DISTINCT_PER_VARIABLE_SET = 550


@pytest.mark.slow  # ~10 s per variable set
@pytest.mark.parametrize("variables", [("x", "y"), ("a", "b", "c")])
def test_composite_graphs_match_sympy(variables):
    """Random graphs over all primitives: 550 distinct formulas per variable set, counted."""
    checked: set[str] = set()
    programs: set[str] = set()

    @settings(max_examples=DISTINCT_PER_VARIABLE_SET)
    @given(expression_and_point(variables, min_operations=2, max_operations=5))
    def check(case):
        expression, point = case
        program = expression.program()
        assume(program not in programs)  # a repeated program: skip it before any SymPy work
        formula = sympy.srepr(expression.sympy)
        # Count each formula once, and only formulas that depend on a variable (relu of a
        # negative operand, for one, flattens a graph into a constant).
        assume(formula not in checked and expression.sympy.free_symbols)
        assert_gradients_match_sympy(expression, point)
        # Recorded after the check passed: a failing example then replays unchanged.
        programs.add(program)
        checked.add(formula)

    check()
    assert len(checked) >= DISTINCT_PER_VARIABLE_SET


@settings(max_examples=80)
@given(expression_and_point(("x", "y", "z"), max_operations=5))
def test_composite_graphs_second_derivatives_match_sympy(case):
    expression, point = case
    assert_second_derivatives_match_sympy(expression, point)


@settings(max_examples=60)
@given(expression_and_point(("x", "y"), max_operations=6))
def test_composite_graphs_match_central_differences(case):
    expression, point = case
    assert_gradients_match_finite_differences(expression, point)
    assert_second_derivatives_match_finite_differences(expression, point)


# ---------------------------------------------------------------- reused nodes


@pytest.mark.slow  # ~3 s
@settings(max_examples=80)
@given(expression_and_point(("x", "y"), min_operations=2, max_operations=6)
       .filter(lambda case: case[0].reused_operations > 0))
def test_graphs_with_reused_nodes_match_sympy(case):
    # A node feeding two consumers gets the sum of both paths' gradients.
    expression, point = case
    assert_gradients_match_sympy(expression, point)
    assert_second_derivatives_match_sympy(expression, point)


# ---------------------------------------------------------------- to_sympy, backward twice


def _mp(expression, symbols, point):
    function = sympy.lambdify(symbols, expression, modules="mpmath")
    with mpmath.workdps(40):
        return function(*[mpmath.mpf(point[s.name]) for s in symbols])


@settings(max_examples=80)
@given(expression_and_point(("x", "y"), max_operations=6))
def test_to_sympy_equals_the_independent_twin(case):
    expression, point = case
    leaves = {name: Value(v, label=name) for name, v in point.items()}
    exported = to_sympy(expression.build(**leaves))
    # to_sympy names symbols by label (without assumptions); the twin uses real symbols.
    plain = sympy.symbols(expression.variables)
    real = [sympy.Symbol(name, real=True) for name in expression.variables]
    twin = expression.sympy.subs(dict(zip(real, plain)))
    got, expected = _mp(exported, plain, point), _mp(twin, plain, point)
    with mpmath.workdps(40):
        # Both are exact formulas with the same constants: equal far beyond float precision.
        assert abs(got - expected) <= mpmath.mpf(10) ** -25 * (1 + abs(expected)), (
            f"to_sympy gave {exported}, the twin is {twin}, at {point}: {got} vs {expected}")


@settings(max_examples=60)
@given(expression_and_point(("x", "y"), max_operations=6))
def test_backward_twice_doubles_every_grad(case):
    expression, point = case
    leaves = {name: Value(v, label=name) for name, v in point.items()}
    out = expression.build(**leaves)
    nodes = reverse_topological_order(out)
    out.backward()
    first = [node.grad for node in nodes]
    # the first pass is right (SymPy), so the doubling below is of the right numbers
    expected = sympy_gradients(expression, point)
    for name, leaf in leaves.items():
        assert leaf.grad == pytest.approx(expected[name], rel=1e-7, abs=1e-9)
    out.backward()
    assert [node.grad for node in nodes] == [2 * g for g in first]
