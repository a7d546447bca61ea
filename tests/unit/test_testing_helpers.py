"""autograd_lite.testing itself: its strategies respect domains, and its assertions can fail.

A checker that cannot fail proves nothing, so most tests here break something on purpose
(a rule of the table, the engine's result, a twin) and require the helpers to notice.
"""

import itertools
import math
import operator
import subprocess
import sys

import pytest
import sympy
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import autograd_lite.testing as testing
from autograd_lite import NARY_PRIMITIVES, PRIMITIVES, Value
from autograd_lite import engine as engine_module
from autograd_lite.testing import (
    BOUND,
    MARGIN,
    PRIMITIVE_NAMES,
    Expression,
    assert_gradients_match_finite_differences,
    assert_gradients_match_sympy,
    assert_second_derivatives_match_finite_differences,
    assert_second_derivatives_match_sympy,
    engine_gradients,
    expression_and_point,
    expressions,
    sympy_gradients,
    sympy_second_derivatives,
)

ALL_HELPERS = [assert_gradients_match_sympy, assert_second_derivatives_match_sympy,
               assert_gradients_match_finite_differences,
               assert_second_derivatives_match_finite_differences]


TABLE = {**PRIMITIVES, **NARY_PRIMITIVES}


def test_the_strategies_cover_every_primitive_of_the_table():
    # identity is grad()'s internal fresh node; every other primitive must be generated.
    assert set(PRIMITIVE_NAMES) == set(TABLE) - {"identity"}


def test_the_module_imports_without_pytest():
    code = "import sys; sys.modules['pytest'] = None; import autograd_lite.testing"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- the SymPy references


def test_sympy_references_by_hand():
    # f = x²·y: df/dx = 2xy = 12, df/dy = x² = 4; d²f/dx² = 2y = 6, d²f/dxdy = 2x = 4, f_yy = 0
    expression = Expression.from_function(lambda x, y: x**2 * y,
                                          lambda x, y: x**2 * y,
                                          {"x": (0, 5), "y": (0, 5)})
    assert sympy_gradients(expression, {"x": 2.0, "y": 3.0}) == {"x": 12.0, "y": 4.0}
    assert sympy_second_derivatives(expression, {"x": 2.0, "y": 3.0}) == {
        ("x", "x"): 6.0, ("x", "y"): 4.0, ("y", "x"): 4.0, ("y", "y"): 0.0}


# ---------------------------------------------------------------- domains are respected

