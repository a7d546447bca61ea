"""nn.losses: values by hand/NumPy, gradients against the lectures' closed forms.

Lecture 5 ("Backpropagation"): the logistic unit's cross-entropy
E = −t ln y − (1 − t) ln(1 − y) has dE/dy = −t/y + (1 − t)/(1 − y), and with dy/dz = y(1 − y)
dE/dz = y − t; softmax with cross-entropy has dE/dz_i = y_i − t_i. Kramer: C = ½(target −
out)², dC/dout = out − target.
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


# ---------------------------------------------------------------- squared errors


def test_half_squared_error_is_kramers_cost_and_its_derivative():
    # Kramer: C = ½(target − out)², dC/dout = out − target (slide "Chain rule ...").
    out = Value(0.3638, "out")
    cost = losses.half_squared_error(out, 0.7)
    assert cost.data == pytest.approx(0.5 * (0.7 - 0.3638) ** 2, rel=1e-15)
    cost.backward()
    assert out.grad == pytest.approx(0.3638 - 0.7, rel=1e-15)


def test_half_squared_error_sums_over_outputs():
    # Haghtalab & Joachims: L = ½‖v_d − y‖², ∂L/∂v_d = v_d − y.
    v = [Value(0.2), Value(0.9), Value(-0.4)]
    y = [0.0, 1.0, 0.5]
    loss = losses.half_squared_error(v, y)
    assert loss.data == pytest.approx(0.5 * ((0.2) ** 2 + 0.1**2 + 0.9**2), rel=1e-14)
    loss.backward()
    assert [p.grad for p in v] == pytest.approx([0.2, -0.1, -0.9], rel=1e-14)


def test_mse_is_the_mean_of_squares():
    pred = [Value(1.0), Value(2.0), Value(-3.0), Value(0.5)]
    target = [0.5, 2.5, -1.0, 0.5]
    p, t = np.array([1.0, 2.0, -3.0, 0.5]), np.array(target)
    loss = losses.mse(pred, target)
    assert loss.data == pytest.approx(np.mean((p - t) ** 2), rel=1e-15)
    loss.backward()
    assert [v.grad for v in pred] == pytest.approx((2 * (p - t) / 4).tolist(), rel=1e-15)


def test_squared_errors_accept_plain_numbers_and_return_values():
    assert isinstance(losses.mse(1.0, 3.0), Value)
    assert losses.mse(1.0, 3.0).data == 4.0
    assert losses.half_squared_error([1, 2], [0, 0]).data == 2.5


# ---------------------------------------------------------------- logistic unit


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


def test_cross_entropy_with_logits_never_overflows():
    # ln(1 + e^z) − t·z for |z| = 800: e^800 overflows a float, the loss must not.
    z = Value(800.0)
    E = losses.binary_cross_entropy_with_logits(z, 0.0)
    assert E.data == pytest.approx(800.0)
    E.backward()
    assert z.grad == pytest.approx(1.0)
    assert losses.binary_cross_entropy_with_logits(Value(-800.0), 0.0).data == 0.0
    assert losses.binary_cross_entropy_with_logits(Value(-800.0), 1.0).data == pytest.approx(800)


def test_cross_entropy_certain_and_right_is_zero_not_log_zero():
    # t = 1, y = 1: the (1 − t) ln(1 − y) term has weight 0 and is left out.
    y = Value(1.0)
    E = losses.binary_cross_entropy(y, 1.0)
    assert E.data == 0.0
    E.backward()
    assert y.grad == -1.0  # −t/y


@pytest.mark.parametrize(("y", "t", "message"), [
    (1.0, 0.0, "prediction is 1 but the target is 0.0"),
    (0.0, 1.0, "prediction is 0 but the target is 1.0"),
    (1.5, 1.0, r"probability in \[0, 1\].*got 1.5"),
    (0.5, 2.0, r"target must be a probability.*got 2.0"),
])
def test_cross_entropy_bad_inputs_say_what(y, t, message):
    with pytest.raises(ValueError, match=message):
        losses.binary_cross_entropy(Value(y), t)


# ---------------------------------------------------------------- softmax


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


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    # e^1000 overflows; shifting by the largest logit keeps every exponent <= 0.
    z = [Value(1000.0), Value(0.0), Value(-1000.0)]
    assert losses.softmax_cross_entropy(z, 0).data == pytest.approx(0.0, abs=1e-300)
    E = losses.softmax_cross_entropy(z, 1)
    assert E.data == pytest.approx(1000.0)
    E.backward()
    assert [v.grad for v in z] == pytest.approx([1.0, -1.0, 0.0])
    assert [v.data for v in losses.log_softmax([1000.0, 0.0])] == pytest.approx([0.0, -1000.0])


def test_softmax_cross_entropy_bad_targets_say_what():
    z = [Value(0.1), Value(0.2), Value(0.3)]
    with pytest.raises(IndexError, match="target class 3 is out of range for 3 logits"):
        losses.softmax_cross_entropy(z, 3)
    with pytest.raises(IndexError, match="target class -1 is out of range"):
        losses.softmax_cross_entropy(z, -1)
    with pytest.raises(ValueError, match="sum to 1"):
        losses.softmax_cross_entropy(z, [0.5, 0.2, 0.1])
    with pytest.raises(ValueError, match="3 logits but 2 target"):
        losses.softmax_cross_entropy(z, [0.5, 0.5])
    with pytest.raises(TypeError, match="class index"):
        losses.softmax_cross_entropy(z, 1.0)
    with pytest.raises(TypeError, match="logits must be a list"):
        losses.softmax_cross_entropy(Value(1.0), 0)


# ---------------------------------------------------------------- hinge


@pytest.mark.parametrize(("score", "label", "loss", "grad"), [
    (0.3, 1.0, 0.7, -1.0),    # inside the margin: pushed up
    (-0.5, -1.0, 0.5, 1.0),   # inside the margin: pushed down
    (2.0, 1.0, 0.0, 0.0),     # beyond the margin: no loss, no gradient
    (0.5, -1.0, 1.5, 1.0),    # wrong side
])
def test_hinge_is_max_zero_one_minus_margin(score, label, loss, grad):
    s = Value(score)
    E = losses.hinge(s, label)
    assert E.data == pytest.approx(max(0.0, 1 - label * score))
    assert E.data == pytest.approx(loss)
    E.backward()
    assert s.grad == grad


def test_hinge_rejects_zero_one_labels():
    with pytest.raises(ValueError, match="label must be -1 or \\+1, got 0.0"):
        losses.hinge(Value(0.2), 0)


# ---------------------------------------------------------------- errors and lookup


def test_losses_check_shapes_and_types():
    with pytest.raises(ValueError, match="prediction has 2 value\\(s\\) but target has 3"):
        losses.mse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="prediction must be a number, a Value or a list"):
        losses.half_squared_error("0.5", 1.0)
    with pytest.raises(TypeError, match=r"target\[1\] must be a Value or a real number"):
        losses.mse([Value(1.0), Value(2.0)], [1.0, None])
    with pytest.raises(ValueError, match="prediction is empty"):
        losses.mse([], [])
    with pytest.raises(ValueError, match="must be finite"):
        losses.mse(Value(1.0), float("nan"))


def test_losses_by_name():
    assert losses.get("hinge") is losses.hinge
    assert losses.get(losses.mse) is losses.mse
    with pytest.raises(ValueError, match="unknown loss 'l2'.*half_squared_error"):
        losses.get("l2")
