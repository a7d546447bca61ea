"""The CLI's graph language: the lecture's network as text, and a parser that never runs code.

Expected numbers come from the Kramer slides ("Forward propagation": x1 = 4, s1 = 0.982,
x2 = 0.982, s2 = 0.7275, out = 0.3638) or from hand calculations with ``math``; the hostile
inputs (issue 5) must each be rejected with a message that points at the offending piece,
with exit status 2 from the command line, no traceback, and nothing executed.
"""

from __future__ import annotations

import ast
import builtins
import math
import sys
from pathlib import Path

import pytest

import autograd_lite
from autograd_lite import Constant, Value
from autograd_lite.cli import main
from autograd_lite.engine import constant
from autograd_lite.graph_language import (
    FUNCTIONS,
    MAX_NESTING,
    MAX_OPERATIONS,
    MAX_TEXT_LENGTH,
    GraphError,
    evaluate_graph,
    parse_graph,
    parse_values,
)

KRAMER = "x1 = w0*s0; s1 = sigmoid(x1); x2 = w1*s1; s2 = sigmoid(x2); out = w2*s2"
SLIDE_VALUES = {"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5}


def S(x: float) -> float:  # noqa: N802 - the slide's name for the sigmoid
    """The slide's S(x) = 1/(1 + e^−x), by hand."""
    return 1 / (1 + math.exp(-x))


# ---------------------------------------------------------------- the lecture graph


def test_kramer_graph_reproduces_the_forward_propagation_slide():
    graph = evaluate_graph(KRAMER, SLIDE_VALUES)
    nodes = graph.nodes
    assert nodes["x1"].data == 4.0  # x1 = w0 s0 = 2 * 2 = 4
    assert round(nodes["s1"].data, 3) == 0.982  # s1 = S(4) = 0.982
    assert round(nodes["x2"].data, 3) == 0.982  # x2 = w1 s1 = 1 * 0.982
    assert round(nodes["s2"].data, 4) == 0.7275  # s2 = S(0.982) = 0.7275
    assert round(nodes["out"].data, 4) == 0.3638  # out = w2 s2 = 0.5 * 0.7275
    assert graph.output is nodes["out"]
    assert nodes["out"].data == pytest.approx(0.5 * S(S(4.0)), rel=1e-15)


def test_assignment_targets_become_labels_and_inputs_are_leaves():
    program = parse_graph(KRAMER)
    assert program.inputs == ("w0", "s0", "w1", "w2")  # in order of first use
    assert program.output == "out"
    graph = program.evaluate(SLIDE_VALUES)
    for name, node in graph.nodes.items():
        assert node.label == name
    assert [graph.nodes[n].op for n in ("x1", "s1", "x2", "s2", "out")] == [
        "*", "sigmoid", "*", "sigmoid", "*"]
    assert all(graph.inputs[n].op == "" for n in program.inputs)


def test_graph_gradients_are_the_slides_three_formulas():
    graph = evaluate_graph(KRAMER, SLIDE_VALUES)
    graph.output.backward()
    s0, w1, w2 = 2.0, 1.0, 0.5
    s1, s2 = S(4.0), S(S(4.0))
    n = graph.nodes
    assert n["w2"].grad == pytest.approx(s2, rel=1e-14)  # dout/dw2 = s2
    assert n["w1"].grad == pytest.approx(w2 * s2 * (1 - s2) * s1, rel=1e-14)
    assert n["w0"].grad == pytest.approx(w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0,
                                         rel=1e-14)


def test_newlines_indentation_comments_and_windows_line_ends():
    text = """
        # the Kramer chain, one assignment a line
        x1 = w0*s0
        s1 = sigmoid(x1)   # S(x1)
        x2 = w1*s1; s2 = sigmoid(x2)
        out = w2*s2
    """
    assert evaluate_graph(text, SLIDE_VALUES).output.data == pytest.approx(0.5 * S(S(4.0)))
    crlf = "x1 = w0*s0\r\nout = sigmoid(x1)\r\n"
    assert evaluate_graph(crlf, {"w0": 2, "s0": 2}).output.data == pytest.approx(S(4.0))


def test_a_bare_expression_is_the_output_named_out():
    graph = evaluate_graph("w2*sigmoid(w1*sigmoid(w0*s0))", SLIDE_VALUES)
    assert graph.output.label == "out"
    assert graph.program.output == "out"
    assert graph.output.data == pytest.approx(0.5 * S(S(4.0)))


def test_bare_output_when_out_is_already_an_input_keeps_out_for_the_input():
    graph = evaluate_graph("out * 2", {"out": 3.0})
    assert graph.output.data == 6.0
    assert graph.inputs["out"].label == "out"
    assert graph.output.label == ""


@pytest.mark.parametrize(("text", "x", "expected"), [
    ("-x**2", 3.0, -9.0),  # ** binds tighter than unary minus, as in Python and on paper
    ("x*2**-1", 1.0, 0.5),
    ("x/2/4", 8.0, 1.0),  # left to right
    ("x - 1 - 1", 5.0, 3.0),
    ("(x + 1)*(x - 1)", 3.0, 8.0),
    ("+x", 4.0, 4.0),
    ("x**0.5", 9.0, 3.0),
    ("2**x", 3.0, 8.0),
])
def test_arithmetic_follows_the_usual_precedence(text, x, expected):
    assert evaluate_graph(text, {"x": x}).output.data == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("call", "by_hand"), [
    ("sigmoid(x)", lambda x: 1 / (1 + math.exp(-x))),
    ("tanh(x)", math.tanh),
    ("relu(x)", lambda x: max(0.0, x)),
    ("leaky_relu(x)", lambda x: x if x >= 0 else 0.01 * x),  # the engine's default slope
    ("leaky_relu(x, 0.2)", lambda x: x if x >= 0 else 0.2 * x),  # max(αz, z), α < 1
    ("leaky_relu(x, alpha=0.2)", lambda x: x if x >= 0 else 0.2 * x),
    ("exp(x)", math.exp),
    ("log(x)", math.log),
    ("sqrt(x)", math.sqrt),
    ("sin(x)", math.sin),
    ("cos(x)", math.cos),
    ("abs(x)", abs),
])
@pytest.mark.parametrize("x", [-1.5, 0.7, 2.0])
def test_every_function_is_the_engine_primitive(call, by_hand, x):
    if call.startswith(("log", "sqrt")) and x < 0:
        with pytest.raises(GraphError, match="of a (negative|non-positive) number"):
            evaluate_graph(call, {"x": x})
        return
    graph = evaluate_graph(call, {"x": x})
    assert graph.output.data == pytest.approx(by_hand(x), rel=1e-14)
    name = call.split("(")[0]
    assert graph.output.primitive is autograd_lite.PRIMITIVES[name]


