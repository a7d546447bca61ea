"""``autograd-lite demo``: Mark Kramer's lecture end to end, a thin story over the library:
the lecture's facts from ``autograd_lite.lectures``, training with ``nn.fit``."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from ..graph_language import (
    GraphError,
    parse_graph,
)
from ..lectures import (
    KRAMER_FIRST_GUESS,
    KRAMER_GRAPH,
    KRAMER_ROWS,
    KRAMER_SLIDE_FORMULAS,
    KRAMER_SLIDE_FORWARD,
    KRAMER_TARGET,
)
from .commands import _image_format, _write_drawing
from .common import (
    EXIT_INTERNAL,
    EXIT_OK,
    PROG,
    _number,
    _shown_path,
)


def _lecture(formula: str) -> str:
    """``w2*s2*(1 - s2)*s1`` as the slides write it: ``w2 · s2(1 − s2) · s1``."""
    return formula.replace("*(", "(").replace("*", " · ").replace(" - ", " − ")


def _agreement(found: dict[str, float]) -> int:
    """How many decimals every weight agrees with its nearest whole number."""
    worst = max(abs(value - round(value)) for value in found.values())
    return max(0, min(12, int(-math.log10(worst)) if worst > 0 else 12))


def _fit_kramer_rows(args: argparse.Namespace) -> tuple[Any, list[float], float, float]:
    """Gradient descent on the slide's rows with ``nn.fit``, from the first guess.

    The network is Kramer's chain as an nn model one unit wide (weights w0, w1, w2, no
    biases); the cost is the mean over the rows of ½(out − target)², and ``nn.optim.SGD``
    makes the slides' update w ← w − α·dC/dw, with momentum (the cost surface has a long
    flat valley that plain steps crawl along; ``--momentum 0`` is the slides' plain rule).
    """
    import nn

    model = nn.MLP(1, [1, 1, 1], activation="sigmoid", output_activation="linear", bias=False)
    model.set_parameters([KRAMER_FIRST_GUESS[name] for name in ("w0", "w1", "w2")])
    rows = nn.data.kramer()
    print(f"5. \"What weights (w0 w1 w2) produced these data?\" — the slide's {len(rows.xs)} "
          "rows (s0, out)")
    print(f"  Gradient descent (nn.fit) on C = mean over the rows of ½(out − target)², from the "
          f"first guess w0 = 2, w1 = 1, w2 = 0.5; α = {args.lr:g}, momentum {args.momentum:g}, "
          f"{args.epochs} epochs")
    sys.stdout.flush()  # the progress bar goes to stderr: keep the two in order
    optimizer = nn.optim.SGD(model, lr=args.lr, momentum=args.momentum)
    try:
        history = nn.fit(model, rows, loss="half_squared_error", optimizer=optimizer,
                         epochs=args.epochs, shuffle=False,
                         progress=not args.no_progress)
    except nn.train.DivergedError as exc:
        weights = ", ".join(f"{name} = {value:.3g}" for name, value in
                            zip(("w0", "w1", "w2"), (p.data for p in model.parameters())))
        raise GraphError(f"gradient descent diverged at epoch {exc.epoch} ({weights}: "
                         f"{str(exc).split(': ', 2)[-1]}); try a smaller --lr") from None
    found = [p.data for p in model.parameters()]
    outputs = [float(model([s0]).data) for (s0,) in rows.xs]  # type: ignore[union-attr]
    final = sum(0.5 * (y - t) ** 2 for y, t in zip(outputs, rows.ys)) / len(rows.xs)
    return model, found, history.loss[0], final


def run_demo(args: argparse.Namespace) -> int:
    import sympy

    from ..drawing import draw
    from ..explanation import explain
    from ..symbolic import to_sympy
    from ..tracing import trace as record

    program = parse_graph(KRAMER_GRAPH)
    graph = program.evaluate(KRAMER_FIRST_GUESS)
    out = graph.output
    given = ", ".join(f"{name} = {_number(value)}" for name, value in KRAMER_FIRST_GUESS.items())
    print('Mark Kramer, "Backpropagation": the one-path sigmoid chain, end to end')
    print()
    print("The network, in the graph language (the same text works with trace, explain, draw):")
    print(f"  {KRAMER_GRAPH}")
    print(f"  at {given}  (the slide's first guess; the target is out = {KRAMER_TARGET})")

    print()
    print("1. Forward propagation (slide: x1 = 4, s1 = 0.982, x2 = 0.982, s2 = 0.7275, "
          "out = 0.3638)")
    width = max(len(a.source) for a in program.assignments)
    for assignment in program.assignments:
        name = assignment.target or ""
        ours = _number(graph.nodes[name].data)
        slide = KRAMER_SLIDE_FORWARD[name]
        decimals = len(slide.partition(".")[2])
        # As the slide rounds it: s1 = 0.98201... is the slide's 0.982.
        same = "ok" if round(graph.nodes[name].data, decimals) == float(slide) else "DIFFERS"
        print(f"  {assignment.source.ljust(width)}  = {ours.ljust(6)}  slide {name} = "
              f"{slide.ljust(6)}  {same}")
    print(f"  Match the target {KRAMER_TARGET}? No: out = {_number(out.data)}. So: "
          "backpropagation.")

    print()
    print("2. The backward pass, step by step (reverse topological order)")
    recorded = record(out)  # also fills .grad, which the drawing shows
    print("\n".join("  " + line for line in str(recorded).splitlines()))

    print()
    print("3. The slides' three formulas, checked against the graph")
    checks_passed = True
    for weight in ("w2", "w1", "w0"):
        explanation = explain(out, graph.nodes[weight])
        slide_text = KRAMER_SLIDE_FORMULAS[weight]
        # The slide's formula, parsed by the graph language and turned into SymPy over the
        # same node names: the graph's formula must equal it identically, and numerically.
        slide_program = parse_graph(slide_text)
        on_slide = slide_program.evaluate({n: graph.nodes[n].data
                                           for n in slide_program.inputs})
        same_formula = sympy.simplify(explanation.expression - to_sympy(on_slide.output)) == 0
        same_number = math.isclose(on_slide.output.data, explanation.value, rel_tol=1e-12)
        matches_engine = math.isclose(explanation.path_sum, graph.nodes[weight].grad,
                                      rel_tol=1e-12)
        passed = same_formula and same_number and matches_engine
        checks_passed = checks_passed and passed
        print(f"  {explanation}")
        print(f"      slide: dout/d{weight} = {_lecture(slide_text)}: "
              f"{'same formula' if same_formula else 'DIFFERENT FORMULA'}, "
              f"{'same number' if same_number else 'DIFFERENT NUMBER'}; "
              f"engine's gradient {_number(graph.nodes[weight].grad)} "
              f"{'agrees' if matches_engine else 'DISAGREES'}")

    print()
    print("4. The graph, drawn")
    drawing = draw(out, highlight="w0", show_derivatives=True,
                   title="Kramer: out = w2·S(w1·S(w0·s0)); the path from w0 in red")
    path, note = _write_drawing(drawing, args.output, _image_format(args.output))
    print(f"  wrote {_shown_path(path)} (data and grad on every node, local derivatives on "
          "the edges, the path from w0 to out in red)")
    if note:
        print(f"{PROG}: note: {note}", file=sys.stderr)

    print()
    model, weights, start_cost, final_cost = _fit_kramer_rows(args)
    found = dict(zip(("w0", "w1", "w2"), weights))
    print("  The weights gradient descent found:")
    print("    " + "   ".join(f"{name} = {value:.4f}" for name, value in found.items()))
    print(f"  cost C = {start_cost:.4g} in the first epoch, {final_cost:.3g} at the end")
    print("    s0            out (slide)    out (network)")
    for s0, target in KRAMER_ROWS:
        print(f"    {s0:11.8f}   {target:11.8f}    {model([s0]).data:11.8f}")
    whole = {name: float(round(value)) for name, value in found.items()}
    model.set_parameters([whole["w0"], whole["w1"], whole["w2"]])
    worst = max(abs(model([s0]).data - target) for s0, target in KRAMER_ROWS)
    rounded = ", ".join(f"{name} = {value:g}" for name, value in whole.items())
    if _agreement(found) >= 2:
        print(f"  Answer: {rounded}. Gradient descent's weights agree with these to "
              f"{_agreement(found)} decimals, and with exactly these the network gives every "
              f"row's out to within {worst:.1g}.")
    else:
        print(f"  Not there yet: the cost is still {final_cost:.3g}. Run more --epochs "
              "(or use momentum, e.g. --momentum 0.9).")
    if not checks_passed:
        print(f"{PROG}: error: a slide formula did not match the graph (see section 3)",
              file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK
