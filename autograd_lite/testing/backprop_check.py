"""``check_backprop``: a student's NumPy backprop for an MLP against the same network built
with ``nn``, every weight's gradient compared, the first wrong one named with the engine's
chain rule for it and a hint drawn from the typical mistakes.

The student's function::

    def backprop(Ws, x, t):
        ...                      # forward pass, then the δ recursion
        return grads             # one array per weight matrix, shaped like it

``Ws`` is the list of weight matrices, ``x`` the input and ``t`` the target, as given to
``check_backprop`` (copies: the function may change them). The matrices follow the
lectures' **column convention** (Haghtalab & Joachims): ``W_ℓ`` has one row per input of
layer ℓ and one column per neuron of layer ℓ+1, ``s_{ℓ+1} = W_ℓᵀ v_ℓ``, and a layer with a
bias has one more row, the weights from the constant 1 appended to ``v_ℓ`` (``v_0 = (x,
1)``): ``W_ℓ[i, j]`` is the weight from input i into neuron j. With ``convention="row"``
(Kauchak's ``w_kj``: hidden unit k, input j; ``s = W v``) each matrix is the transpose, and
the bias is an extra column. Which layers have a bias is read off the shapes (one more
row, or column, than inputs); ``bias=`` says it explicitly. A 1-D array is one neuron's
weights (Kauchak's output weights ``v``).

The network: ``activation`` in every layer (default sigmoid, as both lectures), the last
layer ``output_activation`` (default: the same), the loss ``nn.losses``'s ``loss`` (default
``half_squared_error``, ½ Σ (t − v_d)²). ``check_backprop(backprop, sizes=[2, 3, 1])``
draws the weights, inputs and targets itself, one network per Hypothesis example.

Diagnosis. Each typical mistake is replayed as a NumPy backprop with that one mistake; if
the student's numbers are exactly one of them, the hint names it (a transposed δ or W, σ′
at the wrong layer or at v instead of s, σ′ left out, a dropped bias, the wrong sign of the
error, a factor 2, an update returned instead of a gradient ...). Otherwise the hint reads
the pattern of wrong entries (only the biases, only the hidden layers, a constant factor).
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nn
from autograd_lite import PRIMITIVES, Value, gradients
from autograd_lite.primitives import FLOAT
from nn.module import activations

from .gradient_code import check_settings

if TYPE_CHECKING:
    from hypothesis import settings as Settings

__all__ = ["BackpropError", "BackpropReport", "WrongEntry", "check_backprop"]

_RTOL, _ATOL = 1e-6, 1e-9
_LISTED = 6  # wrong entries listed by name after the first
_SHOWN_WEIGHTS = 60  # drawn weights printed in a report up to this many entries


def _np() -> Any:
    import numpy

    return numpy


def _number(x: float) -> str:
    return f"{x:.10g}"


# ---------------------------------------------------------------- the network


@dataclass
class _Net:
    """The student's network in one internal form: column-convention matrices (one row per
    input of the layer, the bias row last, one column per neuron)."""

    convention: str
    names: list[str]
    sizes: list[int]  # n_0 ... n_d (no bias counted)
    bias: list[bool]  # per matrix
    activations: list[str]  # per layer 1 ... d
    alpha: float
    bias_at: str
    user_shapes: list[tuple[int, ...]]
    columns: list[Any] = field(default_factory=list)  # the matrices, column form

    @property
    def depth(self) -> int:
        return len(self.names)

    def to_user(self, k: int, column: Any) -> Any:
        """A column-form matrix of layer k in the student's layout."""
        np = _np()
        matrix = column
        if self.bias[k] and self.bias_at == "first":
            matrix = np.vstack([matrix[-1:], matrix[:-1]])
        if self.convention == "row":
            matrix = matrix.T
        return matrix.reshape(self.user_shapes[k])

    def to_column(self, k: int, user: Any) -> Any:
        np = _np()
        rows = self.sizes[k] + self.bias[k]
        matrix = np.asarray(user, dtype=float)
        if self.convention == "row":
            matrix = matrix.reshape(self.sizes[k + 1], rows).T
        else:
            matrix = matrix.reshape(rows, self.sizes[k + 1])
        if self.bias[k] and self.bias_at == "first":
            matrix = np.vstack([matrix[1:], matrix[:1]])
        return matrix

    def column_index(self, k: int, index: tuple[int, ...]) -> tuple[int, int]:
        """(input row i, neuron j) in column form of the student's entry ``index``."""
        shape = self.user_shapes[k]
        flat = int(_np().ravel_multi_index(index, shape))
        rows = self.sizes[k] + self.bias[k]
        if self.convention == "row":
            j, i = divmod(flat, rows)
        else:
            i, j = divmod(flat, self.sizes[k + 1])
        if self.bias[k] and self.bias_at == "first":
            i = self.sizes[k] if i == 0 else i - 1
        return i, j

    def entry_name(self, k: int, index: tuple[int, ...]) -> str:
        return f"{self.names[k]}[{', '.join(map(str, index))}]"

    def label(self, k: int, i: int, j: int) -> str:
        """The weight's label in the engine's graph: the student's name, compact."""
        index = self.user_index(k, i, j)
        return f"{self.names[k]}[{','.join(map(str, index))}]"

    def user_index(self, k: int, i: int, j: int) -> tuple[int, ...]:
        np = _np()
        rows = self.sizes[k] + self.bias[k]
        if self.bias[k] and self.bias_at == "first":
            i = 0 if i == self.sizes[k] else i + 1
        flat = j * rows + i if self.convention == "row" else i * self.sizes[k + 1] + j
        return tuple(int(n) for n in np.unravel_index(flat, self.user_shapes[k]))

    @property
    def letters(self) -> tuple[str, str]:
        """The names of a layer's values and weighted sums: H&J's v and s in the column
        convention, a and z in the row one (as "Backpropagation in Neural Nets" writes
        them); the other pair if the student's matrices already use one of the letters."""
        first, second = (("v", "s"), ("a", "z")) if self.convention == "column" else \
            (("a", "z"), ("v", "s"))
        return second if set(first) & set(self.names) else first

    def formulas(self) -> dict[str, str]:
        """The lecture's formulas in this convention and these letters, for the hints."""
        v, s = self.letters
        if self.convention == "row":
            return {"forward": f"{s}_{{ℓ+1}} = W_ℓ {v}_ℓ",
                    "delta": f"δ_ℓ = (W_ℓᵀ δ_{{ℓ+1}}) ⊙ σ′({s}_ℓ)",
                    "grad": f"∂L/∂W_ℓ = δ_{{ℓ+1}} {v}_ℓᵀ (one row per neuron, like W_ℓ)",
                    "bias": "the bias column", "v": v, "s": s}
        return {"forward": f"{s}_{{ℓ+1}} = W_ℓᵀ {v}_ℓ",
                "delta": f"δ_ℓ = (W_ℓ δ_{{ℓ+1}}) ⊙ σ′({s}_ℓ)",
                "grad": f"∂L/∂W_ℓ = {v}_ℓ δ_{{ℓ+1}}ᵀ (one row per input, like W_ℓ)",
                "bias": "the bias row", "v": v, "s": s}


