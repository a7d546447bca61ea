"""The lecture items that lived only in a notebook, or nowhere (issue 15's audit), each
reproduced by the library and checked against an independent value: the slide's number,
a hand formula (math or NumPy), or SymPy. The engine's numbers are never the expected side.

The README's "The lectures, item by item" lists every item of the five lectures with the
test that checks it; the items here are marked there with this file's test names.
"""

import itertools
import math

import numpy as np
import pytest
import sympy

import nn
from autograd_lite import Value, grad, gradients, reverse_topological_order
from autograd_lite.lectures import (
    KRAMER_FIRST_GUESS,
    KRAMER_TARGET,
    DeltaNetwork,
    delta_network,
    kramer_cost,
    kramer_descent,
)


def S(x):  # noqa: N802 - Kramer's name for the sigmoid
    """S(x) = 1 / (1 + e^−x), by hand with math.exp."""
    return 1 / (1 + math.exp(-x))


def S_np(x):  # noqa: N802
    return 1 / (1 + np.exp(-x))


def nodes_by_label(output):
    return {node.label: node for node in reverse_topological_order(output) if node.label}


# Kramer's first guess by hand: s0 = 2, w0 = 2, w1 = 1, w2 = 0.5.
S1 = S(2.0 * 2.0)  # 0.982
S2 = S(1.0 * S1)  # 0.7275
OUT = 0.5 * S2  # 0.3638


# ---------------------------------------------------------------- Kramer, "Backpropagation"


def test_kramer_sigmoid_derivative_by_the_quotient_rule_step_by_step():
    # Slides "A complicated derivative": the quotient rule, then "with faith" s(1 − s).
    x = sympy.Symbol("x", real=True)
    e = sympy.exp(-x)
    numerator, denominator = sympy.Integer(1), 1 + e
    assert sympy.diff(denominator, x) == -e  # "d(1 + e^−x)/dx = −e^−x"
    quotient = (denominator * sympy.diff(numerator, x)
                - numerator * sympy.diff(denominator, x)) / denominator**2
    assert sympy.simplify(quotient - e / denominator**2) == 0  # = e^−x / (1 + e^−x)²
    s = 1 / denominator
    # "Split up denominator": (1/(1 + e^−x)) · (e^−x/(1 + e^−x))
    assert sympy.simplify(s * (e / denominator) - quotient) == 0
    # "Add 0 to the second term": e^−x/(1 + e^−x) = (1 + e^−x)/(1 + e^−x) − 1/(1 + e^−x) = 1 − s
    assert sympy.simplify(e / denominator - ((1 + e) / denominator - s)) == 0
    assert sympy.simplify(quotient - s * (1 - s)) == 0  # = s(1 − s)
    # The engine's slope is that function, to 30-digit SymPy values.
    for x0 in (-3.0, 0.0, 0.982, 4.0, 10.0):
        expected = float(quotient.subs(x, sympy.Float(x0, 30)).evalf(30))
        assert grad(lambda v: v.sigmoid())(x0) == pytest.approx(expected, rel=1e-14)
    # ds2/dx2 at the slide's x2 = 0.982: s2(1 − s2) = 0.7275 · 0.2725 = 0.1982
    assert round(grad(lambda v: v.sigmoid())(S1), 4) == 0.1982


def test_kramer_cost_against_out_is_zero_only_at_the_target_with_the_slides_slope_signs():
    # Slides "Create a cost function": C = ½(target − out)², "Plot it", "Where is the cost
    # zero? When out = target"; dC/dout = out − target is < 0 when out < target and > 0
    # when out > target ("Does this derivative make sense?"). Notebook 1 plots this curve.
    target = KRAMER_TARGET
    for i in range(201):
        out_value = -0.3 + 0.01 * i
        out = Value(out_value, "out")
        cost = 0.5 * (target - out) ** 2
        cost.backward()
        assert cost.data == pytest.approx(0.5 * (target - out_value) ** 2, rel=1e-14, abs=1e-30)
        assert out.grad == pytest.approx(out_value - target, rel=1e-14, abs=1e-15)
        if not math.isclose(out_value, target, abs_tol=1e-9):
            assert cost.data > 0
            assert (out.grad < 0) == (out_value < target)
    at_target = Value(target)
    assert (0.5 * (target - at_target) ** 2).data == 0.0
    # At the first guess: out = 0.3638, C = ½(0.7 − 0.3638)² = 0.0565, slope −0.3362.
    n = kramer_cost()
    n["C"].backward()
    assert n["C"].label == "C"
    assert n["C"].data == pytest.approx(0.5 * (0.7 - OUT) ** 2, rel=1e-14)
    assert n["out"].grad == pytest.approx(OUT - 0.7, rel=1e-14)
    assert round(n["C"].data, 4) == 0.0565 and round(n["out"].grad, 4) == -0.3362


