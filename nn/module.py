"""Neurons, layers and multi-layer perceptrons built from ``autograd_lite`` Values.

Naming: layers count from 1 (layer 0 is the input, as in Haghtalab & Joachims' v_0 = x),
neurons and weights from 0. Weight ``j`` of a neuron multiplies input ``j``, so neuron 0 of
layer 1 has parameters labelled ``L1.N0.w0, L1.N0.w1, …, L1.N0.b``. Its weighted sum is
labelled ``L1.N0.z`` and its output ``L1.N0.a``, so traces, explanations and drawings read
by place.

Setting weights by hand (to reproduce a slide)::

    model = MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([2.0, 1.0, 0.5])        # in parameters() order, or
    model.set_parameters({"L1.N0.w0": 2.0})      # by name, or
    model.layers[0].neurons[0].w[0].data = 2.0   # the Value itself
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from autograd_lite import PRIMITIVES, Constant, Primitive, Value, linear

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron", "activations"]


def activations() -> tuple[str, ...]:
    """The activations a neuron can use: every primitive of the table marked as one
    (sigmoid, tanh, relu, leaky_relu, and any added with ``defprimitive``), and "linear"
    (no activation: the weighted sum is the output)."""
    return (*(name for name, p in PRIMITIVES.items() if p.activation), "linear")


ACTIVATIONS = activations()  # the built-in ones; activations() also lists added ones

Seed = int | random.Random | None
Number = float | int


def _check_activation(activation: str, where: str) -> str:
    known = activations()
    if activation not in known:
        raise ValueError(f"{where}: unknown activation {activation!r}; "
                         f"choose one of {', '.join(map(repr, known))}")
    return activation


def _resolve_activation(activation: Any, nonlin: bool | None, where: str) -> str:
    """The activation's name from ``activation=`` or micrograd's ``nonlin=`` (True is
    micrograd's ReLU, False its linear neuron); None is the default, tanh."""
    if isinstance(activation, bool):  # micrograd's Neuron(nin, False): nonlin, positionally
        raise TypeError(
            f"{where}: activation must be a name such as 'relu', not {activation!r}. "
            f"micrograd's nonlin={activation} is activation="
            f"{'relu' if activation else 'linear'!r} here (Neuron and Layer also take "
            "nonlin= as a keyword)")
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            raise TypeError(f"{where}: nonlin (micrograd's switch) must be True or False, "
                            f"not {type(nonlin).__name__}; or give activation='relu' etc.")
        if activation is not None:
            raise TypeError(f"{where}: give activation= or micrograd's nonlin=, not both "
                            f"(nonlin={nonlin} means activation="
                            f"{'relu' if nonlin else 'linear'!r})")
        return "relu" if nonlin else "linear"
    return _check_activation("tanh" if activation is None else activation, where)


def _check_alpha(alpha: Any, activations_used: Sequence[str], where: str) -> float:
    """leaky_relu's slope for z < 0, a finite number; below 1 when leaky_relu is used.

    The lecture defines LReLU(z) = max(αz, z) "for α < 1"; the engine computes the piecewise
    form z (z ≥ 0), αz (z < 0), which is the same function exactly when α ≤ 1. For α > 1
    they differ (max(αz, z) is αz for z > 0 and z for z < 0), and α = 1 is no activation
    at all, so a network asking for leaky_relu with α ≥ 1 is refused here (the engine's
    ``leaky_relu(x, alpha)`` itself takes any α and computes the piecewise form).
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{where}: alpha (leaky_relu's slope) must be a number, "
                        f"not {type(alpha).__name__}")
    slope = float(alpha)
    if not math.isfinite(slope):
        raise ValueError(f"{where}: alpha (leaky_relu's slope) must be finite, got {slope!r}")
    if "leaky_relu" in activations_used and slope >= 1:
        raise ValueError(
            f"{where}: leaky_relu needs alpha < 1, got {alpha!r}. The lecture's "
            "LReLU(z) = max(αz, z) is defined for α < 1, where it equals the piecewise z "
            "(z ≥ 0), αz (z < 0) that the engine computes; for α > 1 the two differ "
            "(max(αz, z) is αz for z > 0, z for z < 0), and α = 1 is no activation at all "
            "(that is activation='linear')")
    return slope


def _check_size(size: Any, what: str) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"{what} must be a positive int, got {size!r}")
    return int(size)


def _rng(seed: Seed) -> random.Random:
    """A private generator: the global ``random`` state is never read or changed."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()  # seeded from the OS: independent of random.seed()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a random.Random or None, "
                        f"not {type(seed).__name__}")
    return random.Random(int(seed))


def init_limit(activation: str, fan_in: int, fan_out: int) -> float:
    """Half-width of the uniform distribution a weight is drawn from.

    ReLU-like units lose half their input's variance, so they get He's limit
    sqrt(6 / fan_in); sigmoid, tanh and linear units get Glorot's sqrt(6 / (fan_in +
    fan_out)), which keeps activations and gradients at the same scale from layer to layer
    (and keeps sigmoid/tanh away from their flat, vanishing-gradient tails).
    """
    if activation in ("relu", "leaky_relu"):
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))


def _weighted_sum(weights: Sequence[Value], inputs: Sequence[Value | float],
                  bias: Value | None) -> Value:
    """w·x + b as one n-ary ``linear`` node (one node instead of 2n: see bench/).

    A lone product with no bias stays a ``*`` node, so a one-unit-wide chain reads exactly
    like the Kramer slides (``x1 = w0*s0``).
    """
    if len(weights) == 1 and bias is None:
        return weights[0] * inputs[0]
    return linear(weights, inputs, bias)


def _activate(z: Value, activation: str, alpha: float) -> Value:
    """The activation's primitive applied to the weighted sum; a neuron's ``alpha`` is the
    slope input of an activation that has one (leaky_relu)."""
    if activation == "linear":
        return z
    primitive: Primitive = PRIMITIVES[activation]
    if primitive.arity == 1 and primitive.method:  # the method: the cheapest call there is
        return getattr(z, activation)()
    if "alpha" in primitive.input_names[1:]:
        return primitive(z, alpha=alpha)
    return primitive(z)


def _check_inputs(inputs: Any, nin: int, where: str,
                  labels: Sequence[str] | None = None) -> list[Value | float]:
    """The inputs as a list of Values/floats, or an error saying what is wrong and where."""
    if isinstance(inputs, (Value, numbers.Real)) and not isinstance(inputs, bool):
        inputs = [inputs]  # a single number for a one-input model
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        try:
            inputs = list(inputs)
        except TypeError:
            raise TypeError(f"{where} takes a list of {nin} numbers or Values, "
                            f"not {type(inputs).__name__}") from None
    if len(inputs) != nin:
        raise ValueError(f"{where} expects {nin} input(s), got {len(inputs)}")
    checked: list[Value | float] = []
    for position, item in enumerate(inputs):
        if isinstance(item, Value):
            checked.append(item)
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            number = float(item)
            if not math.isfinite(number):
                raise ValueError(f"{where}: input {position} is {number!r}, not a finite number")
            # A leaf named x0, x1 … (not a number folded into each neuron), so that a drawing
            # shows one node per input, shared by every neuron of the first layer.
            checked.append(Value(number, labels[position] if labels else f"x{position}"))
        else:
            raise TypeError(f"{where}: input {position} must be a number or a Value, "
                            f"not {type(item).__name__}")
    return checked


def _label(node: Value, label: str) -> None:
    # Constants are shared between graphs (and cached): never rename one.
    if type(node) is not Constant:
        node.label = label


