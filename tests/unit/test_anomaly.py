"""detect_anomaly(): an error names the line of the user's code where its node was made."""

from __future__ import annotations

import inspect

import pytest

from autograd_lite import Value, engine
from autograd_lite.anomaly import detect_anomaly, where_created


def here() -> int:
    """The line number of the caller's line."""
    return inspect.currentframe().f_back.f_lineno


def test_a_failed_backward_names_the_line_that_made_the_node():
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt(); made = here()  # noqa: E702 - the node and its line together
        z = y * 3
        with pytest.raises(ZeroDivisionError) as caught:
            z.backward()  # sqrt'(0) = 1/(2·0): undefined
    message = str(caught.value)
    assert f"{__file__}:{made}: y = x.sqrt()" in message
    assert "detect_anomaly: the node unlabelled sqrt node = 0.0 was created at" in message


def test_a_gradient_overflow_names_the_line_of_its_node():
    x = Value(1e-320, label="x")
    with detect_anomaly():
        y = x.log(); made = here()  # noqa: E702
        with pytest.raises(OverflowError) as caught:
            y.backward()  # log'(1e-320) = 1e320: too large for a float
    assert f"{__file__}:{made}" in str(caught.value)


def test_a_forward_domain_error_names_the_operation_line():
    x = Value(-1.0, label="x")
    made = here() + 2
    with detect_anomaly(), pytest.raises(ValueError) as caught:
        x.log()
    assert f"detect_anomaly: the operation is at {__file__}:{made}" in str(caught.value)


def test_a_node_made_inside_nn_is_placed_at_the_users_call():
    import nn

    model = nn.MLP(1, [1], activation="tanh", seed=0)
    with detect_anomaly():
        out = model([1.0]); made = here()  # noqa: E702
        assert where_created(out) == (__file__, made)


def test_outside_a_block_nothing_is_recorded_and_nothing_is_added():
    x = Value(0.0, label="x")
    with detect_anomaly():
        pass
    assert engine._new is object.__new__ and engine.anomaly_site is None  # no cost when off
    y = x.sqrt()
    assert where_created(y) is None
    with pytest.raises(ZeroDivisionError) as caught:
        y.backward()
    assert "detect_anomaly" not in str(caught.value)


def test_nested_blocks_keep_recording_until_the_last_one_closes():
    x = Value(2.0, label="x")
    with detect_anomaly():
        with detect_anomaly():
            pass
        y = x * 2; made = here()  # noqa: E702
        assert where_created(y) == (__file__, made)
    assert engine._new is object.__new__