def _as_matrix(W: Any, k: int, name: str, convention: str) -> Any:
    np = _np()
    try:
        matrix = np.array(W, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"check_backprop: {name} must be a NumPy array of numbers, "
                        f"not {type(W).__name__}") from None
    if matrix.ndim == 1:  # one neuron's weights
        matrix = matrix.reshape(-1, 1) if convention == "column" else matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(f"check_backprop: {name} must be a matrix (2-D) or one neuron's "
                         f"weights (1-D), not an array of shape {np.shape(W)}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"check_backprop: {name} has entries that are not finite numbers")
    return matrix


def _layout(Ws: Sequence[Any], n_inputs: int, convention: str, bias: Any, bias_at: str,
            names: Sequence[str] | None) -> _Net:
    """Read the sizes and biases off the matrices' shapes, or say what does not fit."""
    if convention not in ("column", "row"):
        raise ValueError(f"check_backprop: convention must be 'column' (H&J: s = Wᵀ v) or "
                         f"'row' (s = W v), not {convention!r}")
    if bias_at not in ("last", "first"):
        raise ValueError(f"check_backprop: bias_at must be 'last' or 'first', not {bias_at!r}")
    if isinstance(Ws, (str, bytes)) or not isinstance(Ws, Sequence) or not Ws:
        raise TypeError("check_backprop: Ws must be a list of weight matrices (NumPy arrays), "
                        f"one per layer, not {type(Ws).__name__}")
    if names is None:
        names = [f"W{k}" for k in range(len(Ws))]
    names = list(names)
    if len(names) != len(Ws) or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"check_backprop: names must give one name per matrix "
                         f"({len(Ws)}), got {names!r}")
    if bias is None or isinstance(bias, bool):
        wanted: list[bool | None] = [bias] * len(Ws)
    else:
        wanted = list(bias)
        if len(wanted) != len(Ws):
            raise ValueError(f"check_backprop: bias must be a bool or one bool per matrix "
                             f"({len(Ws)}), got {bias!r}")
    sizes = [n_inputs]
    biases: list[bool] = []
    columns = []
    user_shapes = []
    for k, W in enumerate(Ws):
        matrix = _as_matrix(W, k, names[k], convention)
        user_shapes.append(tuple(_np().shape(W)))
        column = matrix if convention == "column" else matrix.T
        rows, cols = column.shape
        n = sizes[k]
        has_bias = {n: False, n + 1: True}.get(rows)
        if has_bias is None or (wanted[k] is not None and has_bias != wanted[k]):
            what = "rows" if convention == "column" else "columns"
            expected = (f"{n + 1} (its {n} inputs and the bias)" if wanted[k] else
                        f"{n}" if wanted[k] is False else f"{n} (its inputs) or {n + 1} "
                        "(and a bias)")
            source = (f"x has {n} entries (one example)" if k == 0 else
                      f"{names[k - 1]} has {n} output(s)")
            raise ValueError(
                f"check_backprop: {names[k]} has shape {matrix.shape} in the {convention} "
                f"convention, so {rows} {what}, one per input of layer {k}; {source}, "
                f"so {names[k]} needs {expected} {what}"
                + ("; for s = W v (one row per neuron) pass convention='row'"
                   if convention == "column" else
                   "; for s = Wᵀ v (one column per neuron) pass convention='column'"))
        biases.append(has_bias)
        sizes.append(cols)
        if has_bias and bias_at == "first":
            column = _np().vstack([column[1:], column[:1]])
        columns.append(column)
    return _Net(convention, names, sizes, biases, [], 0.0, bias_at, user_shapes, columns)


@dataclass
class _Engine:
    """The same network built with nn: its loss, gradients and explanations."""

    loss: Value
    weights: list[list[list[Value]]]  # [k][i][j], column form
    nn_labels: list[list[list[str]]]
    outputs: list[Value]
    grads: list[Any]  # column form


