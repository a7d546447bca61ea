"""``python -m bench.explorer``: how big the explorer's pages are, and how fast they open.

Three pages, each measured in this one process:

- Kramer's chain (the lectures' 9 nodes): its size. Budget: at most 300 KB.
- A chain of 2,000 value nodes, h_k = tanh(w_k·h_(k-1) + b_k), then out = v·h + u: the time
  ``explore`` takes to build the page in Python, its size, and how soon it shows in a
  headless Chromium (Debian's, through Selenium and chromedriver): the first contentful
  paint (``performance.getEntriesByType('paint')``) and the time until the page's script
  has drawn step 0 (it then assigns ``window.explorer``), both from the start of
  navigation; also the end of the load event. The median of ``--loads`` fresh loads of the
  file (default 5). Budget: at most 2 s for the paint and for the script.
- An nn MLP(2, [8, 8, 1]) trained on XOR for 300 epochs with ``nn.fit(..., record=True)``:
  the loss page with the training replay (``explore(loss, history=..., data=...)``): its
  size, build time and the same browser times (no budget: reported).

The budgets are printed beside the measurements; a page over budget is reported, and the
exit status stays 0 (this is a measurement, not a test). ``make bench-explorer`` runs it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_lite import Value, explore
from autograd_lite.explorer import Explorer
from autograd_lite.graph import as_graph
from autograd_lite.lectures import kramer_chain

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000")
KRAMER_BUDGET_KB = 300.0
PAINT_BUDGET_S = 2.0
BIG_NODES = 2_000
EPOCHS = 300

# Before the page's own script runs: note the moment it assigns window.explorer (the last
# thing it does, after drawing step 0), then let the assignment through unchanged.
_READY_HOOK = """
Object.defineProperty(window, "explorer", {
  configurable: true,
  set(value) {
    window.__explorerReadyAt = performance.now();
    Object.defineProperty(window, "explorer", {value, writable: true, configurable: true});
  },
  get() { return undefined; },
});
"""
_TIMINGS = """
const paint = performance.getEntriesByType("paint")
  .find((e) => e.name === "first-contentful-paint");
const navigation = performance.getEntriesByType("navigation")[0];
return [paint ? paint.startTime : null, window.__explorerReadyAt ?? null,
        typeof window.explorer === "object", navigation ? navigation.loadEventEnd : null];
