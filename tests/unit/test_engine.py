"""engine.py: Value's construction, operators, domain errors and backward.

The SPEC's own sentences about Value (accepted and refused data, settable attributes, every
operator and method, sigmoid's stability, backward twice) are checked once, in
tests/contract/test_spec_contract.py; this file checks what the engine does beyond them.
grad, gradients and gradcheck are in test_functional.py; deep graphs, memory and linear in
test_engine_scale.py; issue 10's cases in test_engine_trust.py.
"""

import math

import pytest

import autograd_lite as ag
from autograd_lite import Value, gradients

# ---------------------------------------------------------------- construction


@pytest.mark.parametrize("data", [math.nan, math.inf, -math.inf])
def test_value_rejects_non_finite_numbers(data):
    with pytest.raises(ValueError, match="finite"):
        Value(data)


def test_parents_are_the_inputs_in_order():
    a, b = Value(1.0), Value(2.0)
    c = b - a
    assert c.parents == (b, a) and c.op == "-"
    d = 3 * a
    assert d.parents[1] is a and d.parents[0].data == 3.0


# ---------------------------------------------------------------- forward values (by hand)


def test_operators_with_numbers_on_either_side():
    x = Value(3.0)
    cases = [
        (x + 2, 5.0), (2 + x, 5.0), (x - 2, 1.0), (2 - x, -1.0), (x * 2, 6.0), (2 * x, 6.0),
        (x / 2, 1.5), (6 / x, 2.0), (x**2, 9.0), (2**x, 8.0), (x**x, 27.0), (-x, -3.0),
        (abs(-x), 3.0),
    ]
    for node, expected in cases:
        assert node.data == expected


def test_unsupported_operand_types_raise_pythons_type_error():
    x = Value(1.0)
    for bad in ("a", None, [1], 1j):
        with pytest.raises(TypeError):
            x + bad
        with pytest.raises(TypeError):
            bad * x


# ---------------------------------------------------------------- domain errors


@pytest.mark.parametrize("make, error, words", [
    (lambda x: x.log(), ValueError, ["log", "non-positive", "-1.0", "'x'"]),
    (lambda x: ag.log(x * 0), ValueError, ["log", "0.0"]),
    (lambda x: x.sqrt(), ValueError, ["sqrt", "negative", "-1.0", "'x'"]),
    (lambda x: 1 / (x + 1), ZeroDivisionError, ["division by zero", "div", "0.0"]),
    (lambda x: Value(2.0, "y") / (x + 1), ZeroDivisionError, ["'y' = 2.0", "0.0"]),
    (lambda x: x**0.5, ValueError, ["fractional power", "pow", "'x' = -1.0", "0.5"]),
    (lambda x: (x + 1) ** -1, ZeroDivisionError, ["zero to a negative power", "pow"]),
    (lambda x: (x * -1000).exp(), OverflowError, ["overflow", "exp"]),
    (lambda x: (x * -1e308) * 1e10, OverflowError, ["overflow", "mul"]),
])
def test_domain_errors_name_the_operation_the_operand_and_the_label(make, error, words):
    x = Value(-1.0, label="x")
    with pytest.raises(error) as info:
        make(x)
    for word in words:
        assert word in str(info.value)


def test_unlabelled_operand_is_called_unlabelled_in_the_message():
    with pytest.raises(ValueError, match="unlabelled node = -2.0"):
        Value(-2.0).log()


def test_derivative_undefined_at_a_point_raises_in_backward_naming_the_node():
    # sqrt(0) is fine; its slope 1/(2·sqrt(0)) is not: backward raises, naming the node, and
    # a failed pass leaves every .grad as it was (here not 0, so a reset would be seen).
    x, y = Value(0.0, "x"), Value(2.0, "y")
    x.grad, y.grad = 0.25, -1.0
    out = x.sqrt() * y + y
    with pytest.raises(ZeroDivisionError, match=r"backward.*sqrt\('x' = 0.0\)"):
        out.backward()
    assert (x.grad, y.grad, out.grad) == (0.25, -1.0, 0.0)


