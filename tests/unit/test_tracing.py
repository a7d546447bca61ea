"""trace(): the backward pass step by step, checked against Kramer, "Backpropagation".

The chain, slide "Forward propagation":
    x1 = w0·s0 = 4, s1 = S(x1) = 0.982, x2 = w1·s1 = 0.982, s2 = S(x2) = 0.7275,
    out = w2·s2 = 0.3638
and the local derivatives of the slides "How does a change in weight w1 impact output?" and
"... w0 impact output?", by the numbers the lecture itself gives those slides:
    dout/ds2 = w2 (slide 16), ds2/dx2 = s2(1 − s2) (slide 21, after "A complicated
    derivative"), dx2/dw1 = s1 (slide 22), dx2/ds1 = w1 (slide 26),
    ds1/dx1 = s1(1 − s1) (slide 27), dx1/dw0 = s0 (slide 28);
    and for the cost, dC/dout = out − target (slide 35, "Create a cost function").
"""

import math
import xml.etree.ElementTree as ET

import pytest
import sympy

from autograd_lite import Step, Trace, Value, sigmoid, trace
from autograd_lite.lectures import kramer_chain

# The slide's rounded numbers, and the same quantities computed by hand with math.exp.
SLIDE = {"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5, "x1": 4.0, "s1": 0.982, "x2": 0.982,
         "s2": 0.7275, "out": 0.3638}


def S(x):  # noqa: N802 - the slide calls it S
    """The slide's sigmoid, S(x) = 1 / (1 + e^-x)."""
    return 1 / (1 + math.exp(-x))


HAND_S1 = S(4.0)
HAND_S2 = S(HAND_S1)




def test_kramer_trace_has_exactly_five_steps_output_first():
    # "Work backwards from output to weight": out, s2, x2, s1, x1 — leaves have no step.
    n = kramer_chain()
    t = trace(n["out"])
    assert isinstance(t, Trace)
    assert [step.name for step in t] == ["out", "s2", "x2", "s1", "x1"]
    assert [step.node for step in t.steps] == [n[k] for k in ("out", "s2", "x2", "s1", "x1")]
    assert all(isinstance(step, Step) for step in t)
    assert len(t) == 5
    assert [step.index for step in t] == [1, 2, 3, 4, 5]


def test_kramer_upstream_gradients_are_the_slides_products():
    n = kramer_chain()
    steps = {step.name: step for step in trace(n["out"])}
    s1, s2 = HAND_S1, HAND_S2
    assert steps["out"].upstream == 1.0
    assert steps["s2"].upstream == pytest.approx(0.5)  # dout/ds2 = w2 (slide 16)
    assert steps["x2"].upstream == pytest.approx(0.5 * s2 * (1 - s2))  # · s2(1 − s2)
    assert steps["s1"].upstream == pytest.approx(0.5 * s2 * (1 - s2) * 1.0)  # · w1
    assert steps["x1"].upstream == pytest.approx(0.5 * s2 * (1 - s2) * s1 * (1 - s1))
    # With the slide's rounded numbers: dout/dx2 = 0.5 · 0.7275(1 − 0.7275) ≈ 0.0991
    assert steps["x2"].upstream == pytest.approx(0.5 * 0.7275 * (1 - 0.7275), abs=5e-5)


def test_kramer_local_derivatives_as_numbers_and_as_the_slides_formulas():
    n = kramer_chain()
    t = trace(n["out"])
    sym = {name: sympy.Symbol(name) for name in SLIDE}
    expected = {  # (step, input): (the slide's formula, its value with the slide's numbers)
        ("out", "w2"): (sym["s2"], 0.7275),
        ("out", "s2"): (sym["w2"], 0.5),
        ("s2", "x2"): (sym["s2"] * (1 - sym["s2"]), 0.7275 * (1 - 0.7275)),
        ("x2", "w1"): (sym["s1"], 0.982),
        ("x2", "s1"): (sym["w1"], 1.0),
        ("s1", "x1"): (sym["s1"] * (1 - sym["s1"]), 0.982 * (1 - 0.982)),
        ("x1", "w0"): (sym["s0"], 2.0),
        ("x1", "s0"): (sym["w0"], 2.0),
    }
    seen = {}
    for step in t:
        for c in step.contributions:
            seen[(step.name, c.name)] = c
    assert set(seen) == set(expected)
    for key, (formula, number) in expected.items():
        c = seen[key]
        assert sympy.simplify(c.formula - formula) == 0, key
        assert c.local == pytest.approx(number, abs=5e-4), key
    assert seen[("s2", "x2")].formula_text == "s2·(1 − s2)"


