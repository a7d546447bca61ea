"""The training loop: ``fit`` (epochs, mini-batches, shuffling with a seed, a progress bar,
a loss history), and ``predict`` / ``accuracy`` for evaluating a model without a graph.

Kauchak's loop, as ``fit`` runs it::

    for some number of iterations (epochs):
        randomly shuffle training data              (shuffle=True, seed=…)
        for each example (or mini-batch):           (batch_size=1, or n, or None = all)
            compute all outputs going forward       (model(x), loss(prediction, y))
            backpropagate                           (loss.backward())
            update the weights                      (optimizer.step())
"""

from __future__ import annotations

import copy
import math
import numbers
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from autograd_lite import Constant, Value, no_grad

from . import losses as L
from .optim import SGD, Optimizer

__all__ = [
    "CompileFallbackWarning", "DivergedError", "History", "accuracy", "fit", "gradient_sizes",
    "predict",
]

Metric = Callable[[Any], float]


@dataclass
class History:
    """What happened during ``fit``: plot ``history.loss`` against ``range(history.epochs)``.

    ``loss[e]`` is the mean training loss over the examples of epoch ``e`` (each example's
    loss taken with the weights in place when its mini-batch was evaluated), their sum
    with ``fit(..., reduction="sum")``; ``step_loss`` has one entry per optimizer step (the
    batch loss, reduced the same way); ``lr`` the rate used in each epoch;
    ``metrics[name]`` one value per epoch, measured after the epoch.

    With ``fit(..., record=True)`` also a replay of the training (else both stay empty):
    ``snapshots`` holds every parameter's number by label (``"L1.N0.w0"``), entry 0 before
    training and one after each epoch (``epochs + 1`` entries); ``grad_sizes`` one
    ``gradient_sizes(model)`` per epoch, taken at the epoch's last step before the update.

    With ``fit(..., compile=True)``: ``compiled`` is True when the compiled step trained
    (False when fit fell back to eager training), ``compile_seconds`` the time it took to
    build, check and compile the example graph (counted in ``seconds`` too).
    """

    loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    snapshots: list[dict[str, float]] = field(default_factory=list)
    grad_sizes: list[dict[str, float]] = field(default_factory=list)
    compiled: bool = False
    compile_seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def plot(self, ax: Any = None, log: bool = True) -> Any:
        """Draw the loss per epoch with matplotlib (imported here: it is optional)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.plot(range(1, self.epochs + 1), self.loss, label="training loss")
        if log and self.loss and min(self.loss) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        return ax

    def __repr__(self) -> str:  # not the dataclass's: that prints every loss of every step
        return f"<History: {self}>"

    def __str__(self) -> str:
        last = f", final loss {self.loss[-1]:.6g}" if self.loss else ""
        return (f"{self.epochs} epochs, {self.steps} steps in {self.seconds:.2f} s{last}"
                + (" (stopped: target loss reached)" if self.stopped_early else ""))


def _examples(data: Any) -> tuple[list[Any], list[Any]]:
    try:
        xs, ys = data
    except (TypeError, ValueError):
        raise TypeError("data must be a pair (xs, ys), e.g. nn.data.xor(), not "
                        f"{type(data).__name__}") from None
    xs, ys = list(xs), list(ys)
    if len(xs) != len(ys):
        raise ValueError(f"data: {len(xs)} inputs but {len(ys)} targets")
    if not xs:
        raise ValueError("data is empty: no examples to train on")
    return xs, ys


def _positive_int(x: Any, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{what} must be a positive int, got {x!r}")
    return int(x)


def _mean(values: Sequence[Value], reduction: str = "mean") -> Value:
    """The batch loss: the examples' losses added in order, then ÷ n for "mean"."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total / len(values) if len(values) > 1 and reduction == "mean" else total


def _example_loss(loss: Callable[[Any, Any], Value], model: Any, x: Any, y: Any,
                  index: int) -> Value:
    try:
        value = loss(model(x), y)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError) as exc:
        # Same exception type, with the example that caused it.
        try:
            located = type(exc)(f"fit: example {index} (target {y!r}): {exc}")
        except Exception:  # an exception type that takes other arguments: keep it as is
            raise exc from None
        raise located from exc
    if not isinstance(value, Value):
        raise TypeError(f"fit: the loss must return a Value, got {type(value).__name__} "
                        f"for example {index}")
    return value