class Module:
    """Anything with parameters: ``parameters()``, ``named_parameters()``, ``zero_grad()``."""

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs in ``parameters()`` order; the name is the label."""
        return [(p.label, p) for p in self.parameters()]

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to 0 (backward() adds into it)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{name: number} for every parameter, in ``parameters()`` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def set_parameters(self, values: Sequence[Number] | Mapping[str, Number]) -> None:
        """Set parameter numbers by hand: a list in ``parameters()`` order, or {name: number}.

        A list must give every parameter; a mapping may give some, but every name must exist.
        """
        params = self.named_parameters()
        if isinstance(values, Mapping):
            by_name = dict(params)
            unknown = [name for name in values if name not in by_name]
            if unknown:
                raise KeyError(f"set_parameters: no parameter named {unknown[0]!r}; "
                               f"the names are {', '.join(by_name)}")
            updates = [(name, by_name[name], values[name]) for name in values]
        else:
            values = list(values)
            if len(values) != len(params):
                raise ValueError(f"set_parameters: the model has {len(params)} parameters "
                                 f"({', '.join(name for name, _ in params)}), "
                                 f"got {len(values)} values")
            updates = [(name, p, v) for (name, p), v in zip(params, values)]
        checked: list[tuple[Value, float]] = []
        for name, p, v in updates:
            if isinstance(v, Value):
                v = v.data
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"set_parameters: {name} must be a finite number, got {v!r}")
            checked.append((p, float(v)))
        for p, v in checked:  # all checked first: a bad value changes nothing
            p.data = v

    def __call__(self, inputs: Any) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class Neuron(Module):
    """activation(w·x + b): ``nin`` weights ``w`` (Values) and a bias ``b`` (or None).

    ``activation`` is a name from ``activations()``; None (the default) is "tanh".
    ``alpha`` is leaky_relu's slope for z < 0 (below 1: see ``_check_alpha``).
    micrograd's ``nonlin=True`` / ``nonlin=False`` is accepted for ``activation="relu"`` /
    ``"linear"``. ``seed`` is an int, a ``random.Random`` or None (fresh randomness); the
    global ``random`` module is never touched. ``name`` prefixes the labels (``L1.N0`` →
    ``L1.N0.w0``). ``fan_out`` only tunes the Glorot initialisation (the layer passes it).
    """

    def __init__(self, nin: int, activation: str | None = None, bias: bool = True,
                 seed: Seed = None, *, alpha: float = 0.01, name: str = "",
                 fan_out: int = 1, nonlin: bool | None = None) -> None:
        self.nin = _check_size(nin, "Neuron nin (the number of inputs)")
        self.activation = activation = _resolve_activation(activation, nonlin, "Neuron")
        self.alpha = _check_alpha(alpha, [activation], "Neuron")
        self.name = name
        rng = _rng(seed)
        limit = init_limit(activation, self.nin, _check_size(fan_out, "fan_out"))
        prefix = f"{name}." if name else ""
        self.w = [Value(rng.uniform(-limit, limit), f"{prefix}w{j}") for j in range(self.nin)]
        # Biases start at 0: random weights already break the symmetry between neurons.
        self.b: Value | None = Value(0.0, f"{prefix}b") if bias else None
        self._z_label = f"{prefix}z"
        self._a_label = f"{prefix}a"

    def __call__(self, inputs: Any) -> Value:
        xs = _check_inputs(inputs, self.nin, self._where())
        return self._forward(xs)

    def _forward(self, xs: Sequence[Value | float]) -> Value:
        z = _weighted_sum(self.w, xs, self.b)
        if self.activation == "linear":  # the sum is the output: label it as one
            _label(z, self._a_label)
            return z
        _label(z, self._z_label)
        a = _activate(z, self.activation, self.alpha)
        _label(a, self._a_label)
        return a

    def parameters(self) -> list[Value]:
        return [*self.w, self.b] if self.b is not None else list(self.w)

    def _where(self) -> str:
        return f"Neuron {self.name}" if self.name else "Neuron"

    def __repr__(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return f"Neuron({self.nin}, activation={self.activation!r}{bias})"


class Layer(Module):
    """``nout`` neurons that all see the same ``nin`` inputs.

    Calling it returns a list of ``nout`` Values (a single Value when ``nout == 1``).
    ``activation`` (None: "tanh"), ``alpha`` and micrograd's ``nonlin=`` as for ``Neuron``.
    """

    def __init__(self, nin: int, nout: int, activation: str | None = None, bias: bool = True,
                 seed: Seed = None, *, alpha: float = 0.01, name: str = "",
                 nonlin: bool | None = None) -> None:
        self.nin = _check_size(nin, "Layer nin (the number of inputs)")
        self.nout = _check_size(nout, "Layer nout (the number of neurons)")
        self.activation = activation = _resolve_activation(activation, nonlin, "Layer")
        _check_alpha(alpha, [activation], "Layer")
        self.name = name
        rng = _rng(seed)
        prefix = f"{name}." if name else ""
        self.neurons = [Neuron(self.nin, activation, bias, rng, alpha=alpha,
                               name=f"{prefix}N{k}", fan_out=self.nout)
                        for k in range(self.nout)]

    def __call__(self, inputs: Any) -> Value | list[Value]:
        xs = _check_inputs(inputs, self.nin, f"Layer {self.name}" if self.name else "Layer")
        outs = self._forward(xs)
        return outs[0] if len(outs) == 1 else outs

    def _forward(self, xs: Sequence[Value | float]) -> list[Value]:
        return [neuron._forward(xs) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        bias = "" if self.neurons[0].b is not None else ", bias=False"
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r}{bias})"


NOTATIONS = ("nn", "kauchak", "hj")
"""How ``MLP(..., notation=...)`` names its nodes: nn's own, Kauchak's, Haghtalab & Joachims'."""


