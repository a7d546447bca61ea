"""explain(): the chain rule as the Kramer lecture writes it, checked with SymPy and by hand.

The slides' three formulas (Kramer, "Backpropagation", slides "How does a change in weight
w2 impact output?", "... w1 ..." and "... w0 ...", the last two the lecture's slides 23 and
29; all three on the summary slide "How does a change in weight impact output?"):
    dout/dw2 = s2
    dout/dw1 = w2 · s2(1 − s2) · s1
    dout/dw0 = w2 · s2(1 − s2) · w1 · s1(1 − s1) · s0
"""

import math

import pytest
import sympy

from autograd_lite import Explanation, Value, explain, sigmoid, to_sympy
from autograd_lite.explanation import (
    DEFAULT_MAX_FACTORS,
    DEFAULT_MAX_PATHS,
    ExplanationSizeError,
    PathCount,
    count_paths,
)
from autograd_lite.lectures import kramer_chain

s0, w0, w1, w2, s1, s2, x1, x2 = sympy.symbols("s0 w0 w1 w2 s1 s2 x1 x2")  # no assumptions
SLIDE_FORMULAS = {
    "w2": s2,
    "w1": w2 * s2 * (1 - s2) * s1,
    "w0": w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0,
}


def hand_sigmoid(x):
    return 1 / (1 + math.exp(-x))




def numbers_by_hand():
    h1 = hand_sigmoid(4.0)
    return {s0: 2.0, w0: 2.0, w1: 1.0, w2: 0.5, s1: h1, s2: hand_sigmoid(h1)}


@pytest.mark.parametrize("weight", ["w2", "w1", "w0"])
def test_explain_equals_the_slides_formula_symbolically(weight):
    n = kramer_chain()
    e = explain(n["out"], n[weight])
    assert isinstance(e, Explanation)
    assert sympy.simplify(e.expression - SLIDE_FORMULAS[weight]) == 0


@pytest.mark.parametrize("weight", ["w2", "w1", "w0"])
def test_explain_value_is_the_slides_formula_evaluated_and_the_engines_gradient(weight):
    n = kramer_chain()
    e = explain(n["out"], n[weight])
    by_hand = float(SLIDE_FORMULAS[weight].subs(numbers_by_hand()))
    assert e.value == pytest.approx(by_hand, rel=1e-12)
    assert e.path_sum == pytest.approx(by_hand, rel=1e-12)
    n["out"].backward()
    assert e.value == n[weight].grad
    # and the expression, with the graph's numbers substituted, gives the same number
    at = {sympy.Symbol(k): n[k].data for k in ("s0", "w0", "w1", "w2", "s1", "s2")}
    assert float(e.expression.subs(at)) == pytest.approx(by_hand, rel=1e-12)


def test_str_reads_like_the_slide_symbols_then_numbers_then_result():
    # SPEC: "str() reads like dout/dw1 = w2 · s2·(1 − s2) · s1 = 0.5 · 0.1983 · 0.9820 =
    # 0.09738". The SPEC's 0.1983 and 0.09738 are the slide's rounding: by hand s2(1 − s2) =
    # 0.19824 and the product is 0.097337, so the numbers expected here are the hand-computed
    # ones, to 4 significant digits (a rounded number keeps its trailing zero, 0.9820; an exact
    # one does not, 0.5).
    s1 = hand_sigmoid(4.0)
    s2 = hand_sigmoid(s1)
    sig4 = "{:#.4g}".format
    assert [sig4(v) for v in (s2, s2 * (1 - s2), s1, 0.5 * s2 * (1 - s2) * s1)] == [
        "0.7275", "0.1982", "0.9820", "0.09734"]
    assert [sig4(v) for v in (s1 * (1 - s1), 0.5 * s2 * (1 - s2) * s1 * (1 - s1) * 2)] == [
        "0.01766", "0.003501"]
    n = kramer_chain()
    assert str(explain(n["out"], n["w1"])) == (
        "dout/dw1 = w2 · s2·(1 − s2) · s1 = 0.5 · 0.1982 · 0.9820 = 0.09734")
    assert str(explain(n["out"], n["w2"])) == "dout/dw2 = s2 = 0.7275"
    assert str(explain(n["out"], n["w0"])) == (
        "dout/dw0 = w2 · s2·(1 − s2) · w1 · s1·(1 − s1) · s0 "
        "= 0.5 · 0.1982 · 1 · 0.01766 · 2 = 0.003501")


def test_paths_list_the_chain_from_the_output_down():
    n = kramer_chain()
    (path,) = explain(n["out"], n["w0"]).paths
    assert [node.label for node in path.nodes] == ["out", "s2", "x2", "s1", "x1", "w0"]
    # dout/ds2 · ds2/dx2 · dx2/ds1 · ds1/dx1 · dx1/dw0 (slide 29), in that order
    assert [f.formula for f in path.factors] == [w2, s2 * (1 - s2), w1, s1 * (1 - s1), s0]


