"""Haghtalab & Joachims, "Backpropagation in Networks": the column-matrix notation, the
forward pass, the δ recursion and ∂L/∂W_ℓ, and a round of SGD, checked on nn models
against the lecture's formulas evaluated independently in NumPy (the engine's numbers are
never the expected side).

    v_0 = x,  s_ℓ = W_{ℓ−1}ᵀ v_{ℓ−1},  v_ℓ = σ(s_ℓ),  L = ½(v_d − y)²
    δ_d = ∂L/∂v_d · σ′(s_d),   δ_ℓ = (W_ℓ δ_{ℓ+1}) ⊙ σ′(s_ℓ)
    ∂L/∂W_ℓ = v_ℓ δ_{ℓ+1}ᵀ,    W_ℓ ← W_ℓ − η v_ℓ δ_{ℓ+1}ᵀ
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
