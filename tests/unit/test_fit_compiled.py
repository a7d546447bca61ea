"""nn.fit(..., compile=True): one example's loss graph compiled once (compile_graph, NumPy:
a mini-batch per call) follows the weights of eager fit, step for step; a graph whose shape
changes, or that does not compile, trains eagerly instead and says why.

Every compiled run here is compared with the same run done eagerly. Nothing is timed (the
speed is measured outside the tests).
"""

import io
import sys
import warnings

import pytest

import nn
from autograd_lite import Value

# Weights after training, relative to eager fit's: max |compiled − eager| over the largest
# |eager| (a weight that passes near 0 has no digits of its own to compare). A ReLU network
# gives eager fit's very numbers; NumPy's exp and tanh may differ from math's in the last
# bit, which training carries along, far below this.
REL = 1e-12


def _train(make, data, compile, optimizer=None, **options):
    """A fresh model trained by fit; (model, history). A compiled run that falls back is
    an error here, unless the test says otherwise by catching the warning itself."""
    model = make()
    if optimizer is not None:
        options["optimizer"] = optimizer(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", nn.CompileFallbackWarning)
        history = nn.fit(model, data, compile=compile, **options)
    return model, history


def _relative(a, b):
    a, b = list(a), list(b)
    assert len(a) == len(b)
    return max(abs(x - y) for x, y in zip(a, b)) / max(max(abs(y) for y in b), 1e-300)


def assert_same_training(make, data, optimizer=None, **options):
    """compile=True gives eager fit's weights (to REL) and the same history."""
    eager, eager_history = _train(make, data, False, optimizer, **options)
    compiled, history = _train(make, data, True, optimizer, **options)
    assert history.compiled and not eager_history.compiled
    weights, expected = list(compiled.state_dict().values()), list(eager.state_dict().values())
    assert _relative(weights, expected) <= REL
    assert history.steps == eager_history.steps and history.epochs == eager_history.epochs
    assert _relative(history.step_loss, eager_history.step_loss) <= REL
    assert _relative(history.loss, eager_history.loss) <= REL
    assert history.lr == eager_history.lr
    assert history.stopped_early == eager_history.stopped_early
    return history, eager_history


def kramer_chain():
    # The lecture's chain out = w2·S(w1·S(w0·s0)), at the slides' weights.
    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])
    return model


# ---------------------------------------------------------------- the same weights as eager


def test_kramers_table_full_batch():
    history, _ = assert_same_training(kramer_chain, nn.data.kramer(), loss="half_squared_error",
                                      lr=0.5, epochs=300)
    assert history.loss[-1] < history.loss[0]


def test_kramers_chain_on_more_rows_in_shuffled_mini_batches_of_8():
    assert_same_training(kramer_chain, nn.data.kramer(60), loss="half_squared_error", lr=0.5,
                         epochs=20, batch_size=8, seed=3)


@pytest.mark.parametrize(("activation", "batch_size", "optimizer"), [
    ("tanh", None, None),
    ("sigmoid", None, None),
    ("tanh", 1, lambda m: nn.optim.Adam(m, lr=0.05)),
    ("sigmoid", 3, lambda m: nn.optim.SGD(m, lr=1.0, momentum=0.9)),  # a last batch of 1
])
def test_xor_with_an_mlp_2_4_1_and_mse(activation, batch_size, optimizer):
    def make():
        return nn.MLP(2, [4, 1], activation=activation, output_activation="sigmoid", seed=0)
    options = {} if optimizer else {"lr": 2.0}
    assert_same_training(make, nn.data.xor(), optimizer, loss="mse", epochs=300,
                         batch_size=batch_size, **options)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_two_moons_with_the_hinge_loss(batch_size):
    data = nn.data.two_moons(n=60, seed=1, labels=(-1, 1))
    history, _ = assert_same_training(
        lambda: nn.MLP(2, [8, 8, 1], activation="relu", seed=2), data,
        lambda m: nn.optim.SGD(m, lr=0.05, weight_decay=2e-4), loss="hinge",
        epochs=40 if batch_size is None else 6, batch_size=batch_size)
    assert history.loss[-1] < history.loss[0]


def test_binary_cross_entropy_on_xor():
    # With the target as a Value leaf both terms of the loss are in the graph; the one
    # whose weight 1 − t or t is 0 adds exactly 0, as eager fit's shorter graph does.
    assert_same_training(lambda: nn.MLP(2, [3, 1], output_activation="sigmoid", seed=1),
                         nn.data.xor(), loss="binary_cross_entropy", lr=1.0, epochs=100)


