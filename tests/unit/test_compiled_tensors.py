"""compile_graph(..., backend="torch" | "jax"): the compiled graph over tensors.

Each gradient the compiled code computes (the primitives table's rules, printed) is checked
against two references that do not use that code's backward lines: the library's own
autodiff of the SAME compiled function's value (torch.autograd.grad, jax.grad, jax.vjp),
and the eager engine's backward pass (autograd_lite.gradients, Value.backward) on the
Kramer chain, on generated graphs of every primitive, and on an nn model.

The test extra installs jax[cpu] everywhere, and torch 2.13.0 (CPU build, from the
machine's disk) on Python 3.11, the one Python it is on disk for: elsewhere that release is
a CUDA build of several GB. So the torch tests skip only on other Pythons without torch.
"""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings

import nn
from autograd_lite import Value, compile_graph, gradients, linear
from autograd_lite.codegen import NAMESPACE_PROTOCOL
from autograd_lite.graph import as_graph
from autograd_lite.lectures import kramer_chain
from autograd_lite.primitives import FLOAT, LEAKY_RELU, PRIMITIVES, check_namespace
from autograd_lite.tensor_backends import tensor_runtime
from autograd_lite.testing.strategies import PRIMITIVE_NAMES, expression_and_point

TORCH_IN_TEST_EXTRA = sys.version_info[:2] == (3, 11)  # see pyproject.toml, [test]


def _library(name: str, in_test_extra: bool):
    # Where the test extra installs it, a missing library is an error, not a skip.
    return importlib.import_module(name) if in_test_extra else pytest.importorskip(name)


@pytest.fixture(scope="module")
def torch():
    return _library("torch", TORCH_IN_TEST_EXTRA)


@pytest.fixture(scope="module")
def jax():
    jax = _library("jax", True)
    jax.config.update("jax_enable_x64", True)  # before any array (compile_graph does too)
    return jax


def close(a, b, rel=1e-12, abs_=1e-300):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def loose(a, b):  # as tests/unit/test_compiled.py compares the compiled code to the engine
    return close(a, b, rel=1e-9, abs_=1e-12)


def torch_check(torch, out, leaves, point, compare=loose):
    """Compiled torch value and grads against torch.autograd.grad of the compiled value
    and against the engine; returns the compiled grads."""
    compiled = compile_graph(out, leaves, backend="torch")
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    value, grads = compiled(*xs)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float64
    assert all(isinstance(g, torch.Tensor) and g.dtype == torch.float64 for g in grads)
    assert close(value.item(), out.data), compiled.source
    if value.requires_grad:
        by_torch = torch.autograd.grad(value, xs, allow_unused=True)
    else:  # a value torch sees as constant in every input (step(x): where(x >= 0, 1, 0))
        by_torch = [None] * len(xs)
    engine = gradients(out, leaves)
    for name, g, t, e in zip((v.label for v in leaves), grads, by_torch, engine):
        t = 0.0 if t is None else t.item()
        assert compare(g.item(), e), (name, g.item(), e, compiled.source)
        assert compare(t, e), (name, "torch.autograd", t, e, compiled.source)
    return grads


def jax_check(jax, out, leaves, point, compare=loose):
    """Compiled JAX value and grads against jax.grad and jax.vjp of the compiled value and
    against the engine; returns the compiled grads."""
    jnp = jax.numpy
    compiled = compile_graph(out, leaves, backend="jax")
    xs = [jnp.asarray(v, dtype=jnp.float64) for v in point]
    value, grads = compiled(*xs)
    assert value.dtype == jnp.float64 and all(g.dtype == jnp.float64 for g in grads)
    assert close(value, out.data), compiled.source

    def f(*args):
        return compiled(*args)[0]

    by_grad = jax.grad(f, argnums=tuple(range(len(xs))))(*xs)
    primal, pullback = jax.vjp(f, *xs)
    by_vjp = pullback(jnp.asarray(1.0))
    assert close(primal, out.data)
    engine = gradients(out, leaves)
    for name, g, a, b, e in zip((v.label for v in leaves), grads, by_grad, by_vjp, engine):
        assert compare(g, e), (name, float(g), e, compiled.source)
        assert compare(a, e), (name, "jax.grad", float(a), e, compiled.source)
        assert compare(b, e), (name, "jax.vjp", float(b), e, compiled.source)
    return grads


