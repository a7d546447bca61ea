"""W1–W4 and M: each workload once for the reference, and once generically for any engine.

The engine versions use nothing but the engine's leaf constructor, Python's operators and
its relu/sigmoid, so every engine builds the very same graph. A ``run`` returns what the
gradients are read from: nodes (read with ``engine.grad``) or, for the reference, floats.
"""

from __future__ import annotations

import gc
import itertools
import random
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import reference
from .data import (
    L2_ALPHA,
    LEARNING_RATE,
    MLP_SIZES,
    N_POINTS,
    flatten,
    mlp_parameters,
    two_moons,
)
from .engines import Engine

Run = Callable[[], list[Any]]


@dataclass(frozen=True)
class Case:
    workload: str  # "W1" ...
    title: str
    size: int | None  # N for the scaling workloads
    nodes: int  # graph nodes built per run (what "time per node" divides by)
    reference: Callable[[], Run]  # prepare (untimed) -> run (timed)
    build: Callable[[Engine], Run]
    only_binary_ops: bool = True  # False: the n-ary engine row is meaningful here

    @property
    def name(self) -> str:
        return self.workload if self.size is None else f"{self.workload} N={self.size:,}"


def read_gradients(engine: Engine | None, handle: list[Any]) -> list[float]:
    return [x if isinstance(x, float) else engine.grad(x) for x in handle]  # type: ignore[union-attr]


# ---------------------------------------------------------------- W1 the Kramer chain


def kramer_chain(engine: Engine) -> Run:
    leaf, sigmoid, backward = engine.leaf, engine.sigmoid, engine.backward

    def run() -> list[Any]:
        s0, w0, w1, w2 = leaf(2.0), leaf(2.0), leaf(1.0), leaf(0.5)
        s1 = sigmoid(w0 * s0)
        s2 = sigmoid(w1 * s1)
        out = w2 * s2
        backward(out)
        return [w0, w1, w2, s0]

    return run


# ---------------------------------------------------------------- W2 micrograd's demo step


def mlp_step(engine: Engine) -> Run:
    """One training step of micrograd's demo, written as its README and nn.py write it."""
    leaf, relu, backward, grad = engine.leaf, engine.relu, engine.backward, engine.grad
    layers = [([[leaf(w) for w in row] for row in weights], [leaf(b) for b in biases])
              for weights, biases in mlp_parameters()]
    params = [p for weights, biases in layers
              for row, bias in zip(weights, biases) for p in (*row, bias)]
    points, labels = two_moons()
    last = len(layers) - 1
    linear = engine.linear

    def neuron(row: list[Any], bias: Any, x: list[Any]) -> Any:
        if linear is not None:
            return linear(row, x, bias)
        return sum((w * xi for w, xi in zip(row, x)), bias)  # micrograd's Neuron.__call__

    def forward(x: list[Any]) -> Any:
        for index, (weights, biases) in enumerate(layers):
            z = [neuron(row, bias, x) for row, bias in zip(weights, biases)]
            x = z if index == last else [relu(t) for t in z]
        return x[0]

    def run() -> list[Any]:
        inputs = [[leaf(c) for c in point] for point in points]
        scores = [forward(x) for x in inputs]
        losses = [relu(1 + -y * score) for y, score in zip(labels, scores)]  # hinge
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = L2_ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        backward(total)
        grads = [grad(p) for p in params]
        engine.sgd_update(params, LEARNING_RATE)
        return grads

    return run


def mlp_step_reference() -> Run:
    layers = mlp_parameters()
    points, labels = two_moons()
    return lambda: reference.mlp_step(layers, points, labels)



# ---------------------------------------------------------------- W3 a deep chain


def deep_chain(n: int) -> Callable[[Engine], Run]:
    def build(engine: Engine) -> Run:
        leaf, backward = engine.leaf, engine.backward

        def run() -> list[Any]:
            x = leaf(0.5)
            y = x
            for _ in range(n):
                y = y * 0.999 + 0.001
            backward(y)
            return [x]

        return run

    return build