def test_two_paths_through_a_reused_node_are_summed():
    # h = S(w·x) feeds the output twice: out = v1·h + v2·h, so by hand
    # dout/dw = (v1 + v2) · h(1 − h) · x — two paths, one through each use of h.
    x, w, v1, v2 = Value(1.5, "x"), Value(-0.4, "w"), Value(0.3, "v1"), Value(2.0, "v2")
    z = w * x
    z.label = "z"
    h = sigmoid(z)
    h.label = "h"
    a, b = v1 * h, v2 * h
    a.label, b.label = "a", "b"
    out = a + b
    out.label = "out"
    e = explain(out, w)
    assert len(e.paths) == 2
    X, V1, V2, H = sympy.symbols("x v1 v2 h")
    assert sympy.simplify(e.expression - (V1 + V2) * H * (1 - H) * X) == 0
    hh = hand_sigmoid(-0.4 * 1.5)
    assert e.value == pytest.approx((0.3 + 2.0) * hh * (1 - hh) * 1.5, rel=1e-12)
    assert [[node.label for node in p.nodes] for p in e.paths] == [
        ["out", "a", "h", "z", "w"], ["out", "b", "h", "z", "w"]]
    text = str(e)
    assert text.startswith("dout/dw = (v1 · h·(1 − h) · x) + (v2 · h·(1 − h) · x) = ")
    assert text.endswith(f"= {(0.3 + 2.0) * hh * (1 - hh) * 1.5:.4g}")


def test_a_node_used_twice_by_one_operation_is_two_paths():
    # d(x·x)/dx = x + x = 2x
    x = Value(3.0, "x")
    y = x * x
    e = explain(y, x)
    assert len(e.paths) == 2
    assert sympy.simplify(e.expression - 2 * sympy.Symbol("x")) == 0
    assert e.value == 6.0


@pytest.mark.parametrize("build", [
    lambda x, y: (x * y).exp() / (y ** 2 + 1),
    lambda x, y: (x.tanh() + x * y).sigmoid() * x - y.sin(),
    lambda x, y: (x ** y + (x * 3).log()) * (y - x).cos(),
])
def test_expanded_expression_is_sympys_own_derivative(build):
    # Independent check: SymPy differentiates the forward expression itself.
    x, y = Value(1.3, "x"), Value(0.7, "y")
    out = build(x, y)
    forward = to_sympy(out)
    for wrt, symbol in ((x, sympy.Symbol("x")), (y, sympy.Symbol("y"))):
        e = explain(out, wrt, expand=True)
        assert e.expression.free_symbols <= {sympy.Symbol("x"), sympy.Symbol("y")}
        assert sympy.simplify(e.expression - sympy.diff(forward, symbol)) == 0
        assert e.value == pytest.approx(float(sympy.diff(forward, symbol).subs(
            {"x": 1.3, "y": 0.7})), rel=1e-10)


def test_expand_writes_the_kramer_formula_over_the_leaves():
    n = kramer_chain()
    e = explain(n["out"], n["w1"], expand=True)
    assert e.expression.free_symbols == {s0, w0, w1, w2}
    h1 = 1 / (1 + sympy.exp(-w0 * s0))  # s1 = S(w0 s0), s2 = S(w1 s1), by the slide
    h2 = 1 / (1 + sympy.exp(-w1 * h1))
    assert sympy.simplify(e.expression - w2 * h2 * (1 - h2) * h1) == 0


def test_unlabelled_intermediate_nodes_get_readable_generated_names():
    a, b = Value(0.5, "a"), Value(-2.0, "b")
    out = (a * b).sigmoid() * a
    out.label = "out"
    e = explain(out, b)
    # σ′ in the made-up name u2 of the sigmoid, defined on the next line
    first, second = str(e).splitlines()
    assert first.startswith("dout/db = a · u2·(1 − u2) · a = ")
    assert second == "  where u1 = a * b, u2 = sigmoid(u1)"
    assert {str(s) for s in e.expression.free_symbols} == {"a", "u2"}
    assert "\n" not in e.to_text(ascii=True)  # the pasteable form stays one line


def test_factors_of_one_are_left_out_of_the_text_but_kept_in_the_paths():
    x, y = Value(2.0, "x"), Value(5.0, "y")
    out = x * y + x  # dout/dx = y + 1
    out.label = "out"
    e = explain(out, x)
    assert sympy.simplify(e.expression - (sympy.Symbol("y") + 1)) == 0
    assert str(e) == "dout/dx = y + 1 = 5 + 1 = 6"
    assert [len(p.factors) for p in e.paths] == [2, 1]


def test_the_output_itself_and_a_node_outside_the_graph():
    n = kramer_chain()
    assert explain(n["out"], n["out"]).value == 1.0
    assert str(explain(n["out"], n["out"])) == "dout/dout = 1"
    stranger = Value(3.0, "z")
    e = explain(n["out"], stranger)
    assert e.value == 0.0 and e.paths == [] and e.expression == 0
    assert str(e) == "dout/dz = 0   (z is not in the graph of out: no path leads from it to out)"
    x = Value(1.0, "x")
    y = x * 2.0
    (constant,) = (p for p in y.parents if p is not x)
    assert "Constant" in str(explain(y, constant))


