"""The perceptron: one threshold unit trained by the perceptron learning rule.

Kauchak's neuron with the hard threshold g(in) = 1 if in ≥ θ, else 0, and Lecture 5's
"perceptron convergence procedure": the threshold becomes a bias weight b = −θ (on an
extra input fixed at 1), so the unit is y = step(w·x + b) with step(z) = 1 for z ≥ 0,
else 0 (``autograd_lite.PRIMITIVES["step"]``). Training goes through the examples and, for
each one, applies

    w ← w + η·(t − y)·x,    b ← b + η·(t − y)

which leaves the weights alone when the output is right, adds η·x when the output is 0 but
should be 1, and subtracts η·x when it is 1 but should be 0 (Lecture 5, with η = 1).

The rule finds weights that classify every example correctly whenever such weights exist
(AND, OR: linearly separable), and never otherwise: on XOR every epoch makes a mistake.
The step's slope is 0 wherever it is defined, so gradient descent (``nn.fit``) cannot
train this unit; that is why it has a rule of its own::

    import nn
    p = nn.Perceptron(2, seed=0)
    and_data = ([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1])
    p.train(and_data, epochs=20)    # mistakes per epoch, ending with 0
    p.train(nn.data.xor(), epochs=20)   # never 0
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Any

from autograd_lite import no_grad

from .module import Neuron, Seed, _check_inputs
from .train import _positive_int

__all__ = ["Perceptron"]


class Perceptron(Neuron):
    """y = step(w·x + b): a ``Neuron`` with the step (threshold) activation, and ``train``.

    ``nin`` inputs; ``seed`` (an int, a ``random.Random`` or None) draws the starting
    weights as any ``Neuron``'s (uniform, Glorot's limit; the bias starts at 0);
    ``set_parameters`` sets them by hand (``[0, 0, 0]`` is the textbook start).
    Calling it on ``nin`` numbers gives a ``Value`` of 0.0 or 1.0 (a graph: ``trace``,
    ``draw`` and ``explain`` read it like any neuron's). Parameters are labelled ``w0``,
    ``w1`` ... and ``b`` (prefixed by ``name.`` when a name is given).
    """

    def __init__(self, nin: int, seed: Seed = None, *, bias: bool = True,
                 name: str = "") -> None:
        super().__init__(nin, "step", bias, seed, name=name)

    def predict(self, x: Any) -> int:
        """The unit's output for one input, 0 or 1, without building a graph."""
        with no_grad():
            return int(self(x).data)

    def train(self, data: Any, epochs: int = 100, lr: float = 1.0, *, shuffle: bool = False,
              seed: int | None = 0) -> list[int]:
        """The perceptron learning rule; returns the number of mistakes in each epoch.

        ``data`` is a pair ``(xs, ys)`` (e.g. ``nn.data.xor()``) with targets 0 or 1 (the
        step's outputs). Each epoch goes through the examples in order (``shuffle=True``:
        reshuffled every epoch with a private ``random.Random(seed)``, as ``nn.fit`` does)
        and, for each, computes y = step(w·x + b) with the current weights; a mistake
        (y ≠ t) changes them by w ← w + lr·(t − y)·x, b ← b + lr·(t − y).

        Training stops after the first epoch without a mistake: the weights did not change
        in it, so every later epoch would be the same. So ``len(result)`` is the number of
        epochs run, and ``result[-1] == 0`` says the data were learned (linearly
        separable data always are, given enough epochs); on XOR no entry is ever 0.
        """
        xs, ys = _examples(data, self.nin)
        epochs = _positive_int(epochs, "Perceptron.train epochs")
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) \
                or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"Perceptron.train: lr must be a finite number > 0, got {lr!r}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"Perceptron.train: shuffle must be True or False, "
                            f"not {type(shuffle).__name__}")
        rate = float(lr)
        rng = random.Random(seed)
        order = list(range(len(xs)))
        mistakes: list[int] = []
        for _ in range(epochs):
            if shuffle:
                rng.shuffle(order)
            wrong = 0
            for i in order:
                x, t = xs[i], ys[i]
                y = self.predict(x)
                if y != t:
                    wrong += 1
                    change = rate * (t - y)
                    for w, xj in zip(self.w, x):
                        w.data += change * xj
                    if self.b is not None:
                        self.b.data += change
            mistakes.append(wrong)
            if wrong == 0:
                break
        return mistakes

    def __repr__(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return f"Perceptron({self.nin}{bias})"


def _examples(data: Any, nin: int) -> tuple[list[list[float]], list[int]]:
    """(xs, ys) checked: each x ``nin`` finite numbers, each target 0 or 1."""
    try:
        xs, ys = data
    except (TypeError, ValueError):
        raise TypeError("Perceptron.train: data must be a pair (xs, ys), e.g. nn.data.xor(), "
                        f"not {type(data).__name__}") from None
    xs, ys = list(xs), list(ys)
    if len(xs) != len(ys):
        raise ValueError(f"Perceptron.train: {len(xs)} inputs but {len(ys)} targets")
    if not xs:
        raise ValueError("Perceptron.train: data is empty: no examples to train on")
    rows: list[list[float]] = []
    for index, x in enumerate(xs):
        checked = _check_inputs(x, nin, f"Perceptron.train: example {index}")
        rows.append([v if isinstance(v, float) else v.data for v in checked])
    targets: list[int] = []
    for index, t in enumerate(ys):
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or t not in (0, 1):
            raise ValueError(f"Perceptron.train: example {index}'s target is {t!r}; a "
                             "perceptron's targets are 0 or 1, the step unit's outputs "
                             "(nn.data.xor() with its default labels=(0, 1))")
        targets.append(1 if t == 1 else 0)
    return rows, targets
