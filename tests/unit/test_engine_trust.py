"""Trust in the engine: no silent wrong gradient, no lost gradient (issue 10, "Silent wrong
answers" and "Lost work"): stale graphs, shared constants, no_grad per thread, gradients that
overflow, derivatives defined where they are defined, precision at large |x|, messages, and
interrupts during backward. (The same issue's cases for grad, gradients and gradcheck are in
test_functional.py.)

Every expected number comes from outside the engine: a hand derivation (written next to
it) or SymPy.
"""

from __future__ import annotations

import gc
import math
import signal
import sys
import threading
import time

import pytest
import sympy

import autograd_lite as ag
from autograd_lite import Value, gradients, no_grad, trace
from autograd_lite.engine import StaleGraphError
from autograd_lite.primitives import PRIMITIVES, Primitive
from autograd_lite.symbolic import sympy_namespace

# ================================================================ a stale graph


def test_data_changed_after_a_node_was_computed_from_it_is_refused_naming_it():
    x = Value(1.0, "x")
    z = x.sigmoid() * x
    x.data = 5.0
    with pytest.raises(StaleGraphError, match=r"'x' = 5.0 had its .data set after"):
        z.backward()
    assert x.grad == 0.0
    for reader in (lambda: gradients(z, [x]), lambda: trace(z), lambda: ag.explain(z, x)):
        with pytest.raises(StaleGraphError):
            reader()


def test_the_graph_built_again_after_the_change_gives_the_gradient_at_the_new_point():
    x = Value(1.0, "x")
    z = x.sigmoid() * x
    x.data = 5.0
    z = x.sigmoid() * x
    z.backward()
    s = 1 / (1 + math.exp(-5.0))  # d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x))
    assert x.grad == pytest.approx(s + 5.0 * s * (1 - s), rel=1e-14)


def test_an_intermediate_node_whose_data_is_set_is_refused_naming_it():
    x = Value(1.0, "x")
    s = x.sigmoid()
    s.label = "s"
    out = s * 2
    s.data = 0.5
    with pytest.raises(StaleGraphError, match=r"'s' = 0.5 had its .data set after"):
        out.backward()
    out.label = "out"
    with pytest.raises(StaleGraphError, match=r"'s' = 0.5 was computed by sigmoid"):
        s.backward()  # s itself no longer is sigmoid(x)


def test_updating_leaves_between_training_steps_is_fine():
    w = Value(1.0, "w")
    for _ in range(3):
        loss = (w * 3.0 - 1.0) ** 2
        w.grad = 0.0
        loss.backward()
        with no_grad():
            w.data -= 0.01 * w.grad
    # d/dw (3w − 1)² = 6(3w − 1) at the last w before its update
    assert w.grad == pytest.approx(6 * (3 * (w.data + 0.01 * w.grad) - 1))


def test_nan_infinities_and_non_numbers_written_into_data_are_refused_where_written():
    x = Value(1.0, "x")
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"the data of 'x' = 1.0 must be finite"):
            x.data = bad
    with pytest.raises(TypeError, match=r"the data of 'x' = 1.0 must be a real number.*str"):
        x.data = "abc"
    assert x.data == 1.0


def test_a_label_must_be_a_string_when_set_after_creation():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"label must be a str, not int"):
        x.label = 3
    x.label = "x1"
    assert str(ag.to_sympy(x * 2)) == "2*x1"


# ================================================================ constants


def test_shared_constants_cannot_be_changed():
    c = (Value(1.0) * 2).parents[1]
    with pytest.raises(AttributeError, match="constant 2.0 cannot be changed"):
        c.data = 5.0
    with pytest.raises(AttributeError, match="cannot be labelled"):
        c.label = "two"
    assert (Value(1.0) * 2).data == 2.0


# ================================================================ no_grad per thread


def test_no_grad_in_one_thread_does_not_stop_another_thread_recording():
    inside, done = threading.Event(), threading.Event()
    results = {}

    def quiet() -> None:
        with no_grad():
            inside.set()
            done.wait(10)
            results["quiet"] = (Value(3.0) * Value(3.0)).op

    def busy() -> None:
        inside.wait(10)
        x = Value(3.0)
        y = x * x
        y.backward()
        results["busy"] = (y.op, x.grad, ag.is_recording())
        done.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results["busy"] == ("*", 6.0, True)  # d/dx x² = 2x
    assert results["quiet"] == ""  # no_grad made a leaf in its own thread


