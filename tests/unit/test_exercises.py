"""Exercises (issue 15): check_formula grades a chain-rule formula, check_derivative a local
derivative rule, and the exercise notebook runs its hidden solutions.

The lecture graphs: Kramer's chain (the slide's three formulas), Kramer's cost
C = ½(target − out)², and a Kauchak hidden layer whose input reaches the loss along two
paths. Every correct form is accepted (and proved equal by SymPy); each typical wrong
answer gets a counterexample whose numbers are checked here against the engine, and a
message that names the mistake.
"""

from __future__ import annotations

import doctest
import importlib.util
import math
from pathlib import Path

import jupytext
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import Value, explain, gradients
from autograd_lite import exercises as exercises_module
from autograd_lite.exercises import MISTAKES, Verdict, check_derivative, check_formula
from autograd_lite.graph import as_graph
from autograd_lite.graph_language import evaluate_graph
from autograd_lite.lectures import (
    KRAMER_FIRST_GUESS,
    KRAMER_GRAPH,
    KRAMER_SLIDE_FORMULAS,
    kramer_chain,
)
from autograd_lite.primitives import PRIMITIVES
from autograd_lite.testing import PRIMITIVE_NAMES, expressions

ROOT = Path(__file__).resolve().parents[2]

COST_GRAPH = KRAMER_GRAPH + "; C = (target - out)**2 / 2"  # Kramer: C = ½(target − out)²
HIDDEN_GRAPH = ("a1 = w11*x1 + w12*x2; h1 = sigmoid(a1); a2 = w21*x1 + w22*x2; "
                "h2 = sigmoid(a2); z = v1*h1 + v2*h2; yhat = sigmoid(z); "
                "loss = (y - yhat)**2 / 2")  # Kauchak: h_k = f(w_k·x), ŷ = f(v·h), ½(y − ŷ)²
HIDDEN_POINT = {"x1": 1.0, "x2": 0.5, "w11": 0.5, "w12": -0.3, "w21": 0.2, "w22": 0.8,
                "v1": 1.5, "v2": -1.0, "y": 1.0}
GRAPHS = {
    "kramer": (KRAMER_GRAPH, dict(KRAMER_FIRST_GUESS)),
    "cost": (COST_GRAPH, {**KRAMER_FIRST_GUESS, "target": 0.7}),
    "hidden": (HIDDEN_GRAPH, HIDDEN_POINT),
}


def build(key: str, point: dict[str, float] | None = None):
    text, values = GRAPHS[key]
    return evaluate_graph(text, point or values)


def grade(key: str, wrt: str, answer: str) -> Verdict:
    graph = build(key)
    return check_formula(graph.output, graph.nodes[wrt], answer)


# ---------------------------------------------------------------- correct answers

