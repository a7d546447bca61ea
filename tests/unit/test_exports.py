"""Exports for notes and slides (issue 12): formulas as plain text that parses back, Unicode,
Markdown and LaTeX (typeset with KaTeX, a real renderer), the trace's tables, and Jupyter's
displays. The expected formulas are the lectures' (Kramer: dout/dw1 = w2·s2(1 − s2)·s1)."""

from __future__ import annotations

import re

import pytest
import sympy
from hypothesis import given, settings

import autograd_lite as ag
from autograd_lite import Graph, Value, explain, trace
from autograd_lite.lectures import kramer_chain
from autograd_lite.testing import expression_and_point


def _formula_part(text: str) -> str:
    """The ASCII text's formula: after the first '=', up to the next ' = ' (the numbers)."""
    return text.split(" = ")[1]


def _symbols(explanation) -> dict[str, sympy.Symbol]:
    return {name: sympy.Symbol(name) for name in explanation.names.values()}


def test_the_kramer_formulas_in_ascii_parse_back_to_the_expression():
    n = kramer_chain()
    slides = {"w2": "s2", "w1": "w2*s2*(1 - s2)*s1", "w0": "w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0"}
    for weight, slide in slides.items():
        e = explain(n["out"], n[weight])
        text = e.to_text(ascii=True)
        assert text.startswith(f"dout/d{weight} = {slide} = ")  # the slide's own text
        parsed = sympy.parse_expr(_formula_part(text), local_dict=_symbols(e))
        assert sympy.simplify(parsed - e.expression) == 0


def test_a_tanh_neuron_keeps_the_parentheses_of_one_minus_h_squared():
    # dout/dw = v·(1 − h²)·x; it printed "v · 1 − h^2 · x", which reads as v − h²x.
    w, x, v = Value(0.5, "w"), Value(1.0, "x"), Value(2.0, "v")
    h = (w * x).tanh()
    h.label = "h"
    out = v * h
    out.label = "out"
    e = explain(out, w)
    assert str(e).startswith("dout/dw = v · (1 − h²) · x = ")
    assert e.to_text(ascii=True).startswith("dout/dw = v*(1 - h**2)*x = ")
    parsed = sympy.parse_expr(_formula_part(e.to_text(ascii=True)), local_dict=_symbols(e))
    assert sympy.simplify(parsed - e.expression) == 0


@settings(max_examples=500, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=5))
def test_every_printed_formula_means_its_expression_on_random_graphs(case):
    # 500 random graphs over every primitive: the ASCII formula parses back with SymPy to
    # .expression, for each variable.
    expression, point = case
    leaves = {name: Value(value, name) for name, value in point.items()}
    out = expression.build(**leaves)
    if not isinstance(out, Value) or out.primitive is None:
        return
    for leaf in leaves.values():
        e = explain(out, leaf)
        if e.note:
            continue
        parsed = sympy.parse_expr(_formula_part(e.to_text(ascii=True)), local_dict=_symbols(e))
        assert sympy.simplify(parsed - e.expression) == 0, e.to_text(ascii=True)


def test_latex_keeps_the_chain_order_and_typesets(katex):
    n = kramer_chain()
    e = explain(n["out"], n["w0"])
    latex = e.to_latex()
    # w2 · s2(1 − s2) · w1 · s1(1 − s1) · s0, in the path's order
    order = [m.group(0) for m in re.finditer(r"[ws]_\{\d\}", latex.split(" = ")[1])]
    assert order == ["w_{2}", "s_{2}", "s_{2}", "w_{1}", "s_{1}", "s_{1}", "s_{0}"]
    katex(latex, *(explain(n["out"], n[w]).to_latex() for w in ("w1", "w2")))


def test_a_broken_latex_fails_the_katex_check(katex):
    with pytest.raises(AssertionError, match="KaTeX cannot typeset"):
        katex(r"\frac{1}{")


def test_markdown_explanation_for_notes():
    n = kramer_chain()
    text = explain(n["out"], n["w1"]).to_markdown()
    assert text == ("`dout/dw1` = `w2 · s2·(1 − s2) · s1` = 0.5 · 0.1982 · 0.9820 = "
                    "**0.09734**")


def test_the_trace_as_markdown_has_the_forward_pass_the_steps_and_the_gradients():
    n = kramer_chain()
    text = trace(n["out"], accumulate=False).to_markdown()
    assert "- `x1 = w0 * s0 = 4`" in text and "- `s2 = sigmoid(x2) = 0.7275`" in text
    assert "| 2 | s2 = 0.7275 | sigmoid(x2) | 0.5 | x2 | s2·(1 − s2) = 0.1982 |" in text
    assert "- `dout/dw1 = 0.09734`" in text and "- `dout/dw0 = 0.003501`" in text


def test_the_trace_as_a_latex_tabular_typesets_cell_by_cell(katex):
    n = kramer_chain()
    latex = trace(n["out"], accumulate=False).to_latex()
    lines = latex.splitlines()
    assert lines[0] == r"\begin{tabular}{rllllll}" and lines[-1] == r"\end{tabular}"
    rows = [line for line in lines if line.endswith(r"\\")]
    assert len(rows) == 1 + 8  # the header and one row per input of each of the 5 steps
    assert all(row.count("&") == 6 for row in rows)  # 7 columns everywhere
    cells = re.findall(r"\$([^$]+)\$", latex)
    assert r"s_{2} \left(1 - s_{2}\right) = 0.1982" in cells
    katex(*cells)


def test_explain_walks_the_graph_once_for_several_weights(monkeypatch):
    import autograd_lite.engine as engine
    import autograd_lite.graph as graph_module

    walks = {"order": 0, "reading": 0}
    search, reading = engine._search, graph_module.reading_order

    def counted_search(*args, **kwargs):
        walks["order"] += 1
        return search(*args, **kwargs)

    def counted_reading(*args, **kwargs):
        walks["reading"] += 1
        return reading(*args, **kwargs)

    monkeypatch.setattr(engine, "_search", counted_search)
    monkeypatch.setattr(graph_module, "reading_order", counted_reading)
    n = kramer_chain()
    graph = Graph(n["out"])
    for weight in ("w0", "w1", "w2"):
        explain(graph, n[weight])
    # one search for backward's order, one for the names, for all three (it was 9 searches)
    assert walks == {"order": 1, "reading": 1}


def test_jupyter_shows_a_step_as_its_frame_and_fits_drawings_to_the_cell():
    n = kramer_chain()
    recorded = trace(n["out"], accumulate=False)
    bundle = recorded[2]._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    root = re.search(r"<svg[^>]*>", svg).group(0)
    assert 'style="max-width: 100%; height: auto;"' in root and "viewBox" in root
    assert ">x2<" in svg and "+0.09734" in svg  # step 3: x2 sends 0.09734 to w1
    assert bundle["text/plain"].startswith("<Step 3: x2")
    drawing_root = re.search(r"<svg[^>]*>", ag.draw(n["out"])._repr_image_svg_xml()).group(0)
    assert "max-width: 100%" in drawing_root


def test_a_training_history_has_a_short_repr():
    import nn

    history = nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=50)
    text = repr(history)
    assert text.startswith("<History: 50 epochs, 50 steps in ") and len(text) < 120
