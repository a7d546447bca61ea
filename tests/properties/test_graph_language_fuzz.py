"""The graph language under generated text (Hypothesis): whatever a user types, the parser
parses it or rejects it with a one-line GraphError, a well-formed expression evaluates to a
finite number or names the operation that failed, and the command line never exits 1 (an
internal error). The hand-picked hostile inputs are in tests/unit/test_graph_language.py.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from autograd_lite.cli import main
from autograd_lite.graph_language import FUNCTIONS, GraphError, evaluate_graph, parse_graph


def _parse_or_graph_error(text: str) -> None:
    try:
        program = parse_graph(text)
    except GraphError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    try:
        program.evaluate(dict.fromkeys(program.inputs, 0.5))
    except GraphError as exc:
        assert str(exc)


@given(st.text(max_size=200))
def test_fuzz_random_text_is_parsed_or_rejected_with_graph_error(text):
    _parse_or_graph_error(text)


GRAMMAR_ALPHABET = "xyw01.5e+-*/()=;\n _abcdeilmnoprstgq[]{},:'\"@%~<>!#\\\t"


@given(st.text(alphabet=GRAMMAR_ALPHABET, max_size=120))
def test_fuzz_text_near_the_grammar_is_parsed_or_rejected_with_graph_error(text):
    _parse_or_graph_error(text)


_ATOMS = st.sampled_from(["x", "y", "2", "0.5", "0", "-1", "1e308", "w_1"])


@st.composite
def _expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(_ATOMS)
    kind = draw(st.sampled_from(["binary", "unary", "call"]))
    if kind == "binary":
        op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
        return f"({draw(_expressions(depth + 1))} {op} {draw(_expressions(depth + 1))})"
    if kind == "unary":
        return f"-{draw(_expressions(depth + 1))}"
    function = draw(st.sampled_from(FUNCTIONS))
    return f"{function}({draw(_expressions(depth + 1))})"


@given(_expressions(), st.floats(-5, 5), st.floats(-5, 5))
def test_fuzz_well_formed_expressions_evaluate_or_report_a_domain_error(text, x, y):
    # Either a finite number, or a GraphError naming the operation (log of 0, overflow ...).
    try:
        graph = evaluate_graph(f"out = {text}", {n: v for n, v in (("x", x), ("y", y),
                                                                   ("w_1", 1.0))
                                                 if n in parse_graph(f"out = {text}").inputs})
    except GraphError as exc:
        assert "in " in str(exc) or "column" in str(exc)
        return
    assert math.isfinite(graph.output.data)


@given(st.text(max_size=80).filter(lambda text: text != "-"))  # "-" reads stdin
def test_fuzz_the_command_line_never_fails_internally(text):
    # Any GRAPH text gives exit status 0 or 2, never 1 (an internal error).
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main(["trace", text, "--at", "x=0.5"])
    assert status in (0, 2), err.getvalue()
    if status == 2:
        assert len(err.getvalue().strip().splitlines()) == 1