def _build(net: _Net, x: Sequence[float], target: Any, loss_name: Any) -> _Engine:
    np = _np()
    layers = [nn.Layer(net.sizes[k], net.sizes[k + 1], activation=net.activations[k],
                       bias=net.bias[k], alpha=net.alpha, name=f"L{k + 1}", seed=0)
              for k in range(net.depth)]
    weights: list[list[list[Value]]] = []
    nn_labels: list[list[list[str]]] = []
    for k, layer in enumerate(layers):
        column = net.columns[k]
        grid: list[list[Value]] = [[] for _ in range(column.shape[0])]
        for j, neuron in enumerate(layer.neurons):
            params = [*neuron.w, *([neuron.b] if neuron.b is not None else [])]
            for i, p in enumerate(params):
                p.data = float(column[i, j])
                grid[i].append(p)
        weights.append(grid)
        nn_labels.append([[p.label for p in row] for row in grid])
        for i, row in enumerate(grid):
            for j, p in enumerate(row):
                p.label = net.label(k, i, j)
    letter_v, letter_s = net.letters
    values: list[Value] = [Value(float(v), f"x[{i}]") for i, v in enumerate(x)]
    for k, layer in enumerate(layers):
        outs = layer(values)
        values = outs if isinstance(outs, list) else [outs]
        for j, out in enumerate(values):
            if net.activations[k] != "linear" and out.parents:
                out.parents[0].label = f"{letter_s}{k + 1}[{j}]"
            out.label = f"{letter_v}{k + 1}[{j}]"
    loss_function = nn.losses.get(loss_name)
    prediction: Any = values if len(values) > 1 else values[0]
    loss = loss_function(prediction, target)
    loss.label = "L"
    flat = [p for grid in weights for row in grid for p in row]
    found = iter(gradients(loss, flat))
    grads = [np.array([[float(next(found)) for _ in row] for row in grid]) for grid in weights]
    return _Engine(loss, weights, nn_labels, values, grads)


# ---------------------------------------------------------------- the typical mistakes


def _activation(name: str, alpha: float) -> tuple[Callable[..., Any], ...]:
    """value(s), slope(s) and the lecture's rule for the slope, rule(s, out), over NumPy
    arrays: the primitives table's rules evaluated entry by entry on floats."""
    np = _np()
    if name == "linear":
        return (lambda s: s, lambda s: np.ones_like(s), lambda s, out: np.ones_like(s))
    prim = PRIMITIVES[name]
    keywords = {"alpha": alpha} if "alpha" in prim.input_names[1:] else {}

    def bound(s: float) -> tuple[Any, ...]:
        return prim.bind([float(s)], keywords)

    def value(s: Any) -> Any:
        return np.array([float(prim.forward(*bound(v), FLOAT)) for v in s])

    def slope(s: Any) -> Any:
        outs = value(s)
        return np.array([float(prim.local_derivative(0, bound(v), o, FLOAT))
                         for v, o in zip(s, outs)])

    def rule(s: Any, out: Any) -> Any:
        return np.array([float(prim.shown_derivative(0, bound(v), o, FLOAT))
                         for v, o in zip(s, out)])

    return value, slope, rule


def _replay(net: _Net, x: Any, loss_gradient: Callable[[Any], Any],
            mistake: str) -> list[Any] | None:
    """The column-form gradients of a backprop with one typical ``mistake`` ("" for none),
    or None where that mistake cannot happen in this network (shapes that do not fit).
    ``loss_gradient(v_d)`` is ∂L/∂v_d at the outputs v_d (the engine's, on constants)."""
    np = _np()
    d = net.depth
    acts = [_activation(a, net.alpha) for a in net.activations]
    W = [c.copy() for c in net.columns]
    forward_W = W
    if mistake == "bias_dropped_forward":
        if not any(net.bias):
            return None
        forward_W = [w.copy() for w in W]
        for k in range(d):
            if net.bias[k]:
                forward_W[k][-1, :] = 0.0

    def with_one(v: Any, k: int) -> Any:
        return np.append(v, 1.0) if net.bias[k] else v

    s: list[Any] = [None]
    v: list[Any] = [np.asarray(x, dtype=float)]
    for k in range(d):
        s.append(forward_W[k].T @ with_one(v[k], k))
        v.append(acts[k][0](s[-1]))
    kind, _, where = mistake.partition("@")

    def slope(layer: int, at: str) -> Any:
        _, derivative, rule = acts[layer - 1]
        hit = (at == "output" and layer == d) or (at == "hidden" and layer < d) or at == "all"
        if hit and kind == "no_slope":
            return np.ones_like(s[layer])
        if hit and kind == "slope_of_value":
            return derivative(v[layer])
        if hit and kind == "rule_at_sum":
            return rule(s[layer], s[layer])
        return derivative(s[layer])

    error = np.asarray(loss_gradient(v[d]), dtype=float)
    error = {"sign": -error, "double": 2 * error, "half": error / 2}.get(mistake, error)
    delta: list[Any] = [None] * (d + 1)
    delta[d] = error * slope(d, where)
    grads: list[Any] = [None] * d
    for k in range(d - 1, -1, -1):
        inputs = with_one(v[k], k)
        if mistake == "sum_for_value" and k > 0:
            inputs = with_one(s[k], k)
        if mistake == "transposed_dW" and W[k].shape[0] == W[k].shape[1]:
            grads[k] = np.outer(delta[k + 1], inputs)
        elif mistake == "transposed_dW" and min(W[k].shape) > 1:
            return None  # a transposed matrix of another shape: a shape error, not numbers
        else:  # (one neuron's weights, transposed, are the same numbers)
            grads[k] = np.outer(inputs, delta[k + 1])
        if mistake == "bias_gradient_zero" and net.bias[k]:
            grads[k][-1, :] = 0.0
        if k == 0:
            continue
        weights = W[k][:net.sizes[k]]
        if mistake == "transposed_W":
            if weights.shape[0] != weights.shape[1]:
                return None
            weights = weights.T
        back = weights @ delta[k + 1]
        if mistake in ("slope_above", "slope_of_output"):
            other = slope(k + 1 if mistake == "slope_above" else d, "")
            if other.shape != back.shape and other.shape != (1,):
                return None
            delta[k] = back * other
        else:
            delta[k] = back * slope(k, where)
    return grads


