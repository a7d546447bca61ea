"""Loss functions for one example, as the lectures write them. Each returns a ``Value``.

Predictions may be Values or plain numbers; targets are numbers (or Values, which then
take part in the graph). A batch's loss is the mean of its examples' losses, or their sum
(``fit(..., reduction="sum")``; ``reduce`` does either). The gradients are whatever the
engine's table of primitives gives; the tests check them against the lectures' closed forms:

=============================  =====================================  =========================
loss                           formula                                gradient (lecture)
=============================  =====================================  =========================
``half_squared_error(y_, y)``  ½ Σ (y − ŷ)²                           dC/dŷ = ŷ − y (Kramer)
``mse(y_, y)``                 (1/n) Σ (ŷ − y)²                       2(ŷ − y)/n
``binary_cross_entropy(y, t)`` −t ln y − (1 − t) ln(1 − y)            −t/y + (1 − t)/(1 − y) (L5)
``binary_cross_entropy_with_logits(z, t)``  the same with y = σ(z)    σ(z) − t
``softmax_cross_entropy(z, k)``  −Σ t_j ln softmax(z)_j               y_i − t_i (Lecture 5)
``hinge(s, y)``                max(0, 1 − y·s),  y ∈ {−1, +1}         −y where y·s ≤ 1
=============================  =====================================  =========================

Sum or mean (``reduction=``). The two squared errors combine one term per output, and
``reduction`` says how: ``"sum"`` (Σ, half_squared_error's default: Kramer's and Kauchak's
½(y − ŷ)², H&J's ½‖v_d − y‖²) or ``"mean"`` (÷ the number of outputs, mse's default).
``reduce(losses, reduction)`` does the same over examples, as ``fit`` does for a batch:
Kauchak's "Σ squared error" over the training set is ``"sum"``, H&J's (1/m) Σ_i L is
``"mean"``. With the sum a slide's α or η is the learning rate to pass as it stands; with
the mean over n examples the same step needs lr = n·η. The cross-entropies and the hinge
are one term each (a sum over classes weighted by target probabilities is the definition
of softmax cross-entropy, not a choice), so they take no ``reduction``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd_lite import Constant, Value
from autograd_lite.engine import constant

__all__ = [
    "LOSSES", "REDUCTIONS", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "check_reduction", "get", "half_squared_error", "hinge", "log_softmax", "mse", "reduce",
    "softmax", "softmax_cross_entropy",
]

REDUCTIONS = ("mean", "sum")

# Every loss computes on Values only: a number given as a prediction or target becomes a
# constant of the graph (it gets no gradient), so there is one code path, not a float twin.
Scalar = Value
Loss = Callable[[Any, Any], Value]


# ---------------------------------------------------------------- checking inputs


def _scalar(x: Any, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a Value or a real number, not {type(x).__name__}")
    number = float(x)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number!r}")
    return constant(number)


def _data(x: Value) -> float:
    return x.data


def _given(x: Value, number: float) -> bool:
    """Is ``x`` exactly ``number``, written as a number (a constant)?"""
    return type(x) is Constant and x.data == number


def _as_list(x: Any, what: str) -> list[Value]:
    """A prediction/target as a list of scalars: one number or Value, or a sequence of them."""
    if isinstance(x, (Value, numbers.Real)) and not isinstance(x, bool):
        return [_scalar(x, what)]
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{what} must be a number, a Value or a list of them, not str")
    try:
        items = list(x)
    except TypeError:
        raise TypeError(f"{what} must be a number, a Value or a list of them, "
                        f"not {type(x).__name__}") from None
    if not items:
        raise ValueError(f"{what} is empty")
    return [_scalar(item, f"{what}[{i}]") for i, item in enumerate(items)]


def _pairs(prediction: Any, target: Any, loss: str) -> list[tuple[Value, Value]]:
    ys = _as_list(prediction, f"{loss}: prediction")
    ts = _as_list(target, f"{loss}: target")
    if len(ys) != len(ts):
        raise ValueError(f"{loss}: prediction has {len(ys)} value(s) but target has {len(ts)}")
    return list(zip(ys, ts))


def _total(terms: Sequence[Value]) -> Value:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def check_reduction(reduction: Any, where: str) -> str:
    """``reduction`` if it is "sum" or "mean", else an error naming ``where``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'sum' or 'mean', got {reduction!r}")
    return reduction


