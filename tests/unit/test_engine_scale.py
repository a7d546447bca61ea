"""Scale and memory (issue 7), and the n-ary ``linear`` node.

No test here measures time: the benchmark (``python -m bench``) does that. These tests check
what must hold whatever the speed: deep and wide graphs work, a node costs at most 200 bytes
(tracemalloc), a finished graph is freed by reference counting alone, ``no_grad`` records
nothing, and ``linear`` gives the numbers of the + and * graph it replaces (checked against
closed forms, SymPy and central differences).
"""

import gc
import math
import random
import tracemalloc

import numpy as np
import pytest
import sympy

import autograd_lite as ag
from autograd_lite import (
    NARY_PRIMITIVES,
    Constant,
    Value,
    gradcheck,
    gradients,
    linear,
    no_grad,
    reverse_topological_order,
    to_sympy,
)
from autograd_lite.symbolic import sympy_namespace

# ---------------------------------------------------------------- deep and wide graphs


def test_builtin_sum_of_100_000_products_matches_numpy():
    # s = Σ xᵢ·wᵢ: ds/dxᵢ = wᵢ and ds/dwᵢ = xᵢ. sum() makes a chain 10⁵ additions deep.
    rng = np.random.default_rng(7)
    xs_np, ws_np = rng.uniform(-1, 1, 100_000), rng.uniform(-1, 1, 100_000)
    xs = [Value(v) for v in xs_np]
    ws = [Value(v) for v in ws_np]
    total = sum(x * w for x, w in zip(xs, ws))
    total.backward()
    assert total.data == pytest.approx(float(np.dot(xs_np, ws_np)), rel=1e-9)
    assert np.array_equal([x.grad for x in xs], ws_np)
    assert np.array_equal([w.grad for w in ws], xs_np)


def test_reverse_topological_order_puts_every_node_before_its_inputs():
    # A random DAG with shared nodes at every depth; the order is checked edge by edge.
    rng = random.Random(3)
    nodes = [Value(rng.uniform(0.5, 1.5)) for _ in range(5)]
    for _ in range(300):
        a, b = rng.choice(nodes[-20:]), rng.choice(nodes)
        nodes.append(rng.choice([a * b, a + b, (a - b).tanh(), linear([a, b], [b, 2.0], 1.0)]))
    output = sum(nodes[-10:])
    order = reverse_topological_order(output)
    position = {node: i for i, node in enumerate(order)}
    assert order[0] is output and len(position) == len(order)
    for node in order:
        for parent in node.parents:
            if type(parent) is not Constant:
                assert position[parent] > position[node]


# ---------------------------------------------------------------- memory


def _bytes_per_node(record: bool) -> tuple[float, float]:
    """Bytes held per node by W4's graph with 25,000 products (10⁵ nodes), as the bench."""
    n = 25_000
    numbers = [random.Random(1).uniform(-1, 1) for _ in range(2 * n)]
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        leaves = [Value(v) for v in numbers]
        if record:
            total = sum(x * w for x, w in zip(leaves[:n], leaves[n:]))
        else:
            with no_grad():
                total = sum(x * w for x, w in zip(leaves[:n], leaves[n:]))
        list_bytes = 56 + 8 * len(leaves)  # the list of leaves is not part of the graph
        forward = tracemalloc.get_traced_memory()[0] - base - list_bytes
        total.backward()
        held = tracemalloc.get_traced_memory()[0] - base - list_bytes
    finally:
        tracemalloc.stop()
    return forward / (4 * n), held / (4 * n)


def test_a_node_costs_at_most_200_bytes():
    # Issue 7's goal (micrograd: ~580). After backward every node also holds a gradient.
    after_forward, after_backward = _bytes_per_node(record=True)
    assert after_forward <= 200
    assert after_backward <= 200


@pytest.mark.slow  # ~2 s: two traced graphs
def test_no_grad_keeps_no_graph_alive():
    # Inside no_grad only the leaves and the final number stay: ~half the bytes per node of
    # the recorded graph, whose 2·10⁴ products and additions are gone.
    recorded, _ = _bytes_per_node(record=True)
    evaluated, _ = _bytes_per_node(record=False)
    assert evaluated < 0.6 * recorded


