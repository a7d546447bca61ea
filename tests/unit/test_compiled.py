"""compile_graph: the graph as straight-line code, against the eager engine (issue 14).

Expected numbers come from the engine's own backward pass (on the property-test generator:
every primitive, reused nodes), from the Kramer slides and from hand calculations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from autograd_lite import Value, compile_graph, gradients, linear
from autograd_lite.compiled import CHUNK
from autograd_lite.lectures import kramer_chain
from autograd_lite.testing.strategies import expression_and_point


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def test_the_kramer_chain_compiles_to_the_slides_backward_pass():
    n = kramer_chain()
    inputs = [n["w0"], n["w1"], n["w2"], n["s0"]]
    compiled = compile_graph(n["out"], inputs)
    value, grads = compiled(2.0, 1.0, 0.5, 2.0)
    assert round(value, 4) == 0.3638  # the slide's out
    # dout/dw2 = s2 = 0.7275, dout/dw1 = w2·s2(1−s2)·s1 = 0.09734 (the slides)
    assert round(grads[2], 4) == 0.7275 and round(grads[1], 5) == 0.09734
    source = compiled.source
    # one line per operation, named after the labels; backward as upstream × local
    for line in ("x1 = w0*s0", "s1 = sigmoid(x1)", "out = w2*s2", "d_out = 1.0",
                 "d_w2 = d_out*s2  # out = w2 * s2",
                 "d_x2 = d_s2*(s2*sigmoid(-x2))  # s2 = sigmoid(x2)"):
        assert line in source, line
    # new numbers on every call: the engine at another point
    m = kramer_chain(s0=-1.0, w0=0.3, w1=-2.0, w2=4.0)
    m["out"].backward()
    value, grads = compiled(0.3, -2.0, 4.0, -1.0)
    assert close(value, m["out"].data)
    for g, name in zip(grads, ("w0", "w1", "w2", "s0")):
        assert close(g, m[name].grad), name


def test_a_reused_node_accumulates_in_the_code():
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    compiled = compile_graph(y, [x])
    assert compiled(3.0) == (12.0, (7.0,))  # dy/dx = 2x + 1, by hand
    assert compiled(-0.5) == (-0.25, (0.0,))
    assert compiled.source.count("d_x += ") == 2
    # arrays: d_x and d_u1 start as the same array as d_y; adding in place would change all
    value, (dx,) = compile_graph(y, [x], backend="numpy")(np.array([3.0, -0.5]))
    assert value.tolist() == [12.0, -0.25] and dx.tolist() == [7.0, 0.0]


@settings(max_examples=300, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=6))
def test_compiled_python_and_numpy_equal_the_engine_on_random_graphs(case):
    expression, point = case
    leaves = {name: Value(value, name) for name, value in point.items()}
    out = expression.build(**leaves)
    if not isinstance(out, Value) or out.primitive is None:
        return
    engine = gradients(out, list(leaves.values()))
    compiled = compile_graph(out, list(leaves.values()))
    value, grads = compiled(*point.values())
    assert close(value, out.data)
    for g, e in zip(grads, engine):
        assert math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-12), compiled.source
    batch = compile_graph(out, list(leaves.values()), backend="numpy")
    arrays = [np.array([v, v]) for v in point.values()]
    values, array_grads = batch(*arrays)
    assert values.shape == (2,) and math.isclose(values[0], out.data, rel_tol=1e-9,
                                                 abs_tol=1e-12)
    for g, e in zip(array_grads, engine):
        assert math.isclose(g[1], e, rel_tol=1e-9, abs_tol=1e-12), batch.source


def test_numpy_evaluates_a_whole_batch_each_element_independently():
    n = kramer_chain()
    compiled = compile_graph(n["out"], [n["w0"], n["w1"], n["w2"], n["s0"]], backend="numpy")
    s0 = np.linspace(-3, 3, 7)
    value, grads = compiled(2.0, 1.0, 0.5, s0)  # scalars broadcast against the batch
    assert value.shape == (7,) and all(g.shape == (7,) for g in grads)
    for k, s in enumerate(s0):
        m = kramer_chain(s0=float(s))
        m["out"].backward()
        assert math.isclose(value[k], m["out"].data, rel_tol=1e-12)
        assert math.isclose(grads[0][k], m["w0"].grad, rel_tol=1e-12, abs_tol=1e-300)


def test_leaves_that_are_not_inputs_are_folded():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    out = (w * x).tanh()
    out.label = "out"
    compiled = compile_graph(out, ["w"])  # x keeps 3.0
    value, (dw,) = compiled(0.1)
    assert close(value, math.tanh(0.3)) and close(dw, 3 * (1 - math.tanh(0.3) ** 2))
    assert "x = 3.0  # fixed" in compiled.source


def test_a_hessian_compiles_from_a_create_graph_gradient():
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    f = x * x * y + y.sin()
    dfdx, _ = gradients(f, [x, y], create_graph=True)
    compiled = compile_graph(dfdx, [x, y])  # d/dx and d/dy of df/dx: a Hessian row
    value, (fxx, fxy) = compiled(1.5, -0.5)
    assert close(value, 2 * 1.5 * -0.5)  # df/dx = 2xy, by hand
    assert close(fxx, 2 * -0.5) and close(fxy, 2 * 1.5)  # 2y and 2x
    value, (fxx, fxy) = compiled(3.0, 2.0)
    assert close(value, 12.0) and close(fxx, 4.0) and close(fxy, 6.0)


def test_outside_a_domain_the_engine_names_the_node():
    x = Value(2.0, label="x")
    y = (x - 1).log()
    y.label = "y"
    compiled = compile_graph(y, [x])
    with pytest.raises(ValueError, match="log of a non-positive number"):
        compiled(0.5)
    z = Value(2.0, label="z") ** Value(0.5, label="p")
    with pytest.raises(ValueError, match="negative base to a fractional power"):
        compile_graph(z, ["z", "p"])(-2.0, 0.5)  # Python would return a complex number


def test_bad_input_is_refused_with_what_and_where():
    n = kramer_chain()
    with pytest.raises(ValueError, match="x1 is computed"):
        compile_graph(n["out"], [n["x1"]])
    with pytest.raises(ValueError, match="given twice"):
        compile_graph(n["out"], [n["w0"], "w0"])
    with pytest.raises(ValueError, match="backend"):
        compile_graph(n["out"], [n["w0"]], backend="fortran")
    with pytest.raises(TypeError, match="list of the leaves"):
        compile_graph(n["out"], n["w0"])
    compiled = compile_graph(n["out"], [n["w0"]])
    with pytest.raises(TypeError, match="takes 1 input"):
        compiled(1.0, 2.0)
    with pytest.raises(TypeError, match="must be a real number"):
        compiled("2")
    other = Value(1.0, label="q")  # not in the graph: taken, its gradient 0 (as gradients)
    assert compile_graph(n["out"], [other, "w0"])(5.0, 2.0)[1][0] == 0.0


def test_an_n_ary_linear_node_compiles():
    ws = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    b = Value(0.25, label="b")
    z = linear(ws, [2.0, 3.0], bias=b)
    z.label = "z"
    value, grads = compile_graph(z, [*ws, b])(0.5, -1.0, 0.25)
    assert value == 0.25 + 0.5 * 2.0 + -1.0 * 3.0 and grads == (2.0, 3.0, 1.0)


@pytest.mark.slow
def test_a_big_graph_compiles_in_chunks_and_agrees_with_the_engine():
    # more statements than CHUNK: the code is cut into functions that hand over in a list
    w = Value(0.999, label="w")
    h = Value(0.5, label="x")
    for _ in range(CHUNK // 2 + 10):
        h = (w * h).tanh()
    compiled = compile_graph(h, [w])
    assert compiled.operations > CHUNK
    value, (dw,) = compiled(0.999)
    h.backward()
    assert close(value, h.data) and math.isclose(dw, w.grad, rel_tol=1e-9)
    value, (dw,) = compiled(0.5)
    assert value < 1e-100 or math.isclose(value, 0.0, abs_tol=1e-100)
    source = compiled.source
    assert "def _part_1(v):" in source and "    return v[" in source


@settings(max_examples=100, deadline=None)
@given(expression_and_point(variables=("x", "y"), max_operations=6))
def test_code_cut_into_parts_computes_what_one_function_does(case):
    # CHUNK statements per part, here 3: every name that crosses a part is handed over
    import autograd_lite.compiled as compiled_module

    expression, point = case
    leaves = {name: Value(value, name) for name, value in point.items()}
    out = expression.build(**leaves)
    if not isinstance(out, Value) or out.primitive is None:
        return
    engine = gradients(out, list(leaves.values()))
    saved = compiled_module.CHUNK
    compiled_module.CHUNK = 3
    try:
        parts = compile_graph(out, list(leaves.values()))
        source = parts.source
    finally:
        compiled_module.CHUNK = saved
    value, grads = parts(*point.values())
    assert close(value, out.data)
    assert "def _part_0(v):" in source or len(source.splitlines()) <= 3 + 3
    for g, e in zip(grads, engine):
        assert math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-12), parts.source


def test_wrt_returns_only_the_gradients_asked_for():
    n = kramer_chain()
    compiled = compile_graph(n["out"], [n["w0"], n["w1"], n["w2"], n["s0"]], wrt=["w2", "w0"])
    _, grads = compiled(2.0, 1.0, 0.5, 2.0)
    n["out"].backward()
    assert grads == (n["w2"].grad, n["w0"].grad) and compiled.wrt == ("w2", "w0")
    with pytest.raises(ValueError, match="not one of the inputs"):
        compile_graph(n["out"], [n["w0"]], wrt=["w1"])