def test_overlapping_no_grad_blocks_in_two_threads_leave_recording_on():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first() -> None:
        with no_grad():
            first_in.set()
            second_in.wait(10)
        first_out.set()
        seen["first after"] = ag.is_recording()

    def second() -> None:
        first_in.wait(10)
        with no_grad():
            second_in.set()
            first_out.wait(10)
            seen["second inside"] = ag.is_recording()
        seen["second after"] = ag.is_recording()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"first after": True, "second inside": False, "second after": True}
    assert ag.is_recording() and (Value(1.0) * Value(2.0)).op == "*"


# ================================================================ gradient overflow


@pytest.mark.parametrize("build, point, through", [
    (lambda x: x.log(), 1e-320, "log"),  # log'(x) = 1/x = 1e320 > max float
    (lambda x: x**1023.999, 2.0, "pow"),  # 1023.999 · 2^1022.999 ≈ 1.8e308 · 1.0 > max
    (lambda x: (x * 1e300) * 1e300, 1e-300, "mul"),  # 1e300 · 1e300
])
def test_a_gradient_that_overflows_raises_naming_the_node(build, point, through):
    x = Value(point, "x")
    x.grad = 0.5
    out = build(x)
    with pytest.raises(OverflowError, match=rf"overflow: .*'x' = {point!r} is inf.*{through}\("):
        out.backward()
    assert x.grad == 0.5  # left as it was
    with pytest.raises(OverflowError, match="'x'"):
        gradients(out, [x])
    with pytest.raises(OverflowError, match="'x'"):
        gradients(out, [x], create_graph=True)


# ================================================================ defined where it is defined