def _mistakes(net: _Net, loss_name: Any) -> list[tuple[str, str]]:
    """(mistake, hint) in the order they are tried: the first that matches is the hint (the
    narrower ones first: σ′ wrong in the hidden layers alone before σ′ wrong everywhere)."""
    f = net.formulas()
    v, s = f["v"], f["s"]
    hidden, output = net.activations[0], net.activations[-1]

    def slope(name: str) -> str:  # σ′ for sigmoid (as the lectures), tanh′, relu′ ...
        return "σ′" if name == "sigmoid" else f"{name}′"

    same = hidden == output
    everywhere = slope(output) if same else "σ′"
    squared = loss_name in ("half_squared_error", nn.losses.half_squared_error)
    error = f"∂L/∂{v}_d = {v}_d − t" if squared else f"∂L/∂{v}_d"
    delta_d = f"δ_d = ∂L/∂{v}_d ⊙ σ′({s}_d)"
    rule_h, rule_o = _lecture_rule(net, hidden), _lecture_rule(net, output)
    rule_all = rule_o if same else ""
    twice = "applies σ twice" if same and output == "sigmoid" else \
        f"applies {output} twice" if same else "applies the activation twice"
    found = [
        ("sign", f"every entry has the engine's size and the opposite sign: the output error "
                 f"is written t − {v}_d where the gradient needs {error} (Kauchak's update "
                 "rules carry (y − ŷ) because they add η·(y − ŷ)·…, which is −η times the "
                 "gradient)"),
        ("double", "every entry is twice the engine's: the output error has a factor 2 too "
                   "many" + (f" — ½({v}_d − t)² has the derivative {v}_d − t, not "
                             f"2({v}_d − t)" if squared else "")),
        ("half", "every entry is half the engine's: the output error lacks a factor 2"
                 + (f" — the loss here is ½({v}_d − t)², its derivative {v}_d − t"
                    if squared else "")),
        ("no_slope@output", f"δ_d is missing {slope(output)} at the output: {delta_d}, not "
                            f"the error ∂L/∂{v}_d alone (the output layer has an activation "
                            "too)"),
    ]
    if net.depth > 1:
        found += [
            ("slope_of_value@hidden", f"in the hidden layers {slope(hidden)} is taken at the "
                                      f"values {v}_ℓ instead of the weighted sums {s}_ℓ"
                                      f"{rule_h}: {f['delta']}"),
            ("slope_of_value@output", f"at the output {slope(output)} is taken at {v}_d "
                                      f"instead of {s}_d{rule_o}: {delta_d}"),
            ("rule_at_sum@hidden", f"in the hidden layers {slope(hidden)}{rule_h} is evaluated "
                                   f"at {s}_ℓ instead of at {v}_ℓ"),
            ("rule_at_sum@output", f"at the output {slope(output)}{rule_o} is evaluated at "
                                   f"{s}_d instead of at {v}_d"),
            ("no_slope@hidden", f"the hidden δ's are missing {slope(hidden)}: {f['delta']}"),
        ]
    found += [
        ("slope_of_value@all", f"{everywhere} is taken at the layer's values {v}_ℓ = "
                               f"σ({s}_ℓ) instead of its weighted sums {s}_ℓ{rule_all}: "
                               f"σ′({v}_ℓ) {twice}"),
        ("rule_at_sum@all", f"{everywhere} is written in the layer's output{rule_all} but "
                            f"evaluated at the weighted sums {s}_ℓ: put in {v}_ℓ = σ({s}_ℓ), "
                            f"not {s}_ℓ"),
        ("bias_dropped_forward", f"the forward pass leaves the bias out: {f['forward']} "
                                 f"needs the bias weights ({f['bias']} of W_ℓ, the weights "
                                 f"from the 1 appended to {v}_ℓ) — a dropped bias term"),
        ("bias_gradient_zero", f"the bias entries are 0: {f['bias']}'s gradient is δ_{{ℓ+1}} "
                               "(times its input, the constant 1), not 0 — a dropped bias "
                               "term"),
        ("transposed_dW", f"∂L/∂W_ℓ is transposed: {f['grad']}, so δ and {v} swap places "
                          "— a transposed δ"),
        ("sum_for_value", f"∂L/∂W_ℓ uses the weighted sums {s}_ℓ where it needs the values "
                          f"{v}_ℓ = σ({s}_ℓ): each weight multiplies an entry of {v}_ℓ, so "
                          f"that entry is its factor"),
    ]
    if net.depth > 1:
        found += [
            ("no_slope@all", f"{everywhere} is missing everywhere: {delta_d} and "
                             f"{f['delta']}"),
            ("slope_above", f"{slope(hidden)} is taken at the wrong layer: δ_ℓ is multiplied "
                            f"by the slope of the layer above, σ′({s}_{{ℓ+1}}), where "
                            f"{f['delta']} takes the layer's own"),
            ("slope_of_output", f"{slope(hidden)} is taken at the wrong layer: every hidden δ "
                                f"uses the output's σ′({s}_d), where {f['delta']} takes the "
                                "layer's own"),
            ("transposed_W", f"the recursion multiplies by the transpose: {f['delta']} (W_ℓ "
                             f"without {f['bias']}) — a transposed δ/W"),
        ]
    return found


