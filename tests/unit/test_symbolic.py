"""to_sympy(output): the graph as a SymPy expression over leaf symbols named by label.

Every expected expression below is written by hand with SymPy's own functions, as the
lectures write them (Kramer's S(x) = 1/(1 + e^−x); "Backpropagation in Neural Nets": ReLU =
max(0, z), leaky ReLU = max(αz, z) ...), never taken from to_sympy's output.
"""

import math

import pytest
import sympy

from autograd_lite import NARY_PRIMITIVES, PRIMITIVES, Value, linear, node_names, to_sympy

x, y, s0, w0, w1, w2 = sympy.symbols("x y s0 w0 w1 w2")


def same(got, expected):
    """Equal as functions: the difference simplifies to 0 (structure may differ)."""
    return sympy.simplify(got - expected) == 0


# ---------------------------------------------------------------- leaves and their names


def test_leaves_are_symbols_named_by_label():
    a, b = Value(1.5, label="x"), Value(-2.0, label="y")
    assert to_sympy(a * b + a) == x * y + x


def test_a_label_set_after_the_fact_names_the_symbol():
    # SPEC: "x1.label = 'x1'" names a node after it was made.
    a = Value(1.0)
    out = a.exp()
    a.label = "x"
    assert to_sympy(out) == sympy.exp(x)


def test_unlabelled_leaves_get_generated_names_in_reading_order():
    p, q = Value(1.0), Value(2.0)
    v1, v2 = sympy.symbols("v1 v2")
    # p is read first, so it is v1: p - q reads v1 - v2, not v2 - v1.
    assert to_sympy(p - q) == v1 - v2
    assert to_sympy(p * q + p) == v1 * v2 + v1


def test_generated_names_are_stable():
    def graph():
        p, q, r = Value(1.0), Value(2.0), Value(3.0)
        return (p * q).sigmoid() + r

    first = graph()
    # The same graph built twice, and the same graph exported twice, get the same names.
    assert to_sympy(first) == to_sympy(graph())
    assert to_sympy(first) == to_sympy(first)
    assert sorted(node_names(first).values()) == sorted(node_names(graph()).values())


def test_generated_names_do_not_clash_with_labels():
    # A leaf labelled "v1" and an unlabelled leaf must stay two different symbols.
    named, anonymous = Value(1.0, label="v1"), Value(2.0)
    expression = to_sympy(named * anonymous)
    assert len(expression.free_symbols) == 2
    assert sympy.Symbol("v1") in expression.free_symbols


def test_two_distinct_leaves_with_the_same_label_stay_two_symbols():
    a, b = Value(1.0, label="x"), Value(2.0, label="x")
    expression = to_sympy(a - b)
    assert len(expression.free_symbols) == 2
    assert all(s.name.startswith("x") for s in expression.free_symbols)
    # a - b is not 0: the two x's are different variables
    assert expression != 0


def test_a_reused_node_is_one_symbol_not_two():
    a = Value(0.5, label="x")
    h = a * a
    assert to_sympy(h + h) == 2 * x**2


# ---------------------------------------------------------------- constants are numbers


@pytest.mark.parametrize("number, expected", [
    (2.0, 2 * x),                              # an integer-valued float is an Integer
    (2, 2 * x),
    (0.5, x / 2),                              # short decimals are exact rationals
    (0.1, x / 10),
    (-0.75, -sympy.Rational(3, 4) * x),
])
def test_constants_appear_as_numbers(number, expected):
    out = Value(0.3, label="x") * number
    assert to_sympy(out) == expected
    assert to_sympy(out).free_symbols == {x}  # no symbol for the constant


def test_a_long_float_constant_keeps_its_value():
    out = Value(0.3, label="x") * 0.123456789012
    (coefficient,) = [a for a in to_sympy(out).args if a.is_number]
    assert math.isclose(float(coefficient), 0.123456789012, rel_tol=1e-15)


# ---------------------------------------------------------------- every primitive


def _xy():
    return Value(0.7, label="x"), Value(1.3, label="y")


