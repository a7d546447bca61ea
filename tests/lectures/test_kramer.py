"""Kramer, "Backpropagation": the one-path sigmoid chain, numbers and formulas from the slides,
first on the engine's Values (autograd_lite.lectures.kramer_chain), then as an nn.MLP.

    x1 = w0·s0 = 4      s1 = S(x1) = 0.982
    x2 = w1·s1 = 0.982  s2 = S(x2) = 0.7275
    out = w2·s2 = 0.3638
"""

import math

import numpy as np
import pytest

import nn
from autograd_lite import Value, reverse_topological_order, sigmoid
from autograd_lite.lectures import kramer_chain

# The slide's network by hand, with math.exp: the expected side, never the engine's numbers.
S0, W0, W1, W2 = 2.0, 2.0, 1.0, 0.5
S1 = 1 / (1 + math.exp(-W0 * S0))
S2 = 1 / (1 + math.exp(-W1 * S1))
OUT = W2 * S2


def test_forward_propagation_matches_the_slide():
    n = kramer_chain()
    # Slide "Forward propagation": rounded as the slide prints them.
    assert n["x1"].data == 4.0
    assert round(n["s1"].data, 3) == 0.982
    assert round(n["x2"].data, 3) == 0.982
    assert round(n["s2"].data, 4) == 0.7275
    assert round(n["out"].data, 4) == 0.3638
    assert n["out"].data == pytest.approx(OUT, rel=1e-15)  # and unrounded, by hand


def test_sigmoid_is_the_activation_function_slides_s_of_x():
    # Slide "Activation function": S(x) = 1 / (1 + e^−x), evaluated by hand with math.exp.
    for x in (-3.0, -0.5, 0.0, 0.982, 4.0):
        assert sigmoid(Value(x)).data == pytest.approx(1 / (1 + math.exp(-x)), rel=1e-15)


def test_the_three_chain_rule_formulas():
    n = kramer_chain()
    n["out"].backward()
    # Slide "How does a change in weight w2 impact output?": dout/dw2 = s2
    assert n["w2"].grad == pytest.approx(S2, rel=1e-14)
    # Slides "How does a change in weight w1 impact output?": dout/dw1 = w2 · s2(1 − s2) · s1
    assert n["w1"].grad == pytest.approx(W2 * S2 * (1 - S2) * S1, rel=1e-14)
    # Slides "How does a change in weight w0 impact output?":
    # dout/dw0 = w2 · s2(1 − s2) · w1 · s1(1 − s1) · s0
    assert n["w0"].grad == pytest.approx(W2 * S2 * (1 - S2) * W1 * S1 * (1 - S1) * S0, rel=1e-14)
    # and with the slide's rounded numbers: dout/dw1 = 0.5 · 0.7275(1 − 0.7275) · 0.982 ≈ 0.0973
    assert n["w1"].grad == pytest.approx(0.5 * 0.7275 * (1 - 0.7275) * 0.982, abs=5e-5)
    assert n["w2"].grad == pytest.approx(0.7275, abs=5e-5)


@pytest.mark.parametrize("target", [0.7, 0.2])
def test_cost_gradients_are_out_minus_target_times_dout_dw(target):
    # Slides "Create a cost function" and "Follow the cost function": C = ½(target − out)²,
    # dC/dout = out − target, dC/dw = (out − target) · dout/dw.
    n = kramer_chain()
    cost = 0.5 * (target - n["out"]) ** 2
    cost.backward()
    error = OUT - target
    assert cost.data == pytest.approx(0.5 * (target - OUT) ** 2, rel=1e-14)
    assert n["out"].grad == pytest.approx(error, rel=1e-14)
    assert n["w2"].grad == pytest.approx(error * S2, rel=1e-14)
    assert n["w1"].grad == pytest.approx(error * W2 * S2 * (1 - S2) * S1, rel=1e-14)
    assert n["w0"].grad == pytest.approx(error * W2 * S2 * (1 - S2) * W1 * S1 * (1 - S1) * S0,
                                         rel=1e-14)


def test_one_gradient_descent_step_is_the_slides_update_and_lowers_the_cost():
    # Slide "Put it all together", 3. Update the weights, with target 0.7 and α = 0.5:
    #   w2 ← w2 − α(out − target)s2
    #   w1 ← w1 − α(out − target)w2 s2(1 − s2)s1
    #   w0 ← w0 − α(out − target)w2 s2(1 − s2)w1 s1(1 − s1)s0
    target, alpha = 0.7, 0.5
    n = kramer_chain()
    cost = 0.5 * (target - n["out"]) ** 2
    cost.backward()
    new = {k: n[k].data - alpha * n[k].grad for k in ("w0", "w1", "w2")}
    error = OUT - target
    assert new == pytest.approx({
        "w2": W2 - alpha * error * S2,
        "w1": W1 - alpha * error * W2 * S2 * (1 - S2) * S1,
        "w0": W0 - alpha * error * W2 * S2 * (1 - S2) * W1 * S1 * (1 - S1) * S0,
    }, rel=1e-14)
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


# ---------------------------------------------------------------- the same network as an nn.MLP


def test_half_squared_error_is_kramers_cost_and_its_derivative():
    # Kramer: C = ½(target − out)², dC/dout = out − target (slide "Chain rule ...").
    out = Value(0.3638, "out")
    cost = nn.losses.half_squared_error(out, 0.7)
    assert cost.data == pytest.approx(0.5 * (0.7 - 0.3638) ** 2, rel=1e-15)
    cost.backward()
    assert out.grad == pytest.approx(0.3638 - 0.7, rel=1e-15)