def _progress_bar(epochs: int, file: TextIO) -> Any:
    """tqdm's bar (the library the ecosystem uses): in place on a terminal, one line; in
    Jupyter its widget when ipywidgets is there (else the text bar, which Jupyter also
    redraws in place), so a saved notebook keeps one bar, not a line per update."""
    from tqdm import tqdm

    bar_class: Any = tqdm
    if "ipykernel" in sys.modules and file is sys.stderr:
        try:
            import ipywidgets  # noqa: F401 - tqdm's notebook bar needs it
            from tqdm.notebook import tqdm as notebook_tqdm

            bar_class = notebook_tqdm
        except ImportError:
            pass
    return bar_class(total=epochs, file=file, desc="fit", unit="epoch", leave=True,
                     dynamic_ncols=True, mininterval=0.1)


def _parameter_group(label: str) -> str:
    return label.split(".", 1)[0]


def gradient_sizes(model: Any) -> dict[str, float]:
    """The mean absolute gradient of each layer's parameters, from their current ``.grad``.

    A layer is the part of a parameter's label before its first dot (``L1`` for
    ``L1.N0.w0``), so an ``MLP`` gives ``{"L1": …, "L2": …, …}`` in layer order. Call it
    after ``backward()`` and before the optimizer's step: for a deep sigmoid network it
    shows the vanishing gradient, ``L1`` much smaller than the last layer.
    ``fit(..., record=True)`` stores one per epoch in ``history.grad_sizes``.

    >>> import nn
    >>> model = nn.MLP(1, [1, 1], activation="sigmoid", bias=False, seed=0)
    >>> model.set_parameters([2.0, -3.0])
    >>> model([1.0]).backward()
    >>> {layer: round(size, 4) for layer, size in gradient_sizes(model).items()}
    {'L1': 0.315, 'L2': 0.8808}
    """
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(f"gradient_sizes: model must be an nn Module (with parameters()), "
                        f"not {type(model).__name__}")
    totals: dict[str, list[float]] = {}
    seen: set[int] = set()
    # An MLP knows its layers (whatever its notation labels them); otherwise the label says.
    layer_of = {id(p): f"L{k}" for k, layer in enumerate(getattr(model, "layers", ()), start=1)
                for p in layer.parameters()}
    for p in model.parameters():
        if id(p) in seen:  # a parameter shared between places counts once
            continue
        seen.add(id(p))
        if id(p) not in layer_of and not p.label:
            raise ValueError("gradient_sizes: a parameter has no label; layers are read "
                             "from labels such as 'L1.N0.w0'")
        group = totals.setdefault(layer_of.get(id(p)) or _parameter_group(p.label), [0.0, 0])
        group[0] += abs(p.grad)
        group[1] += 1
    return {name: total / count for name, (total, count) in totals.items()}


def _snapshot(params: Sequence[Value]) -> dict[str, float]:
    return {p.label: p.data for p in params}


def _recordable(model: Any) -> list[Value]:
    """The model's parameters, once each, checked to have distinct labels (a snapshot is
    keyed by label: two parameters under one name would be one entry)."""
    params: list[Value] = []
    owners: dict[str, Value] = {}
    for p in model.parameters():
        if not p.label:
            raise ValueError("fit(record=True): every parameter needs a label (snapshots "
                             "are keyed by it, e.g. 'L1.N0.w0'); one has none")
        other = owners.setdefault(p.label, p)
        if other is not p:
            raise ValueError(f"fit(record=True): two parameters are labelled {p.label!r}; "
                             "snapshots are keyed by label, so labels must be distinct")
        if len(owners) > len(params):  # a new label, not a shared parameter seen again
            params.append(p)
    return params