PRIMITIVE_EXPORTS = [
    # name, engine code, the formula written by hand
    ("add", lambda a, b: a + b, x + y),
    ("sub", lambda a, b: a - b, x - y),
    ("mul", lambda a, b: a * b, x * y),
    ("div", lambda a, b: a / b, x / y),
    ("pow, number exponent", lambda a, b: a**3, x**3),
    ("pow, fractional exponent", lambda a, b: a**0.5, sympy.sqrt(x)),
    ("pow, Value exponent", lambda a, b: a**b, x**y),
    ("pow, number base", lambda a, b: 2**a, 2**x),
    ("neg", lambda a, b: -a, -x),
    ("abs", lambda a, b: abs(a), sympy.Abs(x)),
    ("exp", lambda a, b: a.exp(), sympy.exp(x)),
    ("log", lambda a, b: a.log(), sympy.log(x)),
    ("sqrt", lambda a, b: a.sqrt(), sympy.sqrt(x)),
    ("tanh", lambda a, b: a.tanh(), sympy.tanh(x)),
    ("sigmoid", lambda a, b: a.sigmoid(), 1 / (1 + sympy.exp(-x))),
    ("relu", lambda a, b: a.relu(), sympy.Max(0, x)),
    ("leaky_relu", lambda a, b: a.leaky_relu(0.1),
     sympy.Piecewise((x, x >= 0), (x / 10, True))),
    ("leaky_relu, Value alpha", lambda a, b: a.leaky_relu(b),
     sympy.Piecewise((x, x >= 0), (y * x, True))),
    ("step", lambda a, b: PRIMITIVES["step"](a), sympy.Piecewise((1, x >= 0), (0, True))),
    ("sin", lambda a, b: a.sin(), sympy.sin(x)),
    ("cos", lambda a, b: a.cos(), sympy.cos(x)),
    # a neuron's weighted sum as one node: b + w1·x1 + w2·x2 (here w = (x, 2), x = (y, x))
    ("linear", lambda a, b: linear([a, 2.0], [b, a], 0.5), x * y + 2 * x + sympy.Rational(1, 2)),
]


@pytest.mark.parametrize("name, code, expected", PRIMITIVE_EXPORTS,
                         ids=[case[0] for case in PRIMITIVE_EXPORTS])
def test_every_primitive_exports_to_its_sympy_formula(name, code, expected):
    a, b = _xy()
    out = code(a, b)
    got = to_sympy(out)
    assert same(got, expected), f"{name}: to_sympy gave {got}, expected {expected}"
    # and the formula evaluates to the engine's number at the leaves' values
    assert math.isclose(float(got.subs({x: a.data, y: b.data})), out.data, rel_tol=1e-12)


def test_the_export_covers_every_primitive_of_the_table():
    covered = {name.split(",")[0] for name, _, _ in PRIMITIVE_EXPORTS}
    # identity is grad()'s internal fresh node, never written by a user
    assert covered == (set(PRIMITIVES) | set(NARY_PRIMITIVES)) - {"identity"}


def test_derivatives_of_the_export_are_the_lecture_table():
    # Lecture "Backpropagation in Neural Nets": σ' = σ(1 − σ), tanh' = 1 − tanh².
    a = Value(0.4, label="x")
    sigma = 1 / (1 + sympy.exp(-x))
    assert same(sympy.diff(to_sympy(a.sigmoid()), x), sigma * (1 - sigma))
    assert same(sympy.diff(to_sympy(a.tanh()), x), 1 - sympy.tanh(x) ** 2)


# ---------------------------------------------------------------- the Kramer lecture


def test_kramer_chain_exports_as_the_slide_writes_it():
    # Kramer: x1 = w0·s0, s1 = S(x1), x2 = w1·s1, s2 = S(x2), out = w2·s2, S(x) = 1/(1+e^−x).
    leaves = {name: Value(v, label=name)
              for name, v in (("s0", 2.0), ("w0", 2.0), ("w1", 1.0), ("w2", 0.5))}
    s1 = (leaves["w0"] * leaves["s0"]).sigmoid()
    out = leaves["w2"] * (leaves["w1"] * s1).sigmoid()

    def S(z):  # noqa: N802 -- the slide's name for the sigmoid
        return 1 / (1 + sympy.exp(-z))

    expected = w2 * S(w1 * S(w0 * s0))
    got = to_sympy(out)
    assert same(got, expected)
    at = {s0: 2, w0: 2, w1: 1, w2: sympy.Rational(1, 2)}
    assert round(float(got.subs(at)), 4) == 0.3638  # the slide's out
    # dout/dw1 = w2 · s2(1 − s2) · s1, the slide's formula, from SymPy's diff of the export
    s1_, s2_ = S(w0 * s0), S(w1 * S(w0 * s0))
    assert same(sympy.diff(got, w1), w2 * s2_ * (1 - s2_) * s1_)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("thing, type_name", [(3.0, "float"), ("x", "str"), (None, "NoneType")])
def test_to_sympy_of_a_non_value_names_the_type(thing, type_name):
    with pytest.raises(TypeError, match=f"to_sympy.*{type_name}"):
        to_sympy(thing)


# ---------------------------------------------------------------- deep graphs (issue 10)