@pytest.mark.parametrize("w1", [-3.0, -1.0, 0.0, 1.0, 2.5, 5.0])
@pytest.mark.parametrize("w2", [-0.5, 0.5, 1.2, 2.0])
def test_kramer_cost_surface_over_w1_and_w2(w1, w2):
    # "Plot cost C versus w1 and w2" (s0 = 2, w0 = 2 fixed): C(w1, w2) = ½(0.7 − w2·S(w1·s1))²,
    # its value and its gradient, against the formula by hand and its central differences.
    n = kramer_cost(w1=w1, w2=w2)
    n["C"].backward()

    def by_hand(a, b):
        return 0.5 * (0.7 - b * S(a * S1)) ** 2

    assert n["C"].data == pytest.approx(by_hand(w1, w2), rel=1e-13, abs=1e-300)
    h = 1e-6
    assert n["w1"].grad == pytest.approx(
        (by_hand(w1 + h, w2) - by_hand(w1 - h, w2)) / (2 * h), rel=1e-6, abs=1e-10)
    assert n["w2"].grad == pytest.approx(
        (by_hand(w1, w2 + h) - by_hand(w1, w2 - h)) / (2 * h), rel=1e-6, abs=1e-10)


def test_kramer_cost_surface_has_a_valley_not_a_point_and_is_not_convex():
    # The surface is 0 all along w2 = 0.7 / S(0.982·w1), notebook 1's dotted valley. A convex
    # function's minima form a convex set; here the midpoint of two minima costs more than 0:
    # "loss functions ... are generally not convex" (Kauchak; Haghtalab & Joachims).
    valley = [(a, 0.7 / S(a * S1)) for a in (-2.0, 0.0, 1.0, 4.0)]
    for a, b in valley:
        assert kramer_cost(w1=a, w2=b)["C"].data < 1e-30
    (a1, b1), (a2, b2) = valley[1], valley[3]
    middle = kramer_cost(w1=(a1 + a2) / 2, w2=(b1 + b2) / 2)["C"].data
    by_hand = 0.5 * (0.7 - (b1 + b2) / 2 * S((a1 + a2) / 2 * S1)) ** 2
    assert middle == pytest.approx(by_hand, rel=1e-13)
    assert middle > 0.02  # 0.0258: above the chord between two zeros


def _descent_by_hand(steps, alpha, names, target=0.7):
    """The slide's update rules ("Put it all together", 3.), all weights at once, in floats."""
    w = dict(KRAMER_FIRST_GUESS)
    path = []
    for _ in range(steps + 1):
        s0 = w["s0"]
        s1 = S(w["w0"] * s0)
        s2 = S(w["w1"] * s1)
        out = w["w2"] * s2
        path.append({**w, "out": out, "C": 0.5 * (target - out) ** 2})
        error = out - target
        dC = {"w2": error * s2,
              "w1": error * w["w2"] * s2 * (1 - s2) * s1,
              "w0": error * w["w2"] * s2 * (1 - s2) * w["w1"] * s1 * (1 - s1) * s0}
        w = {**w, **{name: w[name] - alpha * dC[name] for name in names}}
    return path


def test_kramer_descent_path_on_the_cost_surface():
    # Notebook 1's path over C(w1, w2): gradient descent on w1 and w2 (w0 = 2 stays), α = 0.5.
    path = kramer_descent(40, 0.5, wrt=("w1", "w2"))
    expected = _descent_by_hand(40, 0.5, ("w1", "w2"))
    assert len(path) == 41
    for point, by_hand in zip(path, expected):
        assert point == pytest.approx(by_hand, rel=1e-12, abs=1e-15)
    # The first step is the lecture's: w1 ← 1.0164, w2 ← 0.6223 (explain_update's numbers).
    assert round(path[1]["w1"], 4) == 1.0164 and round(path[1]["w2"], 4) == 0.6223
    costs = [p["C"] for p in path]
    assert all(later < earlier for earlier, later in itertools.pairwise(costs))  # downhill
    assert costs[-1] < 1e-6 and all(p["w0"] == 2.0 for p in path)
    end = path[-1]
    assert end["w2"] * S(end["w1"] * S1) == pytest.approx(0.7, rel=1e-3)  # in the valley


