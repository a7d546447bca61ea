"""``python -m bench [--quick]``: run W1–W4 and M, print the tables, write bench/RESULTS.md.

Every workload runs in this one process on every engine, interleaved round by round (the
order rotates each round), so a slow patch of the machine hits all engines alike. Before
anything is timed, each engine's gradients are compared with the hand-written reference;
an engine that disagrees, or fails (micrograd's recursive topological sort raises
RecursionError on deep graphs), gets a note instead of a time.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engines import Engine, UnsupportedError, available_engines
from .workloads import Case, Memory, bytes_per_node, cases, read_gradients

REFERENCE = "reference"
HEADLINE = "autograd_lite"
NARY = "autograd_lite (n-ary linear node)"
MICROGRAD = "micrograd"
GC_OFF = "autograd_lite, cycle collector off"
RESULTS = Path(__file__).with_name("RESULTS.md")
MEMORY_PRODUCTS = 25_000  # W4's graph with 25,000 products has 100,000 nodes


@dataclass
class Settings:
    rounds: int  # interleaved rounds per workload
    target: float  # seconds one sample should last (short runs are repeated within it)
    big_rounds: int  # rounds for the largest sizes (N >= big_from)
    big_from: int = 1_000_000


@dataclass
class CaseResult:
    case: Case
    times: dict[str, list[float]] = field(default_factory=dict)  # seconds per run, by round
    failures: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- measuring


def _sample(run: Any, number: int) -> float:
    gc.collect()  # garbage left by the previous engine is not this engine's cost
    start = time.process_time()
    for _ in range(number):
        run()
    return (time.process_time() - start) / number


def _gradients_agree(expected: list[float], found: list[float]) -> str | None:
    if len(expected) != len(found):
        return f"{len(found)} gradients, expected {len(expected)}"
    for index, (want, got) in enumerate(zip(expected, found)):
        if not math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12):
            return f"gradient {index} is {got!r}, the reference says {want!r}"
    return None


def run_case(case: Case, engines: Sequence[Engine], settings: Settings,
             skip: dict[tuple[str, str], str]) -> CaseResult:
    result = CaseResult(case)
    reference_run = case.reference()
    started = time.process_time()
    expected = reference_run()
    runners: dict[str, tuple[Any, int]] = {
        REFERENCE: (reference_run, _repeats(time.process_time() - started, settings))}
    for engine in engines:
        if engine.linear is not None and case.only_binary_ops:
            continue  # the n-ary row only differs where a neuron sums its inputs (W2)
        if (engine.name, case.workload) in skip:
            result.failures[engine.name] = skip[(engine.name, case.workload)]
            continue
        try:
            run = case.build(engine)
            gc.collect()
            started = time.process_time()
            found = read_gradients(engine, run())
            first = time.process_time() - started
        except (RecursionError, UnsupportedError) as exc:
            why = f"{type(exc).__name__}: {exc}" if isinstance(exc, RecursionError) else str(exc)
            result.failures[engine.name] = why
            if isinstance(exc, RecursionError):  # a larger N will not do better
                skip[(engine.name, case.workload)] = "not run (RecursionError at a smaller N)"
            continue
        mismatch = _gradients_agree(expected, found)
        if mismatch is not None:
            result.failures[engine.name] = f"wrong gradients, not timed: {mismatch}"
            continue
        runners[engine.name] = (run, _repeats(first, settings))
        if engine.name == HEADLINE and case.size is not None:
            # A diagnostic: the same run with Python's cycle collector off, to show what the
            # collector's passes over a big live graph cost (see the scaling table).
            runners[GC_OFF] = (_without_cycle_collector(run), _repeats(first, settings))
    rounds = settings.big_rounds if (case.size or 0) >= settings.big_from else settings.rounds
    names = list(runners)
    for name in names:
        result.times[name] = []
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            run, number = runners[name]
            result.times[name].append(_sample(run, number))
    return result


def _without_cycle_collector(run: Any) -> Any:
    def run_with_gc_off() -> Any:
        gc.disable()
        try:
            return run()
        finally:
            gc.enable()

    return run_with_gc_off


def _repeats(one_run: float, settings: Settings) -> int:
    return max(1, round(settings.target / max(one_run, 1e-7)))


# ---------------------------------------------------------------- formatting


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _spread(values: list[float], show: Any) -> str:
    if len(values) == 1:
        return show(values[0])
    return f"{show(statistics.median(values))} ({show(min(values))}–{show(max(values))})"


def _ratio(x: float) -> str:
    return f"{x:.3g}×"


def _ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Round-by-round ratios: both times of a pair were measured in the same round."""
    return [a / b for a, b in zip(numerator, denominator)]