def test_value_exponent_with_a_negative_base_has_no_real_slope():
    a, b = Value(-2.0, "a"), Value(2.0, "b")
    y = a**b
    assert y.data == 4.0
    with pytest.raises(ValueError, match="backward.*pow"):
        y.backward()


# ---------------------------------------------------------------- backward


def test_reused_node_accumulates_both_paths():
    # f = x·x + x  ->  df/dx = 2x + 1
    x = Value(3.0)
    (x * x + x).backward()
    assert x.grad == 7.0


def test_diamond_adds_both_paths_by_hand():
    # h = x + 0.5 feeds out directly and through g = h + 0.5: out = 2x + 1.5, dout/dx = 2.
    x = Value(-2.0, label="x")
    h = 0.5 + x
    g = 0.5 + h
    out = h + g
    assert gradients(out, [x]) == [2.0]
    out.backward()
    assert (x.grad, h.grad, g.grad) == (2.0, 2.0, 1.0)


def test_reused_product_by_hand():
    # a = x·y used twice: out = a + e^a, dout/dx = y(1 + e^(xy)) = 3(1 + e^1.5) at (0.5, 3).
    x, y = Value(0.5, label="x"), Value(3.0, label="y")
    a = x * y
    out = a + a.exp()
    (dx,) = gradients(out, [x])
    assert dx == pytest.approx(3 * (1 + 4.4816890703380645), rel=1e-15)


def test_node_used_at_two_depths_waits_for_both_consumers():
    # s feeds the output directly and through log(exp(s) + 1): backward may only process s
    # once both contributions arrived. d/ds [-(s - log(e^s + 1))] = -1 + σ(s), by hand.
    s = Value(1.5, "s")
    loss = -(s - ((s.exp() + 1).log()))
    loss.backward()
    assert s.grad == pytest.approx(-1 + 1 / (1 + math.exp(-1.5)), rel=1e-12)
    a = Value(0.3)
    deep = a
    for _ in range(5):
        deep = deep.tanh()
    y = a * deep  # a is a direct parent of y and the start of a five-step chain
    (dy,) = gradients(y, [a])
    chain = 1.0
    t = 0.3
    for _ in range(5):
        t = math.tanh(t)
        chain *= 1 - t * t
    assert dy == pytest.approx(t + 0.3 * chain, rel=1e-12)


def test_an_int_too_large_for_a_float_says_so():
    # 10**400 has no float (the largest is about 1.8e308): a clear ValueError, not
    # Python's bare "int too large to convert to float".
    with pytest.raises(ValueError, match="Value data is too large for a float.*401 digits"):
        Value(10**400)
    with pytest.raises(ValueError, match="operand is too large for a float"):
        Value(1.0) * 10**400


def test_overflow_in_a_forward_rule_reads_as_overflow_not_an_errno():
    # math.exp(800) raises OverflowError('math range error'); 9.0 ** 387420489.0 raises
    # (34, 'Numerical result out of range'). Both should read the same, in the graph's terms.
    for make in (lambda: Value(800.0, "x").exp(), lambda: Value(9.0, "b") ** 387420489.0):
        with pytest.raises(OverflowError) as info:
            make()
        message = str(info.value)
        assert message.startswith("overflow: the result is too large for a float in ")
        assert "34" not in message and "range" not in message


def test_backward_takes_a_seed_like_pytorchs_gradient_argument():
    # y = x² at 3 with the seed dL/dy = 2: dL/dx = 2 · 2x = 12 (by hand; torch gives the same
    # for y.backward(gradient=torch.tensor(2.0)))
    x = Value(3.0, label="x")
    y = x * x
    y.backward(gradient=2.0)
    assert x.grad == 12.0 and y.grad == 2.0
    x2 = Value(3.0, label="x")
    (x2 * x2).backward(gradient=-0.5)
    assert x2.grad == -3.0
    with pytest.raises(TypeError, match="seed must be a real number"):
        y.backward(gradient="2")
    with pytest.raises(ValueError, match="finite"):
        y.backward(gradient=float("inf"))
