"""nn.fit: the loop's mechanics (batches, seeded shuffling, schedules, history, progress
bar, errors) and the results the lectures promise: XOR is learned, two moons is separated.

Results are asserted on accuracy and loss, never on time.
"""

import io
import math
import random

import numpy as np
import pytest

import nn
from autograd_lite import Value

# ---------------------------------------------------------------- one epoch by hand


def test_full_batch_epoch_is_batch_gradient_descent_on_kramers_table():
    # Kramer's chain on the six printed rows, C = mean of ½(out − target)²; one epoch with
    # the whole table is one step w ← w − α dC/dw, dC/dw from the slide formulas (NumPy).
    xs, ys = nn.data.kramer()
    s0, target = np.array([x[0] for x in xs]), np.array(ys)
    w0, w1, w2, alpha = 2.0, 1.0, 0.5, 0.5
    s1 = 1 / (1 + np.exp(-w0 * s0))
    s2 = 1 / (1 + np.exp(-w1 * s1))
    out = w2 * s2
    error = out - target
    dC = np.array([np.mean(error * w2 * s2 * (1 - s2) * w1 * s1 * (1 - s1) * s0),
                   np.mean(error * w2 * s2 * (1 - s2) * s1),
                   np.mean(error * s2)])

    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([w0, w1, w2])
    history = nn.fit(model, (xs, ys), loss="half_squared_error", lr=alpha, epochs=1)
    assert [p.data for p in model.parameters()] == pytest.approx(
        (np.array([w0, w1, w2]) - alpha * dC).tolist(), rel=1e-13)
    assert history.loss == pytest.approx([np.mean(0.5 * error**2)], rel=1e-13)
    assert history.steps == 1


def test_online_sgd_visits_every_example_once_per_epoch_in_a_seeded_order():
    # Kauchak: "for some number of iterations: randomly shuffle training data; for each
    # example: ... update".
    def run(seed, shuffle=True):
        seen = []

        def loss(prediction, target):
            seen.append(target)
            return nn.losses.half_squared_error(prediction, target)

        model = nn.MLP(1, [2, 1], seed=0)
        history = nn.fit(model, ([[float(i)] for i in range(8)], list(range(8))), loss,
                         lr=0.001, epochs=3, batch_size=1, shuffle=shuffle, seed=seed)
        assert history.steps == 24 and len(history.step_loss) == 24
        return [seen[e * 8:(e + 1) * 8] for e in range(3)]

    epochs = run(seed=1)
    assert all(sorted(epoch) == list(range(8)) for epoch in epochs)
    assert epochs[0] != epochs[1]  # reshuffled every epoch
    assert run(seed=1) == epochs
    assert run(seed=2) != epochs
    assert run(seed=1, shuffle=False) == [list(range(8))] * 3


def test_mini_batches_and_the_epoch_loss():
    xs, ys = nn.data.two_moons(n=10, seed=0)
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, (xs, ys), "binary_cross_entropy", lr=0.1, epochs=2, batch_size=4)
    assert history.steps == 6  # batches of 4, 4, 2 per epoch
    for epoch in range(2):  # the epoch's loss is the example-weighted mean of its batches
        steps = history.step_loss[3 * epoch:3 * epoch + 3]
        expected = (4 * steps[0] + 4 * steps[1] + 2 * steps[2]) / 10
        assert history.loss[epoch] == pytest.approx(expected, rel=1e-14)


def test_fit_leaves_the_global_random_state_alone():
    random.seed(11)
    before = random.getstate()
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, batch_size=1)
    assert random.getstate() == before


def test_schedule_sets_the_learning_rate_of_each_epoch():
    model = nn.MLP(2, [2, 1], seed=0)
    optimizer = nn.optim.SGD(model, lr=1.0, momentum=0.5)
    schedule = nn.optim.StepDecay(0.4, every=2, factor=0.5)
    history = nn.fit(model, nn.data.xor(), optimizer=optimizer, epochs=5, schedule=schedule)
    assert history.lr == [0.4, 0.4, 0.2, 0.2, 0.1]
    assert optimizer.lr == 0.1