def test_kramer_repeating_steps_2_and_3_brings_out_to_the_target():
    # "4. Repeat Steps 2 & 3 until error is small enough, or out is close enough to target":
    # notebook 1's loop (α = 0.2, 100 steps, every weight), against the slide's rules by hand.
    path = kramer_descent(100, 0.2)
    expected = _descent_by_hand(100, 0.2, ("w0", "w1", "w2"))
    for point, by_hand in zip(path, expected):
        assert point == pytest.approx(by_hand, rel=1e-12, abs=1e-15)
    assert abs(path[-1]["out"] - 0.7) < 1e-3
    assert path[-1]["C"] < path[0]["C"] / 1000
    # The weight farthest from the output moves least: its gradient carries both slopes.
    moved = {k: abs(path[-1][k] - path[0][k]) for k in ("w0", "w1", "w2")}
    assert moved["w0"] < moved["w1"] < moved["w2"]


def test_kramer_when_out_equals_target_nothing_moves():
    # "Q: What happens when out = target?" Every dC/dw has the factor (out − target): 0.
    out = kramer_cost()["out"].data
    n = kramer_cost(target=out)
    n["C"].backward()
    assert n["C"].data == 0.0
    assert [n[k].grad for k in ("w0", "w1", "w2")] == [0.0, 0.0, 0.0]
    path = kramer_descent(3, 0.5, target=out)
    assert all(p == path[0] for p in path)


@pytest.mark.slow  # 6000 epochs: ~2 s
def test_kramer_gradient_descent_answers_what_weights_produced_these_data():
    # The slides' last question, answered in notebook 1: from the first guess (2, 1, 0.5),
    # gradient descent with momentum on the six rows finds the weights (1, −2, 3) that
    # reproduce every row to its 8 printed digits (checked in NumPy in test_kramer.py).
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])
    history = nn.fit(model, nn.data.kramer(), loss="half_squared_error",
                     optimizer=nn.optim.SGD(model, lr=0.3, momentum=0.98), epochs=6000)
    assert [p.data for p in model.parameters()] == pytest.approx([1.0, -2.0, 3.0], abs=0.05)
    assert history.loss[-1] < 1e-6
    xs, ys = nn.data.kramer()
    s0 = np.array([x[0] for x in xs])
    assert np.abs(3 * S_np(-2 * S_np(1 * s0)) - np.array(ys)).max() < 1e-8


def test_kramer_builders_refuse_bad_input():
    with pytest.raises(TypeError, match="kramer_cost: unknown input 'w3'"):
        kramer_cost(w3=1.0)
    with pytest.raises(TypeError, match="kramer_cost: target must be a finite number"):
        kramer_cost(target=float("nan"))
    with pytest.raises(ValueError, match="kramer_descent: wrt must name weights"):
        kramer_descent(3, 0.5, wrt=("s0",))
    with pytest.raises(ValueError, match="kramer_descent: alpha must be a positive number"):
        kramer_descent(3, 0.0)
    with pytest.raises(TypeError, match="kramer_descent: steps must be a whole number"):
        kramer_descent(2.5, 0.5)


# ---------------------------------------------------------------- Kauchak, CS159


