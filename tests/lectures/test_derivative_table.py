"""The lecture table "Name | Function | Gradient" ("Backpropagation in Neural Nets"; Lecture 5),
read off the primitives: every local-derivative rule, with out := the forward rule, must be
what SymPy's own diff of the forward rule gives, and the form the table prints (σ′ = σ(1 − σ),
tanh′ = 1 − tanh²) must be the same function as the form the engine computes."""

import re

import pytest
import sympy

from autograd_lite import PRIMITIVES
from autograd_lite.primitives import FLOAT
from autograd_lite.symbolic import derivative_table, sympy_namespace


def test_every_rule_is_the_derivative_of_its_forward_rule():
    f = sympy_namespace()
    out = sympy.Symbol("out")
    # Points away from kinks and domain edges; both signs for the piecewise primitives.
    for point in ({"x": 0.7, "a": 1.3, "b": 0.6, "alpha": 0.1},
                  {"x": -0.7, "a": 0.4, "b": -1.5, "alpha": 0.3}):
        for prim in PRIMITIVES.values():
            names = ("x",) if prim.arity == 1 else (
                ("x", "alpha") if prim.name == "leaky_relu" else ("a", "b"))
            if prim.name in ("log", "sqrt") and point["x"] < 0:
                continue  # outside their domain
            inputs = sympy.symbols(" ".join(names), seq=True, real=True)  # real: d|x|/dx
            function = prim.forward(*inputs, f)
            at = {s: point[s.name] for s in inputs}
            for symbol, rule in zip(inputs, prim.derivatives):
                by_rule = rule(*inputs, out, f)
                by_rule = by_rule.subs(out, function) if hasattr(by_rule, "subs") else by_rule
                by_sympy = sympy.diff(function, symbol)
                assert abs(float(sympy.N(by_rule, subs=at) if hasattr(by_rule, "subs") else by_rule)
                           - float(sympy.N(by_sympy, subs=at))) < 1e-12, (prim.name, symbol, point)


def test_the_table_reads_like_the_lecture():
    # Haghtalab & Joachims, "Common Activation Functions": Name | Function | Gradient, with
    # σ′ = σ(x)(1 − σ(x)), tanh′ = 1 − tanh²(x), ReLU′ = 1 (x ≥ 0), 0 (x < 0); here written
    # in the output out, as the slides write σ′ in σ.
    table = derivative_table()
    lines = table.splitlines()
    assert lines[0] == "| Name | Function | Gradient |"
    assert "| sigmoid | out = 1/(1 + exp(−x)) | d/dx = out·(1 − out) |" in lines
    assert "| tanh | out = tanh(x) | d/dx = 1 − out² |" in lines
    assert "| relu | out = max(0, x) | d/dx = 1 if x ≥ 0, else 0 |" in lines
    # "leaky ReLU(z) = max(αz, z), α < 1" (Backpropagation in Neural Nets)
    assert ("| leaky_relu | out = x if x ≥ 0, else α·x | d/dx = 1 if x ≥ 0, else α; "
            "d/dα = 0 if x ≥ 0, else x |") in lines
    assert "| abs | out = |x| | d/dx = 1 if x ≥ 0, else −1 |" in lines
    assert "| mul | out = a·b | d/da = b; d/db = a |" in lines
    assert "Piecewise" not in table and "Max" not in table and "sign" not in table
    # One row per primitive (identity is grad()'s bookkeeping node, not a lecture operation).
    assert len(lines) == 2 + len(PRIMITIVES) - 1


def test_the_table_for_jupyter_and_for_latex(katex):
    table = derivative_table()
    html = table._repr_html_()
    assert html.startswith("<table><thead><tr><th>Name</th><th>Function</th>")
    assert "<td>relu</td><td>out = max(0, x)</td><td>d/dx = 1 if x ≥ 0, else 0</td>" in html
    latex = table.to_latex()
    assert latex.startswith(r"\begin{tabular}{lll}") and latex.endswith(r"\end{tabular}")
    math = re.findall(r"\$([^$]+)\$", latex)
    assert len(math) == 2 * (len(PRIMITIVES) - 1)  # the function and the gradients, per row
    katex(*math)


@pytest.mark.parametrize("prim", [p for p in PRIMITIVES.values() if p.lecture is not None],
                         ids=lambda p: p.name)
def test_the_lecture_form_of_a_derivative_equals_the_computed_form(prim):
    # The printed rule (out·(1 − out)) and the computed one (out·σ(−x)) are the same
    # function once out is the forward rule: SymPy proves it.
    # The computed forms may use |x|: proven on each side of 0 (x = p and x = −p, p > 0).
    f = sympy_namespace()
    positive = sympy.symbols("p q", positive=True)[:prim.arity]
    for side in (1, -1):
        inputs = [side * p for p in positive]
        out = prim.forward(*inputs, f)
        for position in range(prim.arity):
            shown = prim.lecture[position](*inputs, out, f)
            computed = prim.derivatives[position](*inputs, out, f)
            assert sympy.simplify((shown - computed).rewrite(sympy.exp)) == 0
            # and both are the derivative of the forward rule
            slope = sympy.diff(out, positive[position]) * side
            assert sympy.simplify((shown - slope).rewrite(sympy.exp)) == 0
            at = {symbol: sympy.Rational(3, 7) for symbol in positive}
            assert float(shown.subs(at)) == pytest.approx(float(computed.subs(at)), rel=1e-15)
    # the float rule gives the same number as the printed one where both are exact enough
    number = prim.derivatives[0](0.25, prim.forward(0.25, FLOAT), FLOAT)
    lecture = prim.lecture[0](0.25, prim.forward(0.25, FLOAT), FLOAT)
    assert number == pytest.approx(lecture, rel=1e-14)
