"""Forward mode (issue 15): ``jvp`` and ``forward_trace``, read off the one table.

Expected numbers come from the reverse pass (``gradients`` dotted with the tangent, on the
property-test generator: every primitive, reused nodes), from PyTorch (``torch.func.jvp`` of
the same forward computation, differentiated by torch's own rules), from the Kramer slides
(dout/dw0 = w2·s2(1 − s2)·w1·s1(1 − s1)·s0 = 0.003501) and from hand calculations.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite import PRIMITIVES, Value, grad, gradients, linear, no_grad, trace
from autograd_lite.engine import Constant, StaleGraphError, constant
from autograd_lite.forward import ForwardTrace, forward_trace, jvp
from autograd_lite.lectures import kramer_chain
from autograd_lite.notation import number
from autograd_lite.testing.strategies import PRIMITIVE_NAMES, expression_and_point

ROOT = Path(__file__).resolve().parents[2]


def kramer(s0, w0, w1, w2):
    """The Kramer chain as a function of Values: out = w2·S(w1·S(w0·s0))."""
    return w2 * (w1 * (w0 * s0).sigmoid()).sigmoid()


KRAMER_POINT = (2.0, 2.0, 1.0, 0.5)  # s0, w0, w1, w2: the slide's first guess


def agree(a: float, b: float, scale: float = 0.0) -> bool:
    """Equal to rounding: the two sides add the same products in another order."""
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), scale) + 1e-12


# ---------------------------------------------------------------- the Kramer chain


def test_the_kramer_chain_by_forward_mode_gives_the_slide_numbers():
    value, dw0 = jvp(kramer, KRAMER_POINT, (0.0, 1.0, 0.0, 0.0))
    assert number(value) == "0.3638"  # out, slide "Forward propagation"
    assert number(dw0) == "0.003501"  # dout/dw0, the slide's w2·s2(1−s2)·w1·s1(1−s1)·s0
    # by hand, with math.exp
    s1 = 1 / (1 + math.exp(-4.0))
    s2 = 1 / (1 + math.exp(-s1))
    assert math.isclose(dw0, 0.5 * s2 * (1 - s2) * 1.0 * s1 * (1 - s1) * 2.0, rel_tol=1e-12)
    assert number(jvp(kramer, KRAMER_POINT, (0, 0, 1, 0))[1]) == "0.09734"  # dout/dw1
    assert number(jvp(kramer, KRAMER_POINT, (0, 0, 0, 1))[1]) == "0.7275"  # dout/dw2 = s2


def test_both_directions_on_the_kramer_graph_give_the_same_numbers():
    n = kramer_chain()
    backward = trace(n["out"], accumulate=False)  # one reverse pass: every weight at once
    for weight in ("w0", "w1", "w2", "s0"):
        forward = forward_trace(n["out"], n[weight])  # one forward pass per weight
        assert math.isclose(forward.tangent, backward.gradients[n[weight]], rel_tol=1e-14)
        assert forward.tangent == jvp(kramer, KRAMER_POINT,
                                      [float(w == weight) for w in ("s0", "w0", "w1", "w2")])[1]
    assert number(forward_trace(n["out"], "w0").tangent) == "0.003501"


def test_the_forward_trace_of_the_kramer_chain_reads_like_the_slides():
    n = kramer_chain()
    t = forward_trace(n["out"], n["w0"])
    assert isinstance(t, ForwardTrace) and len(t) == 5
    assert [s.name for s in t] == ["x1", "s1", "x2", "s2", "out"]  # inputs first
    # each step: the node's tangent d node/dw0 = local derivative × the input's tangent
    expected = {"x1": ("w0", "s0", 2.0), "s1": ("x1", "s1·(1 − s1)", None),
                "x2": ("s1", "w1", 1.0), "s2": ("x2", "s2·(1 − s2)", None),
                "out": ("s2", "w2", 0.5)}
    previous = 1.0  # dw0/dw0
    for step in t:
        (c,) = step.contributions
        name, formula, local = expected[step.name]
        assert c.name == name and c.formula_text == formula
        if local is not None:
            assert c.local == local
        assert c.tangent == previous and c.product == c.local * c.tangent == step.tangent
        previous = step.tangent
    assert t.step_of("s1").contributions[0].local == pytest.approx(0.017662706213291107)
    text = str(t)
    assert text.splitlines()[0] == ("Forward pass of dout/dw0: tangent w0 = 1; 0 at w2, w1, "
                                    "s0; 5 steps, inputs first (reading order)")
    assert "s1·(1 − s1) = 0.01766" in text and text.splitlines()[-1] == "dout/dw0 = 0.003501"
    markdown = t.to_markdown()
    assert "| 5 | out = 0.3638 | w2 * s2 | 0.003501 | s2 | w2 = 0.5 | 0.007003 | 0.003501 |" in (
        markdown)
    assert "- `x1 = w0 * s0 = 4`" in markdown and "- `dout/dw0 = 0.003501`" in markdown
    latex = t.to_latex()
    assert latex.startswith(r"\begin{tabular}") and r"s_{1} \left(1 - s_{1}\right) = 0.01766" \
        in latex
    assert "<caption>Forward pass of dout/dw0" in t._repr_html_()
    assert repr(t) == "<ForwardTrace of dout/dw0 = 0.003501: 5 steps>"


def test_a_weight_that_enters_late_leaves_the_early_steps_without_a_tangent():
    n = kramer_chain()
    t = forward_trace(n["out"], "w1")
    assert [s.tangent for s in t][:2] == [0.0, 0.0]
    assert t.steps[0].contributions == [] and "(no input carries a tangent)" in str(t)
    assert number(t.tangent) == "0.09734"
    assert t.tangent_of("s1") == 0.0 and t.tangent_of("w1") == 1.0


def test_seeding_an_operation_treats_it_as_an_input():
    n = kramer_chain()
    t = forward_trace(n["out"], n["x1"])
    assert t.steps[0].seeded and t.steps[0].tangent == 1.0
    assert "(seeded: its tangent is given)" in str(t)
    (expected,) = gradients(n["out"], [n["x1"]])
    assert math.isclose(t.tangent, expected, rel_tol=1e-14)  # dout/dx1 = 0.001751
    assert number(t.tangent) == "0.001751"


def test_a_direction_over_several_inputs_is_the_dot_product_of_the_gradient():
    n = kramer_chain()
    t = forward_trace(n["out"], ["w0", n["w1"]], tangent=[1.0, 2.0])
    g0, g1 = gradients(n["out"], [n["w0"], n["w1"]])
    assert math.isclose(t.tangent, g0 + 2 * g1, rel_tol=1e-14)
    assert t.tangent == jvp(kramer, KRAMER_POINT, (0, 1, 2, 0))[1]
    assert str(t).startswith("Forward pass of the tangent of out: tangent w0 = 1, w1 = 2;")
    x2 = t.step_of("x2")
    assert [c.name for c in x2.contributions] == ["w1", "s1"]  # both inputs carry one
    assert x2.tangent == sum(c.product for c in x2.contributions)


def test_forward_trace_numbers_are_jvp_numbers_and_touch_no_grad():
    n = kramer_chain()
    t = forward_trace(n["out"], "w2", tangent=-3.0)
    assert t.tangent == jvp(kramer, KRAMER_POINT, (0, 0, 0, -3.0))[1]
    assert all(v.grad == 0.0 for v in n.values())


def test_forward_trace_refuses_what_it_cannot_seed():
    n = kramer_chain()
    with pytest.raises(TypeError, match="needs a Value"):
        forward_trace(0.5, "w0")
    with pytest.raises(KeyError, match="no node named 'w9'"):
        forward_trace(n["out"], "w9")
    with pytest.raises(TypeError, match="wrt must hold Values or node names, not int"):
        forward_trace(n["out"], [3])
    with pytest.raises(TypeError, match="wrt must be a Value, a node's name, or a list"):
        forward_trace(n["out"], 3)
    with pytest.raises(ValueError, match="given twice"):
        forward_trace(n["out"], ["w0", n["w0"]])
    with pytest.raises(ValueError, match="wrt is empty"):
        forward_trace(n["out"], [])
    with pytest.raises(ValueError, match="it has no tangent"):
        forward_trace(n["out"], constant(2.0))
    with pytest.raises(ValueError, match="2 wrt node.s. but 1 tangent"):
        forward_trace(n["out"], ["w0", "w1"], tangent=[1.0])
    with pytest.raises(TypeError, match="tangent must be a number or a list of numbers"):
        forward_trace(n["out"], "w0", tangent="1")
    with pytest.raises(TypeError, match=r"tangent\[0\] must be a real number"):
        forward_trace(n["out"], ["w0"], tangent=[None])
    with pytest.raises(StaleGraphError):
        n["x1"].data = 5.0
        forward_trace(n["out"], "w0")


def test_a_value_outside_the_graph_has_tangent_zero_everywhere():
    n = kramer_chain()
    other = Value(1.0, label="q")
    t = forward_trace(n["out"], other)
    assert t.tangent == 0.0 and all(s.tangent == 0.0 for s in t)


# ---------------------------------------------------------------- jvp: what it accepts


def test_jvp_is_the_directional_derivative_by_hand():
    value, tangent = jvp(lambda x, y: x * y + x.sin(), [2.0, 3.0], [1.0, -1.0])
    assert value == 6.0 + math.sin(2.0)
    assert math.isclose(tangent, (3.0 + math.cos(2.0)) * 1.0 + 2.0 * -1.0, rel_tol=1e-15)
    assert jvp(lambda x: x ** 3, (2,), (1,)) == (8.0, 12.0)  # ints are numbers too


def test_an_output_that_does_not_depend_on_the_inputs_has_tangent_zero():
    c = Value(3.0, label="c")
    assert jvp(lambda x: c * 2, [1.0], [1.0]) == (6.0, 0.0)
    assert jvp(lambda x: Value(5.0), [1.0], [1.0]) == (5.0, 0.0)
    assert jvp(lambda: Value(5.0), [], []) == (5.0, 0.0)
    assert jvp(lambda x, y: y, [1.0, 2.0], [7.0, -4.0]) == (2.0, -4.0)  # an input itself


def test_a_zero_tangent_needs_no_local_derivative():
    # d/dx x**y at x = -2, y = 2 is -4; d/dy (log of a negative base) is undefined
    assert jvp(lambda x, y: x ** y, [-2.0, 2.0], [1.0, 0.0]) == (4.0, -4.0)
    with pytest.raises(ValueError, match=r"local derivative of pow is undefined at "
                                         r"pow\('x' = -2.0, 'y' = 2.0\) with respect to its "
                                         r"input 2 \('y' = 2.0\)"):
        jvp(lambda x, y: x ** y, [-2.0, 2.0], [0.0, 1.0])


def test_bad_input_is_refused_with_what_was_wrong():
    with pytest.raises(ValueError, match="2 primal.s. but 1 tangent"):
        jvp(kramer, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"primals\[1\] must be a real number .* not str"):
        jvp(lambda x, y: x * y, [1.0, "2"], [1.0, 0.0])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number .* not NoneType"):
        jvp(lambda x: x, [1.0], [None])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number .* not bool"):
        jvp(lambda x: x, [1.0], [True])
    with pytest.raises(ValueError, match="must be finite"):
        jvp(lambda x: x, [math.nan], [1.0])
    with pytest.raises(TypeError, match=r"not a single float: wrap it, jvp\(f, \[2.0\], \[1.0\]\)"):
        jvp(lambda x: x, 2.0, [1.0])
    with pytest.raises(TypeError, match="a sequence of numbers .a list or tuple., not str"):
        jvp(lambda x: x, "2", "1")
    with pytest.raises(TypeError, match="not dict"):
        jvp(lambda x: x, {"x": 2.0}, [1.0])
    with pytest.raises(TypeError, match=r"primals\[0\] is a Value.*pass its .data, 2.0"):
        jvp(lambda x: x, [Value(2.0)], [1.0])
    with pytest.raises(TypeError, match="f must be a function, not int"):
        jvp(3, [1.0], [1.0])
    with pytest.raises(TypeError, match="f must return a Value .* not float .for a constant"):
        jvp(lambda x: 3.0, [1.0], [1.0])
    with pytest.raises(TypeError, match="f must return a Value .* not list"):
        jvp(lambda x: [x], [1.0], [1.0])


def test_a_float_conversion_inside_f_is_refused():
    with pytest.raises(TypeError, match=r"jvp\(<lambda>\): .* turned a Value that depends on "
                                        "its arguments into a float"):
        jvp(lambda x: Value(math.sin(x)) * x, [1.0], [1.0])
    c = Value(2.0)  # converting something that does not depend on the inputs is fine
    assert jvp(lambda x: x * float(c), [1.0], [1.0]) == (2.0, 2.0)


def test_jvp_inside_no_grad_says_why_it_cannot_work():
    with no_grad(), pytest.raises(RuntimeError, match="inside no_grad"):
        jvp(lambda x: x * x, [1.0], [1.0])


def test_the_values_f_gets_are_named_after_its_parameters():
    seen = []

    def f(weight, bias, *rest):
        seen.extend(v.label for v in (weight, bias, *rest))
        return weight * bias

    jvp(f, [1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert seen == ["weight", "bias", "x1"]
    with pytest.raises(ValueError, match=r"log of a non-positive number in log\('t' = -1.0\)"):
        jvp(lambda t: t.log(), [-1.0], [1.0])


def test_a_tangent_that_overflows_names_the_node():
    with pytest.raises(OverflowError, match="overflow: the tangent of .* is not a finite float"):
        jvp(lambda x: x * 1e200, [1e-200], [1e200])  # the value is 1.0


def test_an_n_ary_linear_node_pushes_every_tangent_at_once():
    def neuron(w1, w2, b):
        return linear([w1, w2], [2.0, 3.0], bias=b)

    assert jvp(neuron, [0.5, -1.0, 0.25], [1.0, 10.0, 100.0]) == (-1.75, 132.0)


def test_forward_over_reverse_gives_a_second_derivative():
    # grad(f) of a Value is a differentiable Value (create_graph): jvp of it is f''.
    def f(x):
        return x.sin() * x ** 3

    x = 0.7
    by_hand = -math.sin(x) * x**3 + 6 * x**2 * math.cos(x) + 6 * x * math.sin(x)
    value, second = jvp(grad(f), [x], [1.0])
    assert math.isclose(value, math.cos(x) * x**3 + 3 * x**2 * math.sin(x), rel_tol=1e-14)
    assert math.isclose(second, by_hand, rel_tol=1e-13)


def test_jvp_reads_the_table():
    # Change sin's local derivative in the table: forward mode follows, as backward does.
    sin = PRIMITIVES["sin"]
    rules = sin.derivatives
    object.__setattr__(sin, "derivatives", (lambda x, out, f: 2 * f.cos(x),))  # frozen
    try:
        assert jvp(lambda x: x.sin(), [0.0], [1.0]) == (0.0, 2.0)
        x = Value(0.0)
        assert gradients(x.sin(), [x]) == [2.0]
    finally:
        object.__setattr__(sin, "derivatives", rules)
    assert jvp(lambda x: x.sin(), [0.0], [1.0]) == (0.0, 1.0)


def test_forward_mode_loads_neither_sympy_nor_graphviz():
    code = ("import sys, autograd_lite as ag; "
            "print(ag.jvp(lambda x: x.sigmoid(), [0.0], [1.0])); "
            "print(sorted(m for m in ('sympy', 'graphviz', 'nn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.splitlines() == ["(0.5, 0.25)", "[]"]


def test_the_package_exports_forward_mode():
    assert ag.jvp is jvp and ag.forward_trace is forward_trace
    assert {"jvp", "forward_trace", "ForwardTrace"} <= set(ag.__all__)


# ---------------------------------------------------------------- random graphs


def _build(expression, point):
    """The leaves (in the order of ``expression.variables``, as jvp's primals) and output."""
    leaves = {name: Value(point[name], name) for name in expression.variables}
    return leaves, expression.build(**leaves)


def _primals(expression, point):
    return [point[name] for name in expression.variables]


def _function(expression):
    names = expression.variables
    return lambda *values: expression.build(**dict(zip(names, values)))


TANGENTS = st.lists(st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -3.25]), min_size=2, max_size=2)