CORRECT = [
    # Kramer's three, as the slides write them (the lecture module keeps them)
    *[("kramer", w, formula) for w, formula in KRAMER_SLIDE_FORMULAS.items()],
    # the same, in other correct forms
    ("kramer", "w2", "out/w2"),
    ("kramer", "w2", "sigmoid(x2)"),
    ("kramer", "w1", "dout/dw1 = w2 · s2·(1 − s2) · s1"),      # the lecture's notation
    ("kramer", "w1", "w2*sigmoid(x2)*(1 - sigmoid(x2))*s1"),    # the sigmoid written out
    ("kramer", "w1", "s1*w2*(s2 - s2**2)"),                     # reordered, multiplied out
    ("kramer", "w1", "w2*exp(-x2)/(1 + exp(-x2))**2*s1"),       # the quotient rule's form
    ("kramer", "w0", "w2*s2*(1-s2)*w1*s1*(1-s1)*s0"),
    ("kramer", "w0", "out*(1 - s2)*w1*s1*(1 - s1)*s0"),         # w2*s2 is out
    ("kramer", "s0", "w2*s2*(1 - s2)*w1*s1*(1 - s1)*w0"),
    ("kramer", "out", "1"),
    # the cost
    ("cost", "out", "out - target"),
    ("cost", "w2", "(out - target)*s2"),
    ("cost", "w2", "-(target - out)*s2"),
    ("cost", "w1", "(out - target)*w2*s2*(1 - s2)*s1"),
    ("cost", "w1", "2*(1/2)*(target - out)*(-1)*w2*s2*(1 - s2)*s1"),  # explain's factors
    ("cost", "w0", "(out - target)*w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0"),
    ("cost", "target", "target - out"),
    # Kauchak's hidden layer: the slide's forms, and the two-path input derivative
    ("hidden", "v1", "-(y - yhat)*yhat*(1 - yhat)*h1"),
    ("hidden", "v2", "(yhat - y)*yhat*(1 - yhat)*h2"),
    ("hidden", "w11", "-(y - yhat)*yhat*(1 - yhat)*v1*h1*(1 - h1)*x1"),
    ("hidden", "w22", "-(y - yhat)*yhat*(1 - yhat)*v2*h2*(1 - h2)*x2"),
    ("hidden", "x1", "(yhat - y)*yhat*(1 - yhat)*(v1*h1*(1 - h1)*w11 + v2*h2*(1 - h2)*w21)"),
    ("hidden", "x1", "(yhat - y)*yhat*(1 - yhat)*v1*h1*(1 - h1)*w11"
                     " + (yhat - y)*yhat*(1 - yhat)*v2*h2*(1 - h2)*w21"),
    ("hidden", "h1", "(yhat - y)*yhat*(1 - yhat)*v1"),
]


@pytest.mark.parametrize(("key", "wrt", "answer"), CORRECT)
def test_every_correct_form_is_accepted_and_proved(key, wrt, answer):
    verdict = grade(key, wrt, answer)
    assert verdict.correct, verdict.message
    assert verdict and verdict.mistake is None
    assert verdict.proved is True
    assert verdict.message.startswith("Correct: ")
    assert "SymPy proves it equal" in verdict.message
    assert verdict.points == exercises_module.DEFAULT_POINTS
    assert verdict.counterexample is None


@pytest.mark.parametrize("key", GRAPHS)
def test_the_expected_formula_parses_and_is_graded_correct(key):
    graph = build(key)
    for node in as_graph(graph.output).leaves:
        verdict = check_formula(graph.output, node, "0")
        again = check_formula(graph.output, node, verdict.expected)
        assert again.correct, (verdict.expected, again.message)


def test_the_expected_formulas_read_as_the_lectures_write_them():
    assert grade("kramer", "w1", "0").expected == "w2*s2*(1 - s2)*s1"
    assert grade("kramer", "w0", "0").expected == "w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0"
    # ½ · 2·(target − out) · (−1) gathered: the slide's (out − target)
    assert grade("cost", "w2", "0").expected == "(out - target)*s2"
    assert grade("hidden", "x1", "0").expected == (
        "(yhat - y)*yhat*(1 - yhat)*v1*h1*(1 - h1)*w11"
        " + (yhat - y)*yhat*(1 - yhat)*v2*h2*(1 - h2)*w21")


def test_a_cost_built_from_values_is_graded_too():
    # Kramer's cost written with Values, as a user writes it: its inner nodes have no labels.
    n = kramer_chain()
    target = Value(0.7, label="target")
    cost = 0.5 * (n["out"] - target) ** 2
    cost.label = "C"
    assert check_formula(cost, n["w1"], "(out - target)*w2*s2*(1 - s2)*s1").correct
    wrong = check_formula(cost, n["w1"], "(target - out)*w2*s2*(1 - s2)*s1")
    assert wrong.mistake == "sign"
    assert "Check the output's end of the chain: dC/dout = out - target" in wrong.message


def test_wrt_may_be_given_by_name_and_a_node_off_the_graph_has_derivative_0():
    n = kramer_chain()
    assert check_formula(n["out"], "w1", "w2*s2*(1 - s2)*s1").correct
    elsewhere = Value(3.0, label="z")
    assert check_formula(n["out"], elsewhere, "0").correct
    wrong = check_formula(n["out"], elsewhere, "s2")
    assert not wrong.correct and "dout/dz is 0" in wrong.message
    assert "no path leads from it to out" in wrong.message


