"""``python -m bench.compiled [--quick]``: compiled graphs (issue 14) against the eager engines
and hand-written code; prints the tables and writes bench/COMPILED.md.

As in ``python -m bench``, everything runs in this one process, the engines interleaved
round by round (the order rotates each round), timed in CPU time; each engine's gradients
are compared with the hand-written pure-Python reference before it is timed. Only the
memory of a compile is measured in a child process per N (a process's peak RSS never goes
down, so one process cannot measure several).

- W2, micrograd's demo step: the pure-Python reference, the eager engines, the whole step's
  graph compiled for Python (inputs: the 337 parameters), one example's graph compiled for
  NumPy and run on the 100 points at once, and a hand-written NumPy batch step.
- W3, the deep chain: time per node of the compiled code from N = 10³ to 10⁶, compile time
  and compile memory per N.
- micrograd's demo trained for 100 steps with ``nn.fit``, eager and ``compile=True``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Value, compile_graph, linear

from . import reference, workloads
from .__main__ import (
    _duration,
    _gradients_agree,
    _machine,
    _ratio,
    _ratios,
    _sample,
    _spread,
    _yes,
)
from .data import L2_ALPHA, LEARNING_RATE, Layer, flatten, mlp_parameters, two_moons
from .engines import Engine, UnsupportedError, available_engines

OUTPUT = Path(__file__).with_name("COMPILED.md")
ROOT = Path(__file__).resolve().parent.parent

REFERENCE = "reference (pure Python)"
EAGER = "autograd_lite"
EAGER_NARY = "autograd_lite (n-ary linear node)"
MICROGRAD = "micrograd"
COMPILED = "compiled python"
COMPILED_NARY = "compiled python, n-ary linear graph"
NUMPY_COMPILED = "compiled numpy, one example's graph"
NUMPY_COMPILED_NARY = "compiled numpy, one example's n-ary graph"
NUMPY_REFERENCE = "NumPy batch reference"
FIT_EAGER = "nn.fit"
FIT_COMPILED = "nn.fit(compile=True)"

Run = Callable[[], Any]
Read = Callable[[Any], list[float]]


@dataclass
class Settings:
    rounds: int  # interleaved rounds per workload
    target: float  # seconds one sample should last (short runs are repeated within it)
    big_rounds: int  # rounds for W3's largest sizes (N >= big_from)
    big_from: int
    compiles: int  # compile_graph calls per W2 graph (the first one also prints the rules)
    fit_rounds: int  # rounds of the 100-step nn.fit runs
    chain_sizes: tuple[int, ...]
    fit_steps: int = 100


QUICK = Settings(rounds=3, target=0.02, big_rounds=1, big_from=100_000, compiles=2,
                 fit_rounds=1, chain_sizes=(1_000, 10_000, 100_000))
FULL = Settings(rounds=9, target=0.2, big_rounds=3, big_from=1_000_000, compiles=3,
                fit_rounds=3, chain_sizes=(1_000, 10_000, 100_000, 1_000_000))


# ---------------------------------------------------------------- measuring


@dataclass
class Timed:
    """Times per run by round (seconds), and why an engine was not timed."""

    times: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def interleaved(runners: dict[str, tuple[Run, Read]], expected: list[float],
                settings: Settings, rounds: int) -> Timed:
    """Check each runner's gradients against ``expected`` (its first run), then time the
    ones that agree, interleaved round by round with the order rotating each round."""
    found = Timed()
    timed: dict[str, tuple[Run, int]] = {}
    for name, (run, read) in runners.items():
        gc.collect()
        started = time.process_time()
        try:
            handle = run()
        except (RecursionError, UnsupportedError) as exc:
            found.failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        first = time.process_time() - started
        mismatch = _gradients_agree(expected, read(handle))
        if mismatch is not None:
            found.failures[name] = f"wrong gradients, not timed: {mismatch}"
            continue
        timed[name] = (run, max(1, round(settings.target / max(first, 1e-7))))
    names = list(timed)
    for name in names:
        found.times[name] = []
    for round_index in range(rounds):
        shift = round_index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            run, number = timed[name]
            found.times[name].append(_sample(run, number))
    return found


def _cpu(work: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    started = time.process_time()
    result = work()
    return result, time.process_time() - started


# ---------------------------------------------------------------- W2: the graphs


@dataclass(frozen=True)
class Demo:
    """W2's inputs: the network's parameters (floats), the points and their ±1 labels."""

    layers: list[Layer]
    points: list[list[float]]
    labels: list[float]

    @classmethod
    def micrograd(cls) -> Demo:
        points, labels = two_moons()
        return cls(mlp_parameters(), points, labels)

    def fresh_layers(self) -> list[Layer]:
        return [([row[:] for row in weights], biases[:]) for weights, biases in self.layers]

    def expected(self) -> list[float]:
        """The step's gradients from the pure-Python reference, at these parameters."""
        return reference.mlp_step(self.fresh_layers(), self.points, self.labels)


