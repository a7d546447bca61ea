"""MLP(..., notation=...): nodes named as a lecture names them, so every reader prints the
slide's symbols (issue 15). Expected formulas are the lectures' (../shared/lectures/README.md)."""

from __future__ import annotations

import math

import pytest

import nn
from autograd_lite import explain, trace


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def kauchak_network():
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid",
                   notation="kauchak", seed=0)
    x = [1.0, 0.5]
    y = 1.0
    loss = nn.losses.half_squared_error(model(x), y)
    return model, x, y, loss


def test_kauchak_names_are_the_slides_x_j_w_kj_h_k_v_k():
    model, _, _, loss = kauchak_network()
    assert [name for name, _ in model.named_parameters()] == [
        "w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "b"]
    names = set(trace(loss).names.values())
    assert {"x1", "x2", "z1", "h1", "h2", "z", "yhat"} <= names


def test_kauchak_dloss_dw_kj_reads_and_computes_as_the_slide():
    # dloss/dw_kj = −(y − f(v·h)) f′(v·h) v_k f′(w_k·x) x_j, here k = 1, j = 2
    model, x, y, loss = kauchak_network()
    w12 = model.layers[0].neurons[0].w[1]
    e = explain(loss, w12)
    assert "v1 · h1·(1 − h1) · x2" in e.symbols_text()
    (w11, w12_, b1), (w21, w22, b2) = ([p.data for p in n.parameters()]
                                       for n in model.layers[0].neurons)
    h = [sigmoid(w11 * x[0] + w12_ * x[1] + b1), sigmoid(w21 * x[0] + w22 * x[1] + b2)]
    v = [p.data for p in model.layers[1].neurons[0].w]
    b = model.layers[1].neurons[0].b.data
    yhat = sigmoid(v[0] * h[0] + v[1] * h[1] + b)
    slide = -(y - yhat) * yhat * (1 - yhat) * v[0] * h[0] * (1 - h[0]) * x[1]
    assert math.isclose(e.value, slide, rel_tol=1e-12)


def test_haghtalab_joachims_names_w_l_s_l_v_l():
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid",
                   notation="hj", seed=1)
    loss = nn.losses.half_squared_error(model([0.3, -0.7]), 0.0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["W0[0,0]", "W0[1,0]", "b0[0]"] and "W1[1,0]" in names
    assert {"v0[0]", "v0[1]", "s1[0]", "v1[1]", "s2[0]", "v2[0]"} <= set(
        trace(loss).names.values())
    # δ's recursion through W1: dL/dW0[0,1] passes W1[1,0] and σ'(s1[1]) = v1[1](1 − v1[1])
    text = explain(loss, model.layers[0].neurons[1].w[0]).symbols_text()
    assert "W1[1,0] · v1[1]·(1 − v1[1]) · v0[0]" in text


def test_the_notation_changes_names_not_numbers_and_layers_stay_layers():
    plain = nn.MLP(3, [4, 2, 1], activation="tanh", seed=3)
    lecture = nn.MLP(3, [4, 2, 1], activation="tanh", seed=3, notation="hj")
    for model in (plain, lecture):
        nn.losses.half_squared_error(model([0.1, 0.2, 0.3]), 1.0).backward()
    assert [p.grad for p in plain.parameters()] == [p.grad for p in lecture.parameters()]
    assert nn.gradient_sizes(plain) == nn.gradient_sizes(lecture)  # L1, L2, L3 either way


def test_a_notation_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match="one hidden layer and one output"):
        nn.MLP(2, [3, 3, 1], notation="kauchak")
    with pytest.raises(ValueError, match="notation must be one of"):
        nn.MLP(2, [3, 1], notation="bishop")
