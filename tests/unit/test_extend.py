"""Extending: one defprimitive call and the new primitive works in every reader (issue 11's
acceptance test). softplus(x) = log(1 + e^x) has derivative σ(x) (by hand: d/dx log(1 + e^x)
= e^x / (1 + e^x)); softsign(x) = x / (1 + |x|) has derivative 1 / (1 + |x|)².
"""

from __future__ import annotations

import math

import pytest
import sympy

import autograd_lite as ag
from autograd_lite import Value, explain, grad, gradcheck, gradients, to_sympy, trace
from autograd_lite.extend import defprimitive, undefine
from autograd_lite.symbolic import derivative_table


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.fixture
def softplus():
    primitive = defprimitive("softplus", lambda x, f: f.log(1 + f.exp(x)),
                             [lambda x, out, f: f.sigmoid(x)])
    yield primitive
    undefine("softplus")


@pytest.fixture
def softsign():
    primitive = defprimitive("softsign", lambda x, f: x / (1 + f.abs(x)),
                             [lambda x, out, f: 1 / (1 + f.abs(x)) ** 2],
                             smooth=["kink"])
    yield primitive
    undefine("softsign")


def test_softplus_works_in_every_reader(softplus, tmp_path):
    x = Value(0.5, "x")
    y = softplus(x)
    y.label = "y"
    assert isinstance(y, Value) and y.op == "softplus"
    assert y.data == pytest.approx(math.log(1 + math.exp(0.5)), rel=1e-15)
    assert x.softplus().data == y.data  # the method, from the same entry
    # backward and gradients
    y.backward()
    assert x.grad == pytest.approx(_sigmoid(0.5), rel=1e-15)
    assert gradients(y, [x]) == [pytest.approx(_sigmoid(0.5), rel=1e-15)]
    # second derivative through create_graph: σ'(x) = σ(x)(1 − σ(x))
    (slope,) = gradients(y, [x], create_graph=True)
    assert gradients(slope, [x])[0] == pytest.approx(_sigmoid(0.5) * (1 - _sigmoid(0.5)))
    assert grad(grad(softplus))(0.5) == pytest.approx(_sigmoid(0.5) * (1 - _sigmoid(0.5)))
    assert gradcheck(lambda t: softplus(t * 2.0), 0.3)
    # SymPy: the forward rule over symbols, and its derivative matches the rule
    t = sympy.Symbol("x")
    assert sympy.simplify(to_sympy(y) - sympy.log(1 + sympy.exp(t))) == 0
    # trace, explain: the rule printed in node names
    recorded = trace(y, accumulate=False)
    assert recorded[0].contributions[0].local == pytest.approx(_sigmoid(0.5))
    explanation = explain(y, x)
    assert sympy.simplify(explanation.expression - 1 / (1 + sympy.exp(-t))) == 0
    assert explanation.value == pytest.approx(_sigmoid(0.5))
    assert str(explanation).startswith("dy/dx = ")
    # draw: the op node and the edge's local derivative
    source = ag.draw(y, show_derivatives=True).source
    assert "softplus" in source and "dy/dx" in source
    # the lecture's table
    row = next(line for line in derivative_table().splitlines() if "| softplus |" in line)
    assert "exp" in row and "d/dx" in row


def test_a_second_one_entry_primitive_softsign(softsign):
    for point in (-1.5, 0.7):
        x = Value(point, "x")
        y = softsign(x)
        y.backward()
        assert y.data == pytest.approx(point / (1 + abs(point)))
        assert x.grad == pytest.approx(1 / (1 + abs(point)) ** 2)
        assert gradcheck(softsign, point)
        assert explain(y, x).value == pytest.approx(1 / (1 + abs(point)) ** 2)


def test_defprimitive_refuses_what_would_fail_later():
    with pytest.raises(ValueError, match="built-in"):
        defprimitive("sigmoid", lambda x, f: x, [lambda x, out, f: 1])
    with pytest.raises(TypeError, match="forward rule failed on symbols.*f.exp"):
        defprimitive("mathy", lambda x, f: math.exp(x), [lambda x, out, f: out])
    assert "mathy" not in ag.PRIMITIVES
    with pytest.raises(TypeError, match="2 input name.*1 derivative"):
        defprimitive("two", lambda a, b, f: a * b, [lambda a, b, out, f: b], inputs=("a", "b"))
    with pytest.raises(TypeError, match="derivative for input 'x' failed"):
        defprimitive("wrongargs", lambda x, f: x, [lambda x, f: 1])
    with pytest.raises(ValueError, match="Value already has an attribute 'backward'"):
        defprimitive("backward", lambda x, f: x, [lambda x, out, f: 1])
    with pytest.raises(ValueError, match="identifier"):
        defprimitive("soft plus", lambda x, f: x, [lambda x, out, f: 1])


