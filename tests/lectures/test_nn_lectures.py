"""nn models against the lectures' own networks and formulas.

Expected numbers come from the slides (Kramer's printed values) or from the lectures'
closed forms evaluated independently in NumPy: Kauchak's update rules and Haghtalab &
Joachims' matrix δ recursion. The engine's numbers are never the expected side.
"""

import numpy as np
import pytest

import nn
from autograd_lite import reverse_topological_order


def nodes_by_label(output):
    """Every labelled node the output depends on, by label (each label used once here)."""
    return {node.label: node for node in reverse_topological_order(output) if node.label}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- Kramer


def kramer_chain():
    """The slide's network as an MLP: s0 → w0 → S → w1 → S → w2 → out, no biases."""
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])  # slide: w0 = 2, w1 = 1, w2 = 0.5
    return model


def test_kramer_chain_is_three_single_weight_layers():
    model = kramer_chain()
    assert [name for name, _ in model.named_parameters()] == ["L1.N0.w0", "L2.N0.w0",
                                                               "L3.N0.w0"]
    assert model.state_dict() == {"L1.N0.w0": 2.0, "L2.N0.w0": 1.0, "L3.N0.w0": 0.5}


def test_kramer_forward_propagation_gives_the_slide_numbers():
    # Slide "Forward propagation": x1 = 4, s1 = 0.982, x2 = 0.982, s2 = 0.7275, out = 0.3638.
    out = kramer_chain()([2.0])
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


def test_kramer_chain_rule_formulas():
    model = kramer_chain()
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


def test_kramer_gradient_descent_step_is_the_slides_update():
    # Slide "Put it all together", step 3, with target 0.7 and α = 0.5:
    #   w2 ← w2 − α(out − target)s2
    #   w1 ← w1 − α(out − target)w2 s2(1 − s2)s1
    #   w0 ← w0 − α(out − target)w2 s2(1 − s2)w1 s1(1 − s1)s0
    target, alpha, s0 = 0.7, 0.5, 2.0
    model = kramer_chain()
    cost = nn.losses.half_squared_error(model([s0]), target)  # C = ½(target − out)²
    s1 = sigmoid(2.0 * s0)
    s2 = sigmoid(1.0 * s1)
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


def test_kramer_data_table_answers_the_slides_question():
    # "What weights (w0 w1 w2) produced these data?" A least-squares fit (SciPy, offline)
    # finds (1, −2, 3); check it here in NumPy and through the MLP: all six printed rows
    # agree to their 8 printed digits, and the cost gradient there is ~0.
    xs, ys = nn.data.kramer()
    s0 = np.array([x[0] for x in xs])
    assert np.abs(3 * sigmoid(-2 * sigmoid(1 * s0)) - np.array(ys)).max() < 1e-8
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters(nn.data.KRAMER_WEIGHTS)
    assert [model(x).data for x in xs] == pytest.approx(ys, abs=1e-8)
    cost = sum(nn.losses.half_squared_error(model(x), y) for x, y in zip(xs, ys))
    cost.backward()
    assert all(abs(p.grad) < 1e-7 for p in model.parameters())


# ---------------------------------------------------------------- Kauchak


@pytest.mark.parametrize(("x", "y", "eta"), [([0.5, -1.2, 2.0], 1.0, 0.5),
                                             ([1.0, 0.0, -0.3], 0.0, 2.0)])
def test_kauchak_output_and_hidden_layer_updates_are_one_sgd_step(x, y, eta):
    # Kauchak, "Learning rate": with h_k = f(w_k·x) and output f(v·h), f the sigmoid,
    #   v_k  ← v_k  + η h_k (y − f(v·h)) f′(v·h)
    #   w_kj ← w_kj + η x_j f′(w_k·x) v_k f′(v·h) (y − f(v·h))
    # m = 3 inputs, d = 4 hidden nodes, no biases (the slides have none).
    model = nn.MLP(3, [4, 1], activation="sigmoid", output_activation="sigmoid", bias=False,
                   seed=11)
    W = np.array([[w.data for w in neuron.w] for neuron in model.layers[0].neurons])  # d × m
    v = np.array([w.data for w in model.layers[1].neurons[0].w])  # d
    xv = np.array(x)
    h = sigmoid(W @ xv)
    out = sigmoid(v @ h)
    f_prime_out = out * (1 - out)  # f′(v·h)
    f_prime_hidden = h * (1 - h)  # f′(w_k·x)
    v_new = v + eta * h * (y - out) * f_prime_out
    W_new = W + eta * np.outer(f_prime_hidden * v * f_prime_out * (y - out), xv)

    loss = nn.losses.half_squared_error(model(x), y)  # ½(y − ŷ)²
    model.zero_grad()
    loss.backward()
    nn.optim.SGD(model, lr=eta).step()
    W_after = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    np.testing.assert_allclose(W_after, W_new, rtol=1e-12)
    assert [w.data for w in model.layers[1].neurons[0].w] == pytest.approx(v_new.tolist(),
                                                                            rel=1e-12)