# ---------------------------------------------------------------- typical wrong answers

# (graph, wrt, answer, the mistake, what the message must say)
WRONG = [
    # Kramer's chain
    ("kramer", "w2", "w2", "wrong_node",
     ["dout/dw2 (out = w2 * s2) is s2", "has w2 there", "which is dout/ds2",
      "the other input"]),
    ("kramer", "w2", "w2*s2", "extra_factor",
     ["An extra factor w2", "dout/ds2 = w2", "edge s2 → out", "no path from w2 to out"]),
    ("kramer", "w2", "1", "dropped_factor", ["A factor is missing: dout/dw2 = s2"]),
    ("kramer", "w1", "w2*s2*(1-s2)", "dropped_factor",
     ["A factor is missing: dx2/dw1 = s1 (x2 = w1 * s1)"]),
    ("kramer", "w1", "s2*(1-s2)*s1", "dropped_factor",
     ["A factor is missing: dout/ds2 = w2 (out = w2 * s2)"]),
    ("kramer", "w1", "w2*s1*(1-s1)*s1", "wrong_node",     # s(1−s) of the wrong node
     ["ds2/dx2 (s2 = sigmoid(x2)) is s2*(1 - s2)", "has s1*(1 - s1) there",
      "which is ds1/dx1 (s1 = sigmoid(x1))"]),
    ("kramer", "w1", "w2*x2*(1-x2)*s1", "wrong_node",     # the slope in the input
     ["has x2*(1 - x2) there", "written in its output s2, not in its input x2"]),
    ("kramer", "w1", "w2*s2*s1", "partial_factor",
     ["Part of a local derivative is missing: ds2/dx2 = s2*(1 - s2)", "sigmoid's rule",
      "has only s2 of it"]),
    ("kramer", "w1", "w2*s2*(1-s2)*w1", "wrong_node",
     ["dx2/dw1 (x2 = w1 * s1) is s1", "has w1 there", "which is dx2/ds1"]),
    ("kramer", "w1", "-w2*s2*(1-s2)*s1", "sign", ["The sign is wrong", "minus dout/dw1"]),
    ("kramer", "w1", "w2*s2*(1-s2)*s1*w1", "extra_factor",
     ["An extra factor w1", "dx2/ds1 = w1", "edge s1 → x2"]),
    ("kramer", "w1", "w2*s2*(1-s2)*s1*s0", "extra_factor",
     ["An extra factor s0", "dx1/dw0 = s0", "edge w0 → x1"]),
    ("kramer", "w1", "w2*s2*(1-s2)*s1*s1", "extra_factor",
     ["dx2/dw1 = s1 (x2 = w1 * s1) is in your formula twice"]),
    ("kramer", "w1", "s1", "stops_early",
     ["Your formula is dx2/dw1: the chain stops at x2", "multiply by dout/dx2 = w2*s2*(1 - s2)"]),
    ("kramer", "w1", "w2*s2*(1-s2)*w1*s1*(1-s1)*s0", "wrong_wrt",
     ["Your formula is dout/dw0, the derivative with respect to w0, not w1"]),
    ("kramer", "w0", "w2*w1*s0", "dropped_factor",        # both sigmoid slopes forgotten
     ["Two factors are missing: ds2/dx2 = s2*(1 - s2) (s2 = sigmoid(x2)), and "
      "ds1/dx1 = s1*(1 - s1) (s1 = sigmoid(x1))"]),
    ("kramer", "w0", "w2*s2*(1-s2)*w1*s1*(1-s1)", "dropped_factor",
     ["A factor is missing: dx1/dw0 = s0 (x1 = w0 * s0)"]),
    ("kramer", "w0", "w2*s2*(1-s2)*w1*s2*(1-s2)*s0", "wrong_node",
     ["ds1/dx1 (s1 = sigmoid(x1)) is s1*(1 - s1)", "has s2*(1 - s2) there"]),
    ("kramer", "w1", "w2*s2*(1-s2)*s1 + 1", "wrong",
     ["one path from w1 to out (w1 → x2 → s2 → out)", "your formula is a sum"]),
    ("kramer", "w1", "w2*s2**2*s1", "wrong",
     ["along the path w1 → x2 → s2 → out", "has w2, s1 of them",
      "It lacks ds2/dx2 = s2*(1 - s2)", "It has s2**2, which is no local derivative"]),
    # the cost: the sign of dC/dout, the ½, the cost forgotten
    ("cost", "w2", "(target - out)*s2", "sign",
     ["The sign is wrong: your formula is minus dC/dw2", "u1 = target - out",
      "du1/dout is -1", "dC/dout = out - target, not target - out"]),
    ("cost", "w1", "(target - out)*w2*s2*(1 - s2)*s1", "sign",
     ["dC/dout = out - target, not target - out"]),
    ("cost", "out", "target - out", "sign", ["du1/dout is -1"]),
    ("cost", "w2", "2*(out - target)*s2", "constant_factor",
     ["Off by a constant factor: your formula is 2 times dC/dw2",
      "a 2 that the 1/2 in front of it cancels"]),
    ("cost", "w1", "w2*s2*(1-s2)*s1", "stops_early",
     ["Your formula is dout/dw1: the chain stops at out", "It goes on up to C",
      "multiply by dC/dout = out - target"]),
    # Kauchak's hidden layer: a missing path, the wrong hidden unit, the sign
    ("hidden", "x1", "(yhat - y)*yhat*(1 - yhat)*v1*h1*(1 - h1)*w11", "missing_path",
     ["The graph has 2 paths from x1 to loss; your formula has 1 of them",
      "(x1 → a1 → h1 → z → yhat → loss)", "Missing: x1 → a2 → h2 → z → yhat → loss"]),
    ("hidden", "x1", "(yhat - y)*yhat*(1 - yhat)*v2*h2*(1 - h2)*w21", "missing_path",
     ["Missing: x1 → a1 → h1 → z → yhat → loss"]),
    ("hidden", "w11", "-(y - yhat)*yhat*(1 - yhat)*v1*h2*(1 - h2)*x1", "wrong_node",
     ["dh1/da1 (h1 = sigmoid(a1)) is h1*(1 - h1)", "has h2*(1 - h2) there"]),
    ("hidden", "w11", "(y - yhat)*yhat*(1 - yhat)*v1*h1*(1 - h1)*x1", "sign",
     ["dloss/dyhat = yhat - y, not y - yhat"]),
    ("hidden", "w11", "-(y - yhat)*v1*h1*(1 - h1)*x1", "dropped_factor",
     ["A factor is missing: dyhat/dz = yhat*(1 - yhat) (yhat = sigmoid(z))"]),
    ("hidden", "w11", "-(y - yhat)*yhat*(1 - yhat)*v1*h1*(1 - h1)", "dropped_factor",
     ["A factor is missing: du1/dw11 = x1 (u1 = w11 * x1)"]),
    ("hidden", "x1", "(yhat - y)*yhat*(1 - yhat)*(v1*h1*(1 - h1)*w11 + v2*h2*(1 - h2)*w22)",
     "wrong_node", ["du4/dx1 (u4 = w21 * x1) is w21", "has w22 there"]),
]


