"""The argument parser and the entry point: every command, its help, and the exit codes."""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
import traceback
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import NoReturn

from .. import __version__
from ..graph_language import (
    FUNCTIONS,
    GraphError,
)
from ..lectures import KRAMER_GRAPH
from .commands import run_compile, run_draw, run_explain, run_explore, run_trace
from .common import (
    DOT_FORMATS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    IMAGE_FORMATS,
    PROG,
    UsageError,
    _file_name,
)
from .demo import run_demo

GRAPH_HELP = f"""\
The graph language:
  one or more assignments separated by ';' or newlines; each target becomes a node's
  label and the last statement is the output (a bare expression there is called 'out').
  Names that are read but never assigned are the inputs: give each a number with --at
  (or -f). Allowed: names, numbers, + - * / **, unary -, parentheses, and the functions
  {', '.join(sorted(FUNCTIONS))}
  (leaky_relu(x) has slope 0.01 below 0; leaky_relu(x, alpha) sets it).
  Anything else (attributes, indexing, strings, lambda, imports ...) is rejected: the
  text is parsed with a whitelist, never run as Python. GRAPH '-' reads it from stdin;
  a GRAPH that starts with '-' goes last, after '--':  trace --at x=1 -- '-x*2'
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors raise UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        if "GRAPH" in message or "unrecognized arguments" in message or "expected one " \
                "argument" in message:
            # argparse takes "-x*y" for an option: the usual cure is "--".
            hint = ("; a GRAPH that starts with '-' goes last, after '--' (trace --at x=1 -- "
                    "'-x*2'), or starts with a space (' -x*2')")
        raise UsageError(f"{message} (see '{self.prog} --help'{hint})")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    _tolerate_narrow_terminals()
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            raise UsageError(f"no command given: choose demo, trace, explain or draw "
                             f"(see '{PROG} --help')")
        return int(args.run(args))
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (UsageError, GraphError) as exc:
        _error_line(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours; silence the flush at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process exits
        return EXIT_OK
    except Exception as exc:  # a bug: say so, exit 1
        if os.environ.get("AUTOGRAD_LITE_TRACEBACK"):
            traceback.print_exc()
        _error_line(f"internal error: {type(exc).__name__}: {exc} (this is a bug in "
                    "autograd-lite; set AUTOGRAD_LITE_TRACEBACK=1 for the traceback)")
        return EXIT_INTERNAL


def _error_line(message: str) -> None:
    one_line = " ".join(message.split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


def _tolerate_narrow_terminals() -> None:
    # Formulas use ·, −, ½. On a terminal that cannot show them, print '?' rather than fail.
    # A UTF-8 stream can show everything but the lone surrogates that stand for invalid
    # bytes in a file name (-o $'caf\xe9.svg'); under a strict UTF-8 setting
    # (PYTHONIOENCODING=utf-8) printing one failed. Paths are shown with _shown_path; this
    # is the net for any other text that carries one: it prints as \udce9.
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if not hasattr(stream, "reconfigure"):
            continue
        with suppress(ValueError, OSError):  # a detached stream: leave it alone
            if encoding != "utf8":
                stream.reconfigure(errors="replace")
            elif getattr(stream, "errors", "strict") == "strict":
                stream.reconfigure(errors="backslashreplace")


def build_parser() -> argparse.ArgumentParser:
    """The ``autograd-lite`` argument parser, with every subcommand and its help."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG, formatter_class=formatter,
        description=_paragraph(
            "autograd_lite: see every chain-rule step of backpropagation on a graph "
            "you write as assignments."),
        epilog=GRAPH_HELP + f"""
Examples:
  {PROG} demo
  {PROG} trace "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5
  {PROG} explain "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 --wrt w1
  {PROG} draw "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 -o graph.svg --highlight w0

Exit status: 0 ok, 2 usage or input error (one line on stderr), 1 internal error.""")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    graph_options = _Parser(add_help=False)
    graph_options.add_argument(
        "graph", metavar="GRAPH",
        help="the graph as assignments, e.g. \"x1 = w0*s0; out = sigmoid(x1)\" ('-': stdin)")
    graph_options.add_argument(
        "--at", metavar="NAME=VALUE,...", action="append", default=[],
        help="numbers for the graph's inputs, e.g. --at s0=2,w0=2 (repeatable; wins over -f)")
    graph_options.add_argument(
        "-f", "--values-file", metavar="FILE", type=_file_name,
        help="read the inputs' numbers from FILE: name=value items separated by commas or "
             "newlines ('#' starts a comment), or a JSON object {\"s0\": 2, ...}")

    demo = commands.add_parser(
        "demo", formatter_class=formatter,
        help="the Kramer lecture end to end: forward, trace, formulas, graph, training",
        description=_paragraph(
            "Mark Kramer's backpropagation lecture, end to end, with the slides' "
            "numbers: forward propagation, the backward pass step by step, the "
            "three chain-rule formulas checked against the graph, the graph drawn "
            "to a file, then gradient descent on the slide's six data rows to "
            "answer its question: what weights (w0 w1 w2) produced these data?"),
        epilog=f"Example:\n  {PROG} demo -o kramer.svg")
    demo.add_argument("-o", "--output", metavar="FILE", type=_file_name, default=Path("kramer.svg"),
                      help="where to write the graph drawing (default: kramer.svg; without "
                           "Graphviz's dot, the .dot file is written instead)")
    demo.add_argument("--epochs", type=_positive_int, default=3000,
                      help="gradient-descent epochs over the six rows (default: 3000)")
    # 6.0 on the mean over the six rows is the step 1.0 on their sum would take.
    demo.add_argument("--lr", type=_positive_float, default=6.0,
                      help="learning rate α on the mean cost over the rows (default: 6.0)")
    demo.add_argument("--momentum", type=_momentum, default=0.9,
                      help="momentum μ in [0, 1): velocity = μ·velocity − α·dC/dw "
                           "(default: 0.9; 0 is the slides' plain w ← w − α·dC/dw)")
    demo.add_argument("--no-progress", action="store_true",
                      help="do not show the progress bar (it goes to stderr)")
    demo.set_defaults(run=run_demo)

    trace = commands.add_parser(
        "trace", parents=[graph_options], formatter_class=formatter,
        help="the backward pass as a table, one row per chain-rule step",
        description=_paragraph(
            "Evaluate GRAPH at the given inputs and print the forward values, "
            "then the backward pass step by step (each node's upstream gradient, "
            "each local derivative as formula and number, what is added to each "
            "input), then the gradient of the output with respect to every input."),
        epilog=GRAPH_HELP + f"""
Example:
  {PROG} trace "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5""")
    trace_format = trace.add_mutually_exclusive_group()
    trace_format.add_argument("--json", action="store_true",
                              help="print machine-readable JSON instead of the table")
    trace_format.add_argument("--markdown", action="store_true",
                              help="print Markdown for lecture notes: the forward pass, the "
                                   "step table and the gradients")
    trace.set_defaults(run=run_trace)

    explain = commands.add_parser(
        "explain", parents=[graph_options], formatter_class=formatter,
        help="the chain-rule formula for d output / d NAME, with numbers",
        description=_paragraph(
            "The chain rule for d output / d NAME as the lecture writes it: the sum "
            "over every path of the product of local derivatives, in the nodes' "
            "names, then as numbers, then the result (equal to the engine's "
            "gradient)."),
        epilog=GRAPH_HELP + f"""
Example:
  {PROG} explain "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 --wrt w1
  prints  dout/dw1 = w2 · s2·(1 − s2) · s1 = (the same as numbers) = 0.09734""")
    explain.add_argument("--wrt", metavar="NAME", action="append", default=[],
                         help="the node to differentiate with respect to (repeatable, or "
                              "comma-separated; default: every input)")
    explain.add_argument("--expand", action="store_true",
                         help="write the formula over the inputs only (replace every "
                              "intermediate name by its expression)")
    explain.add_argument("--max-paths", metavar="N", type=_positive_int, default=1000,
                         help="refuse a formula with more than N paths (default: 1000), "
                              "which explains nothing; 'trace' still gives the number")
    explain.add_argument("--max-factors", metavar="N", type=_positive_int, default=10_000,
                         help="refuse a formula with more than N local derivatives over all "
                              "its paths together (default: 10000)")
    explain_format = explain.add_mutually_exclusive_group()
    explain_format.add_argument("--json", action="store_true",
                                help="print machine-readable JSON")
    explain_format.add_argument("--markdown", action="store_true",
                                help="print Markdown for lecture notes (one line per path "
                                     "when there are several)")
    explain_format.add_argument("--latex", action="store_true",
                                help="print LaTeX (math mode), factors in the path's order")
    explain_format.add_argument("--ascii", action="store_true",
                                help="write *, - and ** (the formula pastes into Python and "
                                     "parses with SymPy)")
    explain.set_defaults(run=run_explain)

    draw = commands.add_parser(
        "draw", parents=[graph_options], formatter_class=formatter,
        help="draw the graph (data and grad on every node) to an image file",
        description=_paragraph(
            "Draw GRAPH with the data and gradient of every node (after the "
            "backward pass of the output) to the file given with -o; the format "
            "comes from its extension: " + ", ".join(IMAGE_FORMATS + DOT_FORMATS)
            + ". Rendering needs Graphviz's dot program; without it the DOT text "
            "is written to a .dot file next to it, with a note on installing "
            "Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew "
            "install graphviz)."),
        epilog=GRAPH_HELP + f"""
Examples:
  {PROG} draw "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 -o graph.svg --highlight w0
  {PROG} draw "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 -o graph.png --frames frames/""")
    draw.add_argument("-o", "--output", metavar="FILE", type=_file_name, default=Path("graph.svg"),
                      help="the image to write (default: graph.svg)")
    draw.add_argument("--highlight", metavar="NAME", action="append", default=[],
                      help="draw the path(s) from NAME to the output in red (repeatable)")
    draw.add_argument("--derivatives", action="store_true",
                      help="label every edge with its local derivative (formula = number)")
    draw.add_argument("--frames", metavar="DIR", type=_file_name,
                      help="also write one image per backward step into DIR (a flip-book)")
    draw.add_argument("--max-nodes", metavar="N", type=_positive_int, default=250,
                      help="refuse to draw more than N value nodes (default: 250), since a "
                           "bigger drawing is unreadable; see --summarise")
    draw.add_argument("--summarise", action="store_true",
                      help="with more than --max-nodes nodes, draw the N nearest the output "
                           "and one node counting the rest")
    draw.add_argument("--rankdir", choices=("auto", "wrap", "LR", "TB", "RL", "BT"),
                      default="auto",
                      help="the direction the graph flows: auto (default) takes LR (left to "
                           "right) or TB (top to bottom), whichever is closer to a 16:9 "
                           "slide; wrap lays a chain out in rows, for a slide")
    draw.add_argument("--title", metavar="TEXT", help="a caption above the drawing")
    draw.add_argument("--decimals", metavar="N", type=_positive_int, default=4,
                      help="significant digits of the numbers shown (default: 4)")
    draw.add_argument("--step", metavar="N", type=_positive_int,
                      help="draw the graph as it is at step N of the backward pass (the "
                           "node processed, what it sends, the gradients so far)")
    draw.add_argument("--render-timeout", metavar="SECONDS", type=_positive_float,
                      default=20.0,
                      help="stop Graphviz's dot if one image takes longer than this to lay "
                           "out (default: 20)")
    draw.set_defaults(run=run_draw)

    explore = commands.add_parser(
        "explore", parents=[graph_options], formatter_class=formatter,
        help="write a page that steps through the backward pass in a browser",
        description=_paragraph(
            "Write one self-contained HTML page (-o) for GRAPH: step through the backward "
            "pass with buttons, a slider or the arrow keys, read each step's chain rule, "
            "click a node for its explanation, and change the inputs to recompute every "
            "value and gradient. The page opens from file:// with no network. Drawing the "
            "graph into it needs Graphviz's dot program."),
        epilog=GRAPH_HELP + f"""
Example:
  {PROG} explore "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5 -o kramer.html""")
    explore.add_argument("-o", "--output", metavar="FILE", type=_file_name,
                         default=Path("explorer.html"),
                         help="the page to write, ending in .html (default: explorer.html)")
    explore.add_argument("--title", metavar="TEXT", help="the page's heading")
    explore.add_argument("--rankdir", choices=("auto", "wrap", "LR", "TB", "RL", "BT"),
                         default="wrap", help="the drawing's direction (default: wrap, rows "
                                              "that fit beside the panels)")
    explore.add_argument("--decimals", metavar="N", type=_positive_int, default=4,
                         help="significant digits of the numbers shown (default: 4)")
    explore.add_argument("--derivatives", action="store_true",
                         help="label every edge with its local derivative")
    explore.set_defaults(run=run_explore)

    compile_ = commands.add_parser(
        "compile", parents=[graph_options], formatter_class=formatter,
        help="print the graph's forward and backward pass as straight-line Python",
        description=_paragraph(
            "Print GRAPH compiled to straight-line code (compile_graph): one line per "
            "operation, then the backward pass, each line the upstream gradient times the "
            "local derivative from the table of primitives, with the node it comes from. "
            "The function takes the graph's inputs and returns the output and its "
            "gradients."),
        epilog=GRAPH_HELP + f"""
Example:
  {PROG} compile "{KRAMER_GRAPH}" --at s0=2,w0=2,w1=1,w2=0.5""")
    compile_.add_argument("--backend", choices=("python", "numpy"), default="python",
                          help="python (floats, the default) or numpy (arrays: a batch of "
                               "independent evaluations)")
    compile_.add_argument("--wrt", metavar="NAME", action="append", default=[],
                          help="the inputs the function takes (repeatable, or comma-"
                               "separated; default: every input); the others keep their "
                               "--at numbers, folded into the code")
    compile_.set_defaults(run=run_compile)
    return parser


def _paragraph(text: str) -> str:
    """A help description wrapped to the usual width (the epilogs keep their own layout)."""
    return textwrap.fill(text, width=88)


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= number <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 1000000")
    return number


def _finite_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return number


def _positive_float(text: str) -> float:
    number = _finite_float(text)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not > 0")
    return number


def _momentum(text: str) -> float:
    number = _finite_float(text)
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1)")
    return number