def test_kauchak_notation_d_times_m_weights_w_kj_and_d_weights_v_k():
    # "m: features/inputs, d: hidden nodes": d weights v_k and d·m weights w_kj, "first index
    # = hidden node, second index = feature"; "w23: weight from input 3 to hidden node 2".
    m, d = 3, 4
    model = nn.MLP(m, [d, 1], activation="sigmoid", output_activation="sigmoid", bias=False,
                   seed=0)
    assert len(model.parameters()) == d * m + d
    W = np.zeros((d, m))  # W[k − 1, j − 1] = w_kj, in the order set_parameters takes them
    W[2 - 1, 3 - 1] = 1.5  # w23 alone
    model.set_parameters([*W.ravel(), *np.ones(d)])
    assert model.layers[0].neurons[2 - 1].w[3 - 1].data == 1.5
    xs = [Value(v, f"x{j}") for j, v in enumerate((0.4, -0.7, 0.9), start=1)]
    n = nodes_by_label(model(xs))
    h = [n[f"L1.N{k}.a"] for k in range(d)]
    # Only h_2 depends on an input, and only on x_3: dh_2/dx_3 = f′(w23·x3)·w23, by hand.
    slope = S(1.5 * 0.9) * (1 - S(1.5 * 0.9))
    assert gradients(h[1], xs) == pytest.approx([0.0, 0.0, slope * 1.5], rel=1e-14)
    for k in (0, 2, 3):
        assert h[k].data == 0.5 and gradients(h[k], xs) == [0.0, 0.0, 0.0]  # f(0) = ½