def _name_as_lecture(model: MLP, notation: str) -> list[str] | None:
    """Relabel ``model``'s parameters and the nodes its neurons make as ``notation`` writes
    them; the labels its numeric inputs get (None: nn's own ``x0``, ``x1`` ...)."""
    if notation == "nn":
        return None
    layers = model.layers
    if notation == "kauchak":
        if len(layers) != 2 or layers[1].nout != 1:
            raise ValueError("MLP notation='kauchak' is Kauchak's network: one hidden layer "
                             "and one output, e.g. MLP(2, [3, 1], notation='kauchak')")
        wide = max(model.nin, layers[0].nout) >= 10  # w1_12, not w112
        for k, neuron in enumerate(layers[0].neurons, start=1):
            for j, w in enumerate(neuron.w, start=1):
                w.label = f"w{k}_{j}" if wide else f"w{k}{j}"
            if neuron.b is not None:
                neuron.b.label = f"b{k}"
            neuron._z_label, neuron._a_label = f"z{k}", f"h{k}"
        out = layers[1].neurons[0]
        for k, v in enumerate(out.w, start=1):
            v.label = f"v{k}"
        if out.b is not None:
            out.b.label = "b"
        out._z_label, out._a_label = "z", "yhat"
        return [f"x{j}" for j in range(1, model.nin + 1)]
    for ell, layer in enumerate(layers):  # Haghtalab & Joachims: s_l = W_(l-1)^T v_(l-1)
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.label = f"W{ell}[{i},{j}]"
            if neuron.b is not None:
                neuron.b.label = f"b{ell}[{j}]"
            neuron._z_label, neuron._a_label = f"s{ell + 1}[{j}]", f"v{ell + 1}[{j}]"
    return [f"v0[{i}]" for i in range(model.nin)]


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation``, the last layer ``output_activation``. Calling the
    model on a list of ``nin`` numbers or Values returns a Value when the last layer has
    one output, else a list. ``seed`` makes the initialisation reproducible. ``alpha`` is
    leaky_relu's slope (below 1). The default hidden activation is tanh (micrograd's MLP
    uses ReLU: pass ``activation="relu"``). With ``activation="linear"`` the network is one
    linear map however deep: W = W2·W1, b = W2·b1 + b2 (Lecture 5: "more layers of linear
    units do not help").

    ``notation`` names every node as a lecture does, so that trace, explain, draw and the
    explorer print the slide's symbols (see ``NOTATIONS``): ``"nn"`` (the default,
    ``L1.N0.w0``, ``L1.N0.z``, ``L1.N0.a``, inputs ``x0``, ``x1``, grouped by layer and
    neuron in drawings); ``"kauchak"`` (one hidden layer and one output, Kauchak's 1-based
    ``x_j``, ``w_kj``, ``h_k``, ``v_k``: inputs ``x1``, weights ``w12``, biases ``b1``,
    sums ``z1``, hidden outputs ``h1``, output weights ``v1``, bias ``b``, output ``yhat``);
    ``"hj"`` (Haghtalab & Joachims: ``v0[i]`` the inputs, ``W0[i,j]`` from unit i of layer
    0 to unit j of layer 1, ``b0[j]``, sums ``s1[j]``, outputs ``v1[j]``).

    >>> model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> [name for name, _ in model.named_parameters()][:3]
    ['L1.N0.w0', 'L1.N0.w1', 'L1.N0.b']
    >>> [name for name, _ in MLP(2, [2, 1], notation="kauchak").named_parameters()][:3]
    ['w11', 'w12', 'b1']
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "tanh",
                 output_activation: str = "linear", bias: bool = True, seed: Seed = None,
                 *, alpha: float = 0.01, notation: str = "nn") -> None:
        self.nin = _check_size(nin, "MLP nin (the number of inputs)")
        if isinstance(nouts, numbers.Integral) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, e.g. [4, 1], "
                             f"got {nouts!r}")
        sizes = [self.nin] + [_check_size(n, f"MLP nouts[{i}]") for i, n in enumerate(nouts)]
        self.activation = _resolve_activation(activation, None, "MLP activation")
        self.output_activation = _resolve_activation(output_activation, None,
                                                     "MLP output_activation")
        _check_alpha(alpha, [self.activation, self.output_activation], "MLP")
        rng = _rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                  bias, rng, alpha=alpha, name=f"L{i + 1}")
            for i in range(len(nouts))
        ]
        if notation not in NOTATIONS:
            raise ValueError(f"MLP notation must be one of {', '.join(map(repr, NOTATIONS))}, "
                             f"not {notation!r}")
        self.notation = notation
        self._input_labels = _name_as_lecture(self, notation)

    def __call__(self, inputs: Any) -> Value | list[Value]:
        # numbers become input leaves named as the notation names them (x0, x1 / x1, x2 ...)
        xs: Sequence[Value | float] = _check_inputs(inputs, self.nin, "MLP",
                                                     self._input_labels)
        for layer in self.layers:
            xs = layer._forward(xs)
        outputs = [x for x in xs if isinstance(x, Value)]  # a layer's outputs are Values
        return outputs[0] if len(outputs) == 1 else outputs

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        sizes = [layer.nout for layer in self.layers]
        bias = "" if self.layers[0].neurons[0].b is not None else ", bias=False"
        return (f"MLP({self.nin}, {sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}{bias})")