def nodes_by_label(output):
    """Every labelled node the output depends on, by label (each label used once here)."""
    return {node.label: node for node in reverse_topological_order(output) if node.label}


def S(x):  # noqa: N802 - the slide's name for the sigmoid
    """S(x) = 1 / (1 + e^−x), in NumPy (not the engine's)."""
    return 1.0 / (1.0 + np.exp(-x))


def kramer_mlp():
    """The slide's network as an MLP: s0 → w0 → S → w1 → S → w2 → out, no biases."""
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])  # slide: w0 = 2, w1 = 1, w2 = 0.5
    return model


def test_the_slides_network_is_an_mlp_of_three_single_weight_layers():
    model = kramer_mlp()
    assert [name for name, _ in model.named_parameters()] == ["L1.N0.w0", "L2.N0.w0",
                                                               "L3.N0.w0"]
    assert model.state_dict() == {"L1.N0.w0": 2.0, "L2.N0.w0": 1.0, "L3.N0.w0": 0.5}


def test_mlp_forward_propagation_gives_the_slide_numbers():
    # Slide "Forward propagation": x1 = 4, s1 = 0.982, x2 = 0.982, s2 = 0.7275, out = 0.3638.
    out = kramer_mlp()([2.0])
    n = nodes_by_label(out)
    assert n["L1.N0.z"].data == 4.0
    assert round(n["L1.N0.a"].data, 3) == 0.982
    assert round(n["L2.N0.z"].data, 3) == 0.982
    assert round(n["L2.N0.a"].data, 4) == 0.7275
    assert out.label == "L3.N0.a"
    assert round(out.data, 4) == 0.3638
    # no bias, linear output: out is exactly the product w2·s2, as the slide writes it
    assert out.op == "*"
    assert [p.label for p in out.parents] == ["L3.N0.w0", "L2.N0.a"]


def test_mlp_gradients_are_the_three_chain_rule_formulas():
    model = kramer_mlp()
    out = model([2.0])
    out.backward()
    w0, w1, w2 = model.parameters()
    s0 = 2.0
    s1 = 1 / (1 + np.exp(-2.0 * s0))  # S(w0·s0), by hand
    s2 = 1 / (1 + np.exp(-1.0 * s1))  # S(w1·s1)
    # dout/dw2 = s2;  dout/dw1 = w2·s2(1 − s2)·s1;  dout/dw0 = w2·s2(1 − s2)·w1·s1(1 − s1)·s0
    assert w2.grad == pytest.approx(s2, rel=1e-13)
    assert w1.grad == pytest.approx(0.5 * s2 * (1 - s2) * s1, rel=1e-13)
    assert w0.grad == pytest.approx(0.5 * s2 * (1 - s2) * 1.0 * s1 * (1 - s1) * s0, rel=1e-13)
    # and with the slide's rounded numbers: 0.5 · 0.7275(1 − 0.7275) · 0.982 ≈ 0.0973
    assert w1.grad == pytest.approx(0.5 * 0.7275 * (1 - 0.7275) * 0.982, abs=5e-5)


def test_mlp_sgd_step_is_the_put_it_all_together_update():
    # Slide "Put it all together", step 3, with target 0.7 and α = 0.5:
    #   w2 ← w2 − α(out − target)s2
    #   w1 ← w1 − α(out − target)w2 s2(1 − s2)s1
    #   w0 ← w0 − α(out − target)w2 s2(1 − s2)w1 s1(1 − s1)s0
    target, alpha, s0 = 0.7, 0.5, 2.0
    model = kramer_mlp()
    cost = nn.losses.half_squared_error(model([s0]), target)  # C = ½(target − out)²
    s1 = S(2.0 * s0)
    s2 = S(1.0 * s1)
    out = 0.5 * s2
    assert cost.data == pytest.approx(0.5 * (target - out) ** 2, rel=1e-13)
    expected = [
        2.0 - alpha * (out - target) * 0.5 * s2 * (1 - s2) * 1.0 * s1 * (1 - s1) * s0,
        1.0 - alpha * (out - target) * 0.5 * s2 * (1 - s2) * s1,
        0.5 - alpha * (out - target) * s2,
    ]
    optimizer = nn.optim.SGD(model.parameters(), lr=alpha)
    model.zero_grad()
    cost.backward()
    optimizer.step()
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-13)
    assert 0.5 * (target - model([s0]).data) ** 2 < cost.data  # the step lowered the cost


def test_the_challenge_table_was_made_by_weights_1_minus_2_and_3():
    # "What weights (w0 w1 w2) produced these data?" A least-squares fit (SciPy, offline)
    # finds (1, −2, 3); check it here in NumPy and through the MLP: all six printed rows
    # agree to their 8 printed digits, and the cost gradient there is ~0.
    xs, ys = nn.data.kramer()
    s0 = np.array([x[0] for x in xs])
    assert np.abs(3 * S(-2 * S(1 * s0)) - np.array(ys)).max() < 1e-8
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters(nn.data.KRAMER_WEIGHTS)
    assert [model(x).data for x in xs] == pytest.approx(ys, abs=1e-8)
    cost = sum(nn.losses.half_squared_error(model(x), y) for x, y in zip(xs, ys))
    cost.backward()
    assert all(abs(p.grad) < 1e-7 for p in model.parameters())