class DivergedError(ArithmeticError):
    """Training left the floats: a loss, a gradient or a weight overflowed. ``epoch`` says
    when (from 1); the message says what overflowed. A smaller learning rate is the cure."""

    def __init__(self, message: str, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


# A progress bar appears by itself only on a terminal and only when the run looks long.
AUTO_PROGRESS_SECONDS = 2.0


# ---------------------------------------------------------------- the training loop

Step = Callable[[int, list[int]], float]  # (epoch, the batch's example indices) -> its loss


class _Loop:
    """Epochs, batches, schedule, history, progress bar: the loop around one step function
    (eager or compiled), which sets every parameter's ``.grad`` and returns the batch loss."""

    def __init__(self, model: Any, xs: list[Any], ys: list[Any], optimizer: Optimizer, *,
                 epochs: int, batch: int, shuffle: bool, rng: random.Random,
                 schedule: Callable[[int], float] | None, target_loss: float | None,
                 metrics: dict[str, Metric], progress: bool | None, file: TextIO,
                 recorded: list[Value] | None, reduction: str = "mean") -> None:
        self.model, self.xs, self.ys, self.optimizer = model, xs, ys, optimizer
        self.summed = reduction == "sum"  # a batch loss is a sum: epoch loss = Σ of them
        self.epochs, self.batch, self.shuffle, self.rng = epochs, batch, shuffle, rng
        self.schedule, self.target_loss, self.metrics = schedule, target_loss, metrics
        self.progress, self.file, self.recorded = progress, file, recorded

    def run(self, step: Step, start: float | None = None) -> History:
        model, optimizer, epochs, batch = self.model, self.optimizer, self.epochs, self.batch
        schedule, metrics, target_loss = self.schedule, self.metrics, self.target_loss
        record, recorded = self.recorded is not None, self.recorded or []
        out = self.file
        bar = _progress_bar(epochs, out) if self.progress else None
        auto = self.progress is None and hasattr(out, "isatty") and out.isatty()
        order = list(range(len(self.xs)))
        history = History(metrics={name: [] for name in metrics})
        if record:
            history.snapshots.append(_snapshot(recorded))
        start = time.perf_counter() if start is None else start
        try:
            for epoch in range(epochs):
                if schedule is not None:
                    rate = schedule(epoch)
                    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
                            or not math.isfinite(rate) or rate <= 0:
                        raise ValueError(f"fit: schedule({epoch}) gave {rate!r}, "
                                         "not a positive learning rate")
                    optimizer.lr = float(rate)
                if self.shuffle:
                    self.rng.shuffle(order)
                epoch_total = 0.0
                for first in range(0, len(order), batch):
                    chosen = order[first:first + batch]
                    try:
                        batch_loss = step(epoch, chosen)
                        if record and first + batch >= len(order):  # the epoch's last step
                            history.grad_sizes.append(gradient_sizes(model))
                        try:
                            optimizer.step()
                        except ValueError as exc:  # a step to a weight beyond the floats
                            raise OverflowError(str(exc)) from None
                    except OverflowError as exc:  # a loss, a gradient or a weight overflowed
                        raise DivergedError(f"fit: training diverged at epoch {epoch + 1}: "
                                            f"{exc}", epoch + 1) from None
                    history.step_loss.append(batch_loss)
                    history.steps += 1
                    epoch_total += batch_loss if self.summed else batch_loss * len(chosen)
                epoch_loss = epoch_total if self.summed else epoch_total / len(order)
                history.loss.append(epoch_loss)
                history.lr.append(optimizer.lr)
                if record:
                    history.snapshots.append(_snapshot(recorded))
                for name, metric in metrics.items():
                    history.metrics[name].append(float(metric(model)))
                elapsed = time.perf_counter() - start
                if auto and bar is None and elapsed * epochs / (epoch + 1) > AUTO_PROGRESS_SECONDS:
                    bar = _progress_bar(epochs, out)
                    bar.update(epoch)  # the epochs run before it appeared
                if bar is not None:
                    bar.set_postfix(loss=f"{epoch_loss:.4g}", lr=f"{optimizer.lr:.3g}",
                                    refresh=False)
                    bar.update(1)
                if target_loss is not None and epoch_loss <= target_loss:
                    history.stopped_early = epoch + 1 < epochs
                    break
        finally:
            history.seconds = time.perf_counter() - start
            if bar is not None:
                bar.close()
        return history


def _eager_step(loss: Callable[[Any, Any], Value], model: Any, optimizer: Optimizer,
                xs: list[Any], ys: list[Any], reduction: str = "mean") -> Step:
    """The engine's step: the batch's graph (the mean or sum of its examples' losses),
    backward."""

    def step(epoch: int, chosen: list[int]) -> float:
        batch_loss = _mean([_example_loss(loss, model, xs[i], ys[i], i) for i in chosen],
                           reduction)
        optimizer.zero_grad()
        batch_loss.backward()
        return batch_loss.data

    return step


# ---------------------------------------------------------------- the compiled step


class CompileFallbackWarning(UserWarning):
    """``fit(..., compile=True)`` trained eagerly instead; the message says why."""


class _FallbackError(Exception):
    """Why the compiled step cannot be used (the warning's message)."""


class _NotBuiltError(_FallbackError):
    """An example's loss graph, with Value leaves for its numbers, could not be built."""


def _warn(message: str) -> None:
    warnings.warn(f"fit(compile=True): {message}", CompileFallbackWarning, stacklevel=3)


def _unique(values: Sequence[Value]) -> list[Value]:
    return list(dict.fromkeys(values))


class _Checkpoint:
    """The parameters, the optimizer's state and the shuffling generator, as they are now:
    a graph that changes shape during training sends ``fit`` back here to train eagerly."""

    def __init__(self, model: Any, optimizer: Optimizer, rng: random.Random) -> None:
        params = [p for p in _unique([*model.parameters(), *optimizer.params])
                  if type(p) is not Constant]
        self.values = [(p, p.data, p.grad) for p in params]
        self.optimizer, self.rng, self.rng_state = optimizer, rng, rng.getstate()
        try:  # momentum, Adam's moments, its step count ...; the parameters themselves shared
            self.state = copy.deepcopy(vars(optimizer), {id(p): p for p in params})
        except Exception as exc:
            raise _FallbackError(f"the optimizer's state cannot be copied "
                                 f"({type(exc).__name__}: {exc}), which a compiled run needs "
                                 "to go back to") from None

    def restore(self) -> None:
        for p, data, grad in self.values:
            p.data = data
            p.grad = grad
        state = vars(self.optimizer)
        state.clear()
        state.update(self.state)
        self.rng.setstate(self.rng_state)


def _numbers(item: Any, what: str, index: int, params: set[Value]) -> tuple[bool, list[float]]:
    """An example's input or target as (a single number?, its numbers); a leaf Value counts
    as its number. Anything else cannot be an input of the compiled graph."""
    single = (isinstance(item, (Value, numbers.Real)) and not isinstance(item, bool))
    entries = [item] if single else None
    if entries is None:
        if isinstance(item, (str, bytes)):
            raise _FallbackError(f"example {index}'s {what} is a {type(item).__name__}")
        try:
            entries = list(item)
        except TypeError:
            raise _FallbackError(f"example {index}'s {what} is a {type(item).__name__}, "
                                 "not a number or a list of numbers") from None
    found: list[float] = []
    for entry in entries:
        if isinstance(entry, Value):
            if entry.primitive is not None or entry in params:
                raise _FallbackError(f"example {index}'s {what} holds a Value that is "
                                     f"{'a parameter' if entry in params else 'computed'}, "
                                     "not a number")
            found.append(entry.data)
        elif isinstance(entry, numbers.Real) and not isinstance(entry, bool):
            found.append(float(entry))
        else:
            raise _FallbackError(f"example {index}'s {what} holds a "
                                 f"{type(entry).__name__}, not a number")
    return single, found


def _table(items: list[Any], what: str, params: set[Value]) -> tuple[bool, list[list[float]]]:
    """Every example's numbers (one row each), all of one shape."""
    single, first = _numbers(items[0], what, 0, params)
    rows = [first]
    for index in range(1, len(items)):
        one, row = _numbers(items[index], what, index, params)
        if one != single or len(row) != len(first):
            raise _FallbackError(f"example {index}'s {what} has {len(row)} number(s), "
                                 f"example 0's {len(first)}: one compiled graph cannot take "
                                 "both")
        rows.append(row)
    return single, rows


Shape = list[Any]


def _shape(output: Value, positions: dict[Value, int]) -> Shape:
    """The graph's structure, comparable with ``==``: each operation, inputs first (a
    depth-first post-order from the output, parents in order), as its primitive's name and
    where its inputs come from: an earlier operation by its number (0, 1, ...), one of the
    compiled function's inputs by its position k as -1 - k, a constant as ("constant", its
    number), any other leaf (folded in at compile time) as ("leaf", its number)."""
    tokens: dict[Value, Any] = {leaf: -1 - k for leaf, k in positions.items()}
    shape: Shape = []
    stack = [output]
    while stack:
        node = stack[-1]
        if node in tokens:
            stack.pop()
            continue
        parents = node.parents
        waiting = [p for p in parents if p not in tokens and type(p) is not Constant]
        if waiting:
            stack.extend(reversed(waiting))
            continue
        stack.pop()
        prim = node.primitive
        if prim is None:
            tokens[node] = ("leaf", node.data)
            continue
        tokens[node] = len(shape)
        shape.append((prim.name, *[("constant", p.data) if type(p) is Constant else tokens[p]
                                   for p in parents]))
    if not shape:
        shape.append(tokens[output])
    return shape


def _describe(entry: Any) -> str:
    return f"a {entry[0]} node" if isinstance(entry, tuple) else "an input"


def _difference(compiled: Shape, other: Shape) -> str:
    """Where two shapes first differ, in words."""
    sizes = (f"{len(other)} operations where the compiled one has {len(compiled)}; "
             if len(other) != len(compiled) else "")
    k = next((k for k, (a, b) in enumerate(zip(compiled, other)) if a != b), None)
    if k is None:
        return f"{sizes}the first {min(len(compiled), len(other))} are the same"
    a, b = compiled[k], other[k]
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        return (f"{sizes}operation {k} (inputs first) is a {a[0]} node on other inputs: "
                f"{_inputs(b)} instead of {_inputs(a)}")
    return f"{sizes}operation {k} (inputs first) is {_describe(b)} instead of {_describe(a)}"


def _inputs(entry: tuple[Any, ...]) -> str:
    def one(token: Any) -> str:
        if isinstance(token, tuple):
            return f"{token[0]} {token[1]!r}"
        return f"input {-1 - token}" if token < 0 else f"operation {token}"
    return "(" + ", ".join(one(t) for t in entry[1:]) + ")"


class _CompiledStep:
    """One example's loss graph, compiled once: a mini-batch is one call (NumPy arrays,
    one element per example), and the step sets each parameter's ``.grad`` from it.

    The graph is ``loss × w`` with ``w`` an input set to the batch's 1/n (1 for
    ``reduction="sum"``): the backward pass then starts from the very number eager fit's
    mean (or sum) gives each example (d mean / d loss),
    so every gradient is the same product of the same factors as eager fit's, and d/dw is
    the example's loss itself. Each parameter's gradient is the sum of its examples'
    contributions, added in the order eager fit's backward pass adds them (the batch's
    last example first).

    Whether one graph stands for every example is checked (``_shape``): every example's
    graph against the compiled one before training, then at each later step one example
    of the batch, its first at step 2, its second at step 3 ... (round the batch: the
    weights have moved, and a branch on a value may now go the other way). One graph built
    per step, so the check costs a fraction of a step; a difference raises
    ``_FallbackError``, and fit trains again eagerly from the start.
    """

    def __init__(self, loss: Callable[[Any, Any], Value], model: Any, optimizer: Optimizer,
                 xs: list[Any], ys: list[Any], eager: Step, reduction: str = "mean") -> None:
        started = time.perf_counter()
        self.loss, self.model, self.eager = loss, model, eager
        self.summed = reduction == "sum"
        self.params = params = [p for p in _unique([*model.parameters(), *optimizer.params])
                                if type(p) is not Constant]
        trained = set(optimizer.params)
        self.kept = [p not in trained for p in params]  # not zeroed: backward adds into .grad
        self.positions = {p: k for k, p in enumerate(params)}
        self.x_single, self.x_rows = _table(xs, "input", set(params))
        self.t_single, self.t_rows = _table(ys, "target", set(params))
        self.steps = 0
        output, inputs = self._graph(0)
        self.shape = _shape(output, self._positions(inputs))
        for index in range(1, len(xs)):  # before compiling: a difference is found sooner
            self._check(index, "")
        try:
            import numpy as np
        except ImportError:  # the python backend: one call per example
            np = None  # type: ignore[assignment]
        self.np = np
        backend = "python" if np is None else "numpy"
        from autograd_lite import compile_graph

        weight = Value(1.0, "batch_weight")
        try:
            # Gradients for the weights and for batch_weight only (d/d batch_weight is the
            # example's loss): the data's are never read, so never computed.
            self.compiled = compile_graph(output * weight, [*params, *inputs, weight],
                                          backend=backend, wrt=[*params, weight])
        except Exception as exc:
            raise _FallbackError(f"the loss graph does not compile with backend={backend!r} "
                                 f"({type(exc).__name__}: {exc})") from None
        if np is not None:
            self.x_columns = np.array(self.x_rows, dtype=float).T.copy()
            self.t_columns = np.array(self.t_rows, dtype=float).T.copy()
        self.compile_seconds = time.perf_counter() - started

    def _positions(self, inputs: list[Value]) -> dict[Value, int]:
        positions = dict(self.positions)
        for k, leaf in enumerate(inputs, start=len(positions)):
            positions[leaf] = k
        return positions

    def _graph(self, index: int) -> tuple[Value, list[Value]]:
        """Example ``index``'s loss, its input and target numbers as fresh Value leaves
        (labelled x0, x1 ... as the model labels numbers, and target)."""
        xs = [Value(v, f"x{j}") for j, v in enumerate(self.x_rows[index])]
        ts = [Value(v, "target" if self.t_single else f"target{j}")
              for j, v in enumerate(self.t_rows[index])]
        try:
            output = self.loss(self.model(xs[0] if self.x_single else xs),
                               ts[0] if self.t_single else ts)
        except Exception as exc:
            raise _NotBuiltError(f"example {index}'s loss, with its input and target as "
                                 f"Value leaves, failed ({type(exc).__name__}: {exc})") from None
        if not isinstance(output, Value):
            raise _NotBuiltError(f"example {index}'s loss is a {type(output).__name__}, "
                                 "not a Value")
        return output, [*xs, *ts]

    def _check(self, index: int, when: str) -> None:
        output, inputs = self._graph(index)
        shape = _shape(output, self._positions(inputs))
        if shape != self.shape:
            raise _FallbackError(
                f"{when}example {index}'s loss graph differs from the compiled one (example "
                f"0's): {_difference(self.shape, shape)}. The model or the loss takes another "
                "path through its Python code (a branch on a value?), so one compiled graph "
                "cannot stand for every example")

    def __call__(self, epoch: int, chosen: list[int]) -> float:
        self.steps += 1
        n = len(chosen)
        if self.steps > 1:  # the first step's weights are those every example was checked at
            index = chosen[(self.steps - 2) % n]  # the batch's first, second ... example
            try:
                self._check(index, f"at epoch {epoch + 1}, step {self.steps}, ")
            except _NotBuiltError:
                self.eager(epoch, chosen)  # the error eager fit gives here (an overflow ...)
                raise  # none: the Value leaves were the trouble
        # d mean / d loss, as _mean's division gives it (d sum / d loss = 1)
        weight = 1.0 / n if n > 1 and not self.summed else 1.0
        values = [p.data for p in self.params]
        np = self.np
        if np is None:
            return self._python(epoch, chosen, values, weight)
        picked = np.asarray(chosen)
        try:
            _, grads = self.compiled(*values, *self.x_columns[:, picked],
                                     *self.t_columns[:, picked], weight)
        except (ArithmeticError, ValueError, TypeError):
            return self.eager(epoch, chosen)  # with the error fit gives, naming the example
        table = np.array(grads)  # one row per input, one column per example
        if not np.isfinite(table).all():  # the engine says what overflowed, and where
            return self.eager(epoch, chosen)
        # Eager fit's backward pass adds the examples' contributions last example first:
        # the same sums, in the same order (a column at a time when that is fewer calls).
        count = len(values)
        if n <= count:
            sums = table[:count, n - 1].copy()
            for k in range(n - 2, -1, -1):
                sums += table[:count, k]
        else:
            sums = np.cumsum(table[:count, ::-1], axis=1)[:, -1]
        for p, total, kept in zip(self.params, sums.tolist(), self.kept):
            p.grad = total + p.grad if kept else total
        losses = table[-1]  # d/d weight: each example's loss
        if self.summed:
            return float(np.cumsum(losses)[-1])
        return float(np.cumsum(losses)[-1] / n) if n > 1 else float(losses[0])

    def _python(self, epoch: int, chosen: list[int], values: list[float],
                weight: float) -> float:
        count = len(values)
        rows = []
        for i in chosen:
            try:
                _, grads = self.compiled(*values, *self.x_rows[i], *self.t_rows[i], weight)
            except (ArithmeticError, ValueError, TypeError):
                return self.eager(epoch, chosen)  # with the error fit gives, naming the example
            rows.append(grads)
        totals = [0.0] * count
        for grads in reversed(rows):
            for k in range(count):
                totals[k] += grads[k]
        for p, total, kept in zip(self.params, totals, self.kept):
            p.grad = total + p.grad if kept else total
        total_loss = rows[0][-1]
        for grads in rows[1:]:
            total_loss += grads[-1]
        if self.summed:
            return total_loss
        return total_loss / n if (n := len(rows)) > 1 else total_loss


def fit(model: Any, data: Any, loss: str | Callable[[Any, Any], Value] = "half_squared_error",
        optimizer: Optimizer | None = None, *, lr: float | None = None, epochs: int = 100,
        batch_size: int | None = None, shuffle: bool = True, seed: int | None = 0,
        schedule: Callable[[int], float] | None = None, target_loss: float | None = None,
        metrics: dict[str, Metric] | None = None, progress: bool | None = None,
        file: TextIO | None = None, record: bool = False, compile: bool = False,
        reduction: str = "mean") -> History:
    """Train ``model`` on ``data = (xs, ys)`` and return the loss ``History``.

    - ``loss``: a name from ``nn.losses`` (``"hinge"``) or a function
      ``(prediction, target) -> Value``; a mini-batch's loss is the mean over its examples.
    - ``reduction``: ``"mean"`` (the default; H&J's (1/m) Σ) or ``"sum"`` (Kauchak's and
      Kramer's Σ over the examples): the batch loss that is differentiated, so a slide's
      α or η is ``lr`` as it stands. On a batch of n, "sum" with lr=η takes the step
      "mean" takes with lr=n·η. ``history.loss`` is then the epoch's sum, not its mean.
    - ``optimizer``: any ``nn.optim`` optimizer; default ``SGD(model, lr=lr or 0.1)``.
    - ``batch_size``: examples per step; None (the default) is the whole set each step,
      1 is online SGD. ``shuffle``: reshuffle the order every epoch, with a private
      ``random.Random(seed)`` (the global ``random`` state is not touched).
    - ``schedule``: ``epoch -> lr`` (see ``nn.optim``), applied before each epoch.
    - ``target_loss``: stop after the first epoch whose mean loss is at most this.
    - ``metrics``: {name: function(model) -> float}, recorded after each epoch.
    - ``progress``: True shows a progress bar on ``file`` (default stderr), False never;
      None shows it on a terminal when the run is expected to last over 2 seconds.
    - ``record``: True keeps a replay in the history: ``history.snapshots`` (every
      parameter by label, before training and after each epoch) and ``history.grad_sizes``
      (``gradient_sizes(model)`` at each epoch's last step, before the update).
    - ``compile``: True builds one example's loss graph, compiles it once with
      ``compile_graph`` (NumPy: a whole mini-batch per call) and trains with it: the same
      batches, steps and history, and the same weights as eager training (to rounding).
      A graph whose shape differs between examples or steps (Python code that branches on
      a value), or one that does not compile, is trained eagerly instead, with a
      ``CompileFallbackWarning`` saying why. ``history.compiled`` says which ran.
    """
    xs, ys = _examples(data)
    loss_fn = L.get(loss)
    reduction = L.check_reduction(reduction, "fit")
    epochs = _positive_int(epochs, "fit epochs")
    batch = len(xs) if batch_size is None else _positive_int(batch_size, "fit batch_size")
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"fit: model must be an nn Module (callable, with parameters()), "
                        f"not {type(model).__name__}")
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=0.1 if lr is None else lr)
    elif lr is not None:
        raise ValueError("fit: give either an optimizer or lr (for the default SGD), not both")
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn.optim optimizer, "
                        f"not {type(optimizer).__name__}")
    if target_loss is not None and (isinstance(target_loss, bool)
                                    or not isinstance(target_loss, numbers.Real)):
        raise TypeError(f"fit: target_loss must be a number, not {type(target_loss).__name__}")
    metrics = dict(metrics or {})
    for name, metric in metrics.items():
        if not callable(metric):
            raise TypeError(f"fit: metric {name!r} must be a function of the model")
    if not isinstance(record, bool):
        raise TypeError(f"fit: record must be True or False, not {type(record).__name__}")
    if not isinstance(compile, bool):
        raise TypeError(f"fit: compile must be True or False, not {type(compile).__name__}")
    loop = _Loop(model, xs, ys, optimizer, epochs=epochs, batch=batch, shuffle=shuffle,
                 rng=random.Random(seed), schedule=schedule, target_loss=target_loss,
                 metrics=metrics, progress=progress, file=sys.stderr if file is None else file,
                 recorded=_recordable(model) if record else None, reduction=reduction)
    eager = _eager_step(loss_fn, model, optimizer, xs, ys, reduction)
    if not compile:
        return loop.run(eager)
    start = time.perf_counter()
    try:
        checkpoint = _Checkpoint(model, optimizer, loop.rng)
        step = _CompiledStep(loss_fn, model, optimizer, xs, ys, eager, reduction)
    except _FallbackError as reason:
        _warn(f"{reason}; training eagerly instead")
        return loop.run(eager, start)
    try:
        history = loop.run(step, start)
        history.compiled = True
    except _FallbackError as reason:  # the graph changed shape during training
        checkpoint.restore()
        _warn(f"{reason}; training again eagerly from the start (the {step.steps - 1} "
              "compiled step(s) before are discarded), so the result is eager fit's")
        history = loop.run(eager, start)
    history.compile_seconds = step.compile_seconds
    return history


