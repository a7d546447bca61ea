"""bench/compiled.py (``python -m bench.compiled``), run with tiny sizes: every engine it
times must give the hand-written reference's gradients (it checks them itself before it
times anything; a mismatch or a crash is a failure here). No timing is asserted."""

import numpy as np
import pytest

from bench import compiled as bench_compiled
from bench import reference
from bench.data import flatten, mlp_parameters, two_moons

TINY = bench_compiled.Settings(rounds=2, target=0.0, big_rounds=1, big_from=10**9, compiles=2,
                               fit_rounds=1, chain_sizes=(10, 1_000), fit_steps=2)


def _demo(sizes=(2, 3, 3, 1), n=6):
    points, labels = two_moons(n)
    return bench_compiled.Demo(mlp_parameters(sizes), points, labels)


@pytest.mark.slow
def test_every_w2_engine_gives_the_references_gradients_at_tiny_sizes():
    demo = _demo()
    w2 = bench_compiled.run_w2(TINY, demo, eager=False)
    assert w2.timed.failures == {}
    assert set(w2.timed.times) == {
        bench_compiled.REFERENCE, bench_compiled.COMPILED, bench_compiled.COMPILED_NARY,
        bench_compiled.NUMPY_COMPILED, bench_compiled.NUMPY_COMPILED_NARY,
        bench_compiled.NUMPY_REFERENCE}
    assert all(len(times) == TINY.rounds for times in w2.timed.times.values())
    assert [c.graph for c in w2.compiles][:2] == [bench_compiled.COMPILED,
                                                  bench_compiled.COMPILED_NARY]
    assert all(len(c.compiles) == TINY.compiles and c.operations > 0 for c in w2.compiles)


def test_the_compiled_and_numpy_steps_agree_with_the_reference_and_update_like_it():
    demo = _demo()
    output, params = bench_compiled.step_graph(demo)
    step = bench_compiled.compiled_step(
        bench_compiled.compile_graph(output, params), flatten(demo.layers))
    numpy_step, read = bench_compiled.numpy_reference_step(demo)
    example, inputs = bench_compiled.example_graph(demo, use_linear=True)
    batch_step = bench_compiled.compiled_numpy_step(
        bench_compiled.compile_graph(example, inputs, backend="numpy"), demo)
    layers = demo.fresh_layers()
    for _ in range(3):  # three steps: each engine's parameters follow the reference's
        expected = reference.mlp_step(layers, demo.points, demo.labels)
        for found in (list(step()), read(numpy_step()), list(batch_step())):
            assert found == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_one_examples_loss_averaged_over_the_batch_is_the_steps_loss():
    demo = _demo()
    whole, params = bench_compiled.step_graph(demo)
    example, inputs = bench_compiled.example_graph(demo)
    batch = bench_compiled.compile_graph(example, inputs, backend="numpy")
    data = np.asarray(demo.points)
    value, _ = batch(*flatten(demo.layers), data[:, 0], data[:, 1], np.asarray(demo.labels))
    assert float(np.mean(value)) == pytest.approx(whole.data, rel=1e-12)
    assert len(params) == len(flatten(demo.layers)) == len(inputs) - 3


@pytest.mark.slow
def test_w3_compiles_checks_and_measures_compile_memory_in_a_child_process():
    chains = bench_compiled.run_w3(TINY)
    assert [c.n for c in chains] == [10, 1_000]
    for chain in chains:
        assert chain.timed.failures == {}
        assert set(chain.timed.times) == {bench_compiled.REFERENCE, bench_compiled.COMPILED}
        assert isinstance(chain.memory, dict), chain.memory
        assert chain.memory["grad"] == pytest.approx(0.999 ** chain.n, rel=1e-9)
        assert chain.memory["compile"] >= 0 and chain.compile > 0


@pytest.mark.slow
def test_nn_fit_on_the_demo_recipe_and_the_report():
    fit = bench_compiled.run_fit(TINY, hidden=(3,), n=8)
    assert bench_compiled.FIT_EAGER in fit.timed.times
    if fit.available:  # nn.fit(compile=True) exists: same weights as eager
        assert fit.timed.failures == {}
        assert fit.weight_difference is not None and fit.weight_difference <= 1e-12
    w2 = bench_compiled.run_w2(TINY, _demo(), eager=False)
    chains = bench_compiled.run_w3(TINY, sizes=[10, 100], memory=False)
    report = bench_compiled.render(w2, chains, fit, True, TINY, 1.0, (0.0, 0.0))
    assert "## Goals (issue 14)" in report
    assert "| goal | measured | met |" in report
    assert ("not available" in report) != fit.available
    columns = None
    for line in report.splitlines():  # every table row has its header's number of cells
        if not line.startswith("|"):
            columns = None
        elif columns is None:
            columns = line.count("|")
        else:
            assert line.count("|") == columns, line