def _versions(engines: Sequence[Engine]) -> str:
    parts = [f"{engine.name} {engine.version}" for engine in engines if engine.name != NARY]
    return "; ".join(parts)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu})")


def render(results: list[CaseResult], memory: dict[str, Memory | str], engines: Sequence[Engine],
           notes: list[str], quick: bool, settings: Settings, seconds: float,
           load: tuple[float, float]) -> str:
    names = [REFERENCE] + [engine.name for engine in engines]
    shown = [name for name in names if any(name in r.times for r in results)]
    scaling_columns = [name for name in [*shown, GC_OFF]
                       if any(name in r.times for r in results if r.case.size is not None)]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({seconds:.0f} s of CPU). "
        "One process; the engines run interleaved, round by round "
        f"({settings.rounds} rounds; {settings.big_rounds} for N ≥ {settings.big_from:,}). "
        "Times are this "
        "process's CPU time, so other programs on the machine are not counted. Medians, "
        "with min–max over the rounds in brackets; ratios are taken round by round (both "
        "times from the same round), then summarised the same way.",
        "",
        f"- Machine: {_machine()}; load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end (other programs share the CPUs)",
        f"- Versions: {_versions(engines)}",
        "- reference: the same computations on plain floats with the gradients coded by hand "
        "(`bench/reference.py`), the floor for a pure-Python engine.",
        "",
    ]
    lines += _goals(results, memory)
    lines += ["", "## Time per run", "",
              "| workload | " + " | ".join(shown) + " |",
              "|---" * (len(shown) + 1) + "|"]
    for r in results:
        cells = []
        for name in shown:
            if name in r.times:
                cells.append(_spread(r.times[name], _duration))
            elif name in r.failures:
                cells.append("fails" if "Recursion" in r.failures[name] else "—")
            else:
                cells.append("")
        lines.append(f"| {r.case.name} | " + " | ".join(cells) + " |")
    lines += ["", "## Ratios", "",
              "| workload | autograd_lite / reference | micrograd / autograd_lite "
              "| n-ary / reference | micrograd / n-ary |",
              "|---|---|---|---|---|"]
    for r in results:
        t = r.times
        cells = [
            _spread(_ratios(t[HEADLINE], t[REFERENCE]), _ratio) if HEADLINE in t else "",
            _spread(_ratios(t[MICROGRAD], t[HEADLINE]), _ratio)
            if MICROGRAD in t and HEADLINE in t else "",
            _spread(_ratios(t[NARY], t[REFERENCE]), _ratio) if NARY in t else "",
            _spread(_ratios(t[MICROGRAD], t[NARY]), _ratio) if MICROGRAD in t and NARY in t
            else "",
        ]
        lines.append(f"| {r.case.name} | " + " | ".join(cells) + " |")
    lines += ["", "## Scaling: time per node", "",
              "W3 builds 2N + 1 nodes, W4 4N (2N leaves, N products, N additions). "
              "Linear time means a flat column. The last column runs autograd_lite with "
              "Python's cycle collector switched off (a diagnostic, not a setting the "
              "engine changes): every node is an object the collector tracks, and once a "
              "live graph outgrows the rest of the heap the collector's full passes over it "
              "add a roughly constant cost per node that small graphs never pay.", "",
              "| workload | " + " | ".join(scaling_columns) + " |",
              "|---" * (len(scaling_columns) + 1) + "|"]
    for r in results:
        if r.case.size is None:
            continue
        cells = [_duration(statistics.median(r.times[name]) / r.case.nodes)
                 if name in r.times else "" for name in scaling_columns]
        lines.append(f"| {r.case.name} | " + " | ".join(cells) + " |")
    lines += ["", "## M: memory", "",
              f"W4's graph with {MEMORY_PRODUCTS:,} products ({4 * MEMORY_PRODUCTS:,} nodes), "
              "measured with tracemalloc: bytes per node held after the forward pass, after "
              "backward (every node then holds a gradient), and the peak during backward.", "",
              "| engine | after forward | after backward | peak in backward |",
              "|---|---|---|---|"]
    for name, found in memory.items():
        if isinstance(found, str):
            lines.append(f"| {name} | {found} | | |")
            continue
        after = f"{found.after_backward:.0f} B" if found.after_backward is not None else "fails"
        peak = f"{found.peak_backward:.0f} B" if found.peak_backward is not None else ""
        lines.append(f"| {name} | {found.after_forward:.0f} B | {after} | {peak} |")
    failure_notes = [f"- {r.case.name}, {name}: {why}"
                     for r in results for name, why in r.failures.items()]
    failure_notes += [f"- M, {name}: {found.note}" for name, found in memory.items()
                      if isinstance(found, Memory) and found.note]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in notes] + failure_notes
    lines += ["", "What each optimisation of the engine bought: "
              "[OPTIMISATIONS.md](OPTIMISATIONS.md).", ""]
    lines += ["Compiled graphs (issue 14, `bench.compiled`): [COMPILED.md](COMPILED.md).", ""]
    return "\n".join(lines)


