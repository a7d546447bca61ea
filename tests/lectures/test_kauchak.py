"""Kauchak, CS159 "Backpropagation": one hidden layer (m inputs, d hidden nodes, weights w_kj
and v_k, sigmoid f), squared error ½(y − ŷ)², and the output- and hidden-layer update rules,
checked on nn models against the slides' closed forms evaluated in NumPy.

    dloss/dv_k  = −(y − f(v·h)) f′(v·h) h_k
    dloss/dw_kj = −(y − f(v·h)) f′(v·h) v_k f′(w_k·x) x_j
    v_k  ← v_k  + η h_k (y − f(v·h)) f′(v·h)
    w_kj ← w_kj + η x_j f′(w_k·x) v_k f′(v·h) (y − f(v·h))
"""

import numpy as np
import pytest

import nn


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


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