@pytest.mark.parametrize(("key", "wrt", "answer", "mistake", "says"), WRONG,
                         ids=[f"{k}-{w}-{a}" for k, w, a, *_ in WRONG])
def test_a_typical_wrong_answer_gets_a_message_naming_the_mistake(key, wrt, answer, mistake,
                                                                 says):
    verdict = grade(key, wrt, answer)
    assert not verdict.correct and not verdict
    assert verdict.mistake == mistake, verdict.message
    assert mistake in MISTAKES
    for phrase in says:
        assert phrase in verdict.message, f"{phrase!r} not in: {verdict.message}"
    out = as_graph(build(key).output).name(build(key).output)
    assert verdict.message.startswith(f"Not d{out}/d{wrt}: at ")
    assert verdict.expected and verdict.answer == answer


@pytest.mark.parametrize(("key", "wrt", "answer", "mistake", "says"), WRONG[::3])
def test_the_counterexample_holds_both_numbers_the_engine_gives_there(key, wrt, answer,
                                                                      mistake, says):
    verdict = grade(key, wrt, answer)
    point = verdict.counterexample
    assert point is not None and set(point) == set(GRAPHS[key][1])
    assert all(f"{name}=" in verdict.message for name in point)
    # Rebuild the graph at the counterexample: the engine's gradient is the expected number
    graph = build(key, point)
    (gradient,) = gradients(graph.output, [graph.nodes[wrt]])
    assert math.isclose(verdict.expected_value, gradient, rel_tol=1e-9, abs_tol=1e-12)
    # and the answer, evaluated by SymPy (parse_expr on our own test text) at the nodes' values
    symbols = {name: sympy.Symbol(name) for name in graph.nodes}
    formula = sympy.parse_expr(answer.replace("sigmoid", "_sigmoid"), local_dict={
        **symbols, "_sigmoid": lambda x: 1 / (1 + sympy.exp(-x))})
    value = float(formula.subs({symbols[n]: v.data for n, v in graph.nodes.items()}))
    assert math.isclose(verdict.answer_value, value, rel_tol=1e-9, abs_tol=1e-12)
    assert not math.isclose(verdict.answer_value, verdict.expected_value, rel_tol=1e-6)