def _lecture_rule(net: _Net, name: str) -> str:
    """`` (σ′(s) = v·(1 − v) with v = σ(s))`` for a sigmoid layer: the table's lecture form
    of the activation's slope, when it is written in the output (else "")."""
    if name == "linear":
        return ""
    import sympy

    from autograd_lite.notation import formula
    from autograd_lite.symbolic import sympy_namespace

    v, s = net.formulas()["v"], net.formulas()["s"]
    prim = PRIMITIVES[name]
    try:
        keywords = {"alpha": sympy.Symbol("α")} if "alpha" in prim.input_names[1:] else {}
        rule = prim.shown_derivative(0, prim.bind([sympy.Symbol(s)], keywords),
                                     sympy.Symbol(v), sympy_namespace())
        text = formula(rule)
    except Exception:  # a rule SymPy cannot write
        return ""
    symbol = "σ" if name == "sigmoid" else name
    return f" ({symbol}′({s}) = {text} with {v} = {symbol}({s}))" \
        if v in text and s not in text else ""


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class WrongEntry:
    """One weight whose gradient the student's backprop gets wrong."""

    name: str  # "W1[0, 2]", the student's matrix and index
    matrix: int  # position of the matrix in Ws
    index: tuple[int, ...]  # in the student's layout
    layer: int  # the layer the weight leads into (1 = the first hidden layer)
    neuron: int  # the neuron of that layer
    input: int | None  # the input of the layer below (None: the bias)
    nn_label: str  # the same weight in the nn network: "L2.N2.w0"
    yours: float
    engine: float
    formula: str = ""  # the engine's chain rule for it (the first wrong entry only)

    def describe(self, letter: str = "v") -> str:
        source = "the bias (the constant 1)" if self.input is None else \
            (f"input {self.input} (x[{self.input}])" if self.layer == 1 else
             f"input {self.input} ({letter}{self.layer - 1}[{self.input}])")
        return (f"{self.name} is the weight into neuron {self.neuron} of layer {self.layer} "
                f"from {source}; nn's {self.nn_label}")


@dataclass
class BackpropReport:
    """What ``check_backprop`` found: ``ok``, every wrong entry, the first with its
    formula, a hint, and ``message`` (``str(report)``)."""

    ok: bool
    compared: int
    wrong: list[WrongEntry]
    hint: str
    message: str
    largest_difference: float = 0.0
    error: BaseException | None = None  # what the student's backprop raised, if it did

    @property
    def first(self) -> WrongEntry | None:
        return self.wrong[0] if self.wrong else None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return "```\n" + self.message + "\n```"


class BackpropError(AssertionError):
    """check_backprop's failure: ``str()`` is the report's message, ``.report`` the report."""

    def __init__(self, report: BackpropReport) -> None:
        super().__init__(report.message)
        self.report = report


def _where(x: Any, t: Any) -> str:
    np = _np()

    def show(a: Any) -> str:
        return "[" + ", ".join(f"{v:.6g}" for v in np.asarray(a, dtype=float).ravel()) + "]"

    return f"at x = {show(x)}, t = {show(t)}"


def _weights_text(net: _Net) -> str:
    """The matrices as the student wrote them (nested lists), when there are few weights."""
    if sum(c.size for c in net.columns) > _SHOWN_WEIGHTS:
        return ""

    def nested(a: Any) -> str:
        if a.ndim == 0:
            return f"{float(a):.6g}"
        return "[" + ", ".join(nested(row) for row in a) + "]"

    return "  weights: " + "; ".join(f"{name} = {nested(net.to_user(k, c))}"
                                     for k, (name, c) in enumerate(zip(net.names, net.columns)))


def _shape_problem(net: _Net, k: int, got: Any, engine_user: Any) -> tuple[str, str]:
    """What is wrong with a gradient of the wrong shape, and a hint."""
    np = _np()
    name = net.names[k]
    want = net.user_shapes[k]
    f = net.formulas()
    head = (f"your gradient for {name} has shape {got.shape}, but {name} has shape "
            f"{want}")
    if got.ndim == 2 and got.shape == tuple(reversed(want)):
        agrees = np.allclose(got.T, engine_user.reshape(got.T.shape), rtol=_RTOL, atol=_ATOL)
        return head, (f"it is transposed — {f['grad']}; a transposed δ"
                      + (" (transposed back, every entry agrees with the engine)"
                         if agrees else ""))
    rows_axis = 0 if net.convention == "column" else 1
    if net.bias[k] and got.ndim == 2 and len(want) == 2 and \
            got.shape[rows_axis] == want[rows_axis] - 1 and \
            got.shape[1 - rows_axis] == want[1 - rows_axis]:
        return head, (f"{f['bias']} is missing — a dropped bias term: with the 1 appended "
                      f"to v_ℓ, {f['grad']} includes the bias weights")
    return head, f"a gradient has the shape of its matrix: {f['grad']}"