def _reduced(terms: Sequence[Value], reduction: str) -> Value:
    """The terms added in order, then divided by their count for "mean" (one term: as is)."""
    total = _total(terms)
    if reduction == "mean" and len(terms) > 1:
        return total / len(terms)
    return total


def reduce(losses: Any, reduction: str = "mean") -> Value:
    """Several losses (one per example, say) as one: their sum, or their mean.

    The terms are added in order (``((l0 + l1) + l2) …``) and, for "mean", the total is
    divided by their number, as ``fit`` does for a mini-batch. Numbers become constants.

    >>> reduce([1.0, 2.0, 6.0], "sum").data, reduce([1.0, 2.0, 6.0]).data
    (9.0, 3.0)
    """
    reduction = check_reduction(reduction, "reduce")
    return _reduced(_as_list(losses, "reduce: losses"), reduction)


def _named(loss: Value) -> Value:
    """The loss labelled ``loss`` (a drawing shows it as one), unless it is already named
    or is a constant (numbers only: constants are shared and cannot be renamed)."""
    if type(loss) is not Constant and not loss.label:
        loss.label = "loss"
    return loss


# ---------------------------------------------------------------- regression


def half_squared_error(prediction: Any, target: Any, reduction: str = "sum") -> Value:
    """½ Σ (target − prediction)²: Kramer's C = ½(target − out)², Kauchak's ½(y − ŷ)².

    One output or a list of outputs, then summed as in Haghtalab & Joachims' ½‖v_d − y‖²
    (``reduction="mean"``: ½ (1/n) Σ instead). dC/dprediction = prediction − target
    (÷ n for the mean).
    """
    reduction = check_reduction(reduction, "half_squared_error")
    pairs = _pairs(prediction, target, "half_squared_error")
    return _named(_reduced([0.5 * (t - y) ** 2 for y, t in pairs], reduction))