def test_target_loss_stops_early_and_metrics_are_recorded():
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    xs, ys = nn.data.xor()
    history = nn.fit(model, (xs, ys), "binary_cross_entropy",
                     nn.optim.Adam(model, lr=0.1), epochs=1000, target_loss=0.1,
                     metrics={"accuracy": lambda m: nn.accuracy(m, xs, ys)})
    assert history.stopped_early
    assert history.epochs < 1000
    assert history.loss[-1] <= 0.1 < min(history.loss[:-1])
    assert len(history.metrics["accuracy"]) == history.epochs
    assert history.metrics["accuracy"][-1] == 1.0
    assert f"{history.epochs} epochs" in str(history)


def test_history_plots_with_matplotlib():
    import matplotlib  # optional for users; a test dependency (pyproject [test])

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=5)
    ax = history.plot()
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == history.loss
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5]
    plt.close(ax.figure)


# ---------------------------------------------------------------- progress bar


def test_progress_bar_when_asked():
    out = io.StringIO()
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, progress=True, file=out)
    text = out.getvalue()
    assert text.count("\n") == 1  # one line, rewritten in place ("\r"), ended once
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("fit: 100%") and "3/3" in last and "loss=" in last, last


def test_no_progress_bar_unless_asked_or_on_a_terminal():
    out = io.StringIO()  # not a terminal
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, file=out)
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, progress=False,
           file=out)
    assert out.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_appears_by_itself_on_a_terminal_for_long_runs(monkeypatch):
    # "Long" is an estimate of the whole run against AUTO_PROGRESS_SECONDS; setting the
    # limit to 0 or to 10⁹ makes every run long or short without timing anything.
    monkeypatch.setattr(nn.train, "AUTO_PROGRESS_SECONDS", 0.0)
    terminal = Terminal()
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, file=terminal)
    assert "3/3" in terminal.getvalue()
    monkeypatch.setattr(nn.train, "AUTO_PROGRESS_SECONDS", 1e9)
    terminal = Terminal()
    nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3, file=terminal)
    assert terminal.getvalue() == ""


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"data": ([[0, 0], [1, 1]], [0])}, ValueError, "2 inputs but 1 targets"),
    ({"data": ([], [])}, ValueError, "data is empty"),
    ({"data": [[0, 0]]}, TypeError, "data must be a pair"),
    ({"loss": "l1"}, ValueError, "unknown loss 'l1'"),
    ({"epochs": 0}, ValueError, "fit epochs must be a positive int, got 0"),
    ({"batch_size": 0}, ValueError, "fit batch_size must be a positive int, got 0"),
    ({"lr": 0.1, "optimizer": "sgd"}, ValueError, "either an optimizer or lr"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must be an nn.optim optimizer, not str"),
    ({"schedule": lambda epoch: -1.0}, ValueError, r"schedule\(0\) gave -1.0"),
    ({"model": lambda x: x}, TypeError, "model must be an nn Module"),
    ({"record": "yes"}, TypeError, "fit: record must be True or False, not str"),
    ({"record": 1}, TypeError, "fit: record must be True or False, not int"),
])
def test_bad_fit_arguments_say_what(kwargs, error, message):
    arguments = {"model": nn.MLP(2, [1], seed=0), "data": nn.data.xor(), "epochs": 1}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        nn.fit(**arguments)


def test_a_bad_example_is_named():
    model = nn.MLP(2, [3], seed=0)  # three logits
    xs, ys = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 2, 3]
    with pytest.raises(IndexError, match="fit: example 2 \\(target 3\\): .*target class 3 is "
                                         "out of range for 3 logits"):
        nn.fit(model, (xs, ys), "softmax_cross_entropy", lr=0.1, epochs=1, shuffle=False)
    with pytest.raises(ValueError, match="fit: example 1 .*expects 2 input"):
        nn.fit(model, ([[0.0, 1.0], [1.0]], [0, 1]), "softmax_cross_entropy", epochs=1,
               shuffle=False)