def test_the_counterexample_is_the_slides_point_when_the_mistake_shows_there():
    verdict = grade("kramer", "w1", "w2*s2*(1-s2)")
    assert verdict.counterexample == {"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5}
    assert "at s0=2, w0=2, w1=1, w2=0.5 your formula gives 0.09912, the derivative is " \
           "0.09734" in verdict.message


def test_a_mistake_invisible_at_the_slides_point_is_found_at_another():
    # x1 = 1 at the given point: forgetting the factor x1 changes nothing there
    verdict = grade("hidden", "w11", "-(y - yhat)*yhat*(1 - yhat)*v1*h1*(1 - h1)")
    assert verdict.counterexample is not None and verdict.counterexample["x1"] != 1.0


# ---------------------------------------------------------------- text that cannot be read

UNREADABLE = [
    ("", "the formula is empty"),
    ("w2*s2(1-s2)*s1", "s2(...) calls s2, which is a name here, not a function: write the "
                       "product with '*'"),
    ("w2*s3*s1", "column 4: 's3' is not a node of this graph"),
    ("w2*S2*s1", "(did you mean 's2'?)"),
    ("w2^2", "'^' is not allowed; write powers as '**'"),
    ("import os", "an import is not allowed"),
    ("__import__('os').system('echo hi')", "not allowed"),
    ("open('/tmp/x', 'w')", "unknown function 'open'"),
    ("s2.real", "attribute access is not allowed"),
    ("a = w2*s2; a*s1", "write one expression"),
    ("dC/dw1 = s2", "headed dC/dw1, but the exercise asks for dout/dw1"),
    ("sigma(x2)", "unknown function 'sigma' (did you mean 'sigmoid'?)"),
    ("w2*s2*(1-s2", "syntax error"),
]


@pytest.mark.parametrize(("answer", "says"), UNREADABLE)
def test_text_outside_the_whitelist_is_refused_with_a_message(answer, says):
    n = kramer_chain()
    verdict = check_formula(n["out"], n["w1"], answer)
    assert not verdict.correct and verdict.mistake == "unreadable"
    assert verdict.message.startswith("Cannot read your formula for dout/dw1: ")
    assert says in verdict.message, verdict.message
    assert verdict.expected == "w2*s2*(1 - s2)*s1"


def test_nothing_a_student_writes_is_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    n = kramer_chain()
    for answer in ("open('made', 'w')", "__import__('os').mkdir('made')",
                   "(lambda: open('made', 'w'))()", "[open('made','w') for _ in (1,)]"):
        assert check_formula(n["out"], n["w1"], answer).mistake == "unreadable"
    assert not (tmp_path / "made").exists()


def test_wrong_arguments_raise():
    n = kramer_chain()
    with pytest.raises(TypeError, match="must be a str"):
        check_formula(n["out"], n["w1"], 42)
    with pytest.raises(TypeError):
        check_formula(2.0, n["w1"], "s1")
    with pytest.raises(TypeError, match="wrt must be a Value"):
        check_formula(n["out"], 3, "s1")
    with pytest.raises(ValueError, match="no node named 'w9'"):
        check_formula(n["out"], "w9", "s1")
    with pytest.raises(ValueError, match="points must be a positive int"):
        check_formula(n["out"], n["w1"], "s1", points=0)


def test_the_verdict_prints_its_message_and_is_true_when_correct():
    n = kramer_chain()
    right = check_formula(n["out"], n["w2"], "s2")
    wrong = check_formula(n["out"], n["w2"], "w2")
    assert str(right) == right.message and repr(right).startswith("✔ Correct")
    assert repr(wrong).startswith("✘ Not dout/dw2")
    assert bool(right) and not bool(wrong)


def test_the_graph_is_left_as_it_was():
    n = kramer_chain()
    before = {name: (v.data, v.grad) for name, v in n.items()}
    check_formula(n["out"], n["w1"], "w2*s2*s1")
    check_formula(n["out"], n["w1"], "w2*s2*(1 - s2)*s1")
    assert {name: (v.data, v.grad) for name, v in n.items()} == before


SMOOTH = [p for p in PRIMITIVE_NAMES if PRIMITIVES[p].notation.style != "call"
          or all(tag != "kink" for tag in PRIMITIVES[p].smooth)]


@settings(max_examples=40)
@given(expressions(("x", "y"), primitives=SMOOTH, max_operations=4), st.data())
def test_explains_own_formula_is_correct_and_a_changed_one_is_not(expression, data):
    # Random graphs of the table's smooth primitives: explain's ASCII formula (in its
    # made-up names) and the checker's expected text are graded correct; 1.5 times it is not.
    out = expression.build(**data.draw(expression.points()))
    graph = as_graph(out)
    wrt = data.draw(st.sampled_from(graph.leaves))
    explanation = explain(graph, wrt)
    text = explanation.to_text(ascii=True).split(" = ")[1] if not explanation.note else "0"
    verdict = check_formula(graph, wrt, text)
    assert verdict.correct, (str(expression), text, verdict.message)
    assert check_formula(graph, wrt, verdict.expected).correct
    if explanation.value != 0:
        assert not check_formula(graph, wrt, f"1.5*({text})").correct


# ---------------------------------------------------------------- check_derivative


RULES_RIGHT = [
    ("sigmoid", "out*(1 - out)"),
    ("sigmoid", lambda x, out, f: out * (1 - out)),
    ("sigmoid", lambda x, out: out * (1 - out)),                  # without the namespace
    ("sigmoid", "sigmoid(x)*(1 - sigmoid(x))"),
    ("sigmoid", "exp(-x)/(1 + exp(-x))**2"),                      # Kramer's quotient rule
    ("sigmoid", "dout/dx = out·(1 − out)"),
    ("tanh", "1 - out**2"),
    ("tanh", "1 - tanh(x)**2"),
    ("tanh", lambda x, out, f: 1 / math.cosh(x) ** 2),             # floats only: no SymPy
    ("relu", lambda x, out, f: f.where(x >= 0, 1, 0)),
    ("relu", lambda x, out, f: 1.0 if x >= 0 else 0.0),
    ("leaky_relu", lambda x, alpha, out, f: f.where(x >= 0, 1, alpha)),
    ("exp", "out"),
    ("log", "1/x"),
    ("sqrt", "1/(2*out)"),
    ("sqrt", "1/(2*sqrt(x))"),
    ("sin", "cos(x)"),
    ("cos", "-sin(x)"),
    ("mul", "b"),
    ("div", "1/b"),
    ("pow", "b*a**(b - 1)"),
]


@pytest.mark.parametrize(("name", "rule"), RULES_RIGHT)
def test_a_right_rule_is_accepted(name, rule):
    verdict = check_derivative(name, rule)
    assert verdict.correct, verdict.message
    assert verdict.message.startswith("Correct: ")
    assert verdict.points == exercises_module.DEFAULT_RULE_POINTS
    smooth = all(tag != "kink" for tag in PRIMITIVES[name].smooth)
    if smooth and (isinstance(rule, str) or name != "tanh"):
        assert verdict.proved is True, verdict.message


def test_wrt_picks_the_input_of_a_primitive_with_several():
    assert check_derivative("div", "-a/b**2", wrt="b").correct
    assert check_derivative("pow", lambda a, b, out, f: f.xlogy(out, a), wrt=1).correct
    # out*log(a) is the same where a > 0; at a = 0 the table takes the limit, 0
    verdict = check_derivative("pow", "out*log(a)", wrt="b")
    assert verdict.mistake == "undefined" and "at a=0, b=1 your rule fails" in verdict.message
    assert check_derivative("leaky_relu", lambda x, alpha, out, f: f.where(x >= 0, 0, x),
                            wrt="alpha").correct


@pytest.mark.parametrize("name", [n for n, p in PRIMITIVES.items()
                                  if not p.internal and p.inputs is not None])
def test_the_tables_own_rules_grade_correct(name):
    prim = PRIMITIVES[name]
    for position, rule in enumerate(prim.derivatives):
        assert check_derivative(name, rule, wrt=position).correct, (name, position)


RULES_WRONG = [
    ("sigmoid", "x*(1 - x)", "wrong_variable",
     ["at x=0 your rule gives 0, the table's rule gives 0.25",
      "x and out the wrong way round", "written in its output, out"]),
    ("sigmoid", "out", "function_itself", ["the function itself, out = sigmoid(x)"]),
    ("sigmoid", "1 - out**2", "other_rule", ["the form of tanh's derivative (1 - out**2"]),
    ("sigmoid", "-out*(1 - out)", "sign", ["The sign is wrong: your rule is minus the table's"]),
    ("sigmoid", "2*out*(1 - out)", "constant_factor", ["your rule is 2 times the table's"]),
    ("sigmoid", "out*(1 + out)", "wrong", ["It differs at 200 of 200 points"]),
    ("tanh", "1 - x**2", "wrong_variable", ["x and out the wrong way round"]),
    ("tanh", "out*(1 - out)", "other_rule", ["the form of sigmoid's derivative"]),
    ("exp", "x", "wrong_variable", ["exp's slope is written in its output, out"]),
    ("log", "1/out", "wrong_variable", ["log's slope is written in its input, x"]),
    ("cos", "sin(x)", "sign", ["minus the table's"]),
    ("mul", "a", "wrong_wrt", ["dout/db, the slope with respect to the other input"]),
    ("relu", lambda x, out, f: 1.0 if x > 0 else 0.0, "convention",
     ["at x=0 your rule gives 0, the table's rule gives 1",
      "agrees with the table everywhere except at the kink x = 0",
      "ReLU'(0) = 1", "PyTorch and micrograd use 0 there"]),
    ("leaky_relu", lambda x, alpha, out, f: 1.0 if x > 0 else alpha, "convention",
     ["except at the kink x = 0", "ReLU'(0) = 1"]),
    ("relu", "1", "one_side", ["right for x > 0 but not for x < 0"]),
    ("relu", "out", "function_itself", ["out = relu(x)"]),
    ("abs", lambda x, out, f: 1.0 if x >= 0 else -1.0, "convention",
     ["the table's slope at the kink x = 0 is 0"]),
]


@pytest.mark.parametrize(("name", "rule", "mistake", "says"), RULES_WRONG,
                         ids=[f"{n}-{r if isinstance(r, str) else 'function'}"
                              for n, r, *_ in RULES_WRONG])
def test_a_wrong_rule_gets_a_message_naming_the_mistake(name, rule, mistake, says):
    verdict = check_derivative(name, rule)
    assert not verdict.correct
    assert verdict.mistake == mistake, verdict.message
    assert mistake in MISTAKES
    for phrase in says:
        assert phrase in verdict.message, f"{phrase!r} not in: {verdict.message}"
    # the counterexample: the table's own rule gives the expected number there
    prim = PRIMITIVES[name]
    args = [verdict.counterexample[n] for n in prim.input_names]
    from autograd_lite.primitives import FLOAT

    out = prim.forward(*args, FLOAT)
    assert verdict.expected_value == pytest.approx(prim.derivatives[0](*args, out, FLOAT))


def test_a_right_relu_says_the_lectures_convention_at_0():
    verdict = check_derivative("relu", lambda x, out, f: f.where(x >= 0, 1, 0))
    assert "including the kink x = 0" in verdict.message
    assert "ReLU'(0) = 1" in verdict.message
    assert verdict.expected == "1 if x ≥ 0, else 0"


@pytest.mark.parametrize(("rule", "says"), [
    ("s*(1 - s)", "'s' is not an input of sigmoid or out; the names are x, out"),
    ("out(1 - out)", "out(...) calls out"),
    ("", "the formula is empty"),
    ("import math", "not allowed"),
    (lambda x: x, "the rule takes 1 argument; a rule for sigmoid takes (x, out, f)"),
])
def test_a_rule_that_cannot_be_read_gets_a_message(rule, says):
    verdict = check_derivative("sigmoid", rule)
    assert verdict.mistake == "unreadable" and says in verdict.message, verdict.message


def test_check_derivative_refuses_wrong_arguments():
    with pytest.raises(ValueError, match="no primitive named 'sigmod'.*did you mean 'sigmoid'"):
        check_derivative("sigmod", "out")
    with pytest.raises(ValueError, match="any number of inputs"):
        check_derivative("linear", "1")
    with pytest.raises(ValueError, match="wrt must be one of div's inputs"):
        check_derivative("div", "1/b", wrt="c")
    with pytest.raises(TypeError, match="must be a callable"):
        check_derivative("sigmoid", 3)


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["sigmoid", "tanh", "relu", "exp", "log"]))
def test_any_seed_accepts_the_table_rule_and_rejects_a_scaled_one(seed, name):
    prim = PRIMITIVES[name]
    rule = prim.derivatives[0]
    assert check_derivative(name, rule, seed=seed, points=50).correct
    wrong = check_derivative(name, lambda *a: 1.1 * rule(*a), seed=seed, points=50)
    assert not wrong.correct