def _output_layer_step(v, y, hidden_weights, x, eta=1.0):
    """Δv_k of one SGD step on ½(y − ŷ)², from the engine (the weights before and after)."""
    d, m = hidden_weights.shape
    model = nn.MLP(m, [d, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    model.set_parameters([*hidden_weights.ravel(), *v])
    prediction = model(x)
    nn.losses.half_squared_error(prediction, y).backward()
    nn.optim.SGD(model, lr=eta).step()
    return prediction.data, np.array([w.data for w in model.layers[1].neurons[0].w]) - v


def test_kauchak_output_layer_update_direction_and_size():
    # "Output layer weights": v_k = v_k + (y − f(v·h)) f′(v·h) h_k, read term by term:
    # "prediction < label: increase the weight; prediction > label: decrease the weight;
    # bigger difference = bigger change"; "slope of the activation function where input is
    # at": a flat sigmoid makes a smaller step. Expected sides by hand (NumPy).
    x = [0.5, -1.2, 2.0]
    W = np.array([[0.3, -0.2, 0.5], [-0.4, 0.1, 0.2], [0.6, 0.5, -0.3]])
    h = S_np(W @ np.array(x))  # every h_k > 0 (sigmoid)
    v = np.array([0.2, -0.1, 0.3])
    y_hat = S(v @ h)
    for y in (1.0, 0.9):  # prediction < label
        _, dv = _output_layer_step(v, y, W, x)
        assert np.all(dv > 0)
        np.testing.assert_allclose(dv, (y - y_hat) * y_hat * (1 - y_hat) * h, rtol=1e-12)
    _, dv_low = _output_layer_step(v, 0.0, W, x)  # prediction > label
    assert np.all(dv_low < 0)
    _, dv_far = _output_layer_step(v, 1.0, W, x)
    _, dv_near = _output_layer_step(v, 0.9, W, x)
    np.testing.assert_allclose(dv_far / dv_near, (1.0 - y_hat) / (0.9 - y_hat), rtol=1e-12)
    # The same error 0.1 on a flat part of the sigmoid (v·h = 4) moves v less, by f′'s ratio.
    steep, flat = v * (0.2 / (v @ h)), v * (4.0 / (v @ h))
    steep_prediction, dv_steep = _output_layer_step(steep, S(0.2) - 0.1, W, x)
    flat_prediction, dv_flat = _output_layer_step(flat, S(4.0) - 0.1, W, x)
    assert steep_prediction == pytest.approx(S(0.2)) and flat_prediction == pytest.approx(S(4.0))
    ratio = (S(4.0) * (1 - S(4.0))) / (S(0.2) * (1 - S(0.2)))  # f′(4) / f′(0.2) = 0.071
    np.testing.assert_allclose(dv_flat / dv_steep, ratio, rtol=1e-9)
    assert np.all(np.abs(dv_flat) < np.abs(dv_steep))


@pytest.mark.parametrize("seed", range(3))
def test_kauchak_momentum_reaches_a_low_loss_in_fewer_epochs_on_xor(seed):
    # "Momentum: include a factor in the weight update to keep moving in the direction of
    # the previous update" (notebook 2): 2-4-1 sigmoid net, online SGD, η = 2; μ = 0.9
    # against μ = 0, the first epoch whose mean loss is below 0.01.
    def epochs_to_low_loss(momentum):
        net = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
        history = nn.fit(net, nn.data.xor(), loss="half_squared_error",
                         optimizer=nn.optim.SGD(net, lr=2.0, momentum=momentum), epochs=800,
                         batch_size=1, seed=seed, target_loss=0.01)
        return history.epochs if history.stopped_early else None

    plain, with_momentum = epochs_to_low_loss(0.0), epochs_to_low_loss(0.9)
    assert with_momentum is not None
    assert plain is None or with_momentum < plain / 2


def test_kauchak_mini_batches_are_less_noisy_than_online_updates():
    # "Mini-batch: compromise between online and batch; avoids noisiness of updates from
    # online": the mean change of the batch loss over the first 200 updates on XOR.
    def noise(batch_size):
        net = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
        history = nn.fit(net, nn.data.xor(), loss="half_squared_error", lr=2.0,
                         epochs=200 * batch_size // 4, batch_size=batch_size, seed=0)
        assert history.steps == 200
        return float(np.mean(np.abs(np.diff(history.step_loss))))

    online, mini, full = noise(1), noise(2), noise(4)
    assert online > mini > full
    assert full < online / 100


# ---------------------------------------------------------------- Haghtalab & Joachims


def _numpy_recursion(Ws, v0, y):
    """The slide "Back Propagation" in NumPy, written independently of the engine."""
    vs, ss = [np.array(v0, dtype=float)], [None]
    for W in Ws:
        ss.append(W.T @ vs[-1])
        vs.append(S_np(ss[-1]))
    d = len(Ws)
    deltas = {d: (vs[d] - np.array(y)) * vs[d] * (1 - vs[d])}
    grads = {}
    for ell in range(d - 1, -1, -1):
        grads[ell] = np.outer(vs[ell], deltas[ell + 1])
        if ell > 0:
            deltas[ell] = (Ws[ell] @ deltas[ell + 1]) * vs[ell] * (1 - vs[ell])
    return vs, deltas, grads


@pytest.mark.parametrize("seed", [0, 1])
def test_haghtalab_joachims_delta_per_layer_beside_the_scalar_graph(seed):
    # Slide "Back Propagation": δ_d = ∂L/∂v_d σ′(s_d), δ_ℓ = (W_ℓ δ_ℓ+1) ⊙ σ′(s_ℓ),
    # ∂L/∂W_ℓ = v_ℓ δ_ℓ+1ᵀ, read per layer off a graph of scalar Values (notebook 3).
    rng = np.random.default_rng(seed)
    sizes = [3, 4, 3, 2]  # v_0 = (x, 1): two inputs and the constant 1
    Ws = [rng.normal(size=(sizes[ell], sizes[ell + 1])) for ell in range(3)]
    v0, y = [0.7, -1.3, 1.0], [1.0, 0.0]
    vs, deltas, grads = _numpy_recursion(Ws, v0, y)

    net = delta_network(Ws, v0, y)
    assert isinstance(net, DeltaNetwork)
    assert net.loss.data == pytest.approx(0.5 * np.sum((vs[3] - np.array(y)) ** 2), rel=1e-14)
    layers = net.layers()
    assert [layer.index for layer in layers] == [2, 1, 0]  # the slide's loop: ℓ = d − 1 … 0
    for layer in layers:
        ell = layer.index
        np.testing.assert_allclose(layer.W, Ws[ell], rtol=0, atol=0)
        np.testing.assert_allclose(layer.v, vs[ell], rtol=1e-14)
        np.testing.assert_allclose(layer.delta_next, deltas[ell + 1], rtol=1e-11, atol=1e-17)
        np.testing.assert_allclose(layer.grad_weights, grads[ell], rtol=1e-11, atol=1e-17)
        if ell == 0:
            assert layer.delta is None and layer.recursion is None
        else:
            np.testing.assert_allclose(layer.delta, deltas[ell], rtol=1e-11, atol=1e-17)
            np.testing.assert_allclose(layer.recursion, deltas[ell], rtol=1e-11, atol=1e-17)
    # The scalar graph speaks the slides' names, and reading it touched no .grad.
    n = nodes_by_label(net.loss)
    assert {"L", "W0[0,0]", "W2[2,1]", "v0[2]", "s1[3]", "v3[1]"} <= set(n)
    assert n["s1[3]"] is net.s[1][3] and n["W1[2,0]"] is net.W[1][2][0]
    assert all(node.grad == 0.0 for node in n.values())
    # What notebook 3 prints, per layer, in the lecture's symbols.
    text = str(net)
    assert text.startswith("Back propagation, layer by layer: L = ½(v_3 − y)²")
    assert "∂L/∂W_0 = v_0 δ_1ᵀ" in text and "δ_2 = (W_2 δ_3) ⊙ σ′(s_2)" in text
    markdown = net._repr_markdown_()
    assert markdown.splitlines()[0].startswith("| ℓ | v_ℓ | δ_ℓ+1 = ∂L/∂s_ℓ+1 |")
    assert len(markdown.splitlines()) == 2 + 3


def test_delta_network_refuses_shapes_that_do_not_chain():
    with pytest.raises(ValueError, match="W_1 has 2 rows, but layer 1 has 3 nodes"):
        delta_network([np.ones((2, 3)), np.ones((2, 1))], [1.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="y has 2 entries, but the last layer has 1 nodes"):
        delta_network([np.ones((2, 1))], [1.0, 1.0], [1.0, 0.0])
    with pytest.raises(TypeError, match="W_0 must be a matrix of numbers"):
        delta_network([[["a"]]], [1.0], 1.0)
    with pytest.raises(ValueError, match="at least one weight matrix"):
        delta_network([], [1.0], 1.0)


def test_haghtalab_joachims_do_not_start_the_weights_at_zero():
    # "SGD on Non-Convex: 1. Initialization. Don't start W_0, W_1, … = 0. Randomize your
    # starting weights" (notebook 3). Equal starting weights give every hidden unit the
    # same gradient, so they stay equal; all zeros on XOR is a stationary point where every
    # output is σ(0) = ½ and the mean loss is ½·mean((½ − t)²) = 1/8, by hand.
    xs, ys = nn.data.xor()

    def trained(start):
        model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
        model.set_parameters([start] * len(model.parameters()))
        history = nn.fit(model, (xs, ys), loss="half_squared_error", lr=2.0, epochs=300,
                         batch_size=4)
        return model, history

    model, history = trained(0.3)
    hidden = [[w.data for w in neuron.w] + [neuron.b.data] for neuron in model.layers[0].neurons]
    assert all(unit == hidden[0] for unit in hidden)  # four identical units: one unit
    assert hidden[0] != [0.3, 0.3, 0.3]  # they did move, together
    assert min(history.loss) > 0.12
    model, history = trained(0.0)
    assert history.loss == [0.125] * 300
    assert all(p.data == 0.0 for p in model.parameters())


# ---------------------------------------------------------------- Backpropagation in Neural Nets


@pytest.mark.parametrize(("X", "y", "weights"), [(1.5, 0.2, (0.8, -1.2, 2.0)),
                                                 (-0.7, 1.0, (1.3, 0.4, -0.6)),
                                                 (2.0, -0.5, (-0.2, 2.5, 1.1))])
def test_the_punchline_gradients_of_a_three_weight_net(X, y, weights):
    # "Punchline" (notebook 4), one unit per layer: z2 = W1·X, a2 = σ(z2), z3 = W2·a2,
    # a3 = σ(z3), ŷ = W3·a3, J = ½(ŷ − y)²:
    #   ∂J/∂W3 = (ŷ − y)·a3,   ∂J/∂W2 = (ŷ − y)·W3·σ′(z3)·a2,
    #   ∂J/∂W1 = (ŷ − y)·W3·σ′(z3)·W2·σ′(z2)·X,   σ′(z) = σ(z)(1 − σ(z)), by hand.
    W1, W2, W3 = (Value(w, f"W{k}") for k, w in enumerate(weights, start=1))
    y_hat = W3 * (W2 * (W1 * X).sigmoid()).sigmoid()
    (0.5 * (y_hat - y) ** 2).backward()

    def sigma_prime(z):
        return S(z) * (1 - S(z))

    z2 = weights[0] * X
    a2 = S(z2)
    z3 = weights[1] * a2
    a3 = S(z3)
    error = weights[2] * a3 - y
    assert W3.grad == pytest.approx(error * a3, rel=1e-13)
    assert W2.grad == pytest.approx(error * weights[2] * sigma_prime(z3) * a2, rel=1e-13)
    assert W1.grad == pytest.approx(error * weights[2] * sigma_prime(z3) * weights[1]
                                    * sigma_prime(z2) * X, rel=1e-13)


def test_sigmoid_slope_is_at_most_a_quarter_and_tanhs_reaches_one():
    # "Remember: σ′(z) = σ(z)(1 − σ(z)) ≤ .25" (notebook 4). SymPy: the only critical point
    # of σ′ is z = 0, where σ′ = 1/4; the engine's slope on a grid never exceeds it.
    z = sympy.Symbol("z", real=True)
    sigma = 1 / (1 + sympy.exp(-z))
    slope = sympy.diff(sigma, z)
    assert sympy.simplify(slope - sigma * (1 - sigma)) == 0
    assert sympy.solve(sympy.diff(sympy.simplify(slope), z), z) == [0]
    assert slope.subs(z, 0) == sympy.Rational(1, 4)
    assert sympy.limit(slope, z, sympy.oo) == 0 and sympy.limit(slope, z, -sympy.oo) == 0
    engine_slope = grad(lambda v: v.sigmoid())
    grid = np.linspace(-10, 10, 2001)
    slopes = [engine_slope(t) for t in grid]
    assert max(slopes) == 0.25 == engine_slope(0.0)
    assert all(s <= 0.25 for s in slopes)
    assert grad(lambda v: v.tanh())(0.0) == 1.0  # tanh′(0) = 1 − tanh²(0) = 1: four times more


def test_tanh_as_the_slide_writes_it():
    # "tanh z = sinh(z)/cosh(z) = (e^2z − 1)/(e^2z + 1); tanh 0 = 0, tanh ∞ = 1, tanh −∞ = −1"
    for z in (-3.0, -0.5, 0.3, 1.0, 2.5):
        value = Value(z).tanh().data
        assert value == pytest.approx(math.sinh(z) / math.cosh(z), rel=1e-14)
        assert value == pytest.approx((math.exp(2 * z) - 1) / (math.exp(2 * z) + 1), rel=1e-13)
    assert Value(0.0).tanh().data == 0.0
    assert Value(40.0).tanh().data == 1.0 and Value(-40.0).tanh().data == -1.0
    z = sympy.Symbol("z", real=True)
    assert sympy.limit(sympy.tanh(z), z, sympy.oo) == 1
    assert sympy.limit(sympy.tanh(z), z, -sympy.oo) == -1


def test_relu_values_as_the_slide_writes_them():
    # "ReLU(z) = 0 for z < 0, z for z ≥ 0 = max(0, z); ReLU(0) = 0, ReLU(z) = z, ReLU(−z) = 0
    # for z ≫ 0" (leaky ReLU's max(αz, z) for α < 1, and α ≥ 1, are nn's items).
    for z in (-5.0, -1.0, -0.25, 0.0, 0.25, 1.0, 5.0):
        assert Value(z).relu().data == max(0.0, z)
    assert Value(0.0).relu().data == 0.0
    for z in (0.5, 10.0, 1e6):
        assert Value(z).relu().data == z and Value(-z).relu().data == 0.0


def test_vanishing_gradient_along_a_chain_and_why_relu_took_over():
    # "As we have more layers, the gradient gets very small at the early layers ... For this
    # reason, other activations (such as ReLU) have become more common." A chain one unit
    # wide, 12 layers (notebook 4): d out/d w1 = x ∏ f′(z_k) ∏_{k≥2} w_k, by hand in NumPy;
    # |·| ≤ ∏_{k≥2}|w_k|·0.25^12 for the sigmoid, while the ReLU's slopes are all 1 here.
    weights = np.random.default_rng(4).uniform(0.5, 1.5, size=12)
    x = 1.0

    def engine(f):
        w = [Value(float(wk)) for wk in weights]
        a = Value(x)
        for wk in w:
            a = f(wk * a)
        a.backward()
        return w[0].grad

    def by_hand(function, slope):
        a, product = x, x
        for k, wk in enumerate(weights):
            zk = wk * a
            a = function(zk)
            product *= slope(zk) * (wk if k > 0 else 1.0)
        return product

    sigmoid_grad = engine(lambda v: v.sigmoid())
    relu_grad = engine(lambda v: v.relu())
    assert sigmoid_grad == pytest.approx(
        by_hand(S_np, lambda z: S_np(z) * (1 - S_np(z))), rel=1e-12)
    assert relu_grad == pytest.approx(by_hand(lambda z: max(z, 0.0), lambda z: 1.0), rel=1e-12)
    assert relu_grad == pytest.approx(x * np.prod(weights[1:]), rel=1e-12)
    assert 0 < sigmoid_grad <= np.prod(weights[1:]) * 0.25**12
    assert sigmoid_grad < relu_grad * 1e-7


# ---------------------------------------------------------------- Lecture 5


def test_learning_by_perturbing_weights_takes_a_forward_pass_per_weight():
    # "Learning by perturbing weights ... Very inefficient. We need to do multiple forward
    # passes ... just to change one weight." Perturbing each of n weights costs n + 1
    # forward passes for the gradient that one forward and one backward pass give.
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=2)
    params = model.parameters()
    x, y = [0.5, -1.0], 1.0
    passes = 0

    def forward():
        nonlocal passes
        passes += 1
        return nn.losses.half_squared_error(model(x), y)

    loss = forward()
    loss.backward()
    backprop = [p.grad for p in params]
    assert passes == 1
    base, h, perturbed = loss.data, 1e-7, []
    for p in params:
        p.data += h
        perturbed.append((forward().data - base) / h)
        p.data -= h
    assert passes == len(params) + 1 == 14
    assert perturbed == pytest.approx(backprop, rel=1e-4, abs=1e-8)


def test_tanh_is_a_sigmoid_stretched_and_shifted():
    # Lecture 5, "Tanh vs sigmoid": tanh(z) = 2σ(2z) − 1, so tanh′(z) = 4σ′(2z).
    for z in (-4.0, -1.0, 0.0, 0.6, 3.0):
        assert Value(z).tanh().data == pytest.approx(2 * S(2 * z) - 1, rel=1e-13, abs=1e-16)
        assert grad(lambda v: v.tanh())(z) == pytest.approx(
            4 * S(2 * z) * (1 - S(2 * z)), rel=1e-12)


def test_the_steepness_of_e_exactly_balances_the_flatness_of_the_softmax():
    # "The steepness of E exactly balances the flatness of the softmax" (notebook 5): the
    # softmax's Jacobian ∂y_i/∂z_j = y_i(δ_ij − y_j), E's steepness ∂E/∂y_k = −1/y_k, and
    # their product summed over i is y_j − t_j; by hand in NumPy.
    logits, k = [2.0, 1.0, -1.5, 0.3], 2
    z = [Value(v, f"z{i}") for i, v in enumerate(logits)]
    ys = nn.losses.softmax(z)
    jacobian = np.array([gradients(y_i, z) for y_i in ys])
    e = np.exp(logits)
    y = e / e.sum()
    t = np.eye(len(logits))[k]
    np.testing.assert_allclose(jacobian, np.diag(y) - np.outer(y, y), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jacobian.T @ (-t / y), y - t, rtol=1e-12, atol=1e-15)
    E = nn.losses.softmax_cross_entropy(z, k)
    np.testing.assert_allclose(gradients(E, z), y - t, rtol=1e-12, atol=1e-15)
    # Confidently wrong (y_k tiny): the softmax is flat there, and E's slope is steep.
    assert y[k] < 0.05 and abs(jacobian[k, k]) < 0.05 and abs(-1 / y[k]) > 20


def test_cross_entropy_is_the_logistic_units_natural_pair_and_squared_error_is_not():
    # "The natural error function for the logistic" (notebook 5): with cross-entropy
    # dE/dz = y − t, with ½(y − t)² it is (y − t)·y(1 − y), which vanishes for a unit that
    # is confidently wrong (t = 1, z ≪ 0). By hand with math.exp.
    for z0 in (-8.0, -3.0, 0.0, 2.0):
        y = S(z0)
        for loss, expected in ((nn.losses.binary_cross_entropy, y - 1),
                               (nn.losses.half_squared_error, (y - 1) * y * (1 - y))):
            z = Value(z0)
            (dE_dz,) = gradients(loss(z.sigmoid(), 1.0), [z])
            assert dE_dz == pytest.approx(expected, rel=1e-12, abs=1e-16)
    z = Value(-8.0)
    (cross_entropy,) = gradients(nn.losses.binary_cross_entropy(z.sigmoid(), 1.0), [z])
    z = Value(-8.0)
    (squared,) = gradients(nn.losses.half_squared_error(z.sigmoid(), 1.0), [z])
    assert cross_entropy < -0.99 and abs(squared) < 1e-3