BACKENDS = ("torch", "jax")
CHECKS = {"torch": torch_check, "jax": jax_check}


def derivative(backend, lib, function, *point):
    """The library's autodiff of ``function`` at ``point``: one float per argument."""
    if backend == "torch":
        xs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in point]
        grads = lib.autograd.grad(function(*xs), xs, allow_unused=True,
                                  materialize_grads=True)
    else:
        grads = lib.grad(function, argnums=tuple(range(len(point))))(*point)
    return [float(g) for g in grads]


# ---------------------------------------------------------------- the namespaces


def _float(name, *args):
    """What primitives.FLOAT computes; where it raises (log(0), sqrt(-1), sin(inf),
    exp(800), xlogy(1, -1)), the IEEE number NumPy gives, which an array backend returns."""
    try:
        return float(getattr(FLOAT, name)(*args))
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            if name == "xlogy":
                return float(args[0] * np.log(args[1]))
            return float(getattr(np, name)(args[0]))


POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 37.0, -37.0, 300.0, -300.0, 720.0, -720.0,
          -740.0, 1e-300, -1e-300, math.inf, -math.inf, math.nan]
PAIRS = [(0.0, 0.0), (0.0, -1.0), (0.0, math.nan), (0.0, math.inf), (-0.0, 5.0), (2.0, 3.0),
         (1.0, -1.0), (-1.5, 0.25), (3.0, 0.0), (1e-300, 1e-300)]


def same(got, expected, flush=False):
    """Equal to the last bit or two, NaN for NaN, and a zero's sign as FLOAT gives it.
    ``flush``: a subnormal result may be 0 (XLA on the CPU flushes them to zero)."""
    if math.isnan(expected):
        return math.isnan(got)
    if flush and 0 < abs(expected) < sys.float_info.min:
        return got == 0 or math.isclose(got, expected, rel_tol=1e-3)
    if expected == 0:
        return got == 0 and math.copysign(1, got) == math.copysign(1, expected)
    return got == expected or math.isclose(got, expected, rel_tol=4e-16)


def _namespace_agrees_with_float(namespace, to_tensor, flush=False):
    check_namespace(SimpleNamespace(**namespace), "test")
    assert set(NAMESPACE_PROTOCOL) <= set(namespace)
    for name in NAMESPACE_PROTOCOL:
        if name in ("xlogy", "where"):
            continue
        got = namespace[name](to_tensor(POINTS))
        for x, g in zip(POINTS, got.tolist()):
            assert same(g, _float(name, x), flush), (name, x, g, _float(name, x))
        # a folded leaf is a Python number
        assert same(float(namespace[name](2.0)), _float(name, 2.0)), name
    xs, ys = to_tensor([p[0] for p in PAIRS]), to_tensor([p[1] for p in PAIRS])
    for (x, y), g in zip(PAIRS, namespace["xlogy"](xs, ys).tolist()):
        assert same(g, _float("xlogy", x, y), flush), ("xlogy", x, y, g)
    assert float(namespace["xlogy"](0.0, 2)) == 0.0 and close(namespace["xlogy"](2.0, 3),
                                                               2 * math.log(3))
    chosen = namespace["where"](to_tensor([1.0, -1.0]) >= 0, 1, 0)
    assert chosen.tolist() == [1.0, 0.0] and chosen.dtype == to_tensor([0.0]).dtype
    assert float(namespace["where"](3.0 >= 0, 1.0, -1.0)) == 1.0  # a Python bool


def test_the_torch_namespace_is_the_float_namespace_elementwise(torch):
    namespace = tensor_runtime("torch")
    _namespace_agrees_with_float(namespace, lambda xs: torch.tensor(xs, dtype=torch.float64))
    # sigmoid: FLOAT's branches, the very numbers; torch.sigmoid underflows to 0 at -740
    assert namespace["sigmoid"](torch.tensor(-740.0, dtype=torch.float64)).item() > 0
    assert torch.sigmoid(torch.tensor(-740.0, dtype=torch.float64)).item() == 0


