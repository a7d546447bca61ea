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

import math
import numbers
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from autograd_lite import Value, no_grad

from . import losses as L
from .optim import SGD, Optimizer

__all__ = ["DivergedError", "History", "accuracy", "fit", "gradient_sizes", "predict"]

Metric = Callable[[Any], float]


@dataclass
class History:
    """What happened during ``fit``: plot ``history.loss`` against ``range(history.epochs)``.

    ``loss[e]`` is the mean training loss over the examples of epoch ``e`` (each example's
    loss taken with the weights in place when its mini-batch was evaluated);
    ``step_loss`` has one entry per optimizer step; ``lr`` the rate used in each epoch;
    ``metrics[name]`` one value per epoch, measured after the epoch.

    With ``fit(..., record=True)`` also a replay of the training (else both stay empty):
    ``snapshots`` holds every parameter's number by label (``"L1.N0.w0"``), entry 0 before
    training and one after each epoch (``epochs + 1`` entries); ``grad_sizes`` one
    ``gradient_sizes(model)`` per epoch, taken at the epoch's last step before the update.
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


def _mean(values: Sequence[Value]) -> Value:
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total / len(values) if len(values) > 1 else total


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
    for p in model.parameters():
        if id(p) in seen:  # a parameter shared between places counts once
            continue
        seen.add(id(p))
        if not p.label:
            raise ValueError("gradient_sizes: a parameter has no label; layers are read "
                             "from labels such as 'L1.N0.w0'")
        group = totals.setdefault(_parameter_group(p.label), [0.0, 0])
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


def fit(model: Any, data: Any, loss: str | Callable[[Any, Any], Value] = "half_squared_error",
        optimizer: Optimizer | None = None, *, lr: float | None = None, epochs: int = 100,
        batch_size: int | None = None, shuffle: bool = True, seed: int | None = 0,
        schedule: Callable[[int], float] | None = None, target_loss: float | None = None,
        metrics: dict[str, Metric] | None = None, progress: bool | None = None,
        file: TextIO | None = None, record: bool = False) -> History:
    """Train ``model`` on ``data = (xs, ys)`` and return the loss ``History``.

    - ``loss``: a name from ``nn.losses`` (``"hinge"``) or a function
      ``(prediction, target) -> Value``; a mini-batch's loss is the mean over its examples.
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
    """
    xs, ys = _examples(data)
    loss_fn = L.get(loss)
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
    recorded = _recordable(model) if record else []

    out = sys.stderr if file is None else file
    bar = _progress_bar(epochs, out) if progress else None
    auto = progress is None and hasattr(out, "isatty") and out.isatty()
    rng = random.Random(seed)
    order = list(range(len(xs)))
    history = History(metrics={name: [] for name in metrics})
    if record:
        history.snapshots.append(_snapshot(recorded))
    start = time.perf_counter()
    try:
        for epoch in range(epochs):
            if schedule is not None:
                rate = schedule(epoch)
                if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
                        or not math.isfinite(rate) or rate <= 0:
                    raise ValueError(f"fit: schedule({epoch}) gave {rate!r}, "
                                     "not a positive learning rate")
                optimizer.lr = float(rate)
            if shuffle:
                rng.shuffle(order)
            epoch_total = 0.0
            for first in range(0, len(order), batch):
                chosen = order[first:first + batch]
                try:
                    batch_loss = _mean([_example_loss(loss_fn, model, xs[i], ys[i], i)
                                        for i in chosen])
                    optimizer.zero_grad()
                    batch_loss.backward()
                    if record and first + batch >= len(order):  # the epoch's last step
                        history.grad_sizes.append(gradient_sizes(model))
                    try:
                        optimizer.step()
                    except ValueError as exc:  # a step to a weight beyond the floats
                        raise OverflowError(str(exc)) from None
                except OverflowError as exc:  # a loss, a gradient or a weight overflowed
                    raise DivergedError(f"fit: training diverged at epoch {epoch + 1}: {exc}",
                                        epoch + 1) from None
                history.step_loss.append(batch_loss.data)
                history.steps += 1
                epoch_total += batch_loss.data * len(chosen)
            epoch_loss = epoch_total / len(order)
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
                bar.set_postfix(loss=f"{epoch_loss:.4g}", lr=f"{optimizer.lr:.3g}", refresh=False)
                bar.update(1)
            if target_loss is not None and epoch_loss <= target_loss:
                history.stopped_early = epoch + 1 < epochs
                break
    finally:
        history.seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
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