def _check_against_reverse(expression, point, tangents):
    leaves, out = _build(expression, point)
    if not isinstance(out, Value):
        return
    reverse = gradients(out, list(leaves.values()))
    terms = [g * t for g, t in zip(reverse, tangents)]
    value, tangent = jvp(_function(expression), _primals(expression, point), tangents)
    assert value == out.data
    assert agree(tangent, sum(terms), scale=sum(map(abs, terms))), (tangent, terms)
    # one basis tangent per input: the gradient, one forward pass per entry
    for k, g in enumerate(reverse):
        basis = [float(i == k) for i in range(len(reverse))]
        assert agree(jvp(_function(expression), _primals(expression, point), basis)[1], g)


@settings(max_examples=200, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=6), TANGENTS)
def test_jvp_equals_reverse_mode_on_random_graphs(case, tangents):
    _check_against_reverse(*case, tangents)


@pytest.mark.parametrize("name", PRIMITIVE_NAMES)
def test_jvp_equals_reverse_mode_for_every_primitive(name):
    @settings(max_examples=25, deadline=None)
    @given(expression_and_point(("x", "y"), primitives=[name], max_operations=3), TANGENTS)
    def check(case, tangents):
        _check_against_reverse(*case, tangents)

    check()


@settings(max_examples=100, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=6), TANGENTS)
def test_the_forward_trace_records_jvp_numbers_on_random_graphs(case, tangents):
    expression, point = case
    leaves, out = _build(expression, point)
    if not isinstance(out, Value) or out.primitive is None:
        return
    t = forward_trace(out, list(leaves.values()), tangent=tangents)
    assert t.tangent == jvp(_function(expression), _primals(expression, point), tangents)[1]
    assert len(t) == sum(1 for n in t.graph.reading_order if n.primitive is not None)
    for step in t:  # every step is the table's rule on floats, times the input's tangent
        prim = step.node.primitive
        locals_ = prim.local_derivatives([p.data for p in step.node.parents], step.node.data,
                                         ag.primitives.FLOAT)
        for c in step.contributions:
            assert c.local == locals_[c.position] and c.tangent == t.tangents[c.parent]
        assert step.tangent == sum((c.product for c in step.contributions), 0.0)
    str(t)  # every formula prints


