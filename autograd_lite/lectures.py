"""The lectures' example graphs, built once, labelled as the slides label them.

Tests, docs, notebooks and the CLI demo all start from these instead of rebuilding them.
"""

from __future__ import annotations

from .engine import Value

__all__ = ["KRAMER_FIRST_GUESS", "kramer_chain"]

# Kramer, "Forward propagation": the input and the first guess of the weights.
KRAMER_FIRST_GUESS = {"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5}


def kramer_chain(s0: float = 2.0, w0: float = 2.0, w1: float = 1.0,
                 w2: float = 0.5) -> dict[str, Value]:
    """Kramer's one-path chain s0 → (w0) → x1 → S → s1 → (w1) → x2 → S → s2 → (w2) → out.

    Returns every node by its slide name: ``s0 w0 w1 w2`` (leaves) and ``x1 s1 x2 s2 out``.
    With the defaults: s1 = 0.982, s2 = 0.7275, out = 0.3638, as on the slides.
    """
    n = {name: Value(number, name) for name, number in
         (("s0", s0), ("w0", w0), ("w1", w1), ("w2", w2))}
    n["x1"] = n["w0"] * n["s0"]
    n["s1"] = n["x1"].sigmoid()
    n["x2"] = n["w1"] * n["s1"]
    n["s2"] = n["x2"].sigmoid()
    n["out"] = n["w2"] * n["s2"]
    for name in ("x1", "s1", "x2", "s2", "out"):
        n[name].label = name
    return n