def test_a_finished_graph_is_freed_without_the_cycle_collector():
    # Nodes hold their inputs, never their consumers or closures: no reference cycles.
    # With the collector off, deleting the output must free every node at once.
    def live_values() -> int:
        # Constants are left out: numbers used as operands are cached (shared) on purpose.
        return sum(1 for o in gc.get_objects() if type(o) is Value)

    gc.collect()
    before = live_values()
    gc.disable()
    try:
        x, w = Value(0.3), Value(-1.2)
        y = (linear([w, x], [x, 2.0], 0.5).tanh() * x + w).sigmoid()
        y.backward()
        (dx,) = gradients(y, [x], create_graph=True)
        gradients(dx, [x, w])
        del y, dx
        assert live_values() == before + 2  # x and w: the leaves the test still holds
        del x, w
        assert live_values() == before
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()


def test_no_grad_for_a_parameter_update_and_for_inference():
    w = Value(0.5, "w")
    loss = (w * 3.0 - 1.0) ** 2
    loss.backward()  # dloss/dw = 2(3w − 1)·3 = 3
    with no_grad():
        w_new = w - 0.1 * w.grad  # an SGD step: a new leaf, not a node of the old graph
        prediction = (w_new * 3.0).sigmoid()
        assert not ag.is_recording()
    assert ag.is_recording()
    assert w_new.data == pytest.approx(0.2) and w_new.parents == () and w_new.op == ""
    assert prediction.parents == () and prediction.data == pytest.approx(1 / (1 + math.exp(-0.6)))


def test_no_grad_nests_and_is_restored_after_an_error():
    with no_grad():
        with no_grad():
            pass
        assert not ag.is_recording()
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0
    assert ag.is_recording() and (Value(1.0) * 2).op == "*"


# ---------------------------------------------------------------- the n-ary linear node


def _neuron_inputs():
    w = [Value(0.5, "w1"), Value(-0.5, "w2"), Value(-1.25, "w3")]
    x = [Value(3.0, "x1"), Value(1.5, "x2"), Value(-0.75, "x3")]
    return w, x, Value(0.25, "b")


def test_linear_is_one_node_with_the_numbers_of_the_binary_graph():
    # Same value and gradients, bit for bit, as micrograd's sum((wi*xi ...), b): 2n nodes.
    w, x, b = _neuron_inputs()
    one = linear(w, x, b).relu() * 2.0
    many = sum((wi * xi for wi, xi in zip(w, x)), b).relu() * 2.0
    # b + w1·x1 + w2·x2 + w3·x3 = 0.25 + 1.5 − 0.75 + 0.9375 = 1.9375 (exact in binary)
    assert one.data == many.data == 2 * 1.9375
    node = linear(w, x, b)
    assert node.op == "linear" and node.parents == (*w, *x, b)
    assert node.primitive is NARY_PRIMITIVES["linear"] and node.primitive.arity is None
    node.backward()
    # d/dwi = xi, d/dxi = wi, d/db = 1 (by hand)
    by_hand = [3.0, 1.5, -0.75, 0.5, -0.5, -1.25, 1.0]
    assert [v.grad for v in (*w, *x, b)] == by_hand
    one.backward()
    many_grads = gradients(many, [*w, *x, b])
    assert [v.grad for v in (*w, *x, b)] == [g + 2 * h for g, h in zip(by_hand, by_hand)]
    assert many_grads == [2 * h for h in by_hand]


def test_linear_matches_the_binary_graph_in_a_relu_layer_exactly():
    rng = random.Random(11)
    w = [[Value(rng.uniform(-1, 1)) for _ in range(8)] for _ in range(4)]
    b = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    x = [rng.uniform(-1, 1) for _ in range(8)]  # plain numbers: the first layer's inputs
    params = [p for row in w for p in row] + b

    def loss(neuron):
        hidden = [neuron(row, x, bias).relu() for row, bias in zip(w, b)]
        return sum(h * h for h in hidden)

    with_linear = loss(linear)
    with_binary = loss(lambda row, xs, bias: sum((wi * xi for wi, xi in zip(row, xs)), bias))
    assert with_linear.data == with_binary.data
    assert gradients(with_linear, params) == gradients(with_binary, params)