# ---------------------------------------------------------------- PyTorch's forward mode


def _torch_in_test_extra(text: str | None = None) -> bool:
    """Does pyproject.toml's ``test`` extra ask for torch on this Python (torch itself or
    ``autograd_lite[torch]``, its environment marker, if any, true here)?"""
    from packaging.requirements import Requirement  # pytest's own dependency

    if text is None:
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10: read the list off the text
        match = re.search(r"^test\s*=\s*\[(.*?)^\]", text, re.S | re.M)
        block = re.sub(r"#.*", "", match.group(1)) if match else ""  # comments out
        requirements = re.findall(r'"([^"]+)"', block)
    else:
        extras = tomllib.loads(text).get("project", {}).get("optional-dependencies", {})
        requirements = extras.get("test", [])
    for line in requirements:
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        wanted = name == "torch" or (name == "autograd-lite" and "torch" in requirement.extras)
        here = requirement.marker is None or requirement.marker.evaluate({"extra": "test"})
        if wanted and here:
            return True
    return False


@pytest.fixture(scope="module")
def torch():
    try:
        import torch
    except ImportError as error:
        if _torch_in_test_extra():
            pytest.fail(f"torch is in pyproject.toml's test extra but does not import "
                        f"({error}): install the test extras (make install)", pytrace=False)
        pytest.skip("torch is not installed, and not in pyproject.toml's test extra: "
                    "pip install torch==2.13.0 to compare jvp with torch.func.jvp")
    return torch


