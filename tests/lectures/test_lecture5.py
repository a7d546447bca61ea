"""Lecture 5, "Backpropagation": the logistic unit with the cross-entropy error, and softmax
with cross-entropy, on nn.losses; expected values by hand (math) and in NumPy.

    E = −t ln y − (1 − t) ln(1 − y),   dE/dy = −t/y + (1 − t)/(1 − y),   dy/dz = y(1 − y)
    so dE/dz = y − t;
    softmax y_i = e^{z_i} / Σ_j e^{z_j},  E = −Σ_j t_j ln y_j,  dE/dz_i = y_i − t_i
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Value
from nn import losses


def np_softmax(z):
    e = np.exp(np.array(z, dtype=float) - max(z))
    return e / e.sum()


@pytest.mark.parametrize("t", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("y_value", [0.1, 0.5, 0.93])
def test_lecture5_cross_entropy_derivative_with_respect_to_y(t, y_value):
    # E = −t ln y − (1 − t) ln(1 − y),  dE/dy = −t/y + (1 − t)/(1 − y)
    y = Value(y_value, "y")
    E = losses.binary_cross_entropy(y, t)
    assert E.data == pytest.approx(-t * math.log(y_value) - (1 - t) * math.log(1 - y_value),
                                   rel=1e-14)
    E.backward()
    assert y.grad == pytest.approx(-t / y_value + (1 - t) / (1 - y_value), rel=1e-13)


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("z_value", [-4.0, -0.2, 0.0, 1.7, 6.0])
def test_lecture5_logistic_unit_with_cross_entropy_gives_y_minus_t(t, z_value):
    # y = σ(z), dy/dz = y(1 − y), so dE/dz = (−t/y + (1 − t)/(1 − y)) · y(1 − y) = y − t.
    y_expected = 1 / (1 + math.exp(-z_value))
    for loss in ("probability", "logits"):
        z = Value(z_value, "z")
        if loss == "probability":
            E = losses.binary_cross_entropy(z.sigmoid(), t)
        else:
            E = losses.binary_cross_entropy_with_logits(z, t)
        E.backward()
        assert E.data == pytest.approx(-t * math.log(y_expected)
                                       - (1 - t) * math.log(1 - y_expected), rel=1e-12)
        assert z.grad == pytest.approx(y_expected - t, rel=1e-12, abs=1e-15)


def test_softmax_is_lecture5s_formula():
    z = [1.0, -2.0, 0.5, 3.0]
    y = losses.softmax([Value(v) for v in z])
    assert [v.data for v in y] == pytest.approx(np_softmax(z).tolist(), rel=1e-14)
    assert sum(v.data for v in y) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("target", [0, 1, 3])
def test_lecture5_softmax_cross_entropy_gradient_is_y_minus_t(target):
    # E = −Σ_j t_j ln y_j with t one-hot at the target class; dE/dz_i = y_i − t_i.
    z_values = [0.3, -1.2, 2.0, 0.9]
    z = [Value(v, f"z{i}") for i, v in enumerate(z_values)]
    E = losses.softmax_cross_entropy(z, target)
    y = np_softmax(z_values)
    t = np.eye(4)[target]
    assert E.data == pytest.approx(-math.log(y[target]), rel=1e-14)
    E.backward()
    assert [v.grad for v in z] == pytest.approx((y - t).tolist(), rel=1e-12, abs=1e-15)


def test_softmax_cross_entropy_with_target_probabilities():
    z_values = [0.5, 1.5, -0.5]
    t = [0.2, 0.7, 0.1]
    z = [Value(v) for v in z_values]
    E = losses.softmax_cross_entropy(z, t)
    y = np_softmax(z_values)
    assert E.data == pytest.approx(-(np.array(t) * np.log(y)).sum(), rel=1e-14)
    E.backward()
    assert [v.grad for v in z] == pytest.approx((y - np.array(t)).tolist(), rel=1e-12)


@given(st.lists(st.floats(-30, 30), min_size=2, max_size=6), st.data())
def test_softmax_cross_entropy_gradient_property(z_values, data):
    target = data.draw(st.integers(0, len(z_values) - 1))
    z = [Value(v) for v in z_values]
    losses.softmax_cross_entropy(z, target).backward()
    expected = np_softmax(z_values) - np.eye(len(z_values))[target]
    np.testing.assert_allclose([v.grad for v in z], expected, rtol=1e-9, atol=1e-12)