def _pattern_hint(net: _Net, yours: list[Any], engine: list[Any], wrong: list[Any]) -> str:
    """A hint from where the wrong entries are, when no single typical mistake fits."""
    np = _np()
    f = net.formulas()
    v, s = f["v"], f["s"]
    d = net.depth
    prefix = "your numbers match no single typical mistake; "
    flat_y = np.concatenate([y.ravel() for y in yours])
    flat_e = np.concatenate([e.ravel() for e in engine])
    if not np.any(flat_y):
        return prefix + "every entry is 0: the gradients are never filled in (or the δ's vanish)"
    nonzero = np.abs(flat_e) > _ATOL
    if nonzero.any():
        ratios = flat_y[nonzero] / flat_e[nonzero]
        c = float(ratios[0])
        if np.allclose(ratios, c, rtol=1e-6) and np.allclose(flat_y[~nonzero], 0, atol=_ATOL):
            if c < 0:
                return prefix + (f"every entry is {c:.6g} times the engine's: that is an update "
                                 f"−η·∂L/∂W with η = {-c:.6g}, not the gradient ∂L/∂W — "
                                 "return the gradient; the update subtracts η times it")
            return prefix + (f"every entry is {c:.6g} times the engine's — a constant factor: "
                             "a learning rate multiplied in, or a factor in the output error")
    for k in range(d):
        if yours[k].ndim == 2 and yours[k].shape == yours[k].T.shape and wrong[k].any() \
                and np.allclose(yours[k].T, engine[k], rtol=_RTOL, atol=_ATOL):
            return prefix + f"{net.names[k]} is transposed: {f['grad']}"
    bias_only = True
    for k in range(d):
        column_wrong = net.to_column(k, wrong[k])
        rows = column_wrong[:-1] if net.bias[k] else column_wrong
        if rows.any():
            bias_only = False
    if bias_only:
        return prefix + (f"only the bias entries are wrong: {f['bias']} of ∂L/∂W_ℓ is "
                         "δ_{ℓ+1} times the constant 1 — check the dropped or misplaced bias "
                         "term")
    wrong_layers = [k for k in range(d) if wrong[k].any()]
    if d - 1 not in wrong_layers:
        top = max(wrong_layers)
        return prefix + (f"the output layer's {net.names[d - 1]} is right, so δ_d is; the "
                         f"first wrong matrix from the output is {net.names[top]} (W_{top}): "
                         f"check δ_{top + 1} in {f['delta']} and {f['grad']}")
    return prefix + (f"the output layer is already wrong: δ_d = ∂L/∂{v}_d ⊙ σ′({s}_d) "
                     f"(∂L/∂{v}_d = {v}_d − t for the squared error) and {f['grad']}")


def _diagnose(net: _Net, x: Any, engine: _Engine, yours_user: list[Any],
              loss_name: Any, target: Any) -> str:
    np = _np()
    loss_function = nn.losses.get(loss_name)

    def loss_gradient(outputs: Any) -> Any:
        vs = [Value(float(o)) for o in outputs]
        loss = loss_function(vs if len(vs) > 1 else vs[0], target)
        return np.array([float(g) for g in gradients(loss, vs)])

    correct = _replay(net, x, loss_gradient, "")
    if correct is None or not all(np.allclose(c, e, rtol=1e-9, atol=1e-12)
                                  for c, e in zip(correct, engine.grads)):
        return ""  # an activation the replay cannot follow: no exact diagnosis
    for mistake, hint in _mistakes(net, loss_name):
        replayed = _replay(net, x, loss_gradient, mistake)
        if replayed is None:
            continue
        if all(np.allclose(r, c, rtol=1e-9, atol=1e-12) for r, c in zip(replayed, correct)):
            continue  # this mistake changes nothing in this network
        if all(np.allclose(net.to_user(k, r), y, rtol=1e-6, atol=1e-9)
               for k, (r, y) in enumerate(zip(replayed, yours_user))):
            return "your numbers are exactly those of a backprop where " + hint
    return ""


