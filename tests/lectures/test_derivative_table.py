"""The lecture table "Name | Function | Gradient" (Backpropagation in Neural Nets; Lecture 5),
read off the primitives: every local-derivative rule, with out := the forward rule, must be
what SymPy's own diff of the forward rule gives."""

import sympy

from autograd_lite import PRIMITIVES
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
    table = derivative_table()
    # σ'(x) = σ(x)(1 − σ(x)) and tanh' = 1 − tanh², written in the output, as the slides do.
    assert "| sigmoid | out = 1/(1 + exp(-x)) | d/dx = out*(1 - out) |" in table
    assert "| tanh | out = tanh(x) | d/dx = 1 - out**2 |" in table
    assert "| mul | out = a*b | d/da = b; d/db = a |" in table
    # One row per primitive (identity is grad()'s bookkeeping node, not a lecture operation).
    assert len(table.splitlines()) == 2 + len(PRIMITIVES) - 1