def test_the_jax_namespace_is_the_float_namespace_elementwise(jax):
    jnp = jax.numpy
    namespace = tensor_runtime("jax")
    _namespace_agrees_with_float(namespace, lambda xs: jnp.asarray(xs, dtype=jnp.float64),
                                 flush=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_namespaces_derivatives_follow_the_table_at_kinks_and_far_out(request, backend):
    # The library's autodiff of the namespace functions gives the table's local derivative:
    # relu'(0) = 1 (where(x >= 0, 1, 0)), abs'(0) = sign(0) = 0, sigmoid' = out·sigmoid(-x)
    # without cancelling (8.5e-17 at 37, where out·(1 - out) is 0), xlogy's 0 at x = 0.
    lib = request.getfixturevalue(backend)
    table = {"relu": [(0.0, 1.0), (-0.0, 1.0), (-1.0, 0.0), (2.0, 1.0)],
             "abs": [(0.0, 0.0), (-2.0, -1.0), (2.0, 1.0)],
             "sigmoid": [(0.0, 0.25), (37.0, _float("sigmoid", 37) * _float("sigmoid", -37)),
                         (-37.0, _float("sigmoid", -37) * _float("sigmoid", 37)),
                         (-700.0, _float("sigmoid", -700) * _float("sigmoid", 700))],
             "sign": [(0.0, 0.0), (3.0, 0.0)]}
    namespace = tensor_runtime(backend)
    for name, cases in table.items():
        for x, expected in cases:
            (got,) = derivative(backend, lib, namespace[name], x)
            assert got == expected or close(got, expected), (name, x, got, expected)
    # xlogy(x, y) at x = 0: 0, and its gradient 0 in both x and y, even at y = 0 or y < 0
    for y in (0.0, -1.0, 2.0):
        assert derivative(backend, lib, namespace["xlogy"], 0.0, y) == [0.0, 0.0], y


@pytest.mark.slow  # a new process imports JAX
def test_compiling_for_jax_turns_on_float64(jax):
    # in a process of its own: this one has it on already (the fixture)
    code = ("import jax\n"
            "from autograd_lite import Value, compile_graph\n"
            "assert not jax.config.read('jax_enable_x64')\n"
            "x = Value(1.0, label='x')\n"
            "value, (dx,) = compile_graph(x * x, [x], backend='jax')(1.0 + 2.0 ** -40)\n"
            "print(value.dtype, dx.dtype, repr(float(value)))\n")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["float64", "float64", repr((1.0 + 2.0 ** -40) ** 2)]


# ---------------------------------------------------------------- the Kramer chain

KRAMER = ("w0", "w1", "w2", "s0")


def test_torch_on_the_kramer_chain_equals_torch_autograd_and_the_engine(torch):
    for point in ((2.0, 1.0, 0.5, 2.0), (0.3, -2.0, 4.0, -1.0)):
        n = kramer_chain(**dict(zip(KRAMER, point)))
        grads = torch_check(torch, n["out"], [n[k] for k in KRAMER], point,
                            compare=close)
    n = kramer_chain()
    grads = torch_check(torch, n["out"], [n[k] for k in KRAMER], (2.0, 1.0, 0.5, 2.0))
    # the slides: dout/dw2 = s2 = 0.7275, dout/dw1 = w2·s2(1−s2)·s1 = 0.09734
    assert round(grads[2].item(), 4) == 0.7275 and round(grads[1].item(), 5) == 0.09734


def test_jax_on_the_kramer_chain_equals_jax_grad_vjp_and_the_engine(jax):
    for point in ((2.0, 1.0, 0.5, 2.0), (0.3, -2.0, 4.0, -1.0)):
        n = kramer_chain(**dict(zip(KRAMER, point)))
        grads = jax_check(jax, n["out"], [n[k] for k in KRAMER], point, compare=close)
    n = kramer_chain()
    grads = jax_check(jax, n["out"], [n[k] for k in KRAMER], (2.0, 1.0, 0.5, 2.0))
    assert round(float(grads[2]), 4) == 0.7275 and round(float(grads[1]), 5) == 0.09734
    # jit compiles the same function: same numbers
    compiled = compile_graph(n["out"], [n[k] for k in KRAMER], backend="jax")
    value, jitted = jax.jit(compiled)(2.0, 1.0, 0.5, 2.0)
    assert close(value, n["out"].data)
    assert all(close(a, b) for a, b in zip(jitted, grads))


# ---------------------------------------------------------------- generated graphs


def _case(case):
    expression, point = case
    leaves = [Value(value, name) for name, value in point.items()]
    out = expression.build(**{v.label: v for v in leaves})
    if not isinstance(out, Value) or out.primitive is None:
        return None
    return out, leaves, list(point.values())


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(case=expression_and_point(variables=("x", "y"), max_operations=6))
def test_torch_equals_torch_autograd_and_the_engine_on_random_graphs(torch, case):
    built = _case(case)
    if built is not None:
        torch_check(torch, *built)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(case=expression_and_point(variables=("x", "y"), max_operations=6))
def test_jax_equals_jax_grad_and_the_engine_on_random_graphs(jax, case):
    built = _case(case)
    if built is not None:
        jax_check(jax, *built)


# Each primitive on its own (with the guards that keep it in its domain): every one is
# generated, whatever the mixed draws above happened to pick.
def _per_primitive(name):
    return expression_and_point(variables=("x", "y"), min_operations=1, max_operations=3,
                                primitives=[name])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("primitive", PRIMITIVE_NAMES)
def test_every_primitive_compiles(request, backend, primitive):
    lib = request.getfixturevalue(backend)
    seen = []

    @settings(max_examples=6, deadline=None)
    @given(case=_per_primitive(primitive))
    def check(case):
        built = _case(case)
        if built is None:
            return
        out, leaves, point = built
        seen.extend(n.primitive.name for n in as_graph(out).order if n.primitive is not None)
        CHECKS[backend](lib, out, leaves, point)

    check()
    assert primitive in seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_graph_of_the_whole_table_at_its_kinks(request, backend):
    # relu and abs at exactly 0, leaky_relu at 0, 0 ** y, a reused node: the table's
    # conventions (relu'(0) = 1, abs'(0) = 0, d(0**y)/dy = xlogy(0, 0) = 0), in the compiled
    # code and in the library's autodiff of it
    x, y = Value(0.0, label="x"), Value(2.0, label="y")
    parts = [x.relu(), abs(x), LEAKY_RELU(x, 0.1), x ** y, (x + 1.0).log(), (y + x).sqrt(),
             (x * y).tanh(), (x - y).sigmoid(), x.exp() / y, -(x.sin() * y.cos()),
             linear([x, y], [y, 3.0], bias=x)]
    if "step" in PRIMITIVES:  # the perceptron's threshold: 1 at 0, its slope 0
        parts.append(PRIMITIVES["step"](x) * y)
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    out.label = "out"
    used = {n.primitive.name for n in as_graph(out).order if n.primitive is not None}
    assert used == set(PRIMITIVE_NAMES), set(PRIMITIVE_NAMES) - used
    CHECKS[backend](request.getfixturevalue(backend), out, [x, y], (0.0, 2.0), compare=close)


def test_the_primitives_are_the_generated_ones():
    assert set(PRIMITIVE_NAMES) == {n for n, p in PRIMITIVES.items() if not p.internal}


# ---------------------------------------------------------------- batches


def test_torch_evaluates_a_batch_each_element_independently(torch):
    n = kramer_chain()
    leaves = [n[k] for k in KRAMER]
    compiled = compile_graph(n["out"], leaves, backend="torch")
    s0 = torch.linspace(-3, 3, 5, dtype=torch.float64, requires_grad=True)
    scalars = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for v in (2.0, 1.0, 0.5)]
    value, grads = compiled(*scalars, s0)  # scalars broadcast against the batch
    assert value.shape == (5,) and all(g.shape == (5,) for g in grads)
    for k, s in enumerate(s0.tolist()):
        m = kramer_chain(s0=s)
        m["out"].backward()
        assert close(value[k].item(), m["out"].data)
        for g, name in zip(grads, KRAMER):
            assert close(g[k].item(), m[name].grad), (k, name)
    # torch differentiates the batch: the batched input gets its own element's gradient,
    # a scalar broadcast into all five the sum of theirs
    by_torch = torch.autograd.grad(value.sum(), [*scalars, s0])
    assert torch.allclose(by_torch[3], grads[3], rtol=1e-12, atol=0)
    for t, g in zip(by_torch[:3], grads[:3]):
        assert close(t.item(), g.sum().item())