def _check_once(backprop: Callable[..., Any], Ws: Sequence[Any], x: Any, t: Any, *,
                convention: str, activation: str, output_activation: str | None, loss: Any,
                bias: Any, bias_at: str, names: Sequence[str] | None, alpha: float,
                rtol: float, atol: float) -> BackpropReport:
    np = _np()
    x_vector = np.asarray(x, dtype=float).ravel()
    if x_vector.size == 0 or not np.all(np.isfinite(x_vector)):
        raise ValueError("check_backprop: x must be a non-empty array of finite numbers")
    net = _layout(Ws, x_vector.size, convention, bias, bias_at, names)
    for a in (activation, output_activation):
        if a is not None and a not in activations():
            raise ValueError(f"check_backprop: unknown activation {a!r}; choose one of "
                             f"{', '.join(map(repr, activations()))}")
    last = activation if output_activation is None else output_activation
    net.activations = [activation] * (net.depth - 1) + [last]
    net.alpha = float(alpha)
    target = _target(t, net.sizes[-1])
    engine = _build(net, x_vector, target, loss)
    engine_user = [net.to_user(k, g) for k, g in enumerate(engine.grads)]
    where = _where(x, t)
    compared = sum(g.size for g in engine.grads)

    def failed(head: str, hint: str, error: BaseException | None = None) -> BackpropReport:
        lines = [f"check_backprop: {head}", f"  hint: {hint}", f"  {where}"]
        weights = _weights_text(net)
        return BackpropReport(False, compared, [], hint,
                              "\n".join([*lines, *([weights] if weights else [])]),
                              error=error)

    try:
        result = backprop([copy.deepcopy(W) for W in Ws], copy.deepcopy(x), copy.deepcopy(t))
    except Exception as error:
        f = net.formulas()
        shapes = ", ".join(f"{n} {s}" for n, s in zip(net.names, net.user_shapes))
        hint = (f"the shapes it was given: {shapes}, x {np.shape(x)}, t {np.shape(t)}. In "
                f"the {net.convention} convention {f['forward']}, {f['delta']} (W_ℓ without "
                f"{f['bias']}), {f['grad']}")
        text = str(error)
        if isinstance(error, ValueError) and any(w in text for w in ("matmul", "shapes",
                                                                     "broadcast", "aligned")):
            product = "W_ℓ δ_{ℓ+1}" if net.convention == "column" else "W_ℓᵀ δ_{ℓ+1}"
            hint = (f"a product whose shapes do not fit — typically a transposed W or δ (the "
                    f"recursion needs {product}) or the bias kept in the recursion; " + hint)
        return failed(f"backprop(Ws, x, t) raised {type(error).__name__}: {error}", hint,
                      error)
    if isinstance(result, np.ndarray) and result.dtype != object and net.depth == 1 \
            and result.size == engine.grads[0].size:
        result = [result]
    if isinstance(result, (str, bytes)) or not isinstance(result, (list, tuple)):
        return failed(f"backprop returned a {type(result).__name__}; it must return a list "
                      f"of {net.depth} gradient(s), one per matrix ({', '.join(net.names)})",
                      "return [dW0, dW1, ...] in the order of Ws")
    if len(result) != net.depth:
        return failed(f"backprop returned {len(result)} gradient(s) for {net.depth} weight "
                      f"matrices ({', '.join(net.names)})",
                      "return one gradient per matrix, in the order of Ws (and nothing else: "
                      "not the loss, not the δ's)")
    yours: list[Any] = []
    for k, g in enumerate(result):
        try:
            array = np.array(g, dtype=float)
        except (TypeError, ValueError):
            return failed(f"the gradient for {net.names[k]} is a {type(g).__name__}, not an "
                          "array of numbers", "return NumPy arrays")
        want = net.user_shapes[k]
        if array.shape != want:
            squeezed = [n for n in array.shape if n != 1] == [n for n in want if n != 1]
            if array.size == int(np.prod(want)) and squeezed:
                array = array.reshape(want)
            else:
                head, hint = _shape_problem(net, k, array, engine_user[k])
                return failed(head, hint)
        yours.append(array)

    wrong_masks = [~np.isclose(y, e, rtol=rtol, atol=atol) for y, e in zip(yours, engine_user)]
    largest = max(float(np.max(np.abs(y - e))) if y.size else 0.0
                  for y, e in zip(yours, engine_user))
    if not any(m.any() for m in wrong_masks):
        message = (f"check_backprop: all {compared} gradient entries of "
                   f"{', '.join(net.names)} agree with the engine's (largest difference "
                   f"{largest:.2g}) {where}")
        return BackpropReport(True, compared, [], "", message, largest)

    wrong: list[WrongEntry] = []
    for k, mask in enumerate(wrong_masks):
        for index in zip(*np.nonzero(mask)):
            index = tuple(int(n) for n in index)
            i, j = net.column_index(k, index)
            wrong.append(WrongEntry(
                name=net.entry_name(k, index), matrix=k, index=index, layer=k + 1, neuron=j,
                input=None if net.bias[k] and i == net.sizes[k] else i,
                nn_label=engine.nn_labels[k][i][j], yours=float(yours[k][index]),
                engine=float(engine_user[k][index])))
    first = wrong[0]
    i, j = net.column_index(first.matrix, first.index)
    formula = _formula(engine, engine.weights[first.matrix][i][j])
    wrong[0] = dataclasses.replace(first, formula=formula)
    first = wrong[0]
    hint = _diagnose(net, x_vector, engine, yours, loss, target) or \
        _pattern_hint(net, yours, engine_user, wrong_masks)
    allowed = atol + rtol * abs(first.engine)
    lines = [
        f"check_backprop: the gradient for {first.name} is wrong: yours "
        f"{_number(first.yours)}, the engine's {_number(first.engine)} (difference "
        f"{first.yours - first.engine:.3g}, allowed {allowed:.3g})",
        f"  {first.describe(net.letters[0])}",
        "  the engine's chain rule: " + formula.replace("\n", "\n    "),
        f"  hint: {hint}",
    ]
    counts = ", ".join(f"{net.names[k]} {int(m.sum())} of {m.size}"
                       for k, m in enumerate(wrong_masks))
    others = [w.name for w in wrong[1:_LISTED + 1]]
    more = "" if len(wrong) <= _LISTED + 1 else ", …"
    lines.append(f"  wrong: {len(wrong)} of {compared} entries ({counts})"
                 + (f"; after {first.name}: {', '.join(others)}{more}" if others else ""))
    lines.append(f"  {where}")
    weights = _weights_text(net)
    if weights:
        lines.append(weights)
    return BackpropReport(False, compared, wrong, hint, "\n".join(lines), largest)


def _formula(engine: _Engine, weight: Value) -> str:
    from autograd_lite.explanation import explain

    try:
        return str(explain(engine.loss, weight))
    except (ValueError, RuntimeError) as error:  # too many paths, SymPy's time limit
        return f"(no formula: {error})"


def _target(t: Any, n_out: int) -> Any:
    np = _np()
    if isinstance(t, numbers.Integral) and not isinstance(t, bool) and n_out > 1:
        return int(t)  # a class index (softmax cross-entropy)
    values = np.asarray(t, dtype=float).ravel()
    if values.size != n_out:
        raise ValueError(f"check_backprop: t has {values.size} entries but the network has "
                         f"{n_out} output(s)")
    return [float(v) for v in values] if n_out > 1 else float(values[0])