def _network(layers: list[Layer], use_linear: bool
             ) -> tuple[Callable[[list[Any]], Value], list[Value]]:
    """The MLP as Values (micrograd's parameter order), and its forward pass: each neuron
    b + w0·x0 + w1·x1 ... (or one ``linear`` node), ReLU on the hidden layers."""
    nodes = [([[Value(w) for w in row] for row in weights], [Value(b) for b in biases])
             for weights, biases in layers]
    params = [p for weights, biases in nodes for row, b in zip(weights, biases)
              for p in (*row, b)]
    last = len(nodes) - 1

    def neuron(row: list[Value], bias: Value, x: list[Any]) -> Value:
        if use_linear:
            return linear(row, x, bias)
        return sum((w * xi for w, xi in zip(row, x)), bias)  # micrograd's Neuron.__call__

    def forward(x: list[Any]) -> Value:
        for index, (weights, biases) in enumerate(nodes):
            z = [neuron(row, b, x) for row, b in zip(weights, biases)]
            x = z if index == last else [t.relu() for t in z]
        return x[0]

    return forward, params


def step_graph(demo: Demo, use_linear: bool = False) -> tuple[Value, list[Value]]:
    """The whole step's loss (``workloads.mlp_step``'s graph, without its backward): the
    points are leaves that are not inputs (folded into the code), the labels constants.
    Returns the loss and the parameters, the compiled function's inputs."""
    forward, params = _network(demo.layers, use_linear)
    scores = [forward([Value(c) for c in point]) for point in demo.points]
    losses = [(1 + -y * score).relu() for y, score in zip(demo.labels, scores)]  # hinge
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + L2_ALPHA * sum(p * p for p in params), params


def example_graph(demo: Demo, use_linear: bool = False) -> tuple[Value, list[Value]]:
    """One example's loss with the point's coordinates and its label as inputs too:
    hinge + the whole L2 term, so that the batch mean of the loss (and of its gradients) is
    the step's. Returns the loss and the inputs: the parameters, x0, x1 ..., y."""
    forward, params = _network(demo.layers, use_linear)
    x = [Value(0.0, label=f"x{i}") for i in range(len(demo.points[0]))]
    y = Value(1.0, label="y")
    loss = (1 + -y * forward(x)).relu() + L2_ALPHA * sum(p * p for p in params)
    return loss, [*params, *x, y]


# ---------------------------------------------------------------- W2: the runs


def reference_step(demo: Demo) -> Run:
    """The pure-Python step, from the same parameters every time (it updates a copy): its
    time depends on the parameters (it skips the backward pass of a point whose hinge is
    0), so repeated steps from drifting parameters would time a different step."""
    return lambda: reference.mlp_step(demo.fresh_layers(), demo.points, demo.labels)


def compiled_step(compiled: Any, start: list[float]) -> Run:
    """A step with the compiled whole-step graph: gradients for the current parameters,
    then the SGD update, as the eager step does."""
    params = list(start)
    lr = LEARNING_RATE

    def run() -> tuple[float, ...]:
        nonlocal params
        _, grads = compiled(*params)
        params = [p - lr * g for p, g in zip(params, grads)]
        return grads

    return run


def compiled_numpy_step(compiled: Any, demo: Demo) -> Run:
    """A step with one example's graph compiled for NumPy: the parameters as numbers, the
    points' coordinates and labels as arrays (broadcast: one evaluation per point), then
    the mean of each parameter's gradient over the batch and the SGD update."""
    params = np.array(flatten(demo.layers))
    data = np.asarray(demo.points, dtype=float)
    columns = [data[:, i] for i in range(data.shape[1])]
    labels = np.asarray(demo.labels, dtype=float)
    n = len(params)

    def run() -> np.ndarray:
        nonlocal params
        _, grads = compiled(*params, *columns, labels)
        mean = np.stack(grads[:n]).mean(axis=1)
        params = params - LEARNING_RATE * mean
        return mean

    return run