# ---------------------------------------------------------------- predict and accuracy


def test_predict_and_accuracy_by_hand():
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    model.set_parameters([1.0, 0.0])  # the identity: the output is the input
    xs = [[-2.0], [-0.5], [0.25], [0.75], [3.0]]
    assert nn.predict(model, xs) == [-2.0, -0.5, 0.25, 0.75, 3.0]
    # labels 0/1: threshold 0.5;  labels −1/+1: threshold 0
    assert nn.accuracy(model, xs, [0, 0, 0, 1, 1]) == 1.0
    assert nn.accuracy(model, xs, [0, 0, 1, 1, 1]) == 0.8
    assert nn.accuracy(model, xs, [-1, -1, 1, 1, 1]) == 1.0
    assert nn.accuracy(model, xs, [0, 0, 1, 1, 1], threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="binary labels must be 0/1 or -1/\\+1, got 0.5"):
        nn.accuracy(model, xs, [0, 0.5, 1, 1, 1])
    with pytest.raises(ValueError, match="as many targets as inputs"):
        nn.accuracy(model, xs, [0, 1])


def test_accuracy_for_several_classes_is_argmax():
    model = nn.Layer(2, 3, activation="linear", seed=0)
    model.set_parameters([1, 0, 0, 0, 1, 0, -1, -1, 0])  # logits: x0, x1, −x0 − x1
    xs = [[2.0, 1.0], [0.0, 3.0], [-1.0, -1.0], [1.0, 0.0]]
    assert nn.predict(model, xs)[2] == [-1.0, -1.0, 2.0]
    assert nn.accuracy(model, xs, [0, 1, 2, 1]) == 0.75


# ---------------------------------------------------------------- the lectures' results


@pytest.mark.parametrize("seed", range(8))
def test_xor_is_learned_from_every_seed(seed):
    # Kauchak's XOR: not linearly separable, learned with one hidden layer.
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=seed)
    xs, ys = nn.data.xor()
    history = nn.fit(model, (xs, ys), "binary_cross_entropy", nn.optim.Adam(model, lr=0.1),
                     epochs=300)
    predictions = nn.predict(model, xs)
    assert all(abs(p - y) < 0.2 for p, y in zip(predictions, ys)), predictions
    assert nn.accuracy(model, xs, ys) == 1.0
    assert history.loss[-1] < 0.1 * history.loss[0]


def test_xor_with_kauchaks_loop_best_of_several_runs():
    # Kauchak's recipe: sigmoid units, ½(y − ŷ)², online SGD over shuffled examples, momentum.
    # The loss is not convex (Haghtalab & Joachims: "run separate SGDs and take the best"),
    # so a run may stall in a local minimum; the best of five runs learns XOR.
    xs, ys = nn.data.xor()
    results = []
    for seed in range(5):
        model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=seed)
        history = nn.fit(model, (xs, ys), "half_squared_error",
                         nn.optim.SGD(model, lr=2.0, momentum=0.9), epochs=400, batch_size=1,
                         seed=seed, target_loss=0.005)
        results.append((history.loss[-1], nn.accuracy(model, xs, ys)))
    best_loss, best_accuracy = min(results)
    assert best_accuracy == 1.0
    assert best_loss <= 0.005
    assert sum(accuracy == 1.0 for _, accuracy in results) >= 3


@pytest.mark.parametrize("seed", [0, 1])
def test_two_moons_reaches_95_percent_training_accuracy(seed):
    # micrograd's demo: 100 noisy moons, ReLU MLP, hinge loss, L2 1e-4 (here 2-8-8-1 and
    # mini-batches with Adam to keep the test fast; micrograd's 2-16-16-1 reaches 100 %).
    xs, ys = nn.data.two_moons(n=100, noise=0.1, seed=0, labels=(-1, 1))
    model = nn.MLP(2, [8, 8, 1], activation="relu", seed=seed)
    optimizer = nn.optim.Adam(model, lr=0.03, weight_decay=1e-4)
    history = nn.fit(model, (xs, ys), "hinge", optimizer, epochs=30, batch_size=10)
    assert nn.accuracy(model, xs, ys) >= 0.95
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert all(math.isfinite(loss) for loss in history.loss)


