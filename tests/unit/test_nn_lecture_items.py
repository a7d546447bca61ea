"""Lecture items in nn (issue 15, "Missing lecture content" and "Coming from micrograd or
PyTorch"), each against a value found without the code under test: the slides, a hand
calculation, NumPy, or micrograd and PyTorch themselves.

- the perceptron and its learning rule (Kauchak's threshold unit, Lecture 5's convergence
  procedure): AND and OR learned, XOR never;
- ``reduction="sum" | "mean"`` in the losses and in ``fit``, so a slide's α or η is the
  learning rate as written;
- leaky ReLU's α < 1 (the slide's max(αz, z) "for α < 1");
- stacked linear layers collapse to one (Lecture 5: "more layers of linear units do not
  help"), and cannot learn XOR;
- what a micrograd or PyTorch user meets: ``nonlin=``, the default activation,
  ReLU′(0) = 1, comparisons, ``seed=``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import autograd_lite
import nn
from autograd_lite import PRIMITIVES, Value

INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
AND = (INPUTS, [0, 0, 0, 1])
OR = (INPUTS, [0, 1, 1, 1])


# ---------------------------------------------------------------- the perceptron


def _perceptron_by_hand(w, b, data, epochs, lr=1.0):
    """The rule as Lecture 5 states it, in NumPy: output step(w·x + b); if it is 0 but
    should be 1 add lr·x (and lr to the bias), if 1 but should be 0 subtract it."""
    w, b = np.array(w, dtype=float), float(b)
    xs, ys = np.array(data[0], dtype=float), data[1]
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for x, t in zip(xs, ys):
            y = 1 if b + w @ x >= 0 else 0
            if y == 0 and t == 1:
                w, b, wrong = w + lr * x, b + lr, wrong + 1
            elif y == 1 and t == 0:
                w, b, wrong = w - lr * x, b - lr, wrong + 1
        mistakes.append(wrong)
        if wrong == 0:
            break
    return mistakes, [*w.tolist(), b]


def test_the_unit_is_the_tables_step_of_the_weighted_sum():
    p = nn.Perceptron(2, seed=0)
    p.set_parameters([1.0, 1.0, -1.5])  # AND: fires only when x1 + x2 ≥ 1.5
    out = p([1.0, 1.0])
    assert out.op == "step" and out.primitive is PRIMITIVES["step"]
    assert [p.predict(x) for x in INPUTS] == [0, 0, 0, 1]
    assert nn.predict(p, INPUTS) == [0.0, 0.0, 0.0, 1.0]
    p.set_parameters([1.0, 1.0, -2.0])  # z = 0 exactly: the threshold is "≥" (Kauchak)
    assert p.predict([1.0, 1.0]) == 1
    assert [name for name, _ in p.named_parameters()] == ["w0", "w1", "b"]


def test_and_from_zero_weights_by_hand():
    # w = (0, 0), b = 0, the examples in order, η = 1. Hand trace:
    # epoch 1: (0,0) z=0 → 1, should be 0: b=−1;  (1,1) z=−1 → 0, should be 1: w=(1,1), b=0
    # epoch 2: (0,0) z=0: b=−1;  (0,1) z=0: w=(1,0), b=−2;  (1,1) z=−1: w=(2,1), b=−1
    # epoch 3: (0,1) z=0: w=(2,0), b=−2;  (1,0) z=0: w=(1,0), b=−3;  (1,1) z=−2: w=(2,1), b=−2
    # epoch 4: (1,0) z=0: w=(1,1), b=−3;  (1,1) z=−1: w=(2,2), b=−2
    # epoch 5: (0,1) z=0: w=(2,1), b=−3
    # epoch 6: z = −3, −2, −1, 0: all right.
    p = nn.Perceptron(2, seed=0)
    p.set_parameters([0.0, 0.0, 0.0])
    assert p.train(AND, epochs=50) == [2, 3, 3, 2, 1, 0]
    assert p.state_dict() == {"w0": 2.0, "w1": 1.0, "b": -3.0}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name, data", [("AND", AND), ("OR", OR)])
def test_and_and_or_are_learned_as_numpy_runs_the_rule(name, data, seed):
    p = nn.Perceptron(2, seed=seed)
    start = list(p.state_dict().values())
    mistakes = p.train(data, epochs=100)
    expected_mistakes, expected_weights = _perceptron_by_hand(start[:2], start[2], data, 100)
    assert mistakes == expected_mistakes
    assert list(p.state_dict().values()) == pytest.approx(expected_weights, rel=1e-12)
    assert mistakes[-1] == 0, f"{name} is linearly separable: the rule converges"
    assert [p.predict(x) for x in data[0]] == data[1]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_xor_is_never_learned(seed, shuffle):
    # No line separates XOR's 1s from its 0s (Kauchak: "perceptron / linear model"), so
    # every epoch has a mistake and the rule never stops changing the weights.
    xs, ys = nn.data.xor()
    p = nn.Perceptron(2, seed=seed)
    mistakes = p.train((xs, ys), epochs=200, lr=0.5, shuffle=shuffle, seed=seed)
    assert len(mistakes) == 200 and min(mistakes) >= 1
    assert sum(p.predict(x) == y for x, y in zip(xs, ys)) <= 3


def test_no_line_classifies_xor():
    # The independent side of the test above: the four XOR constraints
    # b < 0, w1 + b ≥ 0, w0 + b ≥ 0, w0 + w1 + b < 0 contradict (adding the middle two gives
    # w0 + w1 + 2b ≥ 0, i.e. w0 + w1 + b ≥ −b > 0). A grid of weights finds none either.
    xs, ys = nn.data.xor()
    grid = np.linspace(-3, 3, 25)
    for w0, w1, b in itertools.product(grid, repeat=3):
        outputs = [1 if b + w0 * x0 + w1 * x1 >= 0 else 0 for x0, x1 in xs]
        assert outputs != ys


def test_a_mistake_adds_or_subtracts_the_input_times_eta():
    # Lecture 5: output 0 but should be 1 → add the feature vector (with its extra 1 for
    # the bias); output 1 but should be 0 → subtract it. Here with η = 0.25.
    p = nn.Perceptron(3, seed=0)
    p.set_parameters([0.5, -1.0, 0.0, -2.0])
    assert p.train(([[1.0, 2.0, 3.0]], [1]), epochs=1, lr=0.25) == [1]
    assert p.state_dict() == {"w0": 0.75, "w1": -0.5, "w2": 0.75, "b": -1.75}
    p.set_parameters([0.5, -1.0, 0.0, 2.0])
    assert p.train(([[1.0, 2.0, 3.0]], [0]), epochs=1, lr=0.25) == [1]
    assert p.state_dict() == {"w0": 0.25, "w1": -1.5, "w2": -0.75, "b": 1.75}
    p.set_parameters([0.5, -1.0, 0.0, 2.0])  # right already: nothing changes, training stops
    assert p.train(([[1.0, 2.0, 3.0]], [1]), epochs=10) == [0]
    assert p.state_dict() == {"w0": 0.5, "w1": -1.0, "w2": 0.0, "b": 2.0}


def test_gradient_descent_cannot_train_a_step_unit():
    # The step's slope is 0 wherever it is defined: backward gives every weight 0, which is
    # why the perceptron has a rule of its own.
    p = nn.Perceptron(2, seed=1)
    loss = nn.losses.half_squared_error(p([1.0, 0.0]), 0.0)
    loss.backward()
    assert [q.grad for q in p.parameters()] == [0.0, 0.0, 0.0]


def test_perceptron_seed_and_bad_input():
    assert nn.Perceptron(3, seed=4).state_dict() == nn.Perceptron(3, seed=4).state_dict()
    assert nn.Perceptron(3, seed=4).state_dict() != nn.Perceptron(3, seed=5).state_dict()
    assert len(nn.Perceptron(2, bias=False).parameters()) == 2
    p = nn.Perceptron(2, seed=0)
    with pytest.raises(ValueError, match="targets are 0 or 1"):
        p.train(nn.data.xor(labels=(-1, 1)))
    with pytest.raises(ValueError, match="lr must be"):
        p.train(AND, lr=0)
    with pytest.raises(ValueError, match="epochs"):
        p.train(AND, epochs=0)
    with pytest.raises(ValueError, match="expects 2 input"):
        p.train(([[1.0]], [1]))
    with pytest.raises(TypeError, match="pair"):
        p.train([1, 2, 3])


# ---------------------------------------------------------------- reduction: Σ or mean


def test_losses_sum_or_mean_by_hand():
    y, t = [0.2, 0.9, -0.4], [0.0, 1.0, 0.5]
    squares = [0.04, 0.01, 0.81]
    hse = nn.losses.half_squared_error
    assert hse(y, t).data == pytest.approx(0.5 * sum(squares), rel=1e-14)  # Σ: the default
    assert hse(y, t, reduction="sum").data == pytest.approx(0.43, rel=1e-14)
    assert hse(y, t, reduction="mean").data == pytest.approx(0.43 / 3, rel=1e-14)
    assert nn.losses.mse(y, t).data == pytest.approx(0.86 / 3, rel=1e-14)  # mean: the default
    assert nn.losses.mse(y, t, reduction="sum").data == pytest.approx(0.86, rel=1e-14)
    outs = [Value(v) for v in y]
    hse(outs, t, reduction="mean").backward()
    assert [o.grad for o in outs] == pytest.approx([0.2 / 3, -0.1 / 3, -0.9 / 3], rel=1e-13)
    assert nn.losses.reduce([1.0, 2.0, 6.0], "sum").data == 9.0
    assert nn.losses.reduce([1.0, 2.0, 6.0]).data == 3.0
    for bad in ["Sum", "none", None]:
        with pytest.raises(ValueError, match="reduction must be 'sum' or 'mean'"):
            hse(y, t, reduction=bad)
    with pytest.raises(ValueError, match="fit: reduction"):
        nn.fit(nn.MLP(2, [1], seed=0), nn.data.xor(), reduction="avg")


def _xor_net():
    return nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=2)


def test_sum_with_eta_is_mean_with_n_times_eta_on_a_full_batch():
    # By hand: on a batch of n, d(Σ_i C_i)/dw = n · d((1/n) Σ_i C_i)/dw, so the step
    # η·dΣ/dw equals (n·η)·dmean/dw. With n = 4 (XOR) the factor 1/4 is exact in floats,
    # so the two runs give the very same weights, bit for bit.
    eta = 0.3
    summed, mean = _xor_net(), _xor_net()
    h_sum = nn.fit(summed, nn.data.xor(), lr=eta, epochs=40, reduction="sum")
    h_mean = nn.fit(mean, nn.data.xor(), lr=4 * eta, epochs=40)  # the default: "mean"
    assert summed.state_dict() == mean.state_dict()
    # the history reports the loss that was minimised: the sum is n times the mean
    assert h_sum.loss == pytest.approx([4 * v for v in h_mean.loss], rel=1e-12)
    assert h_sum.step_loss == pytest.approx([4 * v for v in h_mean.step_loss], rel=1e-12)


def test_sum_and_mean_on_kramers_six_rows_agree_to_rounding():
    # n = 6: 1/6 is rounded, so the weights agree to rounding only.
    def chain():
        model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear",
                       bias=False)
        model.set_parameters([2.0, 1.0, 0.5])
        return model

    summed, mean = chain(), chain()
    nn.fit(summed, nn.data.kramer(), lr=0.05, epochs=30, reduction="sum")
    nn.fit(mean, nn.data.kramer(), lr=0.3, epochs=30, reduction="mean")
    assert list(summed.state_dict().values()) == pytest.approx(
        list(mean.state_dict().values()), rel=1e-12)


def test_one_step_on_kramers_data_with_the_sum_by_hand():
    # Kramer's chain, weights (2, 1, 0.5), C = Σ_i ½(target_i − out_i)² over the six printed
    # rows, α = 0.1; one full-batch epoch is one step w ← w − α dC/dw with the slides'
    # formulas summed over the rows (plain floats here, math.exp).
    xs, ys = nn.data.kramer()
    w0, w1, w2, alpha = 2.0, 1.0, 0.5, 0.1
    d0 = d1 = d2 = cost = 0.0
    for (s0,), target in zip(xs, ys):
        s1 = 1 / (1 + math.exp(-w0 * s0))
        s2 = 1 / (1 + math.exp(-w1 * s1))
        out = w2 * s2
        cost += 0.5 * (target - out) ** 2
        d2 += (out - target) * s2
        d1 += (out - target) * w2 * s2 * (1 - s2) * s1
        d0 += (out - target) * w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0
    expected = [w0 - alpha * d0, w1 - alpha * d1, w2 - alpha * d2]

    for compile in (False, True):
        model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear",
                       bias=False)
        model.set_parameters([w0, w1, w2])
        history = nn.fit(model, nn.data.kramer(), loss="half_squared_error", lr=alpha,
                         epochs=1, shuffle=False, reduction="sum", compile=compile)
        assert list(model.state_dict().values()) == pytest.approx(expected, rel=1e-12)
        assert history.loss == pytest.approx([cost], rel=1e-12)  # Σ, not the mean


def test_online_sgd_is_the_same_either_way_and_mean_is_the_default():
    # A batch of one: its sum is its mean.
    a, b, c = _xor_net(), _xor_net(), _xor_net()
    nn.fit(a, nn.data.xor(), lr=0.2, epochs=10, batch_size=1, reduction="sum")
    nn.fit(b, nn.data.xor(), lr=0.2, epochs=10, batch_size=1, reduction="mean")
    nn.fit(c, nn.data.xor(), lr=0.2, epochs=10, batch_size=1)
    assert a.state_dict() == b.state_dict() == c.state_dict()


def test_compiled_fit_with_the_sum_follows_eager_fit():
    eager, compiled = _xor_net(), _xor_net()
    h_eager = nn.fit(eager, nn.data.xor(), lr=0.2, epochs=20, batch_size=3,
                     reduction="sum")
    h_compiled = nn.fit(compiled, nn.data.xor(), lr=0.2, epochs=20, batch_size=3,
                        reduction="sum", compile=True)
    assert h_compiled.compiled
    assert list(compiled.state_dict().values()) == pytest.approx(
        list(eager.state_dict().values()), rel=1e-12, abs=1e-15)
    assert h_compiled.loss == pytest.approx(h_eager.loss, rel=1e-12)


# ---------------------------------------------------------------- leaky ReLU: α < 1


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.2, 0.999, -0.5])
def test_leaky_relu_is_the_slides_max_for_alpha_below_one(alpha):
    # "LReLU(z) = max(αz, z) for (α < 1)": NumPy's maximum on a grid through 0.
    neuron = nn.Neuron(1, activation="leaky_relu", alpha=alpha, bias=False, seed=0)
    neuron.set_parameters([1.0])
    zs = np.linspace(-3, 3, 61)
    assert [neuron([z]).data for z in zs] == pytest.approx(np.maximum(alpha * zs, zs).tolist(),
                                                          rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("make", [
    lambda a: nn.Neuron(2, activation="leaky_relu", alpha=a),
    lambda a: nn.Layer(2, 3, activation="leaky_relu", alpha=a),
    lambda a: nn.MLP(2, [3, 1], activation="leaky_relu", alpha=a),
    lambda a: nn.MLP(2, [3, 1], activation="tanh", output_activation="leaky_relu", alpha=a),
])
@pytest.mark.parametrize("alpha", [1, 1.0, 1.5, 10.0])
def test_nn_refuses_leaky_relu_with_alpha_one_or_more(make, alpha):
    with pytest.raises(ValueError, match=r"leaky_relu needs alpha < 1.*max\(αz, z\)"):
        make(alpha)


def test_alpha_is_checked_only_where_leaky_relu_uses_it():
    assert nn.MLP(2, [3, 1], activation="tanh", alpha=2.0, seed=0)  # no leaky_relu: unused
    with pytest.raises(TypeError, match="alpha"):
        nn.Neuron(2, activation="leaky_relu", alpha="0.1")
    with pytest.raises(ValueError, match="finite"):
        nn.Neuron(2, activation="leaky_relu", alpha=float("nan"))


def test_why_alpha_above_one_is_refused_the_piecewise_form_is_not_the_max_there():
    # The engine's primitive (untouched) computes z for z ≥ 0 and αz for z < 0, any α.
    # With α = 2 that is 3 at z = 3 and −2 at z = −1, where max(αz, z) is 6 and −1.
    for z, piecewise, slide in [(3.0, 3.0, 6.0), (-1.0, -2.0, -1.0)]:
        assert autograd_lite.leaky_relu(Value(z), alpha=2.0).data == piecewise
        assert max(2.0 * z, z) == slide
    # At α = 1 both are z itself: no activation (activation="linear").
    assert autograd_lite.leaky_relu(Value(-1.5), alpha=1.0).data == -1.5


# ---------------------------------------------------------------- stacked linear layers


def _matrices(model):
    """(W, b) of each layer of an nn MLP: row k of W is neuron k's weights."""
    return [(np.array([[w.data for w in neuron.w] for neuron in layer.neurons]),
             np.array([neuron.b.data for neuron in layer.neurons]))
            for layer in model.layers]