def test_bad_arguments_raise_clear_type_errors():
    n = kramer_chain()
    with pytest.raises(TypeError, match="explain\\(\\) needs a Value as output, not float"):
        explain(1.0, n["w1"])
    with pytest.raises(TypeError, match="wrt must be a Value in output's graph, not str"):
        explain(n["out"], "w1")


def test_path_explosion_is_refused_with_a_clear_message():
    # 12 diamonds y ← (y·a + y·b): 2^12 = 4096 paths from x, more than the default limit.
    x = Value(0.9, "x")
    y = x
    for i in range(12):
        y = y * Value(0.5, f"a{i}") + y * Value(0.25, f"b{i}")
    assert DEFAULT_MAX_PATHS < 2 ** 12
    with pytest.raises(ValueError, match="sum over 4096 paths, more than max_paths=1000"):
        explain(y, x)
    # Each path has 2 links per diamond: 4096 · 24 = 98,304 factors, over max_factors too.
    e = explain(y, x, max_paths=5000, max_factors=None)
    assert len(e.paths) == 4096
    assert e.value == pytest.approx(0.75 ** 12, rel=1e-12)  # each diamond multiplies by a + b


def test_long_chain_needs_no_recursion():
    x = Value(0.1, "x")
    y = x
    for _ in range(3000):
        y = y.sin()
    e = explain(y, x)
    assert len(e.paths) == 1 and len(e.paths[0].factors) == 3000
    y.backward()
    assert e.value == x.grad


def test_latex_for_jupyter():
    n = kramer_chain()
    latex = explain(n["out"], n["w1"])._repr_latex_()
    # Kramer: dout/dw1 = w2 · s2(1 − s2) · s1, factors in the path's order (SymPy's own
    # printer sorted them: s1 s2 w2 (1 − s2)), with the slide's subscripts.
    assert latex == (r"$\frac{\partial \mathrm{out}}{\partial w_{1}} = w_{2} \cdot s_{2} "
                     r"\left(1 - s_{2}\right) \cdot s_{1} = 0.5 \cdot 0.1982 \cdot 0.9820 "
                     r"= 0.09734$")


def test_total_factors_are_counted_and_bounded_before_anything_is_built():
    # k diamonds y ← y·a + y·b, then a chain of m products by 0.5: every one of the 2^k
    # paths from x has 2 links per diamond (the + and a ·) and m links of the chain.
    def graph(k, m):
        x = Value(0.9, "x")
        y = x
        for i in range(k):
            y = y * Value(0.5, f"a{i}") + y * Value(0.25, f"b{i}")
        for _ in range(m):
            y = y * 0.5
        return x, y

    x, y = graph(9, 1880)
    assert count_paths(y, x) == PathCount(paths=512, factors=512 * (2 * 9 + 1880))
    assert count_paths(y, Value(1.0)) == PathCount(0, 0)  # not in the graph
    assert DEFAULT_MAX_FACTORS == 10_000
    import time

    start = time.monotonic()
    with pytest.raises(ExplanationSizeError, match="has 971776 factors over its 512 paths, "
                                                   "more than max_factors=10000") as caught:
        explain(y, x)  # took 44 s and printed 24 MB before the bound
    assert time.monotonic() - start < 2
    assert isinstance(caught.value, ValueError) and caught.value.count.paths == 512
    # Within the bound: 16 paths · (8 + 617) = 10,000 factors exactly.
    x, y = graph(4, 617)
    assert count_paths(y, x).factors == 10_000
    e = explain(y, x)
    assert sum(len(p.factors) for p in e.paths) == 10_000
    assert e.path_sum == pytest.approx(0.75 ** 4 * 0.5 ** 617, rel=1e-9)
    with pytest.raises(ExplanationSizeError, match="more than max_factors=9999"):
        explain(y, x, max_factors=9999)


def test_a_squared_input_is_two_links():
    # y = x·x: dy/dx = x + x, two paths of one factor; z = y·y: four paths of two.
    x = Value(3.0, "x")
    y = x * x
    z = y * y
    assert count_paths(y, x) == PathCount(2, 2)
    assert count_paths(z, x) == PathCount(4, 8)
    assert count_paths(z, y) == PathCount(2, 2)
    assert sum(len(p.factors) for p in explain(z, x).paths) == 8


def test_size_limits_are_checked_as_options():
    x = Value(1.0, "x")
    y = x * 2
    with pytest.raises(TypeError, match="explain: max_paths must be a positive whole number "
                                        "or None, not '5' \\(str\\)"):
        explain(y, x, max_paths="5")
    with pytest.raises(ValueError, match="explain: max_factors must be a positive whole"):
        explain(y, x, max_factors=0)
    assert explain(y, x, max_paths=None, max_factors=None).value == 2.0


def test_expand_must_be_a_bool():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="explain: expand must be True or False, not 'yes'"):
        explain(x * 2, x, expand="yes")