def test_schedule_metrics_target_loss_and_record():
    xs, ys = nn.data.xor()
    options = dict(loss="mse", lr=None, epochs=400, batch_size=2, target_loss=0.05,
                   schedule=nn.optim.StepDecay(2.0, every=50, factor=0.9), record=True,
                   metrics={"accuracy": lambda m: nn.accuracy(m, xs, ys)})
    options.pop("lr")

    def make():
        return nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history, eager = assert_same_training(make, (xs, ys), **options)
    assert history.stopped_early and eager.stopped_early
    assert history.metrics == eager.metrics
    assert len(history.snapshots) == len(eager.snapshots) == history.epochs + 1
    for mine, theirs in zip(history.snapshots, eager.snapshots):
        assert list(mine) == list(theirs)
        assert _relative(mine.values(), theirs.values()) <= REL
    assert len(history.grad_sizes) == len(eager.grad_sizes) == history.epochs
    for mine, theirs in zip(history.grad_sizes, eager.grad_sizes):
        assert list(mine) == list(theirs)
        assert _relative(mine.values(), theirs.values()) <= 1e-9


def test_value_inputs_and_a_progress_bar():
    xs, ys = nn.data.xor()
    leaves = [[Value(v) for v in x] for x in xs]
    numbers, _ = _train(lambda: nn.MLP(2, [3, 1], seed=4), (xs, ys), False, lr=0.2, epochs=20)
    out = io.StringIO()
    model, history = _train(lambda: nn.MLP(2, [3, 1], seed=4), (leaves, ys), True, lr=0.2,
                            epochs=20, progress=True, file=out)
    assert history.compiled
    assert _relative(model.state_dict().values(), numbers.state_dict().values()) <= REL
    assert "fit" in out.getvalue() and "20/20" in out.getvalue()


def test_an_optimizer_of_some_parameters_leaves_the_others_as_eager_fit_does():
    # Eager fit's backward adds into the .grad of parameters the optimizer does not zero.
    def last_layer(model):
        return nn.optim.SGD(model.layers[-1].parameters(), lr=0.5)
    eager, _ = _train(lambda: nn.MLP(2, [3, 1], seed=5), nn.data.xor(), False, last_layer,
                      epochs=10, batch_size=2)
    compiled, _ = _train(lambda: nn.MLP(2, [3, 1], seed=5), nn.data.xor(), True, last_layer,
                         epochs=10, batch_size=2)
    assert _relative([p.data for p in compiled.parameters()],
                     [p.data for p in eager.parameters()]) <= REL
    grads = [p.grad for p in eager.parameters()]
    assert all(grads)  # every .grad holds a sum of several steps' gradients
    assert _relative([p.grad for p in compiled.parameters()], grads) <= 1e-9