def test_two_linear_layers_are_one_linear_layer():
    # Lecture 5: "More layers of linear units do not help. Its still linear."
    # W2(W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2).
    model = nn.MLP(3, [4, 2], activation="linear", output_activation="linear", seed=0)
    (W1, b1), (W2, b2) = _matrices(model)
    W, b = W2 @ W1, W2 @ b1 + b2
    one = nn.Layer(3, 2, activation="linear", seed=1)
    one.set_parameters([v for k in range(2) for v in [*W[k], b[k]]])
    rng = np.random.default_rng(0)
    for x in rng.normal(size=(20, 3)):
        expected = W @ x + b
        assert [o.data for o in model(x.tolist())] == pytest.approx(expected.tolist(), rel=1e-12)
        assert [o.data for o in one(x.tolist())] == pytest.approx(expected.tolist(), rel=1e-12)


def test_any_depth_of_linear_layers_is_one_neuron():
    model = nn.MLP(2, [5, 4, 3, 1], activation="linear", output_activation="linear", seed=3)
    W, b = np.eye(2), np.zeros(2)
    for Wl, bl in _matrices(model):
        W, b = Wl @ W, Wl @ b + bl
    neuron = nn.Neuron(2, activation="linear", seed=0)
    neuron.set_parameters([*W[0], b[0]])
    for x in np.random.default_rng(1).normal(size=(20, 2)):
        assert model(x.tolist()).data == pytest.approx(float(W[0] @ x + b[0]), rel=1e-11)
        assert neuron(x.tolist()).data == pytest.approx(model(x.tolist()).data, rel=1e-11)


