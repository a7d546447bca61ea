"""The lectures as data: every number and formula of a slide the library reproduces, once.

Mark Kramer's "Backpropagation" slides: a one-path sigmoid chain worked with numbers. The demo, nn's
datasets, the notebooks, the examples and the benchmark read the facts here; the tests check
them against the slides. ``kramer_chain()`` builds the graph labelled as on the slides.
"""

from __future__ import annotations

from types import MappingProxyType

from .engine import Value

__all__ = [
    "KRAMER_FIRST_GUESS", "KRAMER_GRAPH", "KRAMER_ROWS", "KRAMER_SLIDE_FORMULAS",
    "KRAMER_SLIDE_FORWARD", "KRAMER_TARGET", "KRAMER_WEIGHTS", "kramer_chain",
]

# The network, in the graph language of the command line (the same text works with trace,
# explain, draw): s0 → (w0) → x1 → S → s1 → (w1) → x2 → S → s2 → (w2) → out.
KRAMER_GRAPH = "x1 = w0*s0; s1 = sigmoid(x1); x2 = w1*s1; s2 = sigmoid(x2); out = w2*s2"

# "Forward propagation": the input and the first guess of the weights; the target output.
KRAMER_FIRST_GUESS = MappingProxyType({"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5})
KRAMER_TARGET = 0.7

# The forward values as the slide prints them (to its digits).
KRAMER_SLIDE_FORWARD = MappingProxyType(
    {"x1": "4", "s1": "0.982", "x2": "0.982", "s2": "0.7275", "out": "0.3638"})

# "How does a change in weight impact output?": the three formulas, in the graph language.
KRAMER_SLIDE_FORMULAS = MappingProxyType({
    "w2": "s2",
    "w1": "w2*s2*(1 - s2)*s1",
    "w0": "w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0",
})

# The six (s0, out) rows printed on the slides ("What weights (w0 w1 w2) produced these
# data?"). A least-squares fit in NumPy/SciPy answers the slide's question: every row is
# out = w2·S(w1·S(w0·s0)) with (w0, w1, w2) = (1, −2, 3), to the 8 printed digits.
KRAMER_ROWS: tuple[tuple[float, float], ...] = (
    (0.32625098, 0.71507894),
    (-0.65595776, 1.0065779),
    (-0.9664146, 1.09676408),
    (1.53148642, 0.48558244),
    (-1.07312405, 1.12584863),
    (1.32680081, 0.51212226),
)
KRAMER_WEIGHTS: tuple[float, float, float] = (1.0, -2.0, 3.0)


def kramer_chain(s0: float = KRAMER_FIRST_GUESS["s0"], w0: float = KRAMER_FIRST_GUESS["w0"],
                 w1: float = KRAMER_FIRST_GUESS["w1"],
                 w2: float = KRAMER_FIRST_GUESS["w2"]) -> dict[str, Value]:
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