def check_backprop(backprop: Callable[..., Any], Ws: Sequence[Any] | None = None,
                   x: Any = None, t: Any = None, *, sizes: Sequence[int] | None = None,
                   convention: str = "column", activation: str = "sigmoid",
                   output_activation: str | None = None, loss: Any = "half_squared_error",
                   bias: bool | Sequence[bool] | None = None, bias_at: str = "last",
                   names: Sequence[str] | None = None, alpha: float = 0.01,
                   rtol: float = _RTOL, atol: float = _ATOL, raise_on_mismatch: bool = True,
                   settings: Settings | None = None,
                   max_examples: int | None = None) -> BackpropReport:
    """Check ``backprop(Ws, x, t) -> grads`` against the same network built with ``nn``.

    ``Ws``: the weight matrices, column convention by default (``W_ℓ[i, j]``: from input i
    into neuron j; a bias is the extra last row, from the 1 appended to v_ℓ), or
    ``convention="row"`` (``W_ℓ[j, i]``; the bias an extra column). ``bias_at="first"``:
    the bias row/column comes first (x_0 = 1). ``x``, ``t``: the input and target (any
    shape; passed to ``backprop`` as given). ``grads``: one array per matrix, shaped like it.
    Every entry is compared with the engine's gradient (``atol + rtol·|engine|``).

    Without ``Ws``, ``sizes=[n_0, n_1, …, n_d]`` has Hypothesis draw the networks (seeds of
    N(0, 1) weights and inputs, U(0, 1) targets; a bias in every layer unless ``bias=``
    says otherwise; ``x``, ``t`` columns in the column convention, 1-D in the row one),
    with the loaded profile's settings (or ``settings=``, ``max_examples=``), no shrinking.

    Returns a ``BackpropReport`` (true when all agree). A mismatch raises
    ``BackpropError`` (an AssertionError) whose message names the first wrong entry
    (``W1[0, 2]``) by layer, neuron and input, gives both numbers and the engine's chain
    rule for it (``explain``), and a hint; ``raise_on_mismatch=False`` returns the report.
    """
    if not callable(backprop):
        raise TypeError(f"check_backprop: backprop must be a function backprop(Ws, x, t) -> "
                        f"grads, not {type(backprop).__name__}")
    options = dict(convention=convention, activation=activation,
                   output_activation=output_activation, loss=loss, bias_at=bias_at,
                   names=names, alpha=alpha, rtol=rtol, atol=atol)
    if Ws is not None:
        if sizes is not None:
            raise TypeError("check_backprop: give Ws, x, t or sizes=, not both")
        if x is None or t is None:
            raise TypeError("check_backprop(backprop, Ws, x, t): x and t are missing")
        report = _check_once(backprop, Ws, x, t, bias=bias, **options)
        if not report.ok and raise_on_mismatch:
            raise BackpropError(report) from report.error
        return report
    if sizes is None:
        raise TypeError("check_backprop: give the network (Ws, x, t) or its sizes= "
                        "[n_inputs, ..., n_outputs] to draw networks")
    return _check_drawn(backprop, list(sizes), bias, options, raise_on_mismatch, settings,
                        max_examples)


def _check_drawn(backprop: Callable[..., Any], sizes: list[int], bias: Any,
                 options: dict[str, Any], raise_on_mismatch: bool,
                 settings: Settings | None, max_examples: int | None) -> BackpropReport:
    np = _np()
    from hypothesis import Phase, given
    from hypothesis import strategies as st

    if len(sizes) < 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                                 and n >= 1 for n in sizes):
        raise ValueError(f"check_backprop: sizes must be [n_inputs, ..., n_outputs], at least "
                         f"two positive ints, not {sizes!r}")
    depth = len(sizes) - 1
    biases = [True] * depth if bias is None else [bias] * depth if isinstance(bias, bool) \
        else list(bias)
    if len(biases) != depth:
        raise ValueError(f"check_backprop: bias must be a bool or one per layer ({depth})")
    column = options["convention"] == "column"

    def network(seed: int) -> tuple[list[Any], Any, Any]:
        rng = np.random.default_rng(seed)
        Ws = []
        for k in range(depth):
            shape = (sizes[k] + biases[k], sizes[k + 1])
            W = rng.normal(size=shape)
            Ws.append(W if column else W.T.copy())
        x = rng.normal(size=(sizes[0], 1) if column else sizes[0])
        if options["loss"] == "softmax_cross_entropy":
            t: Any = int(rng.integers(sizes[-1]))
        else:
            t = rng.uniform(size=(sizes[-1], 1) if column else sizes[-1])
        return Ws, x, t

    found: list[BackpropReport] = []

    def one_network(seed: int) -> None:
        Ws, x, t = network(seed)
        report = _check_once(backprop, Ws, x, t, bias=biases, **options)
        found.append(report)
        if not report.ok:
            raise BackpropError(report)

    phases = (Phase.explicit, Phase.reuse, Phase.generate)
    test = check_settings(settings, max_examples, phases=phases)(
        given(seed=st.integers(0, 2**32 - 1))(one_network))
    try:
        test()
    except BackpropError as mismatch:
        if raise_on_mismatch:
            raise BackpropError(mismatch.report) from mismatch.report.error
        return mismatch.report
    last = found[-1]
    largest = max(report.largest_difference for report in found)
    names = ", ".join(f"W{k}" for k in range(depth)) if options["names"] is None else \
        ", ".join(options["names"])
    message = (f"check_backprop: on {len(found)} networks drawn ({'-'.join(map(str, sizes))}), "
               f"all {last.compared} gradient entries of {names} agree with the engine's "
               f"(largest difference {largest:.2g})")
    return BackpropReport(True, last.compared, [], "", message, largest)