def _torch_function(torch, out, leaves):
    """The graph's forward computation in torch: each node the table's *forward* rule over
    torch functions. Its derivatives are then torch's own, not the table's."""
    def tensor(x):
        return torch.as_tensor(x, dtype=torch.float64)

    def where(condition, if_true, if_false):  # float64 even for the 1 and 0 of a rule
        return torch.where(torch.as_tensor(condition), tensor(if_true), tensor(if_false))

    f = SimpleNamespace(exp=torch.exp, log=torch.log, sqrt=torch.sqrt, tanh=torch.tanh,
                        sin=torch.sin, cos=torch.cos, abs=torch.abs, sigmoid=torch.sigmoid,
                        relu=torch.relu, sign=torch.sign, xlogy=torch.xlogy, where=where)
    order = ag.Graph(out).reading_order

    def run(*inputs):
        values = dict(zip(leaves, inputs))
        for node in order:
            if node.primitive is None:
                values.setdefault(node, tensor(node.data))
                continue
            args = [values[p] if type(p) is not Constant else tensor(p.data)
                    for p in node.parents]
            values[node] = node.primitive.forward(*args, f)
        return values[out]

    return run


@pytest.mark.slow  # torch.func.jvp: a few seconds for the 200 examples
@settings(max_examples=200, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=6), TANGENTS)
def test_jvp_equals_torch_func_jvp_on_random_graphs(torch, case, tangents):
    expression, point = case
    leaves, out = _build(expression, point)
    if not isinstance(out, Value):
        return
    primals = tuple(torch.tensor(v, dtype=torch.float64) for v in _primals(expression, point))
    directions = tuple(torch.tensor(t, dtype=torch.float64) for t in tangents)
    value, expected = torch.func.jvp(_torch_function(torch, out, list(leaves.values())),
                                     primals, directions)
    ours, tangent = jvp(_function(expression), _primals(expression, point), tangents)
    assert agree(ours, float(value))
    reverse = gradients(out, list(leaves.values()))
    scale = sum(abs(g * t) for g, t in zip(reverse, tangents))
    assert agree(tangent, float(expected), scale=scale), (tangent, float(expected))