def test_kramer_contributions_reach_the_three_gradients_of_the_slides():
    n = kramer_chain()
    t = trace(n["out"])
    by_input = {c.name: c for step in t for c in step.contributions}
    s1, s2 = HAND_S1, HAND_S2
    # Each contribution is upstream × local, and here each input gets exactly one.
    for step in t:
        for c in step.contributions:
            assert c.contribution == pytest.approx(step.upstream * c.local, rel=1e-15)
            assert c.grad_after == c.contribution
    assert by_input["w2"].grad_after == pytest.approx(s2)  # dout/dw2 = s2
    assert by_input["w1"].grad_after == pytest.approx(0.5 * s2 * (1 - s2) * s1)
    assert by_input["w0"].grad_after == pytest.approx(
        0.5 * s2 * (1 - s2) * 1.0 * s1 * (1 - s1) * 2.0)
    # The slide's rounded numbers: dout/dw1 ≈ 0.5 · 0.7275 · 0.2725 · 0.982 ≈ 0.0973
    assert by_input["w1"].grad_after == pytest.approx(0.0973, abs=1e-4)


def test_trace_accumulates_into_grad_like_backward():
    traced, backed = kramer_chain(), kramer_chain()
    trace(traced["out"])
    backed["out"].backward()
    for name in SLIDE:
        assert traced[name].grad == backed[name].grad, name
    trace(traced["out"])  # a second pass adds the same gradients again: every grad doubles
    for name in SLIDE:
        assert traced[name].grad == 2 * backed[name].grad, name


def test_trace_with_accumulate_false_leaves_grad_alone():
    n = kramer_chain()
    n["w1"].grad = 42.0
    t = trace(n["out"], accumulate=False)
    assert n["w1"].grad == 42.0
    assert all(n[k].grad == 0.0 for k in SLIDE if k != "w1")
    assert t.gradients[n["w1"]] == pytest.approx(0.5 * HAND_S2 * (1 - HAND_S2) * HAND_S1)


def test_step_numbers_are_this_pass_even_when_grad_held_something():
    n = kramer_chain()
    n["out"].backward()
    t = trace(n["out"])  # .grad already holds one pass: the steps still show one pass
    assert t.step_of("x2").upstream == pytest.approx(0.5 * HAND_S2 * (1 - HAND_S2))


def test_reused_node_receives_two_contributions_and_the_running_gradient_sums_them():
    # y = x·x: d y/dx = x + x = 2x (both inputs are x) — 6 at x = 3.
    x = Value(3.0, "x")
    y = x * x
    y.label = "y"
    (step,) = trace(y)
    assert [c.name for c in step.contributions] == ["x", "x"]
    assert [c.position for c in step.contributions] == [0, 1]
    assert [c.grad_after for c in step.contributions] == [3.0, 6.0]
    assert x.grad == 6.0


def test_diamond_running_gradient_is_complete_before_the_node_is_processed():
    # h = sigmoid(x) used twice: out = 2h + 3h, so dout/dh = 5 is summed before h's step.
    x = Value(0.3, "x")
    h = sigmoid(x)
    h.label = "h"
    a, b = h * 2, h * 3
    out = a + b
    out.label = "out"
    t = trace(out)
    h_step = t.step_of("h")
    assert h_step.upstream == pytest.approx(5.0)
    received = [c.grad_after for step in t for c in step.contributions if c.parent is h]
    assert received == pytest.approx([2.0, 5.0]) or received == pytest.approx([3.0, 5.0])
    assert t.steps.index(h_step) == len(t) - 1  # processed after both of its users
    assert x.grad == pytest.approx(5 * S(0.3) * (1 - S(0.3)))