def test_the_function_list_is_the_issues_and_every_one_is_in_the_table():
    assert set(FUNCTIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "exp", "log", "sqrt",
                              "sin", "cos", "abs", "step"}  # step: Kauchak's threshold unit
    assert set(FUNCTIONS) <= set(autograd_lite.PRIMITIVES)


def test_leaky_relu_alpha_can_be_an_input_with_a_gradient():
    graph = evaluate_graph("y = leaky_relu(x, a)", {"x": -2.0, "a": 0.1})
    graph.output.backward()
    assert graph.output.data == pytest.approx(-0.2)
    assert graph.inputs["a"].grad == pytest.approx(-2.0)  # d(αx)/dα = x for x < 0
    assert graph.inputs["x"].grad == pytest.approx(0.1)


def test_renaming_a_node_makes_an_identity_node_and_keeps_the_old_name():
    graph = evaluate_graph("x1 = w*s; y = x1; out = y*2", {"w": 2.0, "s": 3.0})
    assert graph.nodes["x1"].label == "x1"
    assert graph.nodes["y"].label == "y"
    assert graph.nodes["y"] is not graph.nodes["x1"]
    assert graph.nodes["y"].parents == (graph.nodes["x1"],)
    graph.output.backward()
    assert graph.inputs["w"].grad == 6.0  # d(2ws)/dw = 2s


def test_named_numbers_are_constants_and_the_shared_cache_is_not_relabelled():
    graph = evaluate_graph("target = 0.7; two = 2; C = 0.5*(target - y)**two", {"y": 0.3})
    assert graph.output.data == pytest.approx(0.5 * 0.4**2)
    assert type(graph.nodes["target"]) is Constant
    assert constant(2.0).label == "" and constant(0.7).label == ""


