"""The lectures as data: every number and formula of a slide the library reproduces, once.

Mark Kramer's "Backpropagation" slides: a one-path sigmoid chain worked with numbers. The demo, nn's
datasets, the notebooks, the examples and the benchmark read the facts here; the tests check
them against the slides. ``kramer_chain()`` builds the graph labelled as on the slides,
``kramer_cost()`` adds the cost C = ½(target − out)², and ``kramer_descent()`` walks
"Put it all together" (the path drawn on the cost surface C(w1, w2) in notebook 1).

Haghtalab & Joachims, "Backpropagation in Networks": ``delta_network(W, v0, y)`` builds a
network given by the slides' column matrices out of scalar Values, and reads the δ
recursion off that scalar graph, layer by layer (``.layers()``; notebook 3 shows it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._options import check_count
from .engine import Value
from .functional import gradients
from .notation import number
from .primitives import FLOAT, PRIMITIVES

__all__ = [
    "KRAMER_FIRST_GUESS", "KRAMER_GRAPH", "KRAMER_ROWS", "KRAMER_SLIDE_FORMULAS",
    "KRAMER_SLIDE_FORWARD", "KRAMER_TARGET", "KRAMER_WEIGHTS", "DeltaLayer", "DeltaNetwork",
    "delta_network", "kramer_chain", "kramer_cost", "kramer_descent",
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


def kramer_cost(target: float = KRAMER_TARGET, **inputs: float) -> dict[str, Value]:
    """Kramer's chain and its cost, "Create a cost function": C = ½(target − out)².

    Returns ``kramer_chain(**inputs)``'s nodes and the cost as ``"C"`` (labelled ``C``).
    With the defaults C = ½(0.7 − 0.3638)² = 0.0565 and dC/dout = out − target = −0.3362.
    """
    if isinstance(target, bool) or not isinstance(target, (int, float)) \
            or not math.isfinite(target):
        raise TypeError(f"kramer_cost: target must be a finite number, not {target!r}")
    unknown = sorted(set(inputs) - set(KRAMER_FIRST_GUESS))
    if unknown:
        raise TypeError(f"kramer_cost: unknown input {unknown[0]!r}; the chain's inputs are "
                        "s0, w0, w1, w2")
    n = kramer_chain(**inputs)
    n["C"] = 0.5 * (target - n["out"]) ** 2
    n["C"].label = "C"
    return n


def kramer_descent(steps: int, alpha: float, *, target: float = KRAMER_TARGET,
                   wrt: Sequence[str] = ("w0", "w1", "w2"),
                   start: Mapping[str, float] = KRAMER_FIRST_GUESS) -> list[dict[str, float]]:
    """Gradient descent on Kramer's cost, as the slides "Put it all together" prescribe.

    From ``start`` (the slides' first guess): 2. calculate out (and C); 3. update every
    weight named in ``wrt`` by w ← w − α dC/dw, dC/dw from ``backward()`` (the others stay);
    4. repeat. Returns the ``steps + 1`` points visited, the start first, each as a dict of
    ``s0 w0 w1 w2 out C``: with ``wrt=("w1", "w2")`` the path over the surface C(w1, w2).
    """
    check_count("kramer_descent", "steps", steps)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) \
            or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"kramer_descent: alpha must be a positive number, not {alpha!r}")
    names = list(wrt) if not isinstance(wrt, str) else [wrt]
    if not names or any(name not in ("w0", "w1", "w2") for name in names):
        raise ValueError(f"kramer_descent: wrt must name weights among w0, w1, w2, got {wrt!r}")
    point = {**KRAMER_FIRST_GUESS, **start}
    path = []
    for step in range(steps + 1):
        n = kramer_cost(target, **point)
        path.append({**point, "out": n["out"].data, "C": n["C"].data})
        if step == steps:
            break
        n["C"].backward()
        point = {**point, **{name: point[name] - alpha * n[name].grad for name in names}}
    return path


# ---------------------------------------------------------------- Haghtalab & Joachims


def _vector(values: Sequence[float]) -> str:
    return "[" + ", ".join(number(v) for v in values) + "]"


def _matrix(rows: Sequence[Sequence[float]]) -> str:
    return "[" + "; ".join(", ".join(number(v) for v in row) for row in rows) + "]"


@dataclass(frozen=True)
class DeltaLayer:
    """Layer ℓ of the slide "Back Propagation", read off the scalar graph.

    ``W`` is W_ℓ (a row per node of layer ℓ, a column per node of layer ℓ + 1), ``v`` is
    v_ℓ, ``delta_next`` is δ_{ℓ+1} = ∂L/∂s_{ℓ+1} (the engine's gradients at the weighted-sum
    nodes), ``grad_weights`` is ∂L/∂W_ℓ (the engine's gradients at the weights: the slide's
    v_ℓ δ_{ℓ+1}ᵀ), and for ℓ ≥ 1 ``recursion`` is (W_ℓ δ_{ℓ+1}) ⊙ σ′(s_ℓ), the slide's δ_ℓ
    computed from those numbers and the table's σ′, with ``delta`` the engine's δ_ℓ beside it.
    """

    index: int
    W: tuple[tuple[float, ...], ...]
    v: tuple[float, ...]
    delta_next: tuple[float, ...]
    grad_weights: tuple[tuple[float, ...], ...]
    delta: tuple[float, ...] | None
    recursion: tuple[float, ...] | None

    def __str__(self) -> str:
        ell, nxt = self.index, self.index + 1
        lines = [f"ℓ = {ell}: W_{ell} is {len(self.W)}×{len(self.W[0])}",
                 f"  δ_{nxt} = ∂L/∂s_{nxt} = {_vector(self.delta_next)}",
                 f"  v_{ell} = {_vector(self.v)}",
                 f"  ∂L/∂W_{ell} = v_{ell} δ_{nxt}ᵀ = {_matrix(self.grad_weights)}"]
        if self.recursion is not None and self.delta is not None:
            lines.append(f"  δ_{ell} = (W_{ell} δ_{nxt}) ⊙ σ′(s_{ell}) = "
                         f"{_vector(self.recursion)}   (∂L/∂s_{ell}: {_vector(self.delta)})")
        return "\n".join(lines)


@dataclass(frozen=True)
class DeltaNetwork:
    """A sigmoid network in the slides' column convention, built of scalar Values.

    ``W[ℓ][i][j]`` is the weight from node i of layer ℓ to node j of layer ℓ + 1 (labelled
    ``W{ℓ}[i,j]``); ``v[ℓ]`` are the node values (``v{ℓ}[i]``; ``v[0]`` the input as given,
    its constant 1 included when the caller appends it), ``s[ℓ]`` the weighted sums
    s_ℓ = W_{ℓ−1}ᵀ v_{ℓ−1} (``s{ℓ}[j]``; ``s[0]`` is empty) and ``loss`` L = ½ Σ (v_d − y)².
    """

    W: list[list[list[Value]]]
    v: list[list[Value]]
    s: list[list[Value]]
    loss: Value

    def layers(self) -> list[DeltaLayer]:
        """Every layer, ℓ = d − 1 down to 0 (the order of the slide's loop), its numbers read
        off the scalar graph by one backward pass (no ``.grad`` is touched)."""
        sums = [node for layer in self.s for node in layer]
        weights = [w for matrix in self.W for row in matrix for w in row]
        found = gradients(self.loss, sums + weights)
        by_node = {id(node): g for node, g in zip(sums + weights, found)}
        delta = [tuple(by_node[id(node)] for node in layer) for layer in self.s]
        slope = PRIMITIVES["sigmoid"].derivatives[0]
        result = []
        for ell in range(len(self.W) - 1, -1, -1):
            W = tuple(tuple(w.data for w in row) for row in self.W[ell])
            recursion = None
            if ell > 0:  # δ_ℓ = (W_ℓ δ_{ℓ+1}) ⊙ σ′(s_ℓ); the input layer has no weighted sum
                recursion = tuple(
                    sum(W[i][j] * delta[ell + 1][j] for j in range(len(W[i])))
                    * slope(s.data, v.data, FLOAT)
                    for i, (s, v) in enumerate(zip(self.s[ell], self.v[ell])))
            result.append(DeltaLayer(
                index=ell, W=W, v=tuple(node.data for node in self.v[ell]),
                delta_next=delta[ell + 1],
                grad_weights=tuple(tuple(by_node[id(w)] for w in row) for row in self.W[ell]),
                delta=delta[ell] if ell > 0 else None, recursion=recursion))
        return result

    def __str__(self) -> str:
        d = len(self.W)
        head = (f"Back propagation, layer by layer: L = ½(v_{d} − y)² = {number(self.loss.data)}"
                f"; δ_{d} = (v_{d} − y) ⊙ σ′(s_{d})")
        return "\n".join([head, *(str(layer) for layer in self.layers())])

    def _repr_markdown_(self) -> str:
        rows = ["| ℓ | v_ℓ | δ_ℓ+1 = ∂L/∂s_ℓ+1 | ∂L/∂W_ℓ = v_ℓ δ_ℓ+1ᵀ | "
                "δ_ℓ = (W_ℓ δ_ℓ+1) ⊙ σ′(s_ℓ) |", "|---|---|---|---|---|"]
        for layer in self.layers():
            recursion = "—" if layer.recursion is None else _vector(layer.recursion)
            rows.append(f"| {layer.index} | {_vector(layer.v)} | {_vector(layer.delta_next)} | "
                        f"{_matrix(layer.grad_weights)} | {recursion} |")
        return "\n".join(rows)


def _floats(rows: Any, what: str) -> list[list[float]]:
    try:
        matrix = [[float(x) for x in row] for row in rows]
    except (TypeError, ValueError):
        raise TypeError(f"delta_network: {what} must be a matrix of numbers") from None
    if not matrix or not matrix[0] or any(len(row) != len(matrix[0]) for row in matrix):
        raise ValueError(f"delta_network: {what} must be a non-empty rectangular matrix")
    return matrix


def delta_network(W: Sequence[Any], v0: Sequence[float], y: float | Sequence[float]
                  ) -> DeltaNetwork:
    """Haghtalab & Joachims's forward pass on scalar Values: s_ℓ = W_{ℓ−1}ᵀ v_{ℓ−1},
    v_ℓ = σ(s_ℓ), L = ½ Σ (v_d − y)², with W_ℓ given as the slides' column matrices (any
    nested sequence or NumPy array: a row per node of layer ℓ, a column per node of layer
    ℓ + 1) and v_0 as given (append the constant 1 for the slides' v_0 = (x, 1)). Every
    node is labelled as on the slides (``W0[0,1]``, ``s1[0]``, ``v1[0]``, ``L``), so trace,
    explain and draw show those names; ``print(net)`` shows the recursion layer by layer.
    """
    try:
        matrices = [_floats(matrix, f"W_{ell}") for ell, matrix in enumerate(W)]
    except TypeError as error:
        if "delta_network" in str(error):
            raise
        raise TypeError("delta_network: W must be a list of weight matrices W_0 … W_d−1, "
                        f"not {type(W).__name__}") from None
    if not matrices:
        raise ValueError("delta_network: W must hold at least one weight matrix")
    (first,) = _floats([v0], "v0")
    targets = _floats([[y]] if isinstance(y, (int, float)) else [y], "y")[0]
    sizes = [len(first)] + [len(m[0]) for m in matrices]
    for ell, matrix in enumerate(matrices):
        if len(matrix) != sizes[ell]:
            raise ValueError(f"delta_network: W_{ell} has {len(matrix)} rows, but layer {ell} "
                             f"has {sizes[ell]} nodes (v_{ell})")
    if len(targets) != sizes[-1]:
        raise ValueError(f"delta_network: y has {len(targets)} entries, but the last layer "
                         f"has {sizes[-1]} nodes")
    weights = [[[Value(w, f"W{ell}[{i},{j}]") for j, w in enumerate(row)]
                for i, row in enumerate(matrix)] for ell, matrix in enumerate(matrices)]
    v = [[Value(x, f"v0[{i}]") for i, x in enumerate(first)]]
    s: list[list[Value]] = [[]]
    for ell, incoming in enumerate(weights, start=1):
        sums = []
        for j in range(len(incoming[0])):
            total = incoming[0][j] * v[-1][0]
            for i in range(1, len(incoming)):
                total = total + incoming[i][j] * v[-1][i]
            total.label = f"s{ell}[{j}]"
            sums.append(total)
        s.append(sums)
        layer = [node.sigmoid() for node in sums]
        for j, node in enumerate(layer):
            node.label = f"v{ell}[{j}]"
        v.append(layer)
    squares = [(out - t) ** 2 for out, t in zip(v[-1], targets)]
    total = squares[0]
    for square in squares[1:]:
        total = total + square
    loss = 0.5 * total
    loss.label = "L"
    return DeltaNetwork(W=weights, v=v, s=s, loss=loss)