def predict(model: Any, xs: Sequence[Any]) -> list[Any]:
    """The model's output for each input, as floats (lists of floats for several outputs).

    Runs under ``no_grad()``: nothing is recorded, so it is cheap and keeps no graph alive.
    """
    with no_grad():
        results = []
        for x in xs:
            out = model(x)
            results.append([v.data for v in out] if isinstance(out, list) else out.data)
    return results


def accuracy(model: Any, xs: Sequence[Any], ys: Sequence[Any],
             threshold: float | None = None) -> float:
    """The fraction of examples the model classifies correctly.

    Several outputs: the class is the index of the largest output (``ys`` are indices).
    One output: labels are 0/1 or −1/+1; the prediction is the larger label when the
    output is above ``threshold`` (default: halfway between the labels, 0.5 or 0 — pass
    ``threshold=0`` for a 0/1 model that outputs logits).
    """
    xs, ys = list(xs), list(ys)
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"accuracy: need as many targets as inputs (>= 1), "
                         f"got {len(xs)} inputs and {len(ys)} targets")
    outputs = predict(model, xs)
    if isinstance(outputs[0], list):
        correct = sum(max(range(len(o)), key=o.__getitem__) == y for o, y in zip(outputs, ys))
        return correct / len(ys)
    low, high = (-1.0, 1.0) if min(ys) < 0 else (0.0, 1.0)
    strays = [y for y in ys if y not in (low, high)]
    if strays:
        raise ValueError(f"accuracy: binary labels must be 0/1 or -1/+1, got {strays[0]!r}")
    cut = (low + high) / 2 if threshold is None else threshold
    correct = sum((high if o > cut else low) == y for o, y in zip(outputs, ys))
    return correct / len(ys)