def test_a_trained_linear_stack_cannot_learn_xor():
    # The best any linear function of (x1, x2) does on XOR, by NumPy's least squares:
    # 0.5 everywhere, mean ½ squared error 0.125, and no threshold gets all four right.
    xs, ys = nn.data.xor()
    A = np.hstack([np.array(xs), np.ones((4, 1))])
    coef, *_ = np.linalg.lstsq(A, np.array(ys), rcond=None)
    best = float(np.mean(0.5 * (A @ coef - np.array(ys)) ** 2))
    assert best == pytest.approx(0.125)

    model = nn.MLP(2, [4, 1], activation="linear", output_activation="linear", seed=0)
    history = nn.fit(model, (xs, ys), loss="half_squared_error", lr=0.1, epochs=1000)
    assert min(history.loss) >= best - 1e-12
    assert history.loss[-1] == pytest.approx(best, abs=1e-4)  # it found the best line: 0.5
    assert nn.predict(model, xs) == pytest.approx([0.5] * 4, abs=0.02)
    assert nn.accuracy(model, xs, ys) <= 0.75
    # the same network with tanh hidden units does learn it
    tanh = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    nn.fit(tanh, (xs, ys), loss="binary_cross_entropy",
           optimizer=nn.optim.Adam(tanh, lr=0.1), epochs=300)
    assert nn.accuracy(tanh, xs, ys) == 1.0