def test_zero_to_a_value_power_has_both_derivatives_zero():
    # d/da a² = 2a = 0 at a = 0; d/db 0^b = 0 for b > 0 (the function is 0 for every b > 0)
    a, b = Value(0.0, "a"), Value(2.0, "b")
    (a**b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    (fb,) = gradients(Value(0.0) ** b, [b], create_graph=True)
    assert fb.data == 0.0


def test_negative_base_to_a_value_power_gives_the_base_derivative_and_names_the_exponent():
    # (−2)^y at y = 2: d/dx x^y = y·x^(y−1) = 2·(−2) = −4; d/dy needs ln(−2): undefined.
    x, y = Value(-2.0, "x"), Value(2.0, "y")
    out = x**y
    assert gradients(out, [x]) == [-4.0]
    with pytest.raises(ValueError, match=r"undefined .*with respect to its input 2 \('y' = 2.0\)"):
        out.backward()
    assert (x.grad, y.grad) == (0.0, 0.0)


# ================================================================ precision at large |x|


def _sympy_derivative(prim: Primitive, point: float) -> float:
    x = sympy.Symbol("x")
    expression = prim.forward(x, sympy_namespace())
    # evalf with subs tracks precision: 1 − tanh²(40) cancels 35 digits
    return float(sympy.diff(expression, x).evalf(30, subs={x: sympy.Float(point, 60)}))


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("point", [-40.0, -19.5, -5.0, -0.5, 0.0, 0.3, 2.0, 19.5, 37.0, 40.0])
def test_sigmoid_and_tanh_slopes_keep_their_digits_at_large_inputs(name, point):
    x = Value(point)
    getattr(x, name)().backward()
    expected = _sympy_derivative(PRIMITIVES[name], point)
    assert x.grad == pytest.approx(expected, rel=1e-13, abs=0.0)


def test_sigmoid_slope_at_37_and_tanh_slope_at_19_5_keep_their_digits():
    x = Value(37.0)
    x.sigmoid().backward()
    assert x.grad == pytest.approx(8.533e-17, rel=1e-3)  # e^-37 / (1 + e^-37)²
    t = Value(19.5)
    t.tanh().backward()
    assert t.grad == pytest.approx(4 * math.exp(-39), rel=1e-3)  # sech² 19.5 ≈ 4e^-39


# ================================================================ messages


def test_leaky_relu_with_a_string_slope_names_the_string_not_an_internal():
    with pytest.raises(TypeError, match=r"alpha must be a real number or a Value, not str"):
        Value(1.0).leaky_relu("a")
    with pytest.raises(TypeError, match=r"not str"):
        ag.leaky_relu("a")


# ================================================================ lost work


def _graph_with_grads(width: int = 6, depth: int = 8):
    """A small graph with fan-in and fan-out, and a .grad already on every node."""
    leaves = [Value(0.1 * (i + 1), f"x{i}") for i in range(width)]
    layer = leaves
    nodes = list(leaves)
    for _ in range(depth):
        layer = [(a * b + a).tanh() for a, b in zip(layer, layer[1:] + layer[:1])]
        nodes += layer
    out = sum(layer[1:], layer[0])
    out.backward()  # every node now holds a gradient, which must survive what follows
    return out, [*nodes, out]


def test_an_interrupt_at_any_line_of_backward_leaves_every_grad_exactly_as_it_was():
    import autograd_lite.engine as engine_module

    out, nodes = _graph_with_grads(width=3, depth=3)
    before = [n.grad for n in nodes]
    engine_file = engine_module.__file__

    def run_with_interrupt_at(k: int) -> bool:
        count = 0

        def local(frame, event, arg):
            nonlocal count
            if event == "line":
                count += 1
                if count == k:
                    raise KeyboardInterrupt
            return local

        def tracer(frame, event, arg):
            return local if frame.f_code.co_filename == engine_file else None

        sys.settrace(tracer)
        try:
            out.backward()
        except KeyboardInterrupt:
            return True
        finally:
            sys.settrace(None)
        return False

    interrupted = 0
    k = 1
    while run_with_interrupt_at(k):
        assert [n.grad for n in nodes] == before, f"interrupt at line event {k}"
        interrupted += 1
        k += 1
    # the first k that did not interrupt ran to the end: every gradient added once more
    assert [n.grad for n in nodes] == [2 * g for g in before]
    assert interrupted > 100  # the search, the propagation and the final sums were all hit


class _AlarmError(Exception):
    pass


@pytest.mark.slow  # ~7 s
def test_a_real_signal_during_backward_of_a_big_graph_loses_no_gradient():
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signals need the main thread")
    x = Value(0.5, "x")
    nodes = [x]
    y = x
    for i in range(300_000):
        y = y * 0.999999 + x * 1e-6 if i % 2 else (y * 1.0000001).tanh()
        nodes.append(y)
    y.backward()
    before = [n.grad for n in nodes]
    # With the cycle collector off the alarm lands in backward itself, not in a gc callback
    # (Hypothesis installs one) where Python would swallow it; the pass is timed so too.
    gc.disable()
    try:
        hits = _alarms_during_backward(y, nodes, before)
    finally:
        gc.enable()
    assert hits >= 3


def _alarms_during_backward(y: Value, nodes: list[Value], before: list[float]) -> int:
    """Time one pass, then ring SIGALRM at fractions of that time into further passes."""
    import autograd_lite.engine as engine_module

    start = time.perf_counter()
    y.backward()  # a full pass, to time it
    full = time.perf_counter() - start
    assert [n.grad for n in nodes] == [2 * g for g in before]
    for n, g in zip(nodes, before):
        n.grad = g

    def ring(signum, frame):
        # Only interrupt the engine: an alarm that comes after backward() has returned must
        # not be mistaken for one inside it.
        while frame is not None:
            if frame.f_code.co_filename == engine_module.__file__:
                raise _AlarmError
            frame = frame.f_back

    old = signal.signal(signal.SIGALRM, ring)
    hits = 0
    try:
        for fraction in (0.02, 0.1, 0.25, 0.4, 0.6, 0.8):
            signal.setitimer(signal.ITIMER_REAL, full * fraction)
            try:
                y.backward()
            except _AlarmError:
                hits += 1
                assert [n.grad for n in nodes] == before, f"alarm at {fraction:.0%}"
            else:
                assert [n.grad for n in nodes] == [2 * g for g in before]
                for n, g in zip(nodes, before):
                    n.grad = g
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return hits