def test_the_kramer_chain_agrees_with_torch(torch):
    primals = tuple(torch.tensor(v, dtype=torch.float64) for v in KRAMER_POINT)
    basis = tuple(torch.tensor(v, dtype=torch.float64) for v in (0.0, 1.0, 0.0, 0.0))
    _, expected = torch.func.jvp(kramer, primals, basis)  # the same code, on tensors
    assert math.isclose(jvp(kramer, KRAMER_POINT, (0, 1, 0, 0))[1], float(expected),
                        rel_tol=1e-14)


@pytest.mark.parametrize("test_extra, wanted", [
    ('["pytest>=8", "numpy>=1.26"]', False),
    ('["pytest>=8", "torch==2.13.0"]', True),
    ('["pytest>=8", "torch>=2; python_version >= \'3.10\'"]', True),
    ('["pytest>=8", "torch>=2; python_version < \'3.10\'"]', False),  # not on this Python
    ('["torch==2.13.0; python_version == \'3.11\'"]', sys.version_info[:2] == (3, 11)),
    ('["autograd_lite[torch,jax]"]', True),
    ('["autograd_lite[jax]", "torchvision"]', False),
])
@pytest.mark.parametrize("tomllib", ["tomllib", "Python 3.10's text search"])
def test_the_torch_fixture_reads_the_test_extra(test_extra, wanted, tomllib, monkeypatch):
    # The torch test fails (never skips) once torch is in the test extra.
    if tomllib != "tomllib":
        monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` fails
    text = (f'[project]\nname = "autograd_lite"\n[project.optional-dependencies]\n'
            f'bench = ["torch"]\ntest = [\n    {test_extra[1:-1]},\n]\njax = ["jax"]\n')
    assert _torch_in_test_extra(text) is wanted
