"""The benchmark's reference (bench/reference.py), which the benchmark compares every engine
with before it times it: checked here against the slides and central differences, and
autograd_lite checked against it.

bench/ is not part of the package; it is tested because a wrong reference would let a
wrong engine be timed as if it were right.
"""

import itertools

import pytest


def test_bench_reference_kramer_chain_gives_the_slides_gradients():
    from bench import reference

    dw0, dw1, dw2, _ = reference.kramer_chain()
    # Kramer, "Backpropagation", slide "How does a change in weight impact output?": the
    # three formulas, at the slide's numbers and by hand: dout/dw2 = s2 = 0.7275,
    # dout/dw1 = w2·s2(1−s2)·s1 = 0.09734, dout/dw0 = w2·s2(1−s2)·w1·s1(1−s1)·s0 = 0.003501,
    # each to the digits shown.
    assert dw2 == pytest.approx(0.7275, abs=5e-5)
    assert dw1 == pytest.approx(0.09734, abs=5e-6)
    assert dw0 == pytest.approx(0.003501, abs=5e-7)


def _demo_loss(flat: list[float]) -> float:
    """micrograd's demo loss on floats, forward only: hinge + 1e-4·L2 over the MLP's params."""
    from bench.data import L2_ALPHA, MLP_SIZES, two_moons

    points, labels = two_moons()
    layers, start = [], 0
    for n_in, n_out in itertools.pairwise(MLP_SIZES):
        rows = []
        for _ in range(n_out):
            rows.append((flat[start:start + n_in], flat[start + n_in]))
            start += n_in + 1
        layers.append(rows)
    total = 0.0
    for point, label in zip(points, labels):
        a = point
        for index, rows in enumerate(layers):
            z = [b + sum(w * x for w, x in zip(ws, a)) for ws, b in rows]
            a = z if index == len(layers) - 1 else [max(t, 0.0) for t in z]
        total += max(1 - label * a[0], 0.0)
    return total / len(points) + L2_ALPHA * sum(p * p for p in flat)


def test_bench_reference_mlp_step_matches_central_differences():
    from bench import reference
    from bench.data import flatten, mlp_parameters, two_moons

    layers = mlp_parameters()
    flat = flatten(layers)
    grads = reference.mlp_step(layers, *two_moons())
    h = 1e-6
    for index in range(0, len(flat), 17):  # 20 of the 337 parameters, every layer
        up, down = flat.copy(), flat.copy()
        up[index] += h
        down[index] -= h
        numeric = (_demo_loss(up) - _demo_loss(down)) / (2 * h)
        assert grads[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_autograd_lite_gives_the_references_mlp_gradients_with_and_without_linear():
    from bench import reference, workloads
    from bench.data import mlp_parameters, two_moons
    from bench.engines import autograd_lite_engine

    expected = reference.mlp_step(mlp_parameters(), *two_moons())
    for engine in (autograd_lite_engine(), autograd_lite_engine(use_linear=True)):
        found = workloads.mlp_step(engine)()
        assert found == pytest.approx(expected, rel=1e-9, abs=1e-12)