def numpy_mlp_step(weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray,
                   y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """W2 over the whole batch with matrices: the same relu MLP, hinge loss + L2 and SGD
    update as ``reference.mlp_step``, one matrix product per layer and direction.

    Returns each layer's (weight gradient, bias gradient) and updates the arrays in place.
    """
    last = len(weights) - 1
    inputs: list[np.ndarray] = []  # each layer's input (n_points × n_in)
    pre: list[np.ndarray] = []  # its pre-activation (n_points × n_out)
    a = x
    for index, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w.T + b
        inputs.append(a)
        pre.append(z)
        a = z if index == last else np.maximum(z, 0.0)
    score = a[:, 0]
    # hinge: d loss/d score = −y/n where 1 − y·score > 0 (data loss = mean of the hinges)
    dz = np.where(1.0 - y * score > 0, -y / len(y), 0.0)[:, None]
    grads: list[tuple[np.ndarray, np.ndarray]] = [None] * len(weights)  # type: ignore[list-item]
    for index in range(last, -1, -1):
        w = weights[index]
        grads[index] = (dz.T @ inputs[index] + 2.0 * L2_ALPHA * w,
                        dz.sum(axis=0) + 2.0 * L2_ALPHA * biases[index])
        if index:  # through the previous layer's relu: relu'(z) = 1 for z > 0
            dz = (dz @ w) * (pre[index - 1] > 0)
    for (g_w, g_b), w, b in zip(grads, weights, biases):
        w -= LEARNING_RATE * g_w
        b -= LEARNING_RATE * g_b
    return grads


def numpy_reference_step(demo: Demo) -> tuple[Run, Read]:
    weights = [np.array(w, dtype=float) for w, _ in demo.layers]
    biases = [np.array(b, dtype=float) for _, b in demo.layers]
    data = np.asarray(demo.points, dtype=float)
    labels = np.asarray(demo.labels, dtype=float)

    def read(grads: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
        # micrograd's order: layer by layer, neuron by neuron, weights then bias
        return [float(v) for g_w, g_b in grads
                for v in np.hstack([g_w, g_b[:, None]]).ravel()]

    return (lambda: numpy_mlp_step(weights, biases, data, labels)), read


def _floats(grads: Any) -> list[float]:
    return [float(g) for g in grads]


@dataclass
class Compile:
    """Building a graph with Values, then compile_graph on it (seconds; CPU)."""

    graph: str
    operations: int
    build: float
    compiles: list[float]  # the first one also prints each primitive's rules (SymPy)
    eager: str  # the eager engine whose step it is compared with
    statements: int | None = None  # lines of code that run (counted for the numpy graphs)

    @property
    def again(self) -> float:
        later = self.compiles[1:] or self.compiles
        return statistics.median(later)


@dataclass
class W2:
    timed: Timed
    compiles: list[Compile]
    notes: list[str]
    points: int


def _compile(name: str, make: Callable[[], tuple[Value, list[Value]]], backend: str,
             times: int, eager: str, wrt: int | None = None) -> tuple[Any, Compile]:
    """Build the graph, compile it ``times`` times. ``wrt``: only the first ``wrt`` inputs'
    gradients are wanted (passed on when compile_graph takes ``wrt=``, as nn.fit does)."""
    (output, inputs), build = _cpu(make)
    options: dict[str, Any] = {}
    if wrt is not None and "wrt" in inspect.signature(compile_graph).parameters:
        options["wrt"] = inputs[:wrt]
    seconds = []
    compiled = None
    for _ in range(times):
        compiled, spent = _cpu(lambda: compile_graph(output, inputs, backend=backend,
                                                     **options))
        seconds.append(spent)
    assert compiled is not None
    return compiled, Compile(name, compiled.operations, build, seconds, eager,
                             _statements(compiled) if backend == "numpy" else None)


def _statements(compiled: Any) -> int:
    """Lines of the compiled function that compute something (not its def, comments,
    return)."""
    return sum(1 for line in compiled.source.splitlines()
               if line.startswith("    ") and " = " in line and "# fixed" not in line)


def run_w2(settings: Settings, demo: Demo | None = None, eager: bool = True) -> W2:
    """W2 on every engine. ``demo``: other sizes (for the tests); ``eager=False`` leaves out
    the eager engines (``workloads.mlp_step`` builds micrograd's demo only)."""
    demo = demo or Demo.micrograd()
    expected = demo.expected()
    notes: list[str] = []
    runners: dict[str, tuple[Run, Read]] = {REFERENCE: (reference_step(demo), _floats)}
    if eager:
        engines, engine_notes = available_engines()
        notes += engine_notes
        for engine in engines:
            runners[engine.name] = (workloads.mlp_step(engine), _reader(engine))
    compiles = []
    start = flatten(demo.layers)
    for name, use_linear, eager_name in ((COMPILED, False, EAGER),
                                         (COMPILED_NARY, True, EAGER_NARY)):
        print(f"compiling W2: {name} ...", file=sys.stderr, flush=True)
        compiled, spent = _compile(name, lambda u=use_linear: step_graph(demo, u), "python",
                                   settings.compiles, eager_name)
        compiles.append(spent)
        runners[name] = (compiled_step(compiled, start), _floats)
    for name, use_linear, eager_name in ((NUMPY_COMPILED, False, EAGER),
                                         (NUMPY_COMPILED_NARY, True, EAGER_NARY)):
        print(f"compiling W2: {name} ...", file=sys.stderr, flush=True)
        compiled, spent = _compile(name, lambda u=use_linear: example_graph(demo, u), "numpy",
                                   settings.compiles, eager_name, wrt=len(start))
        compiles.append(spent)
        runners[name] = (compiled_numpy_step(compiled, demo), _floats)
    runners[NUMPY_REFERENCE] = numpy_reference_step(demo)
    print("timing W2 ...", file=sys.stderr, flush=True)
    return W2(interleaved(runners, expected, settings, settings.rounds), compiles, notes,
              len(demo.points))


def _reader(engine: Engine) -> Read:
    return lambda handle: workloads.read_gradients(engine, handle)


# ---------------------------------------------------------------- W3


def chain_graph(n: int) -> tuple[Value, Value]:
    """W3's graph (``workloads.deep_chain``): y = y·0.999 + 0.001, n times from x = 0.5."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * 0.999 + 0.001
    return y, x


@dataclass
class Chain:
    n: int
    build: float
    compile: float
    timed: Timed
    memory: dict[str, float] | str  # from a child process, or why not

    @property
    def nodes(self) -> int:
        return 2 * self.n + 1


def _maxrss_bytes() -> int:
    """This process's peak resident memory so far. Linux's VmHWM, which starts afresh with
    the program: getrusage's ru_maxrss carries over the peak of the process that started
    this one (the benchmark's, hundreds of MB), which would hide a small compile's."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def compile_memory(n: int) -> dict[str, float]:
    """In a fresh process: peak RSS while W3's graph is built, then while it is compiled
    (after compiling a small chain first, so SymPy's import and the rules' printing are
    not counted)."""
    warm_output, warm_input = chain_graph(3)
    compile_graph(warm_output, [warm_input])
    del warm_output, warm_input
    gc.collect()
    base = _maxrss_bytes()
    output, x = chain_graph(n)
    gc.collect()
    built = _maxrss_bytes()
    started = time.process_time()
    compiled = compile_graph(output, [x])
    seconds = time.process_time() - started
    peak = _maxrss_bytes()
    _, (grad,) = compiled(0.5)
    return {"graph": built - base, "compile": peak - built, "seconds": seconds,
            "grad": grad}


def _child_memory(n: int) -> dict[str, float] | str:
    command = [sys.executable, "-m", "bench.compiled", "--compile-memory", str(n)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return f"not measured: {detail.strip().splitlines()[-1] if detail.strip() else exc}"


def run_w3(settings: Settings, sizes: Sequence[int] | None = None,
           memory: bool = True) -> list[Chain]:
    found = []
    for n in sizes or settings.chain_sizes:
        # the child first: this process then holds no big graph while it runs
        if memory:
            print(f"W3 N={n:,}: compile memory in a child process ...", file=sys.stderr,
                  flush=True)
        measured = _child_memory(n) if memory else "not measured"
        print(f"W3 N={n:,}: build, compile, time ...", file=sys.stderr, flush=True)
        (output, x), build = _cpu(lambda n=n: chain_graph(n))
        compiled, spent = _cpu(lambda output=output, x=x: compile_graph(output, [x]))
        del output, x
        runners: dict[str, tuple[Run, Read]] = {
            REFERENCE: (lambda n=n: reference.deep_chain(n), _floats),
            COMPILED: (lambda c=compiled: c(0.5)[1], _floats),
        }
        expected = reference.deep_chain(n)
        rounds = settings.big_rounds if n >= settings.big_from else settings.rounds
        found.append(Chain(n, build, spent, interleaved(runners, expected, settings, rounds),
                           measured))
        del compiled, runners
        gc.collect()
    return found


# ---------------------------------------------------------------- nn.fit


@dataclass
class Fit:
    available: bool
    timed: Timed
    notes: list[str]
    recipe: str  # what was trained
    steps: int
    weight_difference: float | None = None  # max |eager − compiled| over the parameters
    compile_seconds: list[float] = field(default_factory=list)  # History.compile_seconds
    fell_back: bool = False  # compile=True trained eagerly (History.compiled is False)


def fit_supports_compile() -> bool:
    import nn

    return "compile" in inspect.signature(nn.fit).parameters


def demo_fit(compiled: bool, steps: int = 100, hidden: Sequence[int] = (16, 16),
             n: int = 100) -> tuple[Any, Any, list[str]]:
    """micrograd's demo with ``nn.fit``: MLP 2-16-16-1 (ReLU), 100 two-moons points with ±1
    labels, hinge loss, L2 1e-4·Σp² (weight decay 2e-4), SGD over the full batch with the
    demo's rate 1.0 − 0.9·k/100. Returns the model, the history and any warnings."""
    import nn

    xs, ys = nn.data.two_moons(n=n, noise=0.1, seed=0, labels=(-1, 1))
    model = nn.MLP(2, [*hidden, 1], activation="relu", seed=0)
    options: dict[str, Any] = {"compile": True} if compiled else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = nn.fit(model, (xs, ys), loss="hinge",
                         optimizer=nn.optim.SGD(model, lr=1.0, weight_decay=2 * L2_ALPHA),
                         schedule=nn.optim.LinearDecay(1.0, 0.1, 100), epochs=steps,
                         batch_size=None, shuffle=False, progress=False, **options)
    return model, history, [f"{w.category.__name__}: {w.message}" for w in caught]


def run_fit(settings: Settings, hidden: Sequence[int] = (16, 16), n: int = 100) -> Fit:
    steps = settings.fit_steps
    if not fit_supports_compile():
        print("nn.fit: no compile= parameter; timing eager nn.fit once ...", file=sys.stderr,
              flush=True)
        (_, history, _), spent = _cpu(lambda: demo_fit(False, steps, hidden, n))
        return Fit(False, Timed({FIT_EAGER: [spent]}),
                   ["nn.fit has no `compile=` parameter in this checkout "
                    "(inspect.signature(nn.fit)): the compiled run is not available."],
                   _recipe(hidden, n), steps)
    print("nn.fit: eager and compile=True ...", file=sys.stderr, flush=True)
    runs = {FIT_EAGER: False, FIT_COMPILED: True}
    timed = Timed({name: [] for name in runs})
    trained: dict[str, tuple[Any, Any, list[str]]] = {}
    compile_seconds: list[float] = []
    names = list(runs)
    for round_index in range(settings.fit_rounds):  # one training per sample
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            result, spent = _cpu(lambda c=runs[name]: demo_fit(c, steps, hidden, n))
            timed.times[name].append(spent)
            trained.setdefault(name, result)
            if runs[name] and getattr(result[1], "compile_seconds", None) is not None:
                compile_seconds.append(result[1].compile_seconds)
    (eager_model, _, eager_warnings) = trained[FIT_EAGER]
    (compiled_model, history, caught) = trained[FIT_COMPILED]
    notes = [f"nn.fit(compile=True) warned: {w}" for w in caught]
    notes += [f"eager nn.fit warned: {w}" for w in eager_warnings]
    if getattr(history, "compiled", True) is False:
        notes.append("nn.fit(compile=True) says it did not compile (History.compiled is "
                     "False): it fell back to the eager step")
    eager_weights, compiled_weights = eager_model.state_dict(), compiled_model.state_dict()
    difference = max(abs(eager_weights[k] - compiled_weights[k]) for k in eager_weights)
    return Fit(True, timed, notes, _recipe(hidden, n), steps, difference, compile_seconds,
               getattr(history, "compiled", True) is False)


def _recipe(hidden: Sequence[int], n: int) -> str:
    return (f"`nn.MLP(2, {[*hidden, 1]}, activation=\"relu\", seed=0)` on "
            f"`nn.data.two_moons(n={n}, noise=0.1, seed=0, labels=(-1, 1))`, "
            "`loss=\"hinge\"`, `SGD(lr=1.0, weight_decay=2e-4)` (the demo's L2 1e-4·Σp²), "
            "`schedule=LinearDecay(1.0, 0.1, 100)`, full batch, no shuffling; each run "
            "makes its model and trains it (compile=True includes its compile).")


# ---------------------------------------------------------------- the report


def _median_ratio(times: dict[str, list[float]], top: str, bottom: str) -> float | None:
    if top in times and bottom in times:
        return statistics.median(_ratios(times[top], times[bottom]))
    return None


def _ratio_cell(times: dict[str, list[float]], top: str, bottom: str) -> str:
    if top in times and bottom in times:
        return _spread(_ratios(times[top], times[bottom]), _ratio)
    return "—"


def _per_node(chain: Chain, name: str) -> float | None:
    times = chain.timed.times.get(name)
    return statistics.median(times) / chain.nodes if times else None


def _bytes(count: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f} B"


def _versions() -> str:
    import autograd_lite

    from .engines import _git_commit

    parts = [f"autograd_lite {autograd_lite.__version__} ({_git_commit()})",
             f"NumPy {np.__version__}"]
    for package in ("micrograd", "torch"):
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{package} not installed")
    return "; ".join(parts)


def goals(w2: W2, chains: list[Chain], fit: Fit) -> list[str]:
    rows = ["## Goals (issue 14)", "", "| goal | measured | met |", "|---|---|---|"]
    t = w2.timed.times
    for name, label in ((COMPILED, "compiled Python"), (COMPILED_NARY, "compiled Python, "
                                                        "n-ary linear graph")):
        ratio = _median_ratio(t, name, REFERENCE)
        if ratio is not None:
            rows.append(f"| W2 {label}: ≤ 2× the hand-written pure-Python reference "
                        f"| {_ratio_cell(t, name, REFERENCE)} | {_yes(ratio <= 2)} |")
    for name, label in ((COMPILED, "compiled Python"), (COMPILED_NARY, "compiled Python, "
                                                        "n-ary linear graph")):
        ratio = _median_ratio(t, MICROGRAD, name)
        if ratio is not None:
            rows.append(f"| W2 {label}: about 50× faster than micrograd (≥ 50×) "
                        f"| {_ratio_cell(t, MICROGRAD, name)} | {_yes(ratio >= 50)} |")
    for name, label in ((NUMPY_COMPILED, "one example's graph"),
                        (NUMPY_COMPILED_NARY, "one example's n-ary graph")):
        ratio = _median_ratio(t, name, NUMPY_REFERENCE)
        if ratio is not None:
            rows.append(f"| W2 compiled NumPy ({label}) over the {w2.points} points: ≤ 3× "
                        f"the NumPy batch reference | {_ratio_cell(t, name, NUMPY_REFERENCE)} "
                        f"| {_yes(ratio <= 3)} |")
    small = next((c for c in chains if c.n == 1_000), None)
    big = max(chains, key=lambda c: c.n) if chains else None
    if small and big and big is not small:
        a, b = _per_node(small, COMPILED), _per_node(big, COMPILED)
        if a and b:
            rows.append(f"| W3 compiled: time per node at N = {big.n:,} within 1.3× of "
                        f"N = 1,000 | {b / a:.2f}× ({_duration(b)} vs {_duration(a)} per "
                        f"node) | {_yes(b / a <= 1.3)} |")
    if fit.available and FIT_EAGER in fit.timed.times and FIT_COMPILED in fit.timed.times:
        ratio = statistics.median(_ratios(fit.timed.times[FIT_EAGER],
                                          fit.timed.times[FIT_COMPILED]))
        rows.append(f"| micrograd's demo, {fit.steps} steps: nn.fit(compile=True) ≥ 20× "
                    f"faster than eager nn.fit "
                    f"| {_ratio_cell(fit.timed.times, FIT_EAGER, FIT_COMPILED)}"
                    f"{' (it fell back to eager: see the notes)' if fit.fell_back else ''} "
                    f"| {_yes(ratio >= 20)} |")
    else:
        rows.append(f"| micrograd's demo, {fit.steps} steps: nn.fit(compile=True) ≥ 20× "
                    "faster than eager nn.fit | not available | — |")
    for spent in w2.compiles:
        if not spent.graph.startswith("compiled python") or spent.eager not in t:
            continue
        step = statistics.median(t[spent.eager])
        rows.append(f"| W2 compile time ({spent.graph}): well under 10 eager steps "
                    f"({spent.eager}) | {_duration(spent.again)} = {spent.again / step:.3g} "
                    f"steps of {_duration(step)} | {_yes(spent.again < 10 * step)} |")
    return rows


def render(w2: W2, chains: list[Chain], fit: Fit, quick: bool, settings: Settings,
           seconds: float, load: tuple[float, float]) -> str:
    lines = [
        "# Compiled graphs: benchmark results",
        "",
        f"Written by `python -m bench.compiled{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({seconds:.0f} s of CPU). "
        "One process; the engines run interleaved, round by round "
        f"({settings.rounds} rounds; {settings.big_rounds} for W3 at N ≥ "
        f"{settings.big_from:,}; {settings.fit_rounds} for nn.fit). Times are this "
        "process's CPU time. Medians, with min–max over the rounds in brackets; ratios are "
        "taken round by round (both times from the same round), then summarised the same "
        "way. Every engine's gradients were checked against the pure-Python reference "
        "(to 1e-9 relative) before it was timed. The eager engines' rows repeat "
        "`python -m bench`'s W2 for the ratios ([RESULTS.md](RESULTS.md)).",
        "",
        f"- Machine: {_machine()}; load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end (other programs share the CPUs)",
        f"- Versions: {_versions()}",
        "",
    ]
    lines += goals(w2, chains, fit)
    t = w2.timed.times
    lines += ["", "## W2: micrograd's demo step (MLP 2-16-16-1, 100 two-moons points, "
              "hinge + L2, SGD update)", "",
              "- reference (pure Python): `bench/reference.py`'s hand-written forward and "
              "backward on floats.",
              "- compiled python: the whole step's graph (`workloads.mlp_step`'s, built once "
              "with Values) compiled once with the 337 parameters as inputs (the points are "
              "folded into the code); each call gives the gradients, then the SGD update.",
              "- compiled numpy: one example's graph (inputs: the parameters, the point's "
              "two coordinates and its label; its loss the hinge plus the whole L2 term), "
              "compiled for NumPy and called once with the 100 points as arrays; the "
              "gradients are then averaged over the batch (the mean of the examples' "
              "losses is the step's loss).",
              "- NumPy batch reference: the same step with matrices, written by hand "
              "(`numpy_mlp_step` in `bench/compiled.py`).",
              "",
              "| engine | time per step | / reference (pure Python) | micrograd / this "
              "| / NumPy batch reference |",
              "|---|---|---|---|---|"]
    for name in t:
        lines.append(f"| {name} | {_spread(t[name], _duration)} "
                     f"| {_ratio_cell(t, name, REFERENCE)} | {_ratio_cell(t, MICROGRAD, name)} "
                     f"| {_ratio_cell(t, name, NUMPY_REFERENCE)} |")
    for name, why in w2.timed.failures.items():
        lines.append(f"| {name} | {why} | | | |")
    lines += ["", "Compile time, paid once per graph (CPU; the first compile_graph call in "
              "the process also prints each primitive's rules with SymPy, so it is shown "
              "apart; \"again\" is the median of the later calls, which the goal uses).", "",
              "| graph | operations | build the graph (Values) | compile_graph, first "
              "| compile_graph, again | again / one eager step |",
              "|---|---|---|---|---|---|"]
    for spent in w2.compiles:
        step = statistics.median(t[spent.eager]) if spent.eager in t else None
        steps = f"{spent.again / step:.3g} ({spent.eager})" if step else "—"
        lines.append(f"| {spent.graph} | {spent.operations:,} | {_duration(spent.build)} "
                     f"| {_duration(spent.compiles[0])} | {_duration(spent.again)} "
                     f"| {steps} |")
    lines += ["", "## W3: deep chain y = y·0.999 + 0.001 (2N + 1 nodes)", "",
              "Compiled with x as the input (the constants are folded). Compile time in "
              "this process; memory in a child process per N (its peak RSS: what the graph "
              "of Values took, then how far compiling raised the peak above that).", "",
              "| N | reference per node | compiled per node | compiled / reference "
              "| build the graph | compile | compile per node | graph (RSS) "
              "| compile peak above the graph (RSS) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for chain in chains:
        ref, com = _per_node(chain, REFERENCE), _per_node(chain, COMPILED)
        memory = chain.memory
        if isinstance(memory, dict):
            rss = (f"{_bytes(memory['graph'])} | {_bytes(memory['compile'])} "
                   f"({memory['compile'] / chain.nodes:.0f} B per node)")
        else:
            rss = f"{memory} |"
        failures = "; ".join(f"{k}: {v}" for k, v in chain.timed.failures.items())
        lines.append(
            f"| {chain.n:,} | {_duration(ref) if ref else '—'} "
            f"| {_duration(com) if com else failures or '—'} "
            f"| {_ratio_cell(chain.timed.times, COMPILED, REFERENCE)} "
            f"| {_duration(chain.build)} | {_duration(chain.compile)} "
            f"| {_duration(chain.compile / chain.nodes)} | {rss} |")
    lines += ["", f"## micrograd's demo, {fit.steps} steps with nn.fit", "", fit.recipe, ""]
    ft = fit.timed.times
    if not fit.available:
        eager = _spread(ft[FIT_EAGER], _duration) if FIT_EAGER in ft else "—"
        lines += [f"nn.fit(compile=True): **not available** (nn.fit has no `compile=` "
                  f"parameter yet). Eager nn.fit, one run: {eager}."]
    else:
        lines += ["| run | time for the training | eager / this |", "|---|---|---|"]
        for name in ft:
            lines.append(f"| {name} | {_spread(ft[name], _duration)} "
                         f"| {_ratio_cell(ft, FIT_EAGER, name)} |")
        for name, why in fit.timed.failures.items():
            lines.append(f"| {name} | {why} | |")
        if fit.weight_difference is not None:
            lines += ["", f"Weights after training, compiled vs eager: largest difference "
                      f"{fit.weight_difference:.3g} (issue 14: equal to 1e-12: "
                      f"{_yes(fit.weight_difference <= 1e-12)})."]
        if fit.compile_seconds and FIT_COMPILED in ft and FIT_EAGER in ft:
            compiling = statistics.median(fit.compile_seconds)
            per_step = (statistics.median(ft[FIT_COMPILED]) - compiling) / fit.steps
            eager_step = statistics.median(ft[FIT_EAGER]) / fit.steps
            lines.append(f"Of the compiled run, compiling took {_duration(compiling)} "
                         f"(History.compile_seconds, median); the rest is "
                         f"{_duration(per_step)} per step against {_duration(eager_step)} "
                         f"eager ({eager_step / per_step:.3g}×).")
    notes = [*w2.notes, *fit.notes]
    for spent in w2.compiles:
        if spent.statements and spent.graph in t:
            step = statistics.median(t[spent.graph])
            notes.append(f"{spent.graph}: {spent.statements:,} lines of code run per step, "
                         f"each one NumPy call (on the {w2.points} points' arrays, or on a "
                         f"parameter's number): {_duration(step / spent.statements)} per "
                         "line, mostly the cost of calling NumPy; the batch reference does "
                         "the same step in about 50 NumPy calls (a few matrix products per "
                         "layer).")
    if quick:
        notes.append(f"--quick: W3 up to N = {max(settings.chain_sizes):,} only, so its "
                     "goal row compares that N with 10³; fewer rounds.")
    notes.append("W3's memory is the child process's peak RSS (Linux's VmHWM), in whole "
                 "pages: a rise smaller than the peak its imports already reached shows as "
                 "0 B.")
    notes.append("The pure-Python reference starts every step from the same parameters "
                 "(the other engines' steps update theirs, as the benchmark's W2 does): its "
                 "time depends on how many points violate the margin, the others' does not.")
    lines += ["", "## Notes", "", *(f"- {note}" for note in notes), ""]
    lines += ["## The goals not met: what limits them, what was tried", "",
              *(f"- {gap}" for gap in GAPS), ""]
    return "\n".join(lines)


# Written by hand (not measured here): what the unmet goals' limits are, and what was tried.
GAPS = (
    "NumPy over the batch (≤ 3× the hand-written batch step): the compiled code is the "
    "scalar graph's, one NumPy call per scalar operation on arrays of 100 (3,890 calls, "
    "~0.6 µs each, whatever the batch size); the hand-written step uses ~50 matrix calls. "
    "Closing the gap means recognising a layer (the neurons' shared inputs) and emitting "
    "one matrix product for it: a compiler from scalar graphs to tensor programs, not done. "
    "Tried: calling the code on the arrays as given instead of broadcasting every input and "
    "copying every output first (the wrapper had been 60% of a call), and asking only for "
    "the weights' gradients (wrt=, 5% fewer operations).",
    "nn.fit(compile=True) ≥ 20× eager: the steps themselves run 37× faster; what keeps the "
    "whole run under 20× is the compile (printing and compiling one example's graph, and "
    "checking every example's graph shape before training) and the per-step shape check of "
    "one example (about 20% of a step). Measured without the per-step check the run is "
    "~22×, but a branch on a value would then go unseen; kept.",
    "W2 compile time (well under 10 eager steps): 130,000 statements, about half of it "
    "CPython's own compile() (≈7 µs a line) and half writing the lines. Tried: no comments "
    "in the code that runs (a fifth of the time), the parts written from one pass instead "
    "of two (a fifth again), per-rule format strings instead of string replacements, "
    "gradients passed on unchanged given no line of their own (a third fewer lines).",
)


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compiled",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds, W3 up to N = 10^5 only")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help=f"where to write the markdown report (default {OUTPUT})")
    parser.add_argument("--compile-memory", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_memory is not None:  # the child process of run_w3
        print(json.dumps(compile_memory(args.compile_memory)))
        return 0
    settings = QUICK if args.quick else FULL
    began = time.process_time()
    load_before = os.getloadavg()[0]
    w2 = run_w2(settings)
    chains = run_w3(settings)
    fit = run_fit(settings)
    report = render(w2, chains, fit, args.quick, settings, time.process_time() - began,
                    (load_before, os.getloadavg()[0]))
    print(report)
    args.output.write_text(report, encoding="utf-8")
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