# ---------------------------------------------------------------- docs and the notebook


def test_the_module_docstring_example_runs():
    assert doctest.testmod(exercises_module).failed == 0


NOTEBOOK = ROOT / "notebooks" / "src" / "07_exercises.py"


def test_the_notebook_hides_each_solution_after_an_attempt():
    cells = jupytext.read(NOTEBOOK).cells
    solutions = [i for i, cell in enumerate(cells) if "solution" in cell.metadata.get("tags", [])]
    assert len(solutions) == 6
    for i in solutions:
        cell = cells[i]
        assert cell.metadata["jupyter"] == {"source_hidden": True}
        assert "assert verdict.correct" in cell.source
        attempt = cells[i - 1]
        assert attempt.cell_type == "code" and "# your answer" in attempt.source
        assert "check_" in attempt.source and "solution" not in attempt.source


@pytest.mark.slow  # a kernel runs the notebook: ~10 s
def test_the_notebook_runs_and_its_solutions_are_graded_correct():
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "notebooks" / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    nb = builder.read_source(NOTEBOOK)
    builder.execute(nb)  # each solution cell asserts that it is graded correct
    outputs = {i: "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                          for o in cell.get("outputs", []))
               for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    solutions = [i for i, cell in enumerate(nb.cells)
                 if "solution" in cell.metadata.get("tags", [])]
    for i in solutions:
        assert "Correct: " in outputs[i] and "Not " not in outputs[i], outputs[i]
        assert "Cannot read your" in outputs[i - 1]  # the attempt, still a placeholder