def test_kauchak_loss_derivatives():
    # dloss/dv_k = −(y − f(v·h)) f′(v·h) h_k,  dloss/dw_kj = −(y − f(v·h)) f′(v·h) v_k f′(w_k·x) x_j
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", bias=False,
                   seed=4)
    x, y = [0.7, -0.4], 1.0
    W = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    v = np.array([w.data for w in model.layers[1].neurons[0].w])
    h = sigmoid(W @ np.array(x))
    out = sigmoid(v @ h)
    nn.losses.half_squared_error(model(x), y).backward()
    dv = -(y - out) * out * (1 - out) * h
    dW = np.outer(-(y - out) * out * (1 - out) * v * h * (1 - h), x)
    assert [w.grad for w in model.layers[1].neurons[0].w] == pytest.approx(dv.tolist(), rel=1e-12)
    W_grad = np.array([[w.grad for w in n.w] for n in model.layers[0].neurons])
    np.testing.assert_allclose(W_grad, dW, rtol=1e-12)


# ---------------------------------------------------------------- Haghtalab & Joachims


def matrices(model):
    """W_ℓ in the lecture's column convention, s_{ℓ+1} = W_ℓᵀ (v_ℓ, 1): one column per
    neuron of the next layer, one row per input, the last row the biases."""
    return [np.array([[*(w.data for w in n.w), n.b.data] for n in layer.neurons]).T
            for layer in model.layers]


def delta_recursion(Ws, x, y):
    """The lecture's Back Propagation, in NumPy: forward pass, then δ_d and the recursion."""
    vs, ss = [np.array(x, dtype=float)], [None]  # v_0 = x; s_0 does not exist
    for W in Ws:  # s_ℓ = W_{ℓ−1}ᵀ (v_{ℓ−1}, 1),  v_ℓ = σ(s_ℓ)
        ss.append(W.T @ np.append(vs[-1], 1.0))
        vs.append(sigmoid(ss[-1]))
    d = len(Ws)
    sigma_prime = [None] + [v * (1 - v) for v in vs[1:]]  # σ′(s_ℓ) = σ(s_ℓ)(1 − σ(s_ℓ))
    deltas = {d: (vs[d] - np.array(y)) * sigma_prime[d]}  # δ_d = ∂L/∂v_d · σ′(s_d)
    grads = {}
    for layer in range(d - 1, -1, -1):
        grads[layer] = np.outer(np.append(vs[layer], 1.0), deltas[layer + 1])  # v_ℓ δ_ℓ+1ᵀ
        if layer > 0:  # δ_ℓ = (W_ℓ δ_ℓ+1) ⊙ σ′(s_ℓ); the bias row has no incoming weights
            deltas[layer] = (Ws[layer][:-1] @ deltas[layer + 1]) * sigma_prime[layer]
    return vs, deltas, grads


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_haghtalab_joachims_delta_recursion_equals_engine_gradients(seed):
    # A 3-layer sigmoid net (W_0, W_1, W_2), L = ½‖v_d − y‖².
    model = nn.MLP(3, [4, 3, 2], activation="sigmoid", output_activation="sigmoid", seed=seed)
    biases = [name for name, _ in model.named_parameters() if name.endswith(".b")]
    model.set_parameters(dict(zip(biases, np.random.default_rng(seed).uniform(-1, 1, 9))))
    x, y = [0.5, -1.0, 2.0], [1.0, 0.0]
    vs, deltas, grads = delta_recursion(matrices(model), x, y)

    out = model(x)
    assert [o.data for o in out] == pytest.approx(vs[-1].tolist(), rel=1e-13)
    loss = nn.losses.half_squared_error(out, y)
    loss.backward()
    engine_grads = [np.array([[*(w.grad for w in n.w), n.b.grad] for n in layer.neurons]).T
                    for layer in model.layers]
    for layer, grad in enumerate(engine_grads):  # ∂L/∂W_ℓ = v_ℓ δ_ℓ+1ᵀ
        np.testing.assert_allclose(grad, grads[layer], rtol=1e-11, atol=1e-16)
    # δ_ℓ is ∂L/∂s_ℓ: the gradient on each neuron's weighted-sum node L{ℓ}.N{k}.z.
    n = nodes_by_label(loss)
    for layer, delta in deltas.items():
        found = [n[f"L{layer}.N{k}.z"].grad for k in range(len(delta))]
        np.testing.assert_allclose(found, delta, rtol=1e-11, atol=1e-16)


def test_haghtalab_joachims_sgd_round():
    # "Each round of SGD: forward pass then back propagation": W_ℓ ← W_ℓ − η v_ℓ δ_ℓ+1ᵀ.
    model = nn.MLP(2, [3, 3, 1], activation="sigmoid", output_activation="sigmoid", seed=5)
    x, y, eta = [1.5, -0.5], [1.0], 0.8
    Ws = matrices(model)
    _, _, grads = delta_recursion(Ws, x, y)
    nn.losses.half_squared_error(model(x), y).backward()
    nn.optim.SGD(model, lr=eta).step()
    for W, grad, W_after in zip(Ws, [grads[i] for i in range(3)], matrices(model)):
        np.testing.assert_allclose(W_after, W - eta * grad, rtol=1e-12)
