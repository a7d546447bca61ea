"""nn.data: Kauchak's XOR table, two moons (geometry checked by hand), Kramer's table."""

import math
import random

import numpy as np
import pytest

from nn import data


def test_xor_is_kauchaks_table():
    # x1 x2 | x1 xor x2:  0 0 | 0,  0 1 | 1,  1 0 | 1,  1 1 | 0
    xs, ys = data.xor()
    assert xs == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ys == [0, 1, 1, 0]
    assert data.xor(labels=(-1, 1)).ys == [-1, 1, 1, -1]
    with pytest.raises(ValueError, match="the two class labels must differ"):
        data.xor(labels=(1, 1))


def test_two_moons_without_noise_lies_on_the_two_half_circles():
    xs, ys = data.two_moons(n=41, noise=0.0, seed=3)
    assert len(xs) == len(ys) == 41
    assert ys.count(0.0) == 21 and ys.count(1.0) == 20
    for (x, y), label in zip(xs, ys):
        if label == 0:  # upper moon: (cos t, sin t), t ∈ [0, π]
            assert math.hypot(x, y) == pytest.approx(1.0) and y >= -1e-12
        else:  # lower moon: (1 − cos t, ½ − sin t)
            assert math.hypot(x - 1, y - 0.5) == pytest.approx(1.0) and y <= 0.5 + 1e-12
    # the end points of both arcs are there: t = 0 and t = π
    points = {(round(x, 9), round(y, 9)) for x, y in xs}
    assert {(1.0, 0.0), (-1.0, 0.0), (0.0, 0.5), (2.0, 0.5)} <= points


def test_two_moons_noise_has_the_requested_spread():
    clean = data.two_moons(n=2000, noise=0.0, seed=1)
    noisy = data.two_moons(n=2000, noise=0.1, seed=1)
    # Same seed, same shuffle; the difference is the Gaussian noise: std 0.1 per coordinate.
    offsets = np.array(noisy.xs) - np.array(clean.xs)
    assert offsets.std() == pytest.approx(0.1, rel=0.05)
    assert abs(offsets.mean()) < 0.01


def test_two_moons_is_reproducible_and_leaves_the_global_rng_alone():
    random.seed(7)
    before = random.getstate()
    a = data.two_moons(seed=5)
    assert random.getstate() == before
    assert data.two_moons(seed=5) == a
    assert data.two_moons(seed=6) != a
    assert set(data.two_moons(labels=(-1, 1)).ys) == {-1, 1}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 1}, "needs n >= 2"),
    ({"n": 0}, "n must be a positive int, got 0"),
    ({"noise": -0.1}, "noise must be a number >= 0"),
    ({"labels": (0,)}, "labels must be a pair"),
])
def test_two_moons_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.two_moons(**kwargs)


def test_more_kramer_rows_come_from_the_same_chain():
    xs, ys = data.kramer(n=200, seed=2)
    s0 = np.array([x[0] for x in xs])
    S = lambda x: 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ys, 3 * S(-2 * S(1 * s0)), rtol=1e-14)
    assert s0.std() == pytest.approx(1.0, rel=0.15)  # standard normal inputs, like the slide's
    assert data.kramer(n=200, seed=2) == (xs, ys)
    with pytest.raises(ValueError, match="kramer n must be a positive int"):
        data.kramer(n=0)