# ---------------------------------------------------------------- coming from micrograd


def test_micrograds_nonlin_keyword_means_relu_or_linear():
    assert nn.Neuron(2, nonlin=True).activation == "relu"
    assert nn.Neuron(2, nonlin=False).activation == "linear"
    assert nn.Layer(2, 3, nonlin=False).activation == "linear"
    assert all(n.activation == "relu" for n in nn.Layer(2, 3, nonlin=True).neurons)
    with pytest.raises(TypeError, match="activation= or micrograd's nonlin=, not both"):
        nn.Neuron(2, activation="tanh", nonlin=True)
    with pytest.raises(TypeError, match="activation='linear' here"):
        nn.Neuron(2, False)  # micrograd's Neuron(nin, nonlin) positionally
    with pytest.raises(TypeError, match="True or False"):
        nn.Neuron(2, nonlin=1)


def test_a_neuron_computes_what_micrograds_does_with_the_same_weights():
    import micrograd.nn as micrograd_nn  # the test extra installs it
    x = [0.7, -1.3]
    for nonlin in (True, False):
        theirs = micrograd_nn.Neuron(2, nonlin=nonlin)
        ours = nn.Neuron(2, nonlin=nonlin, seed=0)
        for w, v in zip(theirs.w, [0.4, -0.9]):
            w.data = v
        theirs.b.data = 0.25
        ours.set_parameters([0.4, -0.9, 0.25])
        assert ours(x).data == pytest.approx(theirs(x).data, rel=1e-15)