def test_jax_evaluates_a_batch_each_element_independently(jax):
    jnp = jax.numpy
    n = kramer_chain()
    compiled = compile_graph(n["out"], [n[k] for k in KRAMER], backend="jax")
    s0 = jnp.linspace(-3.0, 3.0, 5)
    value, grads = compiled(2.0, 1.0, 0.5, s0)
    assert value.shape == (5,) and all(g.shape == (5,) for g in grads)
    for k, s in enumerate(s0.tolist()):
        m = kramer_chain(s0=s)
        m["out"].backward()
        assert close(value[k], m["out"].data)
        for g, name in zip(grads, KRAMER):
            assert close(g[k], m[name].grad), (k, name)
    per_element = jax.vmap(jax.grad(lambda s: compiled(2.0, 1.0, 0.5, s)[0]))(s0)
    assert np.allclose(per_element, grads[3], rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_are_tensors_of_the_batch_shape_even_when_constant(request, backend):
    # d out/d b = 1 (a Python 1.0 in the code), an input the output does not use (0.0),
    # float32 and Python numbers in: float64 tensors of the broadcast shape out
    lib = request.getfixturevalue(backend)
    x, b, unused = Value(1.0, label="x"), Value(0.5, label="b"), Value(0.0, label="q")
    out = x * x + b
    out.label = "out"
    compiled = compile_graph(out, [x, b, unused], backend=backend)
    batch = (lib.tensor([1.0, 2.0, 3.0], dtype=lib.float32) if backend == "torch"
             else np.array([1.0, 2.0, 3.0], dtype=np.float32))
    value, (dx, db, dq) = compiled(batch, 0.5, 7)
    float64 = lib.float64 if backend == "torch" else lib.numpy.float64
    assert all(t.dtype == float64 and tuple(t.shape) == (3,) for t in (value, dx, db, dq))
    assert value.tolist() == [1.5, 4.5, 9.5] and dx.tolist() == [2.0, 4.0, 6.0]
    assert db.tolist() == [1.0] * 3 and dq.tolist() == [0.0] * 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_folded_leaf_is_a_python_number_in_the_tensor_code(request, backend):
    # x is not an input: sigmoid(x), relu(x), abs(x) and x >= 0 run on a Python float
    request.getfixturevalue(backend)
    w, x = Value(2.0, label="w"), Value(-3.0, label="x")
    out = w * x.sigmoid() + x.relu() * w + abs(x)
    out.label = "out"
    compiled = compile_graph(out, [w], backend=backend)
    assert "x = (-3.0)  # fixed" in compiled.source
    value, (dw,) = compiled(2.0)
    assert close(value, out.data) and close(dw, _float("sigmoid", -3.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_library_differentiates_the_compiled_gradients_a_hessian_row(request, backend):
    lib = request.getfixturevalue(backend)
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    f = x * x * y + y.sin()
    f.label = "f"
    compiled = compile_graph(f, [x, y], backend=backend)
    # df/dx = 2xy, by hand; its derivatives 2y and 2x
    fxx, fxy = derivative(backend, lib, lambda a, b: compiled(a, b)[1][0], 1.5, -0.5)
    assert close(fxx, -1.0) and close(fxy, 3.0)
    fyx, fyy = derivative(backend, lib, lambda a, b: compiled(a, b)[1][1], 1.5, -0.5)
    assert close(fyx, 3.0) and close(fyy, -math.sin(-0.5))  # 2x and -sin(y)


# ---------------------------------------------------------------- an nn model


def _mlp():
    model = nn.MLP(2, [4, 1], seed=0)
    loss = nn.losses.mse(model([0.5, -1.0]), 1.0)
    params = model.parameters()
    loss.backward()
    return loss, params


def test_an_mlp_loss_compiled_for_torch_equals_backward(torch):
    loss, params = _mlp()
    compiled = compile_graph(loss, params, backend="torch")
    xs = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    value, grads = compiled(*xs)
    assert close(value.item(), loss.data)
    by_torch = torch.autograd.grad(value, xs)
    for p, g, t in zip(params, grads, by_torch):
        assert abs(g.item() - p.grad) <= 1e-12, p.label
        assert abs(t.item() - p.grad) <= 1e-12, (p.label, "torch.autograd")


def test_an_mlp_loss_compiled_for_jax_equals_backward(jax):
    loss, params = _mlp()
    compiled = compile_graph(loss, params, backend="jax")
    point = [p.data for p in params]
    value, grads = compiled(*point)
    assert close(value, loss.data)
    by_jax = jax.grad(lambda *a: compiled(*a)[0], argnums=tuple(range(len(point))))(*point)
    for p, g, j in zip(params, grads, by_jax):
        assert abs(float(g) - p.grad) <= 1e-12, p.label
        assert abs(float(j) - p.grad) <= 1e-12, (p.label, "jax.grad")