def test_linear_to_sympy_and_its_rules_read_as_the_formula():
    w, x, b = _neuron_inputs()
    w1, w2, w3, x1, x2, x3, b_ = sympy.symbols("w1 w2 w3 x1 x2 x3 b")
    assert to_sympy(linear(w, x, b)) == b_ + w1 * x1 + w2 * x2 + w3 * x3
    # The table's rule for each input, over symbols: d/dw2 = x2, d/dx3 = w3, d/db = 1.
    linear_primitive = NARY_PRIMITIVES["linear"]
    symbols = (w1, w2, w3, x1, x2, x3, b_)
    out = sympy.Symbol("out")
    f = sympy_namespace()
    assert [linear_primitive.local_derivative(i, symbols, out, f) for i in range(7)] == [
        x1, x2, x3, w1, w2, w3, 1]
    assert [sympy.diff(b_ + w1 * x1 + w2 * x2 + w3 * x3, s) for s in symbols] == [
        x1, x2, x3, w1, w2, w3, 1]


def test_linear_second_derivatives_match_sympy():
    w, x, b = _neuron_inputs()
    inputs = [*w, *x, b]
    out = linear(w, x, b).tanh() * x[0]
    symbols = sympy.symbols("w1 w2 w3 x1 x2 x3 b")
    expression = sympy.tanh(symbols[6] + sum(wi * xi for wi, xi in zip(symbols[:3], symbols[3:6])))
    expression = expression * symbols[3]
    at = {s: v.data for s, v in zip(symbols, inputs)}
    firsts = gradients(out, inputs, create_graph=True)
    for i, first in enumerate(firsts):
        assert first.data == pytest.approx(float(sympy.diff(expression, symbols[i]).subs(at)))
        seconds = gradients(first, inputs)
        for j, second in enumerate(seconds):
            expected = float(sympy.diff(expression, symbols[i], symbols[j]).subs(at))
            assert second == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_linear_passes_gradcheck_and_backward_twice_doubles():
    assert gradcheck(lambda a, b, c, d: linear([a, b], [c, d], a * d).sigmoid(),
                     0.3, -1.1, 0.8, 2.0)
    w, x, b = _neuron_inputs()
    out = linear(w, x, b) ** 2
    out.backward()
    first = [v.grad for v in (*w, *x, b)]
    out.backward()
    assert [v.grad for v in (*w, *x, b)] == [2 * g for g in first]


def test_linear_without_a_bias_has_no_bias_input():
    w1, w2, x1, x2 = sympy.symbols("w1 w2 x1 x2")
    w = [Value(2.0, "w1"), Value(3.0, "w2")]
    x = [Value(1.5, "x1"), Value(-1.0, "x2")]
    out = linear(w, x)
    assert out.parents == (*w, *x) and out.data == 2.0 * 1.5 - 3.0
    assert to_sympy(out) == w1 * x1 + w2 * x2
    out.backward()
    assert [v.grad for v in (*w, *x)] == [1.5, -1.0, 2.0, 3.0]
    # and the same with an explicit bias of 0: one more input, whose slope is 1
    assert gradients(linear(w, x, Value(0.0)), [*w, *x]) == [1.5, -1.0, 2.0, 3.0]


def test_linear_with_numbers_constants_and_no_recording():
    w = [Value(2.0), Value(3.0)]
    out = linear(w, [1.5, -1.0])  # plain numbers are constants: no gradient for them
    assert out.data == 2.0 * 1.5 - 3.0
    out.backward()
    assert [v.grad for v in w] == [1.5, -1.0]
    assert type(linear([1.0, 2.0], [3.0, 4.0], 5.0)) is Constant  # numbers only: folds
    with no_grad():
        assert linear(w, w).parents == ()
    assert linear([], [], 0.5).data == 0.5
    with pytest.raises(ValueError, match="nothing to add up"):
        linear([], [])


@pytest.mark.parametrize("call, error, words", [
    (lambda w: linear(w, [1.0]), ValueError, "2 weights but 1 inputs"),
    (lambda w: linear(w, [1.0, "2"]), TypeError, r"inputs\[1\] must be a Value or a real "
                                                 "number, not str"),
    (lambda w: linear(w[0], [1.0]), TypeError, "weights must be a list .* not Value"),
    (lambda w: linear(w, [1.0, 2.0], "0"), TypeError, "bias must be .* not str"),
    (lambda w: linear(w, [1e300, 1e300]), OverflowError, r"overflow.* in linear\('w1' = 1"),
])
def test_linear_rejects_bad_input_saying_what_and_where(call, error, words):
    w = [Value(1e10, "w1"), Value(1e10, "w2")]
    with pytest.raises(error, match=words):
        call(w)
