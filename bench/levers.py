"""``python -m bench.levers DIR [DIR ...]``: the same workloads on several copies of the engine.

How OPTIMISATIONS.md was measured: each DIR holds an ``autograd_lite/`` package (for example
``git worktree add /tmp/before <commit>``, or a copy with one optimisation taken out). All
copies are loaded into this one process and run interleaved, round by round, like the main
benchmark; each time is shown with its speed-up over the first DIR.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

from . import workloads
from .engines import Engine, _sgd


def _load(root: Path) -> ModuleType:
    """Import ``autograd_lite`` from ``root``, as a fresh module (copies live side by side)."""
    for name in [name for name in sys.modules if name.startswith("autograd_lite")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("autograd_lite")
    finally:
        sys.path.remove(str(root))


def _engine(root: Path) -> Engine:
    value = _load(root).Value
    return Engine(root.name, str(root), value, value.backward, lambda v: v.grad, value.relu,
                  value.sigmoid, _sgd)


def main(argv: list[str] | None = None) -> int:
    roots = [Path(arg).resolve() for arg in (sys.argv[1:] if argv is None else argv)]
    if not roots:
        print(__doc__, file=sys.stderr)
        return 2
    engines = {root.name: _engine(root) for root in roots}
    cases = [("W1", workloads.kramer_chain, 9), ("W2", workloads.mlp_step, 9),
             ("W3 N=100,000", workloads.deep_chain(100_000), 5),
             ("W4 N=100,000", workloads.sum_of_products(100_000), 5)]
    names = list(engines)
    print("| workload | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for title, build, rounds in cases:
        runs = {name: build(engine) for name, engine in engines.items()}
        repeats = {}
        for name, run in runs.items():
            started = time.process_time()
            run()
            repeats[name] = max(1, round(0.2 / max(time.process_time() - started, 1e-7)))
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                gc.collect()
                started = time.process_time()
                for _ in range(repeats[name]):
                    runs[name]()
                times[name].append((time.process_time() - started) / repeats[name])
        first = times[names[0]]
        cells = [f"{statistics.median(times[name]) * 1e3:.3g} ms "
                 f"(×{statistics.median([a / b for a, b in zip(first, times[name])]):.2f})"
                 for name in names]
        print(f"| {title} | " + " | ".join(cells) + " |", flush=True)
    cells = []
    for engine in engines.values():
        memory = workloads.bytes_per_node(engine, 25_000)
        cells.append(f"{memory.after_forward:.0f} / {memory.after_backward:.0f} B")
    print("| M (bytes per node, after forward / backward) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