# Each primitive on plain floats, written from the math module (independent of the engine).
FLOAT_RULES = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "neg": operator.neg, "abs": abs, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "relu": lambda v: max(v, 0.0), "leaky_relu": lambda v, alpha: v if v > 0 else alpha * v,
    "step": lambda v: 1.0 if v >= 0 else 0.0,
    "sin": math.sin, "cos": math.cos,
    "linear": lambda *a: a[-1] + sum(w * x for w, x in zip(a[:len(a) // 2],
                                                         a[len(a) // 2:-1])),
}


def node_values(expression, point):
    values = [point[name] for name in expression.variables]
    for step in expression.steps:
        args = [values[o] if isinstance(o, int) else o for o in step.operands]
        values.append(FLOAT_RULES[step.primitive](*args))
    return values


def domain_problems(expression, point):
    """Every place where an operand at ``point`` is closer than MARGIN to trouble."""
    values = node_values(expression, point)
    problems = []
    for i, step in enumerate(expression.steps):
        args = [values[o] if isinstance(o, int) else o for o in step.operands]
        name = step.primitive
        if name in ("log", "sqrt") and args[0] < MARGIN:
            problems.append(f"{name} of {args[0]}")
        if name in ("abs", "relu", "leaky_relu", "step"):
            if abs(args[0]) < MARGIN:
                problems.append(f"{name} of {args[0]}, near the kink")
            if math.copysign(1, args[0]) != step.side:
                problems.append(f"{name} of {args[0]}: the twin took side {step.side}")
        if name == "div" and isinstance(step.operands[1], int) and abs(args[1]) < MARGIN:
            problems.append(f"division by {args[1]}")
        if name == "pow" and isinstance(step.operands[0], int):
            exponent = step.operands[1]  # a node index (int) or a number (float)
            value_exponent = isinstance(exponent, int)
            if (value_exponent or exponent != int(exponent)) and args[0] < MARGIN:
                problems.append(f"{args[0]} ** {args[1]}: the base must be positive")
            if not value_exponent and exponent < 0 and abs(args[0]) < MARGIN:
                problems.append(f"{args[0]} ** {exponent}, near the pole")
        # A node is at most 3·BOUND, unless the next step is the guard that scales it back
        # (a product of two nodes near BOUND is up to BOUND² before its guard halves it).
        scaled = (i + 1 < len(expression.steps) and expression.steps[i + 1].role == "guard"
                  and expression.steps[i + 1].primitive == "mul"
                  and expression.steps[i + 1].operands[0] == len(expression.variables) + i)
        limit = BOUND * BOUND if scaled else 3 * BOUND
        if not abs(values[len(expression.variables) + i]) <= limit:
            problems.append(f"node {i} = {values[len(expression.variables) + i]} is too large")
    if not abs(values[-1]) <= BOUND:
        problems.append(f"the output {values[-1]} exceeds BOUND")
    return problems


def interval(low=-6.0, high=6.0, one_signed=False):
    @st.composite
    def draw(draw):
        a = draw(st.floats(low, high))
        b = draw(st.floats(low, high))
        a, b = min(a, b), max(a, b)
        if one_signed and a < MARGIN and b > -MARGIN:  # keep it MARGIN away from 0
            a, b = (max(a, MARGIN), max(b, MARGIN)) if b > -a else (min(a, -MARGIN),
                                                                   min(b, -MARGIN))
        return (a, max(b, a))

    return draw()


# The interval arithmetic behind the guards, with the preconditions the generator ensures.
RANGE_CASES = {
    "add": (interval(), interval()), "sub": (interval(), interval()),
    "mul": (interval(), interval()), "div": (interval(), interval(one_signed=True)),
    "pow, value exponent": (interval(MARGIN, 4.0), interval(-3.0, 3.0)),
    "pow, integer exponent": (interval(-3.0, 3.0), st.sampled_from([2.0, 3.0])),
    "pow, negative integer exponent": (interval(-3.0, 3.0, one_signed=True),
                                       st.sampled_from([-1.0, -2.0])),
    "pow, fractional exponent": (interval(MARGIN, 3.0), st.sampled_from([0.5, 1.5, -0.5])),
    "pow, number base": (st.sampled_from([2.0, 0.5, 3.0, 1.5]), interval(-4.0, 4.0)),
    "neg": (interval(),), "abs": (interval(one_signed=True),), "exp": (interval(),),
    "log": (interval(MARGIN, 8.0),), "sqrt": (interval(MARGIN, 8.0),), "tanh": (interval(),),
    "sigmoid": (interval(),), "relu": (interval(),), "leaky_relu": (interval(), interval()),
    "step": (interval(one_signed=True),),  # its jump at 0 is a kink the generator avoids
    "sin": (interval(-20.0, 20.0),), "cos": (interval(-20.0, 20.0),),
    "linear, 1 pair": (interval(), interval(), interval()),
    "linear, 2 pairs": (interval(), interval(), interval(), interval(), interval()),
}


@pytest.mark.parametrize("case", RANGE_CASES)
def test_interval_arithmetic_encloses_every_value(case):
    name = case.split(",")[0]

    @settings(max_examples=60)
    @given(st.tuples(*RANGE_CASES[case]))
    def check(operands):
        intervals = [o if isinstance(o, tuple) else (o, o) for o in operands]
        low, high = testing.output_range(TABLE[name], intervals)
        # sample each operand densely, endpoints included, and evaluate with math
        steps = 24 if len(intervals) <= 2 else 4  # linear: 5 operands, 5^5 points
        grids = [[a + (b - a) * k / steps for k in range(steps + 1)] for a, b in intervals]
        for args in itertools.product(*grids):
            value = FLOAT_RULES[name](*args)
            assert low - 1e-9 * (1 + abs(low)) <= value <= high + 1e-9 * (1 + abs(high)), (
                f"{case}{tuple(args)} = {value} outside [{low}, {high}]")

    check()


@settings(max_examples=150)
@given(expressions(("x", "y", "z"), max_operations=8))
def test_every_point_of_the_domain_box_is_valid(expression):
    # The guarantee is for the whole box, so check its corners, its centre, and then some.
    names = expression.variables
    corners = itertools.product(*[expression.domain[n] for n in names])
    centre = [tuple(sum(expression.domain[n]) / 2 for n in names)]
    for coordinates in itertools.chain(corners, centre):
        point = dict(zip(names, coordinates))
        assert domain_problems(expression, point) == [], expression.program()
        expression.build(**point)  # and the engine computes it without a domain error


@settings(max_examples=100)
@given(expression_and_point(("x", "y"), max_operations=6))
def test_generated_points_are_inside_the_domain_and_valid(case):
    expression, point = case
    for name, (low, high) in expression.domain.items():
        # a little inside, so a finite-difference stencil (2 × 1e-3) stays in the box
        assert low + 0.005 <= point[name] <= high - 0.005
    assert domain_problems(expression, point) == []


def test_the_generator_draws_every_form_side_and_reuse():
    seen_forms, seen_sides, reused, guards = set(), set(), [], []

    @settings(max_examples=400)
    @given(expressions(("x", "y")))
    def collect(expression):
        seen_forms.update(expression.forms)
        seen_sides.update((s.primitive, s.side) for s in expression.steps if s.side)
        reused.append(expression.reused_operations > 0)
        guards.append(any(s.role == "guard" for s in expression.steps))

    collect()
    binary = {f"{p}({a}, {b})" for p in ("add", "sub", "mul", "div")
              for a, b in (("value", "value"), ("value", "number"), ("number", "value"))}
    powers = {"pow(value, number)", "pow(number, value)", "pow(value, value)"}  # x**2, 2**x, x**y
    leaky = {"leaky_relu(value, number)", "leaky_relu(value, value)"}  # alpha number or Value
    unary = {f"{p}(value)" for p in ("neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid",
                                     "relu", "step", "sin", "cos")}
    assert binary | powers | leaky | unary <= seen_forms
    assert any(form.startswith("linear(value, value") for form in seen_forms)
    assert seen_sides == {(p, s) for p in ("abs", "relu", "leaky_relu", "step")
                          for s in (1, -1)}
    assert 0.1 < sum(reused) / len(reused) < 0.9  # graphs with and without shared nodes
    assert any(guards) and not all(guards)


@pytest.mark.parametrize("variables, message", [
    ("xy", "sequence of names"),
    ((), "sequence of names"),
    (("x", "x"), "repeat"),
    (("x", "2y"), "not an identifier"),
])
def test_bad_variables_are_rejected(variables, message):
    with pytest.raises((TypeError, ValueError), match=message):
        expressions(variables)


def test_an_unknown_primitive_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match=r"'softmax'.*choose from add, sub"):
        expressions(primitives=["sigmoid", "softmax"])


def test_bad_operation_counts_are_rejected():
    with pytest.raises(ValueError, match="min_operations <= max_operations"):
        expressions(min_operations=4, max_operations=2)


# ---------------------------------------------------------------- a broken rule is caught


@pytest.fixture
def break_rule():
    """Replace one local-derivative rule of the table for one test (restored after).

    ``index`` is the input whose rule to replace; None replaces the whole ``gradient`` rule
    of an n-ary primitive (linear), which gives every input's derivative at once.
    """
    changed = []

    def replace(primitive, index, wrong_rule):
        attribute = "gradient" if index is None else "derivatives"
        changed.append((primitive, attribute, getattr(primitive, attribute)))
        if index is None:
            new = wrong_rule
        else:
            new = list(primitive.derivatives)
            new[index] = wrong_rule
            new = tuple(new)
        object.__setattr__(primitive, attribute, new)  # Primitive is a frozen dataclass

    yield replace
    for primitive, attribute, old in reversed(changed):
        object.__setattr__(primitive, attribute, old)


@pytest.mark.parametrize("helper", ALL_HELPERS, ids=lambda h: h.__name__)
def test_a_wrong_sigmoid_derivative_is_caught(break_rule, helper):
    # The lecture's σ' = σ(1 − σ), broken into σ(1 + σ): every helper must object.
    break_rule(PRIMITIVES["sigmoid"], 0, lambda x, out, f: out * (1 + out))
    expression = Expression.from_function(lambda x: x.sigmoid(),
                                          lambda x: 1 / (1 + sympy.exp(-x)), {"x": (-3, 3)})
    with pytest.raises(AssertionError, match="dout/dx|d²out/dx dx"):
        helper(expression, {"x": 0.5})


RULES = [(name, index) for name in PRIMITIVE_NAMES
         for index in (range(TABLE[name].arity) if TABLE[name].arity else [None])]


@pytest.mark.parametrize("name, index", RULES, ids=[f"{n}-{i}" for n, i in RULES])
def test_the_property_check_catches_a_1_permille_error_in_every_rule(break_rule, name, index):
    # Scale one rule of the table by 1.001. The property check the suite runs for that
    # primitive must find an expression and a point where the gradient is off.
    primitive = TABLE[name]
    if index is None:  # linear: its one rule gives every input's derivative
        rule = primitive.gradient
        break_rule(primitive, None, lambda *args: tuple(1.001 * g for g in rule(*args)))
    elif name == "step":  # its slope is 0 everywhere: 1.001 × 0 is still right; shift it
        rule = primitive.derivatives[index]
        break_rule(primitive, index, lambda *args: rule(*args) + 0.001)
    else:
        rule = primitive.derivatives[index]
        break_rule(primitive, index, lambda *args: 1.001 * rule(*args))

    @settings(max_examples=60, phases=[Phase.generate])  # no shrinking: just find one
    @given(expression_and_point(("x", "y"), primitives=[name], max_operations=3))
    def check(case):
        assert_gradients_match_sympy(*case)

    with pytest.raises(AssertionError, match="disagree with SymPy's diff"):
        check()


def test_a_rule_broken_only_for_second_derivatives_is_caught(monkeypatch):
    # Second derivatives evaluate the rules over Values (engine.VALUES). Break cos there
    # only: sin's first derivative (cos, over floats) stays right, its second goes wrong.
    monkeypatch.setattr(engine_module.VALUES, "cos", lambda v: v.sin())
    expression = Expression.from_function(lambda x: x.sin(), sympy.sin, {"x": (-3, 3)})
    point = {"x": 0.7}
    assert_gradients_match_sympy(expression, point)
    assert_gradients_match_finite_differences(expression, point)
    with pytest.raises(AssertionError, match="second derivatives disagree"):
        assert_second_derivatives_match_sympy(expression, point)
    with pytest.raises(AssertionError, match="second derivatives disagree"):
        assert_second_derivatives_match_finite_differences(expression, point)


# ---------------------------------------------------------------- a wrong result is caught


def scaled_gradients(factor):
    real = testing.references.gradients

    def gradients(output, inputs, create_graph=False):
        return [g * factor for g in real(output, inputs, create_graph=create_graph)]

    return gradients


TANH_OF_PRODUCT = Expression.from_function(lambda x, y: (x * y).tanh(),
                                           lambda x, y: sympy.tanh(x * y),
                                           {"x": (-2, 2), "y": (-2, 2)})


@pytest.mark.parametrize("helper, error", [
    # SymPy's derivatives are exact (30 digits): the engine must match to 1e-7.
    (assert_gradients_match_sympy, 1e-5),
    (assert_second_derivatives_match_sympy, 1e-5),
    # A difference quotient is only good to about 1e-7 here, so these allow 1e-5.
    (assert_gradients_match_finite_differences, 1e-4),
    (assert_second_derivatives_match_finite_differences, 1e-4),
], ids=lambda h: getattr(h, "__name__", str(h)))
def test_a_slightly_wrong_result_is_caught(monkeypatch, helper, error):
    monkeypatch.setattr(testing.references, "gradients", scaled_gradients(1 + error))
    with pytest.raises(AssertionError, match="disagree"):
        helper(TANH_OF_PRODUCT, {"x": 0.3, "y": -1.1})


@pytest.mark.parametrize("helper", ALL_HELPERS, ids=lambda h: h.__name__)
def test_rounding_noise_of_1e_12_is_accepted(monkeypatch, helper):
    # The tolerances are tight, but not tighter than floating point.
    monkeypatch.setattr(testing.references, "gradients", scaled_gradients(1 + 1e-12))
    helper(TANH_OF_PRODUCT, {"x": 0.3, "y": -1.1})


def test_the_failure_message_shows_expression_point_and_both_numbers():
    # A user's twin with a sign slip: σ written as 1/(1 + e^x) instead of 1/(1 + e^−x).
    expression = Expression.from_function(lambda x: x.sigmoid(),
                                          lambda x: 1 / (1 + sympy.exp(x)), {"x": (-3, 3)})
    with pytest.raises(AssertionError) as failure:
        assert_gradients_match_sympy(expression, {"x": 0.5})
    message = str(failure.value)
    sigma = 1 / (1 + math.exp(-0.5))
    assert "expression: 1/(exp(x) + 1)" in message
    assert "point: x = 0.5" in message
    assert f"engine {sigma * (1 - sigma)!r}" in message  # σ'(0.5) = 0.2350 by hand
    assert "SymPy's diff -0.235" in message  # the slipped twin's derivative is −σ'(0.5)


def test_a_generated_failure_shows_the_program():
    # Generated expressions also print their steps, one node a line.
    @settings(max_examples=5, phases=[Phase.generate])
    @given(expression_and_point(("x",), primitives=["exp"], max_operations=2))
    def check(case):
        expression, point = case
        real = engine_gradients(expression, point)
        wrong = {name: 2 * g + 1 for name, g in real.items()}
        testing.assertions._compare("engine gradients", expression, point, wrong,
                         sympy_gradients(expression, point), "SymPy's diff", 1e-7, 1e-9)

    with pytest.raises(AssertionError, match=r"(?s)program:.*n0 = x.*exp\(n"):
        check()


# ---------------------------------------------------------------- user-made expressions


def softplus(x):
    return (1 + x.exp()).log()


SOFTPLUS = Expression.from_function(softplus, lambda x: sympy.log(1 + sympy.exp(x)),
                                    {"x": (-4, 4)})


@settings(max_examples=30)
@given(SOFTPLUS.points())
def test_a_users_function_passes_every_helper(point):
    for helper in ALL_HELPERS:
        helper(SOFTPLUS, point)


def test_a_twin_may_be_an_expression_over_plain_symbols():
    x, y = sympy.symbols("x y")  # no real=True: matched by name
    expression = Expression.from_function(lambda x, y: x * y.exp(), x * sympy.exp(y),
                                          {"x": (-1, 1), "y": (-1, 1)})
    assert_gradients_match_sympy(expression, {"x": 0.5, "y": -0.25})
    assert expression.variables == ("x", "y")


def test_a_twin_with_a_variable_the_domain_lacks_is_rejected():
    with pytest.raises(ValueError, match="twin uses z, which the domain does not give"):
        Expression.from_function(lambda x: x, lambda x: x + sympy.Symbol("z"), {"x": (0, 1)})


@pytest.mark.parametrize("domain, error, message", [
    ({}, TypeError, "non-empty mapping"),
    ({"x": (1, 0)}, ValueError, r"domain\['x'\].*low < high"),
    ({"x": (0, math.inf)}, ValueError, "finite"),
    ({"x": 3}, TypeError, r"domain\['x'\] must be \(low, high\)"),
    ({"1x": (0, 1)}, ValueError, "not an identifier"),
])
def test_a_bad_domain_is_rejected(domain, error, message):
    with pytest.raises(error, match=message):
        Expression.from_function(lambda x: x, lambda x: x, domain)


@pytest.mark.parametrize("point, error, message", [
    ({"x": 5.0}, ValueError, r"point\['x'\] = 5.0 is outside the domain \[-4.0, 4.0\]"),
    ({}, KeyError, "missing x"),
    ({"x": 1.0, "y": 2.0}, KeyError, "unknown y"),
    ({"x": "1"}, TypeError, r"point\['x'\] must be a real number, not str"),
    ([1.0], TypeError, "mapping"),
])
def test_a_bad_point_is_rejected_naming_the_variable(point, error, message):
    with pytest.raises(error, match=message):
        assert_gradients_match_sympy(SOFTPLUS, point)


def test_build_names_missing_and_unknown_variables():
    with pytest.raises(TypeError, match="missing x; unknown t"):
        SOFTPLUS.build(t=1.0)


def test_build_labels_leaves_and_accepts_values():
    out = SOFTPLUS.build(x=0.0)
    assert out.data == pytest.approx(math.log(2), rel=1e-15)
    x = Value(0.0, label="mine")
    out = SOFTPLUS.build(x=x)
    out.backward()
    assert x.grad == pytest.approx(0.5, rel=1e-15)  # softplus'(0) = σ(0) = 1/2