def test_a_value_input_model_trains_like_a_number_input_model():
    # Inputs given as Values (leaves) train exactly like plain numbers.
    xs, ys = nn.data.xor()
    a = nn.MLP(2, [3, 1], seed=4)
    b = nn.MLP(2, [3, 1], seed=4)
    nn.fit(a, (xs, ys), lr=0.2, epochs=5)
    nn.fit(b, ([[Value(v) for v in x] for x in xs], ys), lr=0.2, epochs=5)
    assert a.state_dict() == b.state_dict()


# ---------------------------------------------------------------- the record for a replay


def _layer_means_by_hand(model):
    # Independent of labels: the model's own layers, mean of |grad| over each one's parameters.
    return {f"L{i}": float(np.mean([abs(p.grad) for p in layer.parameters()]))
            for i, layer in enumerate(model.layers, start=1)}


def _copy_at(model, weights, **options):
    twin = nn.MLP(model.nin, [layer.nout for layer in model.layers], seed=0, **options)
    twin.set_parameters(weights)
    return twin


def test_record_keeps_the_parameters_before_training_and_after_every_epoch():
    xs, ys = nn.data.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    initial = model.state_dict()
    history = nn.fit(model, (xs, ys), lr=0.2, epochs=4, batch_size=3, record=True)
    assert len(history.snapshots) == history.epochs + 1 == 5
    assert len(history.grad_sizes) == history.epochs
    assert history.snapshots[0] == initial
    assert history.snapshots[-1] == model.state_dict()
    assert all(list(snap) == [label for label, _ in model.named_parameters()]
               for snap in history.snapshots)
    assert history.snapshots[1] != history.snapshots[0]  # the weights moved
    # Entry k is the model after k epochs: the same run stopped there ends with it.
    shorter = nn.MLP(2, [3, 1], seed=0)
    nn.fit(shorter, (xs, ys), lr=0.2, epochs=2, batch_size=3, record=True)
    assert shorter.state_dict() == history.snapshots[2]
    # Copies, not views: training on leaves the record alone.
    nn.fit(model, (xs, ys), lr=0.2, epochs=1)
    assert history.snapshots[-1] != model.state_dict()


def test_record_after_an_early_stop_has_one_snapshot_per_epoch_run_plus_the_start():
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, nn.data.xor(), "binary_cross_entropy",
                     nn.optim.Adam(model, lr=0.1), epochs=1000, target_loss=0.1, record=True)
    assert history.stopped_early
    assert len(history.snapshots) == history.epochs + 1
    assert len(history.grad_sizes) == history.epochs
    assert history.snapshots[-1] == model.state_dict()


def test_without_record_nothing_is_kept():
    history = nn.fit(nn.MLP(2, [2, 1], seed=0), nn.data.xor(), lr=0.1, epochs=3)
    assert history.snapshots == [] and history.grad_sizes == []


def test_grad_sizes_full_batch_match_a_backward_by_hand_at_each_epochs_weights():
    # Full batch: one step per epoch, taken at the weights of snapshot e.
    xs, ys = nn.data.xor()
    model = nn.MLP(2, [3, 2, 1], activation="tanh", output_activation="sigmoid", seed=1)
    history = nn.fit(model, (xs, ys), "binary_cross_entropy", lr=0.5, epochs=3, record=True)
    for epoch, sizes in enumerate(history.grad_sizes):
        twin = _copy_at(model, history.snapshots[epoch], activation="tanh",
                        output_activation="sigmoid")
        losses = [nn.losses.binary_cross_entropy(twin(x), y) for x, y in zip(xs, ys)]
        (sum(losses[1:], losses[0]) / len(losses)).backward()
        expected = _layer_means_by_hand(twin)
        assert list(sizes) == ["L1", "L2", "L3"]
        assert sizes == pytest.approx(expected, rel=1e-12)