def test_constant_inputs_get_no_contribution_but_appear_in_the_formula():
    # Kramer's cost C = ½(target − out)², dC/dout = out − target (slide 35), target 0.7.
    n = kramer_chain()
    cost = 0.5 * (0.7 - n["out"]) ** 2
    cost.label = "C"
    t = trace(cost)
    assert len(t) == 8  # mul, pow, sub, then the five steps of the chain
    assert all(type(c.parent) is Value for step in t for c in step.contributions)
    pow_step = t[1]
    (c,) = pow_step.contributions
    assert sympy.simplify(c.formula - 2 * sympy.Symbol(c.name)) == 0  # d(u²)/du = 2u
    assert t.step_of("out").upstream == pytest.approx(S(S(4.0)) * 0.5 - 0.7)


def test_str_is_a_table_with_every_step_and_the_formulas():
    n = kramer_chain()
    text = str(trace(n["out"]))
    lines = text.splitlines()
    assert "out = 0.3638" in lines[0] and "5 steps" in lines[0]
    assert "local derivative" in lines[1]
    body = lines[3:]
    assert len(body) == 8  # one row per input: 2 + 1 + 2 + 1 + 2
    starts = [line.split()[:2] for line in body if line[:1].isdigit()]
    assert starts == [["1", "out"], ["2", "s2"], ["3", "x2"], ["4", "s1"], ["5", "x1"]]
    assert "s2·(1 − s2)" in text and "s1·(1 − s1)" in text
    assert "sigmoid(x2)" in text and "w2 * s2" in text
    assert "0.7275" in text and "0.0973" in text  # s2 and dout/dw1 as the slides print them


def test_markdown_and_html_tables_have_a_row_per_input():
    n = kramer_chain()
    t = trace(n["out"])
    markdown = t.to_markdown().splitlines()
    table = [line for line in markdown if line.startswith("|")]
    assert len(table) == 2 + 8  # header, separator, 8 rows
    assert table[2].startswith("| 1 | out = 0.3638 |")
    root = ET.fromstring(t._repr_html_())  # well-formed: Jupyter shows it as a table
    assert root.tag == "table"
    assert len(root.findall("./tbody/tr")) == 8
    assert len(root.findall("./thead/tr/th")) == 8


def test_step_of_and_grads_after():
    n = kramer_chain()
    t = trace(n["out"])
    assert t.step_of(n["s1"]) is t[3]
    with pytest.raises(KeyError, match="leaves have no step"):
        t.step_of("w0")
    assert t.grads_after(0) == {n["out"]: 1.0}
    after_two = t.grads_after(2)
    assert set(after_two) == {n["out"], n["w2"], n["s2"], n["x2"]}
    assert after_two[n["x2"]] == pytest.approx(0.5 * HAND_S2 * (1 - HAND_S2))
    with pytest.raises(IndexError):
        t.grads_after(6)


def test_trace_of_a_leaf_has_no_steps_and_bad_input_is_rejected():
    leaf = Value(1.5, "a")
    t = trace(leaf)
    assert len(t) == 0 and leaf.grad == 1.0
    with pytest.raises(TypeError, match="trace\\(\\) needs a Value, not float"):
        trace(1.5)


def test_unlabelled_nodes_get_readable_generated_names():
    a, b = Value(2.0), Value(-1.0)
    t = trace((a * b).tanh())
    # Results are u1, u2 … and inputs v1, v2 …, in reading order: "mul1" read as a product,
    # "cos1" as cos(1). Each made-up name is defined before the table uses it.
    assert [step.name for step in t] == ["u2", "u1"]
    assert sorted(c.name for c in t[1].contributions) == ["v1", "v2"]
    assert all(c.name == t.names[c.parent] for c in t[1].contributions)
    text = str(t)
    assert text.splitlines()[1] == "where v1 = 2, v2 = −1, u1 = v1 * v2, u2 = tanh(u1)"
    assert "1 − u2²" in text  # tanh's rule, 1 − out², in the generated name


def test_long_chain_is_traced_without_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(3000):
        y = y * 1.0001
    t = trace(y, accumulate=False)
    assert len(t) == 3000
    assert t.gradients[x] == pytest.approx(1.0001 ** 3000)


def test_trace_accumulate_must_be_a_bool():
    # accumulate="no" is a true string: it added the gradients into .grad without a word.
    from autograd_lite import Value, trace

    x = Value(2.0, "x")
    y = x * 3
    with pytest.raises(TypeError, match="trace: accumulate must be True or False, not 'no'"):
        trace(y, accumulate="no")
    assert x.grad == 0.0
