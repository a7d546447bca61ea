"""Kramer, "Backpropagation": the one-path sigmoid chain, numbers and formulas from the slides.

    x1 = w0·s0 = 4      s1 = S(x1) = 0.982
    x2 = w1·s1 = 0.982  s2 = S(x2) = 0.7275
    out = w2·s2 = 0.3638
"""

import math

import pytest

from autograd_lite import Value, sigmoid
from autograd_lite.lectures import kramer_chain


def test_forward_propagation_matches_the_slide():
    n = kramer_chain()
    # Slide "Forward propagation": rounded as the slide prints them.
    assert n["x1"].data == 4.0
    assert round(n["s1"].data, 3) == 0.982
    assert round(n["x2"].data, 3) == 0.982
    assert round(n["s2"].data, 4) == 0.7275
    assert round(n["out"].data, 4) == 0.3638


def test_sigmoid_is_the_slide_formula():
    # S(x) = 1 / (1 + e^-x), evaluated by hand with math.exp.
    for x in (-3.0, -0.5, 0.0, 0.982, 4.0):
        assert sigmoid(Value(x)).data == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-15)


def test_the_three_chain_rule_formulas():
    n = kramer_chain()
    n["out"].backward()
    s0, s1, s2 = (n[k].data for k in ("s0", "s1", "s2"))
    w1, w2 = n["w1"].data, n["w2"].data
    # dout/dw2 = s2
    assert n["w2"].grad == pytest.approx(s2, rel=1e-14)
    # dout/dw1 = w2 · s2(1 − s2) · s1
    assert n["w1"].grad == pytest.approx(w2 * s2 * (1 - s2) * s1, rel=1e-14)
    # dout/dw0 = w2 · s2(1 − s2) · w1 · s1(1 − s1) · s0
    assert n["w0"].grad == pytest.approx(w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0, rel=1e-14)


def test_formulas_with_the_slides_rounded_numbers():
    # The slide's rounded values: dout/dw1 = 0.5 · 0.7275(1 − 0.7275) · 0.982 ≈ 0.0973
    n = kramer_chain()
    n["out"].backward()
    assert n["w1"].grad == pytest.approx(0.5 * 0.7275 * (1 - 0.7275) * 0.982, abs=5e-5)
    assert n["w2"].grad == pytest.approx(0.7275, abs=5e-5)


@pytest.mark.parametrize("target", [0.7, 0.2])
def test_cost_gradients_are_out_minus_target_times_dout_dw(target):
    # C = ½(target − out)², dC/dout = out − target, dC/dw = (out − target) · dout/dw.
    n = kramer_chain()
    cost = 0.5 * (target - n["out"]) ** 2
    cost.backward()
    out, s0, s1, s2 = (n[k].data for k in ("out", "s0", "s1", "s2"))
    w1, w2 = n["w1"].data, n["w2"].data
    error = out - target
    assert cost.data == pytest.approx(0.5 * (target - out) ** 2)
    assert n["out"].grad == pytest.approx(error)
    assert n["w2"].grad == pytest.approx(error * s2)
    assert n["w1"].grad == pytest.approx(error * w2 * s2 * (1 - s2) * s1)
    assert n["w0"].grad == pytest.approx(error * w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0)


def test_one_gradient_descent_step_lowers_the_cost():
    # "w ← w − α dC/dw": the slide's prescription, step 3, with α = 0.5.
    target, alpha = 0.7, 0.5
    n = kramer_chain()
    cost = 0.5 * (target - n["out"]) ** 2
    cost.backward()
    new = {k: n[k].data - alpha * n[k].grad for k in ("w0", "w1", "w2")}
    after = kramer_chain(**new)
    assert 0.5 * (target - after["out"].data) ** 2 < cost.data


def test_the_example_script_prints_the_slide_numbers():
    # examples/kramer.py, run as a user runs it; the numbers are the slides' (s1 = 0.982,
    # s2 = 0.7275, out = 0.3638) and the hand formulas' (dout/dw1 = w2·s2(1 − s2)·s1).
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "kramer.py"
    printed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    s1 = 1 / (1 + math.exp(-4.0))
    s2 = 1 / (1 + math.exp(-s1))
    assert "s1 = 0.9820" in printed and "s2 = 0.7275" in printed and "out = 0.3638" in printed
    assert f"dout/dw1 = {0.5 * s2 * (1 - s2) * s1:.6f}" in printed
    assert f"dout/dw2 = {(0.5 * s2 - 0.7) * s2:.6f}" in printed  # dC/dw2 = (out − target)·s2