def test_grad_sizes_are_taken_at_the_epochs_last_step_before_its_update():
    # Four examples in batches of 3, in order: the last step is example 3 alone, at the
    # weights the first step (examples 0-2) left.
    xs, ys = nn.data.xor()
    model = nn.MLP(2, [3, 1], seed=2)
    start = model.state_dict()
    history = nn.fit(model, (xs, ys), lr=0.3, epochs=1, batch_size=3, shuffle=False,
                     record=True)
    twin = _copy_at(model, start)
    nn.fit(twin, (xs[:3], ys[:3]), lr=0.3, epochs=1, shuffle=False)  # the first step
    twin.zero_grad()
    nn.losses.half_squared_error(twin(xs[3]), ys[3]).backward()
    assert history.grad_sizes[0] == pytest.approx(_layer_means_by_hand(twin), rel=1e-12)


def test_a_deep_sigmoid_net_shows_the_vanishing_gradient():
    xs, ys = nn.data.xor()
    model = nn.MLP(2, [4, 4, 4, 4, 1], activation="sigmoid", output_activation="sigmoid",
                   seed=0)
    history = nn.fit(model, (xs, ys), "binary_cross_entropy", lr=0.5, epochs=5, record=True)
    for sizes in history.grad_sizes:
        layers = list(sizes.values())
        assert list(sizes) == ["L1", "L2", "L3", "L4", "L5"]
        assert layers == sorted(layers)  # smaller and smaller towards the input
        assert sizes["L1"] < sizes["L5"] / 100


def test_gradient_sizes_of_kramers_chain_are_the_slides_gradients():
    # One weight per layer: each layer's mean |gradient| is that weight's |dC/dw|.
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])
    nn.losses.half_squared_error(model([2.0]), 0.7).backward()
    sizes = nn.gradient_sizes(model)
    assert list(sizes) == ["L1", "L2", "L3"]
    assert sizes == pytest.approx({"L1": 0.001177, "L2": 0.032729, "L3": 0.244622}, abs=5e-7)


def test_gradient_sizes_groups_by_the_label_before_the_first_dot():
    layer = nn.Layer(2, 2, seed=0, name="hidden")
    out = layer([1.0, -2.0])
    (out[0] * 3.0 + out[1]).backward()
    grads = [abs(p.grad) for p in layer.parameters()]
    assert nn.gradient_sizes(layer) == pytest.approx({"hidden": sum(grads) / len(grads)})
    assert nn.gradient_sizes(nn.MLP(2, [2, 1], seed=0)) == {"L1": 0.0, "L2": 0.0}  # no grads


def test_gradient_sizes_and_record_say_what_is_wrong():
    with pytest.raises(TypeError, match="gradient_sizes: model must be an nn Module"):
        nn.gradient_sizes([Value(1.0, "L1.w")])

    class Twins(nn.Module):  # two different parameters under one label
        def __init__(self, first="L1.w", second="L1.w"):
            self.a, self.b = Value(0.5, first), Value(-0.5, second)

        def parameters(self):
            return [self.a, self.b]

        def __call__(self, x):
            return self.a * x[0] + self.b

    with pytest.raises(ValueError, match="two parameters are labelled 'L1.w'"):
        nn.fit(Twins(), ([[1.0]], [0.0]), epochs=1, record=True)
    nn.fit(Twins(), ([[1.0]], [0.0]), epochs=1)  # without a record, labels do not matter
    with pytest.raises(ValueError, match="every parameter needs a label"):
        nn.fit(Twins("L1.w", ""), ([[1.0]], [0.0]), epochs=1, record=True)
    with pytest.raises(ValueError, match="gradient_sizes: a parameter has no label"):
        nn.gradient_sizes(Twins("L1.w", ""))


def test_gradient_sizes_docstring_example_holds():
    import doctest

    import nn.train

    assert doctest.testmod(nn.train).failed == 0
