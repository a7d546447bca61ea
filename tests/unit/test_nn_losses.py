"""nn.losses: values by hand/NumPy, numerical stability, shapes and bad input, lookup by name.

The lectures' own formulas for these losses are checked in tests/lectures/: Lecture 5's
cross-entropy and softmax (test_lecture5.py) and Kramer's cost C = ½(target − out)²
(test_kramer.py).
"""

import pytest

from autograd_lite import Value
from nn import losses

# ---------------------------------------------------------------- squared errors


def test_half_squared_error_sums_over_outputs():
    # Haghtalab & Joachims: L = ½‖v_d − y‖², ∂L/∂v_d = v_d − y.
    v = [Value(0.2), Value(0.9), Value(-0.4)]
    y = [0.0, 1.0, 0.5]
    loss = losses.half_squared_error(v, y)
    assert loss.data == pytest.approx(0.5 * ((0.2) ** 2 + 0.1**2 + 0.9**2), rel=1e-14)
    loss.backward()
    assert [p.grad for p in v] == pytest.approx([0.2, -0.1, -0.9], rel=1e-14)


def test_squared_errors_accept_plain_numbers_and_return_values():
    assert isinstance(losses.mse(1.0, 3.0), Value)
    assert losses.mse(1.0, 3.0).data == 4.0
    assert losses.half_squared_error([1, 2], [0, 0]).data == 2.5


# ---------------------------------------------------------------- binary cross-entropy


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