def mse(prediction: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean squared error over the outputs: (1/n) Σ (prediction − target)²
    (``reduction="sum"``: Σ (prediction − target)², without the ½)."""
    reduction = check_reduction(reduction, "mse")
    pairs = _pairs(prediction, target, "mse")
    terms = [(y - t) ** 2 for y, t in pairs]
    if reduction == "mean":  # also for one output: ÷ 1, the graph it always had
        return _named(_total(terms) / len(terms))
    return _named(_total(terms))


# ---------------------------------------------------------------- binary classification


def _probability_target(t: Any, loss: str) -> Value:
    t = _scalar(t, f"{loss}: target")
    if not 0.0 <= _data(t) <= 1.0:
        raise ValueError(f"{loss}: target must be a probability in [0, 1] (a class 0 or 1), "
                         f"got {_data(t)!r}")
    return t


def binary_cross_entropy(prediction: Any, target: Any) -> Value:
    """E = −t ln y − (1 − t) ln(1 − y) for a probability y (a sigmoid output) — Lecture 5.

    dE/dy = −t/y + (1 − t)/(1 − y). A term whose target weight is exactly 0 is left out,
    so y = 1 with t = 1 gives 0, not ln 0. For logits prefer
    :func:`binary_cross_entropy_with_logits`, which cannot saturate.
    """
    y = _scalar(prediction, "binary_cross_entropy: prediction")
    t = _probability_target(target, "binary_cross_entropy")
    p = _data(y)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"binary_cross_entropy: prediction must be a probability in [0, 1] "
                         f"(e.g. a sigmoid output), got {p!r}")
    terms: list[Value] = []
    if not _given(t, 0.0):
        if p == 0.0:
            raise ValueError("binary_cross_entropy: prediction is 0 but the target is "
                             f"{_data(t)!r}: the loss −t·ln(0) is infinite (a saturated "
                             "sigmoid? use binary_cross_entropy_with_logits)")
        terms.append(-t * _log(y))
    if not _given(t, 1.0):
        if p == 1.0:
            raise ValueError("binary_cross_entropy: prediction is 1 but the target is "
                             f"{_data(t)!r}: the loss −(1 − t)·ln(0) is infinite (a saturated "
                             "sigmoid? use binary_cross_entropy_with_logits)")
        terms.append(-(1 - t) * _log(1 - y))
    return _named(_total(terms))


def _log(x: Value) -> Value:
    return x.log()


def _softplus(z: Value) -> Value:
    """ln(1 + e^z) without overflow: both branches are the same smooth function."""
    if z.data > 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


def binary_cross_entropy_with_logits(logit: Any, target: Any) -> Value:
    """Binary cross-entropy of y = σ(z), computed from the logit z: ln(1 + e^z) − t·z.

    Equal to ``binary_cross_entropy(sigmoid(z), t)`` but finite for any z; dE/dz = σ(z) − t.
    """
    z = _scalar(logit, "binary_cross_entropy_with_logits: logit")
    t = _probability_target(target, "binary_cross_entropy_with_logits")
    return _named(_total([_softplus(z) - t * z]))


def hinge(score: Any, label: Any) -> Value:
    """max(0, 1 − y·s) for a label y ∈ {−1, +1} and a score s (the SVM / micrograd loss).

    Its gradient is −y where y·s < 1 and 0 where y·s > 1; at the kink y·s = 1 the engine's
    ReLU′(0) = 1 convention (the lecture table's) gives −y.
    """
    s = _scalar(score, "hinge: score")
    y = _scalar(label, "hinge: label")
    if _data(y) not in (-1.0, 1.0):
        raise ValueError(f"hinge: label must be -1 or +1, got {_data(y)!r} "
                         "(for 0/1 labels use binary_cross_entropy_with_logits)")
    return _named((1 - y * s).relu())


# ---------------------------------------------------------------- several classes


def _logits(logits: Any, what: str) -> list[Value]:
    if isinstance(logits, (Value, numbers.Real)):
        raise TypeError(f"{what}: logits must be a list of numbers or Values (one per class), "
                        f"not a single {type(logits).__name__}")
    return _as_list(logits, f"{what}: logits")


def _log_softmax(zs: list[Value]) -> list[Value]:
    # Shift by the largest logit (a constant: the shift cancels in the gradient) so that
    # exp never overflows: log softmax(z)_i = z_i − m − ln Σ_j e^(z_j − m).
    m = max(_data(z) for z in zs)
    shifted = [z - m for z in zs]
    exps = [s.exp() for s in shifted]
    log_total = _log(_total(exps))
    return [s - log_total for s in shifted]


def log_softmax(logits: Any) -> list[Value]:
    """ln softmax(z)_i = z_i − ln Σ_j e^(z_j), computed without overflow."""
    return _log_softmax(_logits(logits, "log_softmax"))


def softmax(logits: Any) -> list[Value]:
    """y_i = e^(z_i) / Σ_j e^(z_j) (Lecture 5's softmax), computed without overflow."""
    zs = _logits(logits, "softmax")
    m = max(_data(z) for z in zs)
    exps = [(z - m).exp() for z in zs]
    total = _total(exps)
    return [e / total for e in exps]


def softmax_cross_entropy(logits: Any, target: Any) -> Value:
    """E = −Σ_j t_j ln y_j with y = softmax(logits) — Lecture 5; dE/dz_i = y_i − t_i.

    ``target`` is the index of the correct class (t is then one-hot), or a list of target
    probabilities t_j (non-negative, summing to 1), one per logit.
    """
    zs = _logits(logits, "softmax_cross_entropy")
    log_y = _log_softmax(zs)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not 0 <= int(target) < len(zs):
            raise IndexError(f"softmax_cross_entropy: target class {target} is out of range "
                             f"for {len(zs)} logits (classes 0 to {len(zs) - 1})")
        return _named(-log_y[int(target)])
    if isinstance(target, (bool, float, Value)):
        raise TypeError("softmax_cross_entropy: target must be a class index (int) or a list "
                        f"of probabilities, not {type(target).__name__}")
    ts = _as_list(target, "softmax_cross_entropy: target")
    if len(ts) != len(zs):
        raise ValueError(f"softmax_cross_entropy: {len(zs)} logits but {len(ts)} target "
                         "probabilities")
    probabilities = [_data(t) for t in ts]
    if min(probabilities) < 0 or not math.isclose(sum(probabilities), 1.0, abs_tol=1e-9):
        raise ValueError("softmax_cross_entropy: target probabilities must be >= 0 and sum "
                         f"to 1, got {probabilities}")
    terms = [-t * ly for t, ly in zip(ts, log_y) if not _given(t, 0.0)]
    return _named(_total(terms))


# ---------------------------------------------------------------- by name

LOSSES: dict[str, Loss] = {
    "half_squared_error": half_squared_error,
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "softmax_cross_entropy": softmax_cross_entropy,
    "hinge": hinge,
}


def get(loss: str | Loss) -> Loss:
    """A loss function from its name (``"hinge"``) or the function itself."""
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
                     "or pass a function (prediction, target) -> Value")
