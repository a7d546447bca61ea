"""Small datasets, generated in code (with a seed where there is randomness).

Each function returns a ``Dataset``: ``xs`` (a list of input lists) and ``ys`` (a list of
targets), so ``xs, ys = data.xor()`` works and ``fit(model, data.xor(), ...)`` too.
"""

from __future__ import annotations

import math
import numbers
import random
from typing import NamedTuple

from autograd_lite import lectures
from autograd_lite.primitives import FLOAT

__all__ = ["KRAMER_ROWS", "KRAMER_WEIGHTS", "Dataset", "kramer", "two_moons", "xor"]


class Dataset(NamedTuple):
    xs: list[list[float]]
    ys: list[float]


def _count(n: object, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def _labels(labels: tuple[float, float], where: str) -> tuple[float, float]:
    try:
        negative, positive = labels
    except (TypeError, ValueError):
        raise ValueError(f"{where}: labels must be a pair (label of class 0, label of "
                         f"class 1), got {labels!r}") from None
    if negative == positive:
        raise ValueError(f"{where}: the two class labels must differ, got {labels!r}")
    return negative, positive


def xor(labels: tuple[float, float] = (0.0, 1.0)) -> Dataset:
    """Kauchak's XOR table: inputs (x1, x2) ∈ {0, 1}², target x1 xor x2.

    ``labels=(-1, 1)`` gives targets for a tanh output or the hinge loss.
    """
    negative, positive = _labels(labels, "xor")
    xs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    ys = [negative, positive, positive, negative]
    return Dataset(xs, ys)


def two_moons(n: int = 100, noise: float = 0.1, seed: int | None = 0,
              labels: tuple[float, float] = (0.0, 1.0)) -> Dataset:
    """Two interleaving half circles (the construction of scikit-learn's ``make_moons``).

    Class 0: (cos t, sin t); class 1: (1 − cos t, ½ − sin t), for t evenly spaced in [0, π];
    then Gaussian noise of standard deviation ``noise`` on both coordinates, and the rows
    shuffled. ``n // 2`` points (rounded up) are in class 0. Same seed, same data; the
    global ``random`` state is never used.
    """
    n = _count(n, "two_moons n")
    if n < 2:
        raise ValueError(f"two_moons needs n >= 2 (one point per moon), got {n}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"two_moons noise must be a number >= 0, got {noise!r}")
    negative, positive = _labels(labels, "two_moons")
    rng = random.Random(seed)
    n_outer = n - n // 2
    n_inner = n // 2

    def angles(count: int) -> list[float]:
        return [math.pi * i / (count - 1) if count > 1 else 0.0 for i in range(count)]

    rows = [([math.cos(t), math.sin(t)], negative) for t in angles(n_outer)]
    rows += [([1.0 - math.cos(t), 0.5 - math.sin(t)], positive) for t in angles(n_inner)]
    rng.shuffle(rows)
    xs = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] for (x, y), _ in rows]
    ys = [label for _, label in rows]
    return Dataset(xs, ys)


# The slide's data and the weights that produced it live with the lecture's other facts.
KRAMER_ROWS = lectures.KRAMER_ROWS
KRAMER_WEIGHTS = lectures.KRAMER_WEIGHTS


def kramer(n: int | None = None, seed: int | None = 0) -> Dataset:
    """Kramer's data table: inputs [s0], targets out.

    Without ``n``: the six rows printed on the slides. With ``n``: ``n`` rows more of the
    same kind — s0 drawn from a standard normal (seeded), out from the chain
    out = w2·S(w1·S(w0·s0)) with the weights (1, −2, 3) that produced the printed rows.
    """
    if n is None:
        return Dataset([[s0] for s0, _ in KRAMER_ROWS], [out for _, out in KRAMER_ROWS])
    n = _count(n, "kramer n")
    rng = random.Random(seed)
    w0, w1, w2 = KRAMER_WEIGHTS
    sigmoid = FLOAT.sigmoid  # the engine's own (stable) forward rule, on plain floats
    s0s = [rng.gauss(0.0, 1.0) for _ in range(n)]
    return Dataset([[s0] for s0 in s0s], [w2 * sigmoid(w1 * sigmoid(w0 * s0)) for s0 in s0s])