def _goals(results: list[CaseResult], memory: dict[str, Memory | str]) -> list[str]:
    rows = ["## Goals (issue 7)", "", "| goal | measured | met |", "|---|---|---|"]
    by_name = {r.case.name: r for r in results}
    w2 = by_name.get("W2")
    if w2 and HEADLINE in w2.times and MICROGRAD in w2.times:
        ratios = _ratios(w2.times[MICROGRAD], w2.times[HEADLINE])
        rows.append("| W2: autograd_lite ≥ 6× faster than micrograd (same binary operations) "
                    f"| {_spread(ratios, _ratio)} | {_yes(statistics.median(ratios) >= 6)} |")
    for workload in ("W3", "W4"):
        sized = [r for r in results if r.case.workload == workload]
        if not sized:
            continue
        ran = all(HEADLINE in r.times for r in sized)
        largest = max(r.case.size or 0 for r in sized)
        rows.append(f"| {workload}: every size up to N = {largest:,} runs "
                    f"| {'all ran' if ran else 'some failed'} | {_yes(ran)} |")
        small = next(r for r in sized if r.case.size == 1_000)
        big = max(sized, key=lambda r: r.case.size or 0)
        if HEADLINE in small.times and HEADLINE in big.times:
            per_node = _growth(small, big, HEADLINE)
            without = (f" (cycle collector off: {_growth(small, big, GC_OFF):.2f}×)"
                       if GC_OFF in small.times and GC_OFF in big.times else "")
            rows.append(f"| {workload}: time per node at N = {big.case.size:,} within 1.3× of "
                        f"N = 1,000 | {per_node:.2f}×{without} | {_yes(per_node <= 1.3)} |")
    found = memory.get(HEADLINE)
    if isinstance(found, Memory):
        worst = max(found.after_forward, found.after_backward or 0.0)
        rows.append(f"| M: at most 200 bytes per node | {found.after_forward:.0f} B after forward, "
                    f"{found.after_backward or 0:.0f} B after backward | {_yes(worst <= 200)} |")
    return rows


def _growth(small: CaseResult, big: CaseResult, name: str) -> float:
    """Time per node at the big N over time per node at the small N."""
    return (statistics.median(big.times[name]) / big.case.nodes) / (
        statistics.median(small.times[name]) / small.case.nodes)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and N up to 10^5 only (under 30 s)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help=f"where to write the markdown report (default {RESULTS})")
    args = parser.parse_args(argv)
    settings = Settings(rounds=3, target=0.02, big_rounds=1, big_from=100_000) if (
        args.quick) else Settings(rounds=9, target=0.2, big_rounds=3)
    began = time.process_time()
    load_before = os.getloadavg()[0]
    engines, notes = available_engines()
    skip: dict[tuple[str, str], str] = {}
    results = []
    for case in cases(args.quick):
        print(f"running {case.name} ...", file=sys.stderr, flush=True)
        results.append(run_case(case, engines, settings, skip))
    memory: dict[str, Memory | str] = {}
    for engine in engines:
        if engine.linear is None:
            print(f"measuring memory: {engine.name} ...", file=sys.stderr, flush=True)
            memory[engine.name] = bytes_per_node(engine, MEMORY_PRODUCTS)
    report = render(results, memory, engines, notes, args.quick, settings,
                    time.process_time() - began, (load_before, os.getloadavg()[0]))
    print(report)
    args.output.write_text(report, encoding="utf-8")
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
