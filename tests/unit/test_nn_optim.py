"""nn.optim: SGD (the lectures' w ← w − α dC/dw, with Kauchak's momentum), Adam, and
learning-rate schedules, each against an independent NumPy / hand computation."""

import itertools
import math

import numpy as np
import pytest

import nn
from autograd_lite import Value
from nn import optim


def params_with_grads(data, grads):
    params = [Value(d, f"p{i}") for i, d in enumerate(data)]
    for p, g in zip(params, grads):
        p.grad = g
    return params


# ---------------------------------------------------------------- SGD


def test_sgd_is_w_minus_learning_rate_times_gradient():
    # Kramer: w ← w − α dC/dw
    params = params_with_grads([2.0, 1.0, 0.5], [0.1, -0.3, 0.25])
    optim.SGD(params, lr=0.5).step()
    assert [p.data for p in params] == pytest.approx([2.0 - 0.05, 1.0 + 0.15, 0.5 - 0.125])


def test_sgd_momentum_keeps_moving_in_the_previous_direction():
    # Δw_t = μ Δw_{t−1} − η g_t, w_t = w_{t−1} + Δw_t, written out in NumPy.
    grads = np.array([[0.5, -1.0], [0.2, -0.4], [-0.1, 0.3], [0.0, 0.0]])
    lr, mu = 0.1, 0.9
    w, delta = np.array([1.0, -2.0]), np.zeros(2)
    expected = []
    for g in grads:
        delta = mu * delta - lr * g
        w = w + delta
        expected.append(w.copy())

    params = [Value(1.0), Value(-2.0)]
    sgd = optim.SGD(params, lr=lr, momentum=mu)
    for g, w_expected in zip(grads, expected):
        for p, gi in zip(params, g):
            p.grad = float(gi)
        sgd.step()
        assert [p.data for p in params] == pytest.approx(w_expected.tolist(), rel=1e-14)
    # with zero gradient in the last step it still moves: 0.9 × the previous step
    assert sgd.steps == 4


def test_weight_decay_adds_lambda_times_w_to_the_gradient():
    params = params_with_grads([2.0, -1.0], [0.5, 0.5])
    optim.SGD(params, lr=0.1, weight_decay=0.01).step()
    assert [p.data for p in params] == pytest.approx([2.0 - 0.1 * (0.5 + 0.02),
                                                      -1.0 - 0.1 * (0.5 - 0.01)])


def test_sgd_descends_a_quadratic_to_its_minimum():
    # f(w) = (w − 3)², gradient by the engine; the fixed point of gradient descent is w = 3.
    w = Value(0.0, "w")
    sgd = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(200):
        sgd.zero_grad()
        ((w - 3) ** 2).backward()
        sgd.step()
    assert w.data == pytest.approx(3.0, abs=1e-9)


# ---------------------------------------------------------------- Adam