def test_values_given_as_values_are_used_as_the_leaves():
    w = Value(2.0, "w")
    graph = evaluate_graph("out = w*x", {"w": w, "x": 3.0})
    assert graph.inputs["w"] is w
    graph.output.backward()
    assert w.grad == 3.0


def test_unused_assignments_are_reported():
    program = parse_graph("a = x*2; b = a + 1; out = x*3")
    assert program.unused == ("a", "b")
    assert parse_graph(KRAMER).unused == ()


# ---------------------------------------------------------------- values


def test_values_in_the_forms_a_user_writes():
    assert parse_values("s0=2,w0=2,w1=1,w2=0.5") == SLIDE_VALUES
    assert parse_values("s0 = 2\nw0 = 2  # guess\n\nw1=1; w2=.5") == SLIDE_VALUES
    assert parse_values('{"s0": 2, "w0": 2, "w1": 1, "w2": 0.5}') == SLIDE_VALUES
    assert parse_values("x=-1.5e-3") == {"x": -0.0015}
    assert parse_values("") == {}


@pytest.mark.parametrize(("text", "fragment"), [
    ("x", "not name=value"),
    ("x=abc", "must be a number"),
    ("x=nan", "must be a number"),
    ("x=inf", "must be a number"),
    ("x=1e999", "not a finite float"),
    ("x=1,x=2", "given twice"),
    ("2x=1", "is not a name"),
    ("σ=1", "is not a name"),
    ('{"x": "1"}', "must be a number"),
    ('{"x": true}', "must be a number"),
    ('{"x": 1e999}', "finite"),
    ("[1, 2]", "not name=value"),
    ('{"x": ', "not valid JSON"),
    ('{"x": [1]}', "must be a number"),
])
def test_bad_values_are_rejected_with_what_is_wrong(text, fragment):
    with pytest.raises(GraphError, match=fragment):
        parse_values(text)


def test_missing_values_are_all_named_at_once():
    # Where each is first read: KRAMER.index("w1") + 1 == 36, KRAMER.index("w2") + 1 == 67.
    with pytest.raises(GraphError, match=r"no value for w1, w2 \(first used: w1 at column 36; "
                                         r"w2 at column 67\): give them with --at w1=...,w2="):
        evaluate_graph(KRAMER, {"s0": 2, "w0": 2})


def test_values_for_names_the_graph_does_not_read_are_rejected():
    with pytest.raises(GraphError, match=r"'w3', which the graph does not use"):
        evaluate_graph(KRAMER, {**SLIDE_VALUES, "w3": 1.0})
    with pytest.raises(GraphError, match=r"did you mean 'w1'"):
        evaluate_graph(KRAMER, {"s0": 2, "w0": 2, "w_1": 1, "w2": 0.5, "w1": 1})
    with pytest.raises(GraphError, match=r"'x1' is computed by the graph"):
        evaluate_graph(KRAMER, {**SLIDE_VALUES, "x1": 4.0})


# ---------------------------------------------------------------- domain errors, overflow


@pytest.mark.parametrize(("text", "values", "fragment"), [
    ("y = log(x)", {"x": 0.0}, r"column 5: log of a non-positive number in log\('x' = 0.0\)"),
    ("y = sqrt(x)", {"x": -1.0}, "sqrt of a negative number"),
    ("y = 1/x", {"x": 0.0}, "division by zero"),
    ("y = x**0.5", {"x": -4.0}, "negative base to a fractional power"),
    ("y = exp(x)", {"x": 1000.0}, "overflow"),
    ("y = 9**9**9**9", {}, r"column 8: overflow.* \(in '9\*\*9\*\*9'\)"),
    ("y = 10**400", {}, "overflow"),
])
def test_domain_errors_and_overflow_say_what_and_where(text, values, fragment):
    with pytest.raises(GraphError, match=fragment):
        evaluate_graph(text, values)


def test_errors_on_later_lines_name_the_line():
    with pytest.raises(GraphError, match=r"line 3, column 5: log of a non-positive"):
        evaluate_graph("a = x\nb = a - 1\nc = log(b)", {"x": 1.0})