# ---------------------------------------------------------------- W4 built-in sum()


def _numbers(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(n)]


def sum_of_products(n: int) -> Callable[[Engine], Run]:
    def build(engine: Engine) -> Run:
        xs = [engine.leaf(x) for x in _numbers(n, 1)]
        ws = [engine.leaf(w) for w in _numbers(n, 2)]
        backward = engine.backward

        def run() -> list[Any]:
            total = sum(x * w for x, w in zip(xs, ws))  # a chain n additions deep
            backward(total)
            return [*xs, *ws]

        return run

    return build


def sum_of_products_reference(n: int) -> Run:
    xs, ws = _numbers(n, 1), _numbers(n, 2)
    return lambda: reference.sum_of_products(xs, ws)


# ---------------------------------------------------------------- the list


def mlp_node_count() -> int:
    """Nodes in one W2 graph, counted from the network's shape (constants not included)."""
    per_point = MLP_SIZES[0]  # the input leaves
    for n_in, n_out in itertools.pairwise(MLP_SIZES):
        per_point += n_out * 2 * n_in  # each neuron: n_in products and n_in additions
    per_point += sum(MLP_SIZES[1:-1])  # the hidden relus
    per_point += 4  # -y·score, 1 + ..., relu, and its addition into sum(losses)
    n_params = len(flatten(mlp_parameters()))
    # parameters: the leaves, p·p and the sum's additions; then ·(1/n), alpha·, +
    return N_POINTS * per_point + 3 * n_params + 3


def cases(quick: bool) -> list[Case]:
    chain_sizes = [1_000, 10_000, 100_000] + ([] if quick else [1_000_000])
    found = [
        Case("W1", "Kramer chain (sigmoid), forward+backward", None, 9,
             lambda: reference.kramer_chain, kramer_chain),
        Case("W2", "MLP 2-16-16-1 step, 100 two-moons points", None, mlp_node_count(),
             mlp_step_reference, mlp_step, only_binary_ops=False),
    ]
    for n in chain_sizes:
        found.append(Case("W3", "deep chain y = y*0.999 + 0.001", n, 2 * n + 1,
                          lambda n=n: lambda: reference.deep_chain(n), deep_chain(n)))
    for n in chain_sizes:
        found.append(Case("W4", "sum() of N products", n, 4 * n,
                          lambda n=n: sum_of_products_reference(n), sum_of_products(n)))
    return found


# ---------------------------------------------------------------- M memory


@dataclass(frozen=True)
class Memory:
    nodes: int
    after_forward: float  # bytes per node held by the graph
    after_backward: float | None  # ... once every node also holds a gradient
    peak_backward: float | None  # the most the backward pass needed at once, per node
    note: str = ""


def bytes_per_node(engine: Engine, n: int) -> Memory:
    """Build W4's graph with n products (4n nodes: 2n leaves, n products, n sums), traced.

    tracemalloc counts every allocation the graph holds (nodes, their parent tuples,
    numbers, and for micrograd its closures and sets).
    """
    xs_numbers, ws_numbers = _numbers(n, 1), _numbers(n, 2)
    nodes = 4 * n
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        xs = [engine.leaf(x) for x in xs_numbers]
        ws = [engine.leaf(w) for w in ws_numbers]
        total = sum(x * w for x, w in zip(xs, ws))
        lists = 2 * (len(xs) * 8 + 56)  # the two Python lists of leaves are not graph
        forward = tracemalloc.get_traced_memory()[0] - base - lists
        tracemalloc.reset_peak()
        try:
            engine.backward(total)
        except RecursionError:
            return Memory(nodes, forward / nodes, None, None,
                          f"backward: RecursionError on a graph {n:,} additions deep")
        held, peak = tracemalloc.get_traced_memory()
        return Memory(nodes, forward / nodes, (held - base - lists) / nodes,
                      (peak - base - lists) / nodes)
    finally:
        tracemalloc.stop()