def numpy_adam(w, grad_fn, steps, lr, beta1, beta2, eps):
    """Kingma & Ba (2015), Algorithm 1, as written in the paper."""
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    trajectory = []
    for t in range(1, steps + 1):
        g = grad_fn(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(w.copy())
    return trajectory


def test_adam_matches_the_papers_algorithm():
    # f(w) = Σ c_i (w_i − t_i)⁴ + w_0·w_1: gradients that change from step to step.
    c, t = np.array([1.0, 0.5, 2.0]), np.array([1.0, -2.0, 0.5])

    def grad_fn(w):
        g = 4 * c * (w - t) ** 3
        g[0] += w[1]
        g[1] += w[0]
        return g

    w0 = np.array([0.3, 0.8, -1.0])
    expected = numpy_adam(w0, grad_fn, steps=6, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    params = [Value(float(x), f"w{i}") for i, x in enumerate(w0)]
    adam = optim.Adam(params, lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    for w_expected in expected:
        adam.zero_grad()
        total = params[0] * params[1]
        for p, ci, ti in zip(params, c, t):
            total = total + float(ci) * (p - float(ti)) ** 4
        total.backward()
        adam.step()
        assert [p.data for p in params] == pytest.approx(w_expected.tolist(), rel=1e-12)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    # m̂_1 = g, v̂_1 = g², so the first step is lr · g/(|g| + ε) ≈ lr · sign(g).
    params = params_with_grads([0.0, 0.0, 0.0], [1e-3, -250.0, 4.0])
    optim.Adam(params, lr=0.1).step()
    assert [p.data for p in params] == pytest.approx([-0.1, 0.1, -0.1], rel=1e-4)


# ---------------------------------------------------------------- common behaviour


def test_updates_record_no_graph():
    model = nn.MLP(2, [2, 1], seed=0)
    before = model.parameters()
    model([1.0, 2.0]).backward()
    optim.Adam(model, lr=0.1).step()
    after = model.parameters()
    assert all(a is b for a, b in zip(after, before))  # the same leaves, updated in place
    assert all(p.parents == () and p.op == "" for p in after)
    assert all(type(p.data) is float for p in after)


def test_optimizers_take_a_module_and_update_each_parameter_once():
    w = Value(1.0)
    w.grad = 1.0
    optim.SGD([w, w], lr=0.5).step()  # listed twice, updated once
    assert w.data == 0.5
    model = nn.MLP(2, [3, 1], seed=0)
    assert optim.SGD(model).params == model.parameters()


def test_zero_grad_resets_the_parameters():
    params = params_with_grads([1.0, 2.0], [3.0, 4.0])
    optim.Adam(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda: optim.SGD([], lr=0.1), ValueError, "no parameters to optimize"),
    (lambda: optim.SGD(Value(1.0)), TypeError, "not a single Value"),
    (lambda: optim.SGD([1.0]), TypeError, r"params\[0\] must be a Value leaf, not float"),
    (lambda: optim.SGD([Value(1.0) * 2]), ValueError, r"params\[0\].*result of an operation"),
    (lambda: optim.SGD([Value(1.0)], lr=0), ValueError, "SGD lr must be > 0, got 0"),
    (lambda: optim.SGD([Value(1.0)], lr=float("inf")), ValueError, "lr must be a finite"),
    (lambda: optim.SGD([Value(1.0)], momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: optim.Adam([Value(1.0)], betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: optim.Adam([Value(1.0)], betas=(0.9, 1.5)), ValueError, "beta2 must be in"),
    (lambda: optim.Adam([Value(1.0)], eps=0), ValueError, "eps must be > 0"),
    (lambda: optim.Adam([Value(1.0)], weight_decay=-1), ValueError, "weight_decay must be >= 0"),
])
def test_bad_optimizer_settings_say_what(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_a_non_finite_gradient_is_reported_not_applied():
    (w,) = params_with_grads([1.0], [math.inf])
    w.label = "L1.N0.w0"
    with pytest.raises(ValueError, match="the gradient of L1.N0.w0 is inf"):
        optim.SGD([w], lr=0.1).step()
    assert w.data == 1.0


# ---------------------------------------------------------------- schedules


@pytest.mark.parametrize(("schedule", "formula"), [
    (optim.ConstantLR(0.3), lambda e: 0.3),
    (optim.StepDecay(0.8, every=3, factor=0.5), lambda e: 0.8 * 0.5 ** (e // 3)),
    (optim.ExponentialDecay(0.5, 0.9), lambda e: 0.5 * 0.9**e),
    (optim.InverseTimeDecay(1.0, 0.1), lambda e: 1.0 / (1 + 0.1 * e)),
    # micrograd's moons demo: learning_rate = 1.0 − 0.9·k/100
    (optim.LinearDecay(1.0, 0.1, 100), lambda e: 1.0 - 0.9 * min(e, 100) / 100),
    (optim.CosineDecay(0.2, 0.0, 10),
     lambda e: 0.1 * (1 + math.cos(math.pi * min(e, 10) / 10))),
])
def test_schedules_start_larger_and_then_get_smaller(schedule, formula):
    # Kauchak: the learning rate "often will start larger and then get smaller".
    rates = [schedule(e) for e in range(120)]
    assert rates == pytest.approx([formula(e) for e in range(120)], rel=1e-12, abs=1e-15)
    assert all(a >= b for a, b in itertools.pairwise(rates))


def test_schedule_errors():
    with pytest.raises(ValueError, match="epoch must be an int >= 0, got -1"):
        optim.ExponentialDecay(0.1, 0.9)(-1)
    with pytest.raises(ValueError, match="StepDecay every must be a positive int"):
        optim.StepDecay(0.1, every=0)
    with pytest.raises(ValueError, match="LinearDecay epochs must be a positive int"):
        optim.LinearDecay(0.1, 0.01, 0)
    with pytest.raises(ValueError, match="ConstantLR lr must be > 0"):
        optim.ConstantLR(-0.1)