def sin_chain(depth):
    leaf = Value(0.5, "x")
    node = leaf
    for _ in range(depth):
        node = node.sin()
    return leaf, node


def test_a_300_deep_chain_is_written_out():
    # RecursionError before: SymPy recurses ~10 frames per level, Python allows 1000.
    import sys
    import threading

    from autograd_lite.symbolic import run_sympy

    limit = sys.getrecursionlimit()
    _, out = sin_chain(300)
    expression = to_sympy(out)
    expected = 0.5
    for _ in range(300):
        expected = math.sin(expected)  # by hand, with math
    number = run_sympy(lambda: float(expression.subs(x, 0.5)), what="test")
    assert number == pytest.approx(expected, rel=1e-12)
    text = run_sympy(lambda: str(expression), what="test")
    assert text == "sin(" * 300 + "x" + ")" * 300
    assert sys.getrecursionlimit() == limit  # raised only while the worker ran
    assert not any(t.name.startswith("autograd_lite") for t in threading.enumerate())


def test_explain_expand_on_a_300_deep_chain():
    from autograd_lite import explain

    leaf, out = sin_chain(300)
    e = explain(out, leaf, expand=True)
    (path,) = e.paths
    assert len(path.factors) == 300
    # d sin^300(x)/dx = Π cos(a_k-1), a_0 = x: by hand with math.
    value, derivative = 0.5, 1.0
    for _ in range(300):
        derivative *= math.cos(value)
        value = math.sin(value)
    assert e.value == pytest.approx(derivative, rel=1e-12)
    text = str(e)  # SymPy prints 300 nested sin(...) inside the factors
    assert text.startswith("du300/dx = ")  # the unlabelled output is named u300
    assert "cos(sin(sin(" in text


def test_a_graph_deeper_than_the_limit_is_refused_before_building():
    import time

    from autograd_lite import explain
    from autograd_lite.symbolic import MAX_SYMBOLIC_DEPTH, SymbolicDepthError, graph_depth

    leaf, out = sin_chain(MAX_SYMBOLIC_DEPTH + 1)
    assert graph_depth(out) == 2001 and graph_depth(leaf) == 0
    assert graph_depth(leaf * 2 + leaf.exp().exp()) == 3  # the longest path: exp, exp, +
    start = time.monotonic()
    with pytest.raises(SymbolicDepthError, match="2001 operations deep, more than "
                                                 "MAX_SYMBOLIC_DEPTH=2000"):
        to_sympy(out)
    with pytest.raises(ValueError, match="2001 operations deep"):
        explain(out, leaf, expand=True)
    assert time.monotonic() - start < 2
    assert len(explain(out, leaf).paths[0].factors) == 2001  # unexpanded formulas are flat


def test_sympy_work_past_its_time_bound_is_stopped():
    import threading
    import time

    from autograd_lite.symbolic import SymbolicTimeoutError

    # tanh(tanh(...(x))): SymPy's assumptions on it double per level (12 deep: > 3 min).
    node = Value(0.5, "x")
    for _ in range(25):
        node = node.tanh()
    start = time.monotonic()
    with pytest.raises(SymbolicTimeoutError, match="to_sympy: SymPy did not finish within "
                                                   "1 s and was stopped"):
        to_sympy(node, timeout=1)
    assert time.monotonic() - start < 4
    assert not any(t.name.startswith("autograd_lite") for t in threading.enumerate())
    with pytest.raises(ValueError, match="to_sympy: timeout must be a positive number"):
        to_sympy(node, timeout=-1)


def test_the_worker_has_room_for_deep_recursion_through_c_calls():
    import functools

    from autograd_lite.symbolic import run_sympy

    @functools.cache  # each level a C call, as in SymPy's cache
    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    # 2,000 levels: past Python's default limit of 1,000 frames, and within the C recursion
    # limit that Python 3.12+ keeps apart from sys.setrecursionlimit (3.13 stops near 4,000).
    with pytest.raises(RecursionError):
        down(2_000)
    down.cache_clear()
    assert run_sympy(lambda: down(2_000), what="test") == 2_000


def test_to_sympy_names_must_name_every_node():
    a = Value(1.5, "x")
    out = a * 2
    with pytest.raises(ValueError, match="to_sympy: names has no name for Value"):
        to_sympy(out, names={})  # was a bare KeyError
    with pytest.raises(TypeError, match="to_sympy: names must be a dict"):
        to_sympy(out, names=["x"])
    names = node_names(out)
    names[a] = "alpha"
    assert to_sympy(out, names=names) == 2 * sympy.Symbol("alpha")