def test_without_numpy_the_python_backend_compiles_one_call_per_example(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now raises ImportError
    history, _ = assert_same_training(kramer_chain, nn.data.kramer(20),
                                      loss="half_squared_error", lr=0.5, epochs=30,
                                      batch_size=6)
    assert history.compiled


# ---------------------------------------------------------------- falling back to eager fit


def _fallback(make, data, **options):
    """compile=True that falls back: (the warning's message, model, history), with the
    eager run's model beside it."""
    model = make()
    with pytest.warns(nn.CompileFallbackWarning) as caught:
        history = nn.fit(model, data, compile=True, **options)
    assert len(caught) == 1
    eager = make()
    eager_history = nn.fit(eager, data, **options)
    assert model.state_dict() == eager.state_dict()  # it *is* eager fit
    assert history.loss == eager_history.loss and history.step_loss == eager_history.step_loss
    assert not history.compiled
    return str(caught[0].message), model, history


def test_a_loss_that_branches_on_the_prediction_falls_back_naming_the_example():
    def branching(prediction, target):  # its graph depends on the number: not compilable
        if prediction.data > 0:
            return nn.losses.hinge(prediction, target)
        return (prediction - target) ** 2

    xs, ys = nn.data.two_moons(n=40, seed=0, labels=(-1, 1))

    def make():
        return nn.MLP(2, [4, 1], seed=0)
    signs = [p > 0 for p in nn.predict(make(), xs)]
    assert len(set(signs)) == 2  # both branches are taken at the first step
    first = next(i for i, s in enumerate(signs) if s != signs[0])
    message, _, history = _fallback(make, (xs, ys), loss=branching, lr=0.1, epochs=30,
                                    batch_size=8)
    assert message.startswith("fit(compile=True): ")
    assert f"example {first}'s loss graph differs from the compiled one (example 0's)" \
        in message
    assert "branch on a value" in message and "training eagerly instead" in message
    assert history.loss[-1] < history.loss[0]  # it trains


def test_a_graph_that_changes_during_training_is_found_and_trained_again_eagerly():
    # The loss switches from ½(t − y)² to (y − t)² once w2 passes 1.3: every example's
    # graph changes at the same step, which the step's check finds.
    limit = 1.3
    data = nn.data.kramer()

    def make():
        model = kramer_chain()
        w2 = model.parameters()[2]

        def switching(prediction, target):
            if w2.data < limit:
                return nn.losses.half_squared_error(prediction, target)
            return nn.losses.mse(prediction, target)
        return model, switching

    eager, loss = make()
    record = nn.fit(eager, data, loss=loss, lr=0.5, epochs=60, shuffle=False, record=True)
    weights_before = [snapshot["L3.N0.w0"] for snapshot in record.snapshots]
    step = next(k + 1 for k, w2 in enumerate(weights_before) if w2 >= limit)  # full batch
    assert 20 < step < 60

    model, loss = make()
    with pytest.warns(nn.CompileFallbackWarning) as caught:
        history = nn.fit(model, data, loss=loss, lr=0.5, epochs=60, shuffle=False,
                         record=True, compile=True)
    message = str(caught[0].message)
    checked = (step - 2) % len(data[0])  # the step's check goes round the batch
    assert f"at epoch {step}, step {step}, example {checked}'s loss graph differs" in message
    assert f"training again eagerly from the start (the {step - 1} compiled step(s)" in message
    assert model.state_dict() == eager.state_dict()
    assert history.snapshots == record.snapshots and history.loss == record.loss
    assert not history.compiled


def test_a_graph_that_does_not_compile_falls_back_saying_why(monkeypatch):
    import autograd_lite.compiled

    def refuse(*args, **kwargs):
        raise NotImplementedError("no numpy rule for this primitive")
    monkeypatch.setattr(autograd_lite.compiled, "compile_graph", refuse)
    message, _, _ = _fallback(kramer_chain, nn.data.kramer(), loss="half_squared_error",
                              lr=0.5, epochs=5)
    assert "does not compile with backend='numpy'" in message
    assert "NotImplementedError: no numpy rule for this primitive" in message


def test_softmax_cross_entropy_with_class_indices_falls_back():
    # A class index cannot be a Value leaf (and the max-logit shift is a per-example
    # constant): eager fit it is, with the reason.
    xs = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    ys = [0, 1, 2]
    message, _, _ = _fallback(lambda: nn.MLP(2, [3], seed=0), (xs, ys),
                              loss="softmax_cross_entropy", lr=0.5, epochs=5)
    assert "example 0's loss, with its input and target as Value leaves, failed" in message


def test_examples_of_different_sizes_fall_back():
    model = nn.Neuron(1, activation="linear", seed=0)
    with pytest.warns(nn.CompileFallbackWarning, match="example 1's input has 2 number"), \
            pytest.raises(ValueError, match="expects 1 input"):  # eager fit's own error
        nn.fit(model, ([[1.0], [1.0, 2.0]], [1.0, 2.0]), lr=0.1, epochs=2, compile=True)


def test_a_bad_example_gives_eager_fits_error():
    xs, ys = nn.data.xor(labels=(-1, 1))
    ys = [*ys[:3], 0.5]  # not a hinge label
    with pytest.warns(nn.CompileFallbackWarning, match="example 3's loss"), \
            pytest.raises(ValueError, match="fit: example 3 .*label must be -1 or \\+1"):
        nn.fit(nn.MLP(2, [3, 1], seed=0), (xs, ys), loss="hinge", lr=0.1, epochs=3,
               compile=True)


def test_divergence_is_reported_at_the_same_epoch():
    def diverge(compile):
        model = nn.MLP(1, [4, 1], activation="linear", seed=0)
        with warnings.catch_warnings(), pytest.raises(nn.train.DivergedError) as caught:
            warnings.simplefilter("error", nn.CompileFallbackWarning)  # no fallback: the error
            nn.fit(model, nn.data.kramer(), loss="mse", lr=1e150, epochs=20, compile=compile)
        return caught.value
    compiled, eager = diverge(True), diverge(False)
    assert compiled.epoch == eager.epoch
    assert str(compiled) == str(eager)


# ---------------------------------------------------------------- the option itself


@pytest.mark.parametrize("value", ["yes", 1, None, 0.0])
def test_compile_must_be_a_bool(value):
    with pytest.raises(TypeError, match="fit: compile must be True or False, not"):
        nn.fit(nn.MLP(2, [1], seed=0), nn.data.xor(), compile=value)