# ---------------------------------------------------------------- hostile inputs

# (text, what the message must say). Each is rejected before anything is evaluated.
HOSTILE = [
    ("__import__('os').system('echo pwned')", "calling"),
    ("__import__('os')", "unknown function '__import__'"),
    ("x = __import__", "'__import__' is not allowed"),
    ("__builtins__", "'__builtins__' is not allowed"),
    ("x.__class__", "attribute access is not allowed: 'x.__class__'"),
    ("x.__class__.__bases__[0].__subclasses__()", "calling"),
    ("().__class__", "attribute access"),
    ("sigmoid.__globals__", "attribute access"),
    ("lambda: 0", "lambda is not allowed"),
    ("f = lambda x: x", "lambda is not allowed"),
    ("[x for x in range(10)]", "a list comprehension is not allowed"),
    ("{x: 1 for x in y}", "a dict comprehension is not allowed"),
    ("sum(x for x in y)", "unknown function 'sum'"),
    ("(x for x in y)", "a generator expression is not allowed"),
    ("x[0]", "indexing is not allowed: 'x[0]'"),
    ("x[1:2]", "indexing is not allowed"),
    ("f'{x}'", "an f-string is not allowed"),
    ("'abc'", "strings are not allowed"),
    ("b'abc'", "strings are not allowed"),
    ("(y := 2)", "':=' (walrus) is not allowed"),
    ("*x", "'*' unpacking is not allowed"),
    ("sigmoid(*x)", "'*' unpacking is not allowed"),
    ("sigmoid(**x)", "takes no keyword arguments"),
    ("import os", "an import is not allowed"),
    ("from os import system", "an import is not allowed"),
    ("def f(): pass", "a function definition is not allowed"),
    ("class A: pass", "a class definition is not allowed"),
    ("exec('print(1)')", "unknown function 'exec'"),
    ("eval('1')", "unknown function 'eval'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("print(x)", "unknown function 'print'"),
    ("sigmod(x)", "did you mean 'sigmoid'"),
    ("x.y(z)", "calling 'x.y' is not allowed"),
    ("x if y else z", "'if ... else' is not allowed"),
    ("x < y", "a comparison is not allowed"),
    ("x and y", "'and'/'or' is not allowed"),
    ("not x", "'not' is not allowed"),
    ("x // 2", "'//' (floor division) is not allowed"),
    ("x % 2", "'%' (modulo) is not allowed"),
    ("x @ y", "'@' (matrix product) is not allowed"),
    ("x ^ 2", "'^' is not allowed; write powers as '**'"),
    ("~x", "'~' is not allowed"),
    ("1j", "complex numbers are not allowed"),
    ("None", "None is not a number"),
    ("True + 1", "True is not a number"),
    ("...", "Ellipsis is not a number"),
    ("[1, 2]", "a list is not allowed"),
    ("x, y", "a tuple (a stray comma?) is not allowed"),
    ("{1, 2}", "a set is not allowed"),
    ("{'a': 1}", "a dict is not allowed"),
    ("x += 1", "an augmented assignment"),
    ("x: float = 1", "an annotated assignment"),
    ("x = y = 2", "chained assignment"),
    ("x.y = 2", "the left side of '=' must be a single name"),
    ("x[0] = 2", "the left side of '=' must be a single name"),
    ("a, b = 1, 2", "the left side of '=' must be a single name"),
    ("sigmoid = 3", "'sigmoid' is a function; it cannot be assigned to"),
    ("y = sigmoid * 2", "'sigmoid' is a function; call it"),
    ("del x", "'del' is not allowed"),
    ("for i in x: pass", "'for' is not allowed"),
    ("while 1: pass", "'while' is not allowed"),
    ("with x: pass", "'with' is not allowed"),
    ("try:\n pass\nexcept: pass", "syntax error"),  # (indentation means nothing here)
    ("assert x", "'assert' is not allowed"),
    ("global x", "'global' is not allowed"),
    ("raise x", "'raise' is not allowed"),
    ("await x", "await is not allowed"),
    ("yield x", "yield is not allowed"),
    ("sigmoid(x, y)", "sigmoid() takes 1 argument, got 2"),
    ("exp()", "exp() takes 1 argument, got 0"),
    ("leaky_relu(x, 0.1, 2)", "leaky_relu() takes 1 or 2 arguments"),
    ("leaky_relu(x, slope=0.1)", "leaky_relu() takes x and optionally alpha"),
    ("exp(x=1)", "takes no keyword arguments"),
    ("x = 1; x = 2", "'x' is assigned twice"),
    ("y = x + 1; x = 2", "'x' is used before it is assigned"),
    ("sigmoid(x); out = x", "only the last statement may be a bare expression"),
    ("x = ", "syntax error"),
    ("x = (1 + 2", "syntax error"),
    ("1 +* 2", "syntax error"),
    ("if", "syntax error"),
    ("", "the graph is empty"),
    ("   \n  ", "the graph is empty"),
    ("# only a comment", "no statements"),
    # huge numbers: nothing computes a big integer; the engine's float overflows
    ("9**9**9**9", "overflow"),
    ("(10**10)**(10**10)", "overflow"),
    ("1e999", "the number '1e999' is too large"),
    ("1" + "0" * 400, "is too large"),
    ("1" + "0" * 5000, "a number with too many digits"),
    # nesting, length, size
    ("(" * 60 + "x" + ")" * 60, f"parentheses nested more than {MAX_NESTING} deep"),
    ("sigmoid(" * 60 + "x" + ")" * 60, f"nested more than {MAX_NESTING} deep"),
    ("[" * 300 + "]" * 300, "nested more than"),
    # chains Python's parser gives up on (where depends on the version): refused before it
    ("-" * 3000 + "x", f"column {MAX_OPERATIONS + 1}: the graph has more than {MAX_OPERATIONS}"),
    ("x" + "**x" * 3000, f"more than {MAX_OPERATIONS} operations"),
    ("-x**" * 1600 + "x", f"more than {MAX_OPERATIONS} operations"),
    ("~" * 5000 + "x", f"more than {MAX_OPERATIONS} operations"),
    ("not " * 2400 + "x", f"more than {MAX_OPERATIONS} operations"),
    # an f-string's inside is parsed as code (a chain there too), tokenized only from 3.12 on
    ("f'{" + "-" * 2990 + "x}'", "column 1: an f-string is not allowed"),
    ("y = 1 + f'''{x\n+ 1}''' + 2", "line 1, column 9: an f-string is not allowed: \"f'''{x + 1}"),
    ("x" + "+x" * (MAX_OPERATIONS + 5), f"more than {MAX_OPERATIONS} operations"),
    ("x" * (MAX_TEXT_LENGTH + 1), f"the limit is {MAX_TEXT_LENGTH}"),
    ("y = x\n" * 3000, f"the limit is {MAX_TEXT_LENGTH}"),
    # unicode: Python would fold 'ｘ' (fullwidth) into 'x'; we refuse non-ASCII outright
    ("σ = 1", "non-ASCII character 'σ'"),
    ("ｘ = 1", "non-ASCII character 'ｘ'"),
    ("x\u200b = 1", "invisible character"),  # zero-width space
    ("y = x \u202e+ 1", "invisible character"),  # right-to-left override
    ("y = x  # \u202e hidden", "invisible character"),  # even in a comment
    ("y = x\u2028+ 1", "invisible character"),  # a line separator Python does not know
    ("café = 1", "non-ASCII character 'é'"),
    ("x = 1\x00", "control or invisible character"),
    ("x = 1\x1b[2J", "control or invisible character"),
]


class _RunGuard:
    """Fails a test if graph text reaches eval/exec, or compile other than ast.parse's.

    Python itself uses these builtins (imports exec module code, namedtuple and dataclass
    eval their generated source), so a call is refused when it comes from autograd_lite's
    own modules, or when its source is the user's text.
    """

    def __init__(self) -> None:
        self.text: str | None = None
        self.parsed = 0  # compile(..., PyCF_ONLY_AST) calls: ast.parse of the text

    def suspicious(self, source: object) -> bool:
        caller = sys._getframe(2).f_globals.get("__name__", "")
        is_user_text = self.text is not None and isinstance(source, str) and (
            source == self.text or source.strip() == self.text.strip())
        return caller.startswith("autograd_lite") or is_user_text


@pytest.fixture
def nothing_is_executed(monkeypatch):
    guard = _RunGuard()
    real_compile, real_eval, real_exec = builtins.compile, builtins.eval, builtins.exec

    def guarded(real):
        def run(source, *args, **kwargs):
            if guard.suspicious(source):
                raise AssertionError("eval/exec called on graph text")
            return real(source, *args, **kwargs)
        return run

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        if flags & ast.PyCF_ONLY_AST:
            guard.parsed += 1
        elif guard.suspicious(source):
            raise AssertionError(f"compile() of graph text to code (flags={flags})")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", guarded(real_eval))
    monkeypatch.setattr(builtins, "exec", guarded(real_exec))
    monkeypatch.setattr(builtins, "compile", parse_only)
    return guard


def test_there_are_more_than_thirty_hostile_inputs():
    assert len(HOSTILE) >= 30
    assert len({text for text, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("text", "fragment"), HOSTILE,
                         ids=[repr(t[:30]) + f"[{i}]" for i, (t, _) in enumerate(HOSTILE)])
def test_hostile_input_exits_2_with_a_clear_one_line_message(text, fragment, capsys,
                                                             nothing_is_executed):
    nothing_is_executed.text = text
    # No --at: the text itself must be what is rejected. ("--": a text may start with "-".)
    status = main(["trace", "--", text])
    captured = capsys.readouterr()
    assert status == 2, captured.err
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("autograd-lite: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(("text", "fragment"), HOSTILE,
                         ids=[repr(t[:30]) + f"[{i}]" for i, (t, _) in enumerate(HOSTILE)])
def test_hostile_input_raises_graph_error_from_the_library(text, fragment, nothing_is_executed):
    nothing_is_executed.text = text
    with pytest.raises(GraphError) as caught:
        parse_graph(text).evaluate({})
    assert fragment in str(caught.value)


# The chains that make Python's parser recurse deepest, each with exactly MAX_OPERATIONS
# operations. Where the parser gives up differs between versions (3.11 fails on 2,989 unary
# minuses, 3.10 and 3.13 on 5,970), so the limit must stop every one of them first.
DEEPEST_CHAINS = {
    "unary minus": lambda n: "-" * n + "x",
    "power": lambda n: "x" + "**x" * n,
    "minus and power": lambda n: "-x**" * (n // 2) + "x",
    "sum": lambda n: "x" + "+x" * n,
    "calls of calls": lambda n: "x" + "()" * n,
    "not": lambda n: "not " * n + "x",
    "unary minus inside every parenthesis": lambda n: (
        "-" * (n - 40 * MAX_NESTING) + ("-" * 39 + "sigmoid(") * MAX_NESTING + "x"
        + ")" * MAX_NESTING),
}


@pytest.mark.parametrize("shape", DEEPEST_CHAINS)
def test_at_the_operation_limit_the_parser_never_gives_up(shape):
    text = DEEPEST_CHAINS[shape](MAX_OPERATIONS)
    assert len(text) <= MAX_TEXT_LENGTH
    try:
        parse_graph(text)
    except GraphError as exc:  # refused by the whitelist, not by the parser's depth
        assert "parser" not in str(exc) and "operations" not in str(exc), exc
    longer = DEEPEST_CHAINS[shape](MAX_OPERATIONS + 2)
    with pytest.raises(GraphError, match=f"has more than {MAX_OPERATIONS} operations"):
        parse_graph(longer)


def test_the_operation_limit_counts_one_per_node():
    graph = evaluate_graph("y = " + "-" * (MAX_OPERATIONS - 2) + "sigmoid(x) * x", {"x": 0.5})
    operations, stack, seen = 0, [graph.output], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            operations += bool(node.parents)
            stack.extend(node.parents)
    assert operations == MAX_OPERATIONS
    # The message points at the first operation over the limit: here the '*'.
    column = len("y = " + "-" * (MAX_OPERATIONS - 1) + "sigmoid(x) *")
    with pytest.raises(GraphError, match=f"^column {column}: the graph has more than "):
        parse_graph("y = " + "-" * (MAX_OPERATIONS - 1) + "sigmoid(x) * x")


def test_comments_may_use_the_lectures_symbols():
    graph = evaluate_graph("s = sigmoid(x)  # s = σ(x) = 1/(1 + e^−x)", {"x": 0.0})
    assert graph.output.data == 0.5


def test_errors_point_at_the_offending_piece():
    with pytest.raises(GraphError, match=r"^column 13: attribute access is not allowed: "
                                         r"'x.__class__'"):
        parse_graph("y = w*2 + s*x.__class__")
    with pytest.raises(GraphError, match=r"^line 2, column 5: indexing is not allowed: 'a\[0\]'"):
        parse_graph("a = x*2\nb = a[0]")
    with pytest.raises(GraphError, match=r"^line 3, column 9: unknown function 'foo'"):
        parse_graph("a = x\n    b = a\n    c = foo(b)")  # indentation counted in columns


def test_payloads_with_side_effects_do_nothing(tmp_path, nothing_is_executed):
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w')",
        f"x = [__import__('os').system('touch {marker}') for _ in (1,)]",
        f"exec(\"open({str(marker)!r}, 'w')\")",
        f"y = sigmoid(x) if __import__('os').system('touch {marker}') else 1",
    ]
    for payload in payloads:
        nothing_is_executed.text = payload
        with pytest.raises(GraphError):
            evaluate_graph(payload, {"x": 1.0})
        assert not marker.exists()
    assert nothing_is_executed.parsed == len(payloads)  # each was only parsed, by ast.parse


def test_the_parser_never_calls_eval_exec_or_compile():
    # Read the modules' own source: no call of eval/exec/compile appears anywhere in them.
    package = Path(autograd_lite.__file__).parent
    for path in [package / "graph_language.py", *sorted((package / "cli").glob("*.py"))]:
        module = path.name
        source = path.read_text(encoding="utf-8")
        calls = [node.func.id for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        assert not {"eval", "exec", "compile", "__import__"} & set(calls), module


# ---------------------------------------------------------------- issue 10


def test_a_json_values_file_with_a_key_twice_is_rejected_like_the_text_form(tmp_path, capsys):
    # json.loads keeps the last of {"x": 1, "x": 2}: the file was accepted with x = 2.
    with pytest.raises(GraphError, match="^values: 'x' is given twice$"):
        parse_values('{"x": 1, "y": 3, "x": 2}', source="values")
    with pytest.raises(GraphError, match="^values: 'x' is given twice$"):
        parse_values("x=1, y=3, x=2", source="values")
    with pytest.raises(GraphError, match="the value of 'x' must be a number, not object"):
        parse_values('{"x": {"y": 1}}', source="values")
    assert parse_values('{"x": 1, "y": 3}') == {"x": 1.0, "y": 3.0}
    values = tmp_path / "values.json"
    values.write_text('{"x": 1, "x": 2}')
    status = main(["trace", "out = x*2", "-f", str(values)])
    err = capsys.readouterr().err
    assert status == 2 and f"values file {str(values)!r}: 'x' is given twice" in err


@pytest.mark.parametrize(("text", "message"), [
    ("out = 1if x else 2", "'if ... else' is not allowed"),  # "invalid decimal literal"
    ("out = 1or x", "'and'/'or' is not allowed"),
    ("out = 0b1and x", "'and'/'or' is not allowed"),  # "invalid binary literal"
    ("out = 1in x", "a comparison is not allowed"),
    ("out = 0x1for", "syntax error"),  # "invalid hexadecimal literal"
    ("out = '\\d'", "strings are not allowed"),  # "invalid escape sequence"
])
def test_python_parser_warnings_do_not_leak(text, message):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(GraphError, match=message):
            parse_graph(text)
    assert [str(w.message) for w in caught] == []


def test_the_cli_prints_one_line_and_no_syntax_warning():
    import subprocess

    env = {"PYTHONPATH": str(Path(autograd_lite.__file__).parents[1]), "PATH": ""}
    done = subprocess.run([sys.executable, "-W", "default", "-m", "autograd_lite", "trace",
                           "out = 1if x else 2", "--at", "x=1"], capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "autograd-lite: error: column 7: 'if ... else' is not allowed: '1if x else 2'; a "
        "graph uses only names, numbers, + - * / **, parentheses and the functions abs, cos, "
        "exp, leaky_relu, log, relu, sigmoid, sin, sqrt, step, tanh"]