"""


def tanh_chain(nodes: int = BIG_NODES, seed: int = 0) -> Value:
    """out = v·h + u after h_k = tanh(w_k·h_(k-1) + b_k) from a leaf h0: exactly ``nodes``
    value nodes: h0, k links of five (w_k, b_k, the product, the sum, tanh), then v, u, the
    product and the sum, so ``nodes`` = 5k + 5 (2,000: k = 399)."""
    links, rest = divmod(nodes - 5, 5)
    if rest != 0 or links < 0:
        raise ValueError(f"tanh_chain: {nodes} nodes is not 5k + 5 (h0, links, v, u, ·, +)")
    rng = random.Random(seed)
    h = Value(0.5, label="h0")
    for k in range(1, links + 1):
        w = Value(rng.uniform(-1.5, 1.5), label=f"w{k}")
        b = Value(rng.uniform(-0.5, 0.5), label=f"b{k}")
        h = (w * h + b).tanh()
        h.label = f"h{k}"
    out = h * Value(2.0, label="v") + Value(0.1, label="u")
    out.label = "out"
    return out


def mlp_loss_with_history(epochs: int = EPOCHS) -> tuple[Value, Any, Any]:
    """(loss of one XOR example, the recorded history, the data) for MLP(2, [8, 8, 1])."""
    import nn

    data = nn.data.xor()
    xs, ys = data
    model = nn.MLP(2, [8, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, data, epochs=epochs, lr=1.0, loss="mse", record=True,
                     progress=False)
    return nn.losses.mse(model(xs[1]), ys[1]), history, data


@dataclass
class PageResult:
    name: str
    nodes: int
    steps: int
    kilobytes: float
    build_seconds: float
    paints: list[float] = field(default_factory=list)  # first contentful paint, ms
    ready: list[float] = field(default_factory=list)  # window.explorer assigned, ms
    loaded: list[float] = field(default_factory=list)  # the load event's end, ms


def _build(name: str, make: Any, builds: int, **options: Any) -> tuple[PageResult, Explorer]:
    """Build the page ``builds`` times (a fresh graph each time): the median time."""
    times = []
    for _ in range(builds):
        output = make()
        started = time.perf_counter()
        page = explore(output, **options)
        times.append(time.perf_counter() - started)
    nodes = len(as_graph(output).reading_order)
    return PageResult(name, nodes, page.steps, len(page.html.encode("utf-8")) / 1024,
                      statistics.median(times)), page


def _browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in BROWSER_ARGUMENTS:
        options.add_argument(argument)
    # An explicit driver: Selenium Manager, which may download one, never runs.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _READY_HOOK})
    return driver


def _load_times(driver: Any, path: Path, loads: int, result: PageResult) -> None:
    url = path.resolve().as_uri()
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(url)  # returns after the load event: the page's script has run
        paint, ready, present, loaded = driver.execute_script(_TIMINGS)
        if not present or ready is None:
            raise RuntimeError(f"{path.name}: the page's script did not run "
                               "(window.explorer is missing)")
        if paint is None:  # painted after load: wait for the entry
            deadline = time.monotonic() + 10
            while paint is None and time.monotonic() < deadline:
                time.sleep(0.05)
                paint = driver.execute_script(_TIMINGS)[0]
        result.paints.append(float(paint) if paint is not None else float("nan"))
        result.ready.append(float(ready))
        result.loaded.append(float(loaded) if loaded else float("nan"))


def _ms(values: list[float]) -> str:
    if not values:
        return "—"
    median = statistics.median(values)
    return f"{median:.0f} ms ({min(values):.0f}–{max(values):.0f})"


def _within(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(results: list[PageResult], loads: int, builds: int, chromium: str) -> str:
    kramer, big, mlp = results
    lines = [
        "# Explorer pages: size and first paint",
        "",
        f"`python -m bench.explorer` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{chromium}, headless, through Selenium. Browser times are from the start of "
        f"navigation to a local file: the median of {loads} loads (min–max in brackets). "
        f"Build: the median of {builds} calls of explore().",
        "",
        "| page | value nodes | backward steps | size | build in Python "
        "| first contentful paint | script done (window.explorer) | load event end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.nodes:,} | {r.steps:,} | {r.kilobytes:,.0f} KB "
                     f"| {r.build_seconds:.2f} s | {_ms(r.paints)} | {_ms(r.ready)} "
                     f"| {_ms(r.loaded)} |")
    paint = statistics.median(big.paints) / 1000
    ready = statistics.median(big.ready) / 1000
    lines += [
        "",
        "| budget | measured | within |",
        "|---|---|---|",
        f"| Kramer chain page ≤ {KRAMER_BUDGET_KB:.0f} KB | {kramer.kilobytes:.1f} KB "
        f"| {_within(kramer.kilobytes <= KRAMER_BUDGET_KB)} |",
        f"| {big.nodes:,}-node page: first contentful paint ≤ {PAINT_BUDGET_S:g} s "
        f"| {paint:.2f} s | {_within(paint <= PAINT_BUDGET_S)} |",
        f"| {big.nodes:,}-node page: script done ≤ {PAINT_BUDGET_S:g} s "
        f"| {ready:.2f} s | {_within(ready <= PAINT_BUDGET_S)} |",
        "",
        f"(no budget for the {big.nodes:,}-node page's size ({big.kilobytes:,.0f} KB) and "
        f"build time ({big.build_seconds:.2f} s), nor for the MLP page "
        f"({mlp.kilobytes:,.0f} KB): reported only.)",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explorer",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5,
                        help="fresh loads of each page in the browser (default 5)")
    parser.add_argument("--builds", type=int, default=3,
                        help="builds of each page in Python, for the median (default 3)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="write the pages into DIR (default: a temporary directory)")
    args = parser.parse_args(argv)
    if args.loads < 1 or args.builds < 1:
        parser.error("--loads and --builds must be at least 1")

    print("building the pages ...", file=sys.stderr, flush=True)
    explore(kramer_chain()["out"])  # once untimed: imports and SymPy's caches are not a page's
    kramer, kramer_page = _build("Kramer chain", lambda: kramer_chain()["out"], args.builds)
    big, big_page = _build(f"tanh chain, {BIG_NODES:,} nodes", tanh_chain, args.builds)
    loss, history, data = mlp_loss_with_history()
    mlp, mlp_page = _build(f"MLP(2, [8, 8, 1]) loss, {EPOCHS}-epoch replay", lambda: loss,
                           args.builds, history=history, data=data)
    results = [kramer, big, mlp]
    pages = [kramer_page, big_page, mlp_page]

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [page.save(folder / f"{stem}.html")
                 for page, stem in zip(pages, ("kramer", "chain2000", "mlp"))]
        print(f"loading each page {args.loads} times in {CHROMIUM} ...", file=sys.stderr,
              flush=True)
        driver = _browser()
        try:
            chromium = f"Chromium {driver.capabilities.get('browserVersion', '?')}"
            for result, path in zip(results, paths):
                _load_times(driver, path, args.loads, result)
        finally:
            driver.quit()
    print(render(results, args.loads, args.builds, chromium))
    return 0


if __name__ == "__main__":
    sys.exit(main())
