"""explain_update: Kramer's first gradient-descent step in the lecture's notation (issue 15).

With target 0.7 and α = 0.5 the lecture's first step gives the weights 2.0006, 1.0164 and
0.6223 (w0, w1, w2); the numbers here are also worked by hand with the slide's sigmoid.
"""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value, explain_update
from autograd_lite.lectures import kramer_chain


def kramer_cost():
    n = kramer_chain()
    target = Value(0.7, label="target")
    cost = 0.5 * (n["out"] - target) ** 2  # Kramer's C = ½(out − target)²
    cost.label = "C"
    return n, cost


def S(x):  # noqa: N802 - the slide's sigmoid
    return 1 / (1 + math.exp(-x))


def test_the_first_step_gives_the_lectures_weights():
    n, cost = kramer_cost()
    new = {w: explain_update(cost, n[w], lr=0.5).new_value for w in ("w0", "w1", "w2")}
    assert {w: round(v, 4) for w, v in new.items()} == {"w0": 2.0006, "w1": 1.0164,
                                                         "w2": 0.6223}
    # by hand: s1 = S(4), s2 = S(s1), dC/dw1 = (out − target)·w2·s2(1 − s2)·s1
    s1 = S(2 * 2)
    s2 = S(1 * s1)
    out = 0.5 * s2
    assert math.isclose(new["w1"], 1 - 0.5 * (out - 0.7) * 0.5 * s2 * (1 - s2) * s1,
                        rel_tol=1e-12)


def test_the_line_reads_as_the_lecture_writes_it():
    n, cost = kramer_cost()
    update = explain_update(cost, n["w1"], lr=0.5)
    # the ½ and the 2 of the squared error cancel; u1 is written as out − target
    assert str(update) == ("w1 ← w1 − α·(out − target) · w2 · s2·(1 − s2) · s1 = 1 − "
                           "0.5·(−0.03273) = 1.0164")
    assert "η·" in str(explain_update(cost, n["w2"], lr=0.5, symbol="η"))


def test_apply_writes_the_new_weight():
    n, cost = kramer_cost()
    update = explain_update(cost, n["w2"], lr=0.5, apply=True)
    assert n["w2"].data == update.new_value == 0.5 - 0.5 * update.gradient


def test_bad_input_is_refused():
    n, cost = kramer_cost()
    with pytest.raises(ValueError, match="positive"):
        explain_update(cost, n["w1"], lr=0)
    with pytest.raises(ValueError, match="is computed"):
        explain_update(cost, n["x1"], lr=0.5)
    with pytest.raises(TypeError, match="must be a Value"):
        explain_update(cost, "w1", lr=0.5)