def test_default_activations():
    # Here: tanh hidden units and a linear output. micrograd: ReLU hidden, linear output.
    assert nn.Neuron(2).activation == "tanh"
    assert nn.Layer(2, 2).activation == "tanh"
    model = nn.MLP(2, [3, 1])
    assert [layer.activation for layer in model.layers] == ["tanh", "linear"]
    import micrograd.nn as micrograd_nn  # the test extra installs it
    assert repr(micrograd_nn.MLP(2, [3, 1])) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
        "Layer of [LinearNeuron(3)]]")


def _relu_slope_at_zero():
    neuron = nn.Neuron(1, activation="relu", seed=0)
    neuron.set_parameters([1.0, -2.0])  # z = 1·2 − 2 = 0 for the input 2
    neuron([2.0]).backward()
    return neuron.w[0].grad / 2.0, neuron.b.grad  # dout/dz from dout/dw = relu'(z)·x


def test_relu_slope_at_zero_is_one_here():
    # The lecture table: ReLU′ = 1 (z ≥ 0), 0 (z < 0).
    assert _relu_slope_at_zero() == (1.0, 1.0)


def test_relu_slope_at_zero_is_zero_in_pytorch_and_micrograd():
    import micrograd.engine as engine  # the test extra installs it
    z = engine.Value(0.0)
    z.relu().backward()
    assert z.grad == 0
    torch = pytest.importorskip("torch")
    t = torch.tensor(0.0, requires_grad=True)
    torch.relu(t).backward()
    assert t.grad.item() == 0.0


def test_comparisons_between_values_are_plain_bools():
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a >= b) is False and (a <= 1) is True
    assert max([a, b]) is b and sorted([b, a]) == [a, b]
    # == is identity (Values are dict keys), not the numbers: Value(1) == Value(1) is False
    assert (Value(1.0) == Value(1.0)) is False and (a == a) is True
    assert len({a: 1, Value(1.0): 2}) == 2
    import micrograd.engine as engine  # the test extra installs it
    with pytest.raises(TypeError):
        engine.Value(1.0) < engine.Value(2.0)  # noqa: B015 - micrograd has no comparisons


def test_seed_makes_weights_reproducible_without_the_global_random_state():
    import random

    random.seed(1)
    first = nn.MLP(2, [3, 1], seed=7).state_dict()
    random.seed(2)
    assert nn.MLP(2, [3, 1], seed=7).state_dict() == first
    assert nn.MLP(2, [3, 1], seed=8).state_dict() != first