def test_inputs_with_defaults_and_a_domain_check():
    scaled = defprimitive(
        "scaled_exp", lambda x, k, f: f.exp(k * x),
        [lambda x, k, out, f: k * out, lambda x, k, out, f: x * out],
        inputs=("x", ("k", 2.0)))
    try:
        x = Value(0.5, "x")
        y = scaled(x)  # k = 2 by default
        y.backward()
        assert y.data == pytest.approx(math.exp(1.0))
        assert x.grad == pytest.approx(2 * math.exp(1.0))  # d/dx e^(kx) = k e^(kx)
        assert x.scaled_exp(k=3.0).data == pytest.approx(math.exp(1.5))
    finally:
        undefine("scaled_exp")
    checked = defprimitive(
        "log2", lambda x, f: f.log(x) / math.log(2), [lambda x, out, f: 1 / (x * math.log(2))],
        check=lambda x: (ValueError, "log2 of a non-positive number") if x <= 0 else None)
    try:
        with pytest.raises(ValueError,
                           match=r"log2 of a non-positive number in log2\('z' = -1.0\)"):
            checked(Value(-1.0, "z"))
    finally:
        undefine("log2")


def test_an_added_primitive_is_an_nn_activation(softplus):
    import nn

    assert "softplus" in nn.module.activations()
    neuron = nn.Neuron(2, activation="softplus", seed=0)
    neuron.set_parameters([0.5, -1.0, 0.25])  # w0, w1, b
    out = neuron([2.0, 1.0])  # softplus(0.5·2 − 1·1 + 0.25) = softplus(0.25)
    assert out.data == pytest.approx(math.log(1 + math.exp(0.25)))
    out.backward()
    w0 = neuron.parameters()[0]
    assert w0.grad == pytest.approx(_sigmoid(0.25) * 2.0)  # σ(z)·x0


def test_the_testing_strategies_generate_an_added_primitive(softplus):
    from hypothesis import given, settings

    from autograd_lite.testing import (
        assert_gradients_match_finite_differences,
        assert_gradients_match_sympy,
        assert_second_derivatives_match_sympy,
        expression_and_point,
    )

    seen = []

    @settings(max_examples=40, deadline=None)
    @given(expression_and_point(("x", "y"), primitives=["softplus", "mul"], max_operations=4))
    def check(case):
        expression, point = case
        seen.append(expression.primitives)
        assert_gradients_match_sympy(expression, point)
        assert_second_derivatives_match_sympy(expression, point)
        assert_gradients_match_finite_differences(expression, point)

    check()
    assert any("softplus" in used for used in seen)


def test_the_property_check_catches_a_wrong_rule_of_an_added_primitive():
    from hypothesis import Phase, given, settings

    from autograd_lite.testing import assert_gradients_match_sympy, expression_and_point

    # softplus with the derivative 1.001·σ(x): one per mille off
    defprimitive("softplus_wrong", lambda x, f: f.log(1 + f.exp(x)),
                 [lambda x, out, f: 1.001 * f.sigmoid(x)])
    try:
        @settings(max_examples=60, phases=[Phase.generate], deadline=None)
        @given(expression_and_point(("x",), primitives=["softplus_wrong"], max_operations=2))
        def check(case):
            assert_gradients_match_sympy(*case)

        with pytest.raises(AssertionError, match="disagree with SymPy's diff"):
            check()
    finally:
        undefine("softplus_wrong")


def test_the_graph_language_calls_an_added_primitive_from_python(softplus):
    from autograd_lite.graph_language import GraphError, evaluate_graph, functions

    assert "softplus" in functions()
    graph = evaluate_graph("h = softplus(w*x); out = 2*h", {"w": 0.5, "x": 1.0})
    out = graph.output
    out.backward()
    # d out/dw = 2·σ(w·x)·x at w·x = 0.5
    assert graph.inputs["w"].grad == pytest.approx(2 * _sigmoid(0.5) * 1.0)
    with pytest.raises(GraphError, match=r"softplus\(\) takes 1 argument, got 2"):
        evaluate_graph("out = softplus(x, x)", {"x": 1.0})


def test_an_added_primitive_with_a_default_in_the_graph_language():
    from autograd_lite.graph_language import evaluate_graph

    defprimitive("scaled", lambda x, k, f: k * x, [lambda x, k, out, f: k,
                                                   lambda x, k, out, f: x],
                 inputs=("x", ("k", 3.0)))
    try:
        assert evaluate_graph("out = scaled(x)", {"x": 2.0}).output.data == 6.0
        assert evaluate_graph("out = scaled(x, k=0.5)", {"x": 2.0}).output.data == 1.0
        assert evaluate_graph("out = scaled(x, 4)", {"x": 2.0}).output.data == 8.0
    finally:
        undefine("scaled")
