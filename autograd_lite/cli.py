"""The command line `autograd-lite demo | trace | explain | draw` (or `python -m autograd_lite`).

    autograd-lite trace "x1 = w0*s0; s1 = sigmoid(x1); out = w1*s1" --at s0=2,w0=2,w1=1

Exit status: 0 on success; 2 on a usage or input error (a bad graph, a missing value, a
domain error such as log of 0, an overflow), with a one-line message on stderr and no
traceback; 1 on an internal error (a bug: please report it). Set the environment variable
``AUTOGRAD_LITE_TRACEBACK=1`` to see the traceback of an internal error.

The graph text is parsed by ``graph_language`` (Python's ``ast`` and a whitelist); nothing
the user writes is evaluated as Python.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import textwrap
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__
from .engine import Constant, Value, reverse_topological_order
from .graph_language import (
    FUNCTIONS,
    MAX_TEXT_LENGTH,
    EvaluatedGraph,
    GraphError,
    GraphProgram,
    parse_graph,
    parse_values,
)

__all__ = ["KRAMER_GRAPH", "KRAMER_VALUES", "build_parser", "main"]

PROG = "autograd-lite"

# The Kramer lecture's network, in the graph language, and the slide's first guess.
KRAMER_GRAPH = "x1 = w0*s0; s1 = sigmoid(x1); x2 = w1*s1; s2 = sigmoid(x2); out = w2*s2"
KRAMER_VALUES = {"s0": 2.0, "w0": 2.0, "w1": 1.0, "w2": 0.5}
KRAMER_TARGET = 0.7
# Slide "Forward propagation", as printed there.
KRAMER_SLIDE_FORWARD = {"x1": "4", "s1": "0.982", "x2": "0.982", "s2": "0.7275", "out": "0.3638"}
# Slides "How does a change in weight impact output?": the three formulas, as written there.
KRAMER_SLIDE_FORMULAS = {
    "w2": "s2",
    "w1": "w2*s2*(1 - s2)*s1",
    "w0": "w2*s2*(1 - s2)*w1*s1*(1 - s1)*s0",
}
# Image formats the draw command writes, by file extension; .dot/.gv is the DOT text itself.
IMAGE_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif")
DOT_FORMATS = ("dot", "gv")

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

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A usage or input error: reported as one line on stderr, exit status 2."""


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


# ---------------------------------------------------------------- entry point


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


def _shown_path(path: Path | str) -> str:
    """A file name as text that any terminal can print: invalid bytes as \xe9."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _file_name(text: str) -> Path:
    """A file name from the command line; a NUL byte cannot be in one (the OS refuses it)."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} contains a NUL byte, which no file name "
                                         "can contain")
    return Path(text)


# ---------------------------------------------------------------- the parser


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
    demo.add_argument("--lr", type=_positive_float, default=1.0,
                      help="learning rate α (default: 1.0)")
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
                              help="print the step table as Markdown (for lecture notes)")
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
    explain.add_argument("--json", action="store_true", help="print machine-readable JSON")
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
    draw.add_argument("--render-timeout", metavar="SECONDS", type=_positive_float,
                      default=20.0,
                      help="stop Graphviz's dot if one image takes longer than this to lay "
                           "out (default: 20)")
    draw.set_defaults(run=run_draw)
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


# ---------------------------------------------------------------- shared steps


def _read_graph_text(graph: str) -> str:
    if graph != "-":
        return graph
    too_long = UsageError(f"the graph on stdin is longer than {MAX_TEXT_LENGTH} characters")
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:  # a text stream without bytes underneath (a test's StringIO)
        text = sys.stdin.read(MAX_TEXT_LENGTH + 1)
    else:
        # Bytes, decoded here: the stream's own decoding fails with a traceback on invalid
        # UTF-8 (or, under C.UTF-8, turns it into surrogates the graph then calls invisible).
        limit = 4 * MAX_TEXT_LENGTH  # a character is at most 4 bytes of UTF-8
        data = binary.read(limit + 1)
        if len(data) > limit:
            raise too_long
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise UsageError(f"the graph on stdin is not valid UTF-8: byte "
                             f"0x{data[exc.start]:02x} at line {line}, byte {column}") from None
    if len(text) > MAX_TEXT_LENGTH:
        raise too_long
    return text


def _read_values(args: argparse.Namespace) -> dict[str, float]:
    values: dict[str, float] = {}
    if args.values_file is not None:
        path: Path = args.values_file
        try:
            with path.open(encoding="utf-8") as handle:
                text = handle.read(2_000_000)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot read the values file {str(path)!r}: {reason}") from None
        values.update(parse_values(text, source=f"values file {str(path)!r}"))
    from_command_line: dict[str, float] = {}
    for item in args.at:
        for name, number in parse_values(item, source="--at").items():
            if name in from_command_line:
                raise UsageError(f"--at: {name!r} is given twice")
            from_command_line[name] = number
    values.update(from_command_line)  # the command line wins over the file
    return values


def _build(args: argparse.Namespace) -> EvaluatedGraph:
    """Parse GRAPH, read the values, evaluate with the engine; note unused assignments."""
    program = parse_graph(_read_graph_text(args.graph))
    graph = program.evaluate(_read_values(args))
    if program.unused:
        names = ", ".join(program.unused)
        print(f"{PROG}: note: {names} {'is' if len(program.unused) == 1 else 'are'} "
              f"assigned but not used by the output {_output_name(graph)}", file=sys.stderr)
    return graph


def _output_name(graph: EvaluatedGraph) -> str:
    return graph.program.output or graph.output.label or "the output"


def _require_graph_output(graph: EvaluatedGraph) -> Value:
    output = graph.output
    if not output.parents and output.primitive is None:
        raise GraphError(f"the output {_output_name(graph)} = {output.data!r} is a number or an "
                         "input itself: it has no backward pass to show")
    return output


@contextmanager
def _backward_errors(what: str) -> Iterator[None]:
    """Domain errors of the backward pass (sqrt′(0) ...) and too-big graphs are input errors."""
    try:
        yield
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, GraphError):
            raise
        message = str(exc)
        # The engine's backward errors already say "backward: ..."; do not say it twice.
        raise GraphError(message if message.startswith(("backward", "explain", "draw"))
                         else f"{what}: {message}") from None


def _check_finite(gradients: dict[str, float], output_name: str) -> None:
    for name, gradient in gradients.items():
        if not math.isfinite(gradient):
            raise GraphError(f"d{output_name}/d{name} overflowed ({gradient!r}): the gradient "
                             "is too large for a float at these inputs")


def _number(value: float) -> str:
    from .notation import number as format_number

    return format_number(value)


def _json(data: Any, stream: TextIO) -> None:
    # The whole text first: a failure half-way must not leave half a JSON document behind.
    text = json.dumps(data, indent=2, allow_nan=False)
    stream.write(text + "\n")


def _finite_or_null(number: float) -> float | None:
    return number if math.isfinite(number) else None


def _overflow_note(explanation: Any) -> str | None:
    """Why a path's product (or their sum) is null in explain's JSON, or None."""
    overflowed = [k for k, path in enumerate(explanation.paths, start=1)
                  if not math.isfinite(path.value)]
    if not overflowed and math.isfinite(explanation.path_sum):
        return None
    which = (f"the products along path(s) {', '.join(map(str, overflowed[:10]))}"
             f"{' ...' if len(overflowed) > 10 else ''}" if overflowed
             else "the sum of the paths' products")
    return (f"{which} overflow a float and are null here (JSON has no inf or nan); 'value' "
            "is the engine's gradient, which sums the same terms node by node")


def _forward_lines(graph: EvaluatedGraph) -> list[str]:
    program: GraphProgram = graph.program
    lines = []
    if graph.inputs:
        lines.append("  " + ", ".join(f"{name} = {_number(node.data)}"
                                      for name, node in graph.inputs.items()))
    width = max((len(a.source) for a in program.assignments), default=0)
    for assignment in program.assignments:
        name = assignment.target or program.output
        node = graph.nodes.get(name) if name else graph.output
        if node is None:  # pragma: no cover - every statement names a node or is the output
            continue
        text = assignment.source if assignment.target or not name else f"{name} = " \
            f"{assignment.source}"
        lines.append(f"  {text.ljust(width)}  = {_number(node.data)}")
    return lines


# ---------------------------------------------------------------- trace


def run_trace(args: argparse.Namespace) -> int:
    from .notation import formula as format_formula
    from .tracing import trace as record

    graph = _build(args)
    output = _require_graph_output(graph)
    with _backward_errors("backward pass"):
        recorded = record(output, accumulate=False)
    names = recorded.names
    output_name = names[output]
    gradients = {names[node]: g for node, g in recorded.gradients.items()}
    _check_finite(gradients, output_name)
    input_gradients = {name: recorded.gradients.get(node, 0.0)
                       for name, node in graph.inputs.items()}
    if args.json:
        _json({
            "graph": graph.program.text,
            "output": output_name,
            "value": output.data,
            "inputs": {name: node.data for name, node in graph.inputs.items()},
            "nodes": {name: node.data for name, node in graph.nodes.items()},
            "steps": [{
                "index": step.index,
                "node": step.name,
                "op": step.op,
                "computed_as": step.computation,
                "value": step.node.data,
                "upstream": step.upstream,
                "contributions": [{
                    "input": c.name,
                    "position": c.position,
                    "local": c.local,
                    "formula": str(c.formula),
                    "formula_text": format_formula(c.formula),
                    "contribution": c.contribution,
                    "grad_after": c.grad_after,
                } for c in step.contributions],
            } for step in recorded],
            "gradients": input_gradients,
            "all_gradients": gradients,  # every node the output depends on
        }, sys.stdout)
        return EXIT_OK
    if args.markdown:
        print(recorded.to_markdown())
        return EXIT_OK
    print(f"Forward pass of {output_name}:")
    print("\n".join(_forward_lines(graph)))
    print()
    print(recorded)
    print()
    print(f"Gradients of {output_name}:")
    for name, gradient in input_gradients.items():
        print(f"  d{output_name}/d{name} = {_number(gradient)}")
    return EXIT_OK


# ---------------------------------------------------------------- explain


def _wrt_names(args: argparse.Namespace, graph: EvaluatedGraph) -> list[str]:
    names = [name.strip() for item in args.wrt for name in item.split(",") if name.strip()]
    if not args.wrt:
        names = list(graph.inputs)
        if not names:
            raise GraphError("the graph has no inputs to differentiate with respect to")
    if args.wrt and not names:
        raise UsageError("--wrt needs a node name, e.g. --wrt w1")
    return list(dict.fromkeys(names))  # each once, in the order given


def _differentiable_node(graph: EvaluatedGraph, name: str) -> Value:
    """The node called ``name``; a named number ("c = 2") is an input error, with the cure."""
    node = graph.node(name)
    if type(node) is Constant:
        raise GraphError(f"{name} = {_number(node.data)} is a number written into the graph, "
                         "not a node with a gradient; to differentiate with respect to it, "
                         f"read it as an input instead and give it with --at {name}=...")
    return node


@contextmanager
def _size_in_flags(head: str, args: argparse.Namespace) -> Iterator[None]:
    """explain counts the paths and factors and checks the limits; say it in flags."""
    from .explanation import ExplanationSizeError

    try:
        yield
    except ExplanationSizeError as exc:
        count = exc.count
        if count.paths > args.max_paths:
            too_big = f"is a sum over {count.paths} paths, more than --max-paths {args.max_paths}"
            flag = "--max-paths"
        else:
            too_big = (f"has {count.factors} factors over its {count.paths} paths, more than "
                       f"--max-factors {args.max_factors}")
            flag = "--max-factors"
        raise GraphError(f"{head} {too_big}: a formula that long explains nothing; 'trace' "
                         f"gives the number (or raise {flag})") from None


def run_explain(args: argparse.Namespace) -> int:
    from .symbolic import DEFAULT_SYMPY_TIMEOUT, SymbolicTimeoutError, run_sympy

    graph = _build(args)
    output = _require_graph_output(graph)
    nodes = {name: _differentiable_node(graph, name) for name in _wrt_names(args, graph)}
    try:
        # All the SymPy work (building, and printing, which recurses as deep as an expanded
        # formula nests) in one bounded run: the text is written only once it is whole.
        text = run_sympy(lambda: _explain_text(args, graph, output, nodes), what="explain",
                         timeout=DEFAULT_SYMPY_TIMEOUT)
    except SymbolicTimeoutError:
        raise GraphError(f"explain: SymPy did not finish within {DEFAULT_SYMPY_TIMEOUT:g} s "
                         "and was stopped: the formula is too deep or too big to write out"
                         f"{' (try without --expand)' if args.expand else ''}; 'trace' "
                         "gives the numbers") from None
    sys.stdout.write(text)
    return EXIT_OK


def _explain_text(args: argparse.Namespace, graph: EvaluatedGraph, output: Value,
                  nodes: dict[str, Value]) -> str:
    from .explanation import explain
    from .notation import formula as format_formula

    explanations = []
    for name, node in nodes.items():
        head = f"d{_output_name(graph)}/d{name}"
        with _backward_errors(f"explain {head}"), _size_in_flags(head, args):
            explanation = explain(output, node, expand=args.expand,
                                  max_paths=args.max_paths, max_factors=args.max_factors)
        _check_finite({name: explanation.value}, explanation.output_name)
        explanations.append(explanation)
    if not args.json:
        return "".join(f"{explanation}\n" for explanation in explanations)
    text = io.StringIO()
    _json({
        "graph": graph.program.text,
        "output": _output_name(graph),
        "explanations": [{
            "wrt": e.wrt_name,
            "text": str(e),
            "expression": str(e.expression),
            "formula": e.symbols_text() if not e.note else "0",
            "numbers": e.numbers_text() if not e.note else "0",
            "value": e.value,
            # A product along one path can overflow to ±inf (and the sum to nan) where
            # the gradient does not: the engine adds contributions at each node, where
            # they cancel (y·1e200 − y·1e200). The gradient is right and the text form
            # shows it, so refusing would hide a good answer: JSON writes null for the
            # numbers it cannot hold (as JavaScript's JSON.stringify does) and says why.
            "path_sum": _finite_or_null(e.path_sum),
            "note": e.note,
            "overflow": _overflow_note(e),
            "paths": [{
                "nodes": [e.names[n] for n in path.nodes],
                "factors": [{
                    "derivative": f"d{e.names[f.node]}/d{e.names[f.parent]}",
                    "formula": str(f.formula),
                    "formula_text": format_formula(f.formula),
                    "value": _finite_or_null(f.value),
                } for f in path.factors],
                "value": _finite_or_null(path.value),
            } for path in e.paths],
        } for e in explanations],
    }, text)
    return text.getvalue()


# ---------------------------------------------------------------- draw


def _image_format(path: Path) -> str:
    extension = path.suffix.lower().lstrip(".")
    if extension not in IMAGE_FORMATS + DOT_FORMATS:
        known = ", ".join("." + e for e in IMAGE_FORMATS + DOT_FORMATS)
        shown = f"'.{extension}'" if extension else "no extension"
        raise UsageError(f"cannot tell the image format of {str(path)!r} ({shown}); "
                         f"use one of {known}")
    return "jpeg" if extension == "jpg" else extension


def _render_error(exc: Exception, path: Path) -> GraphError:
    """A drawing dot could not lay out within its bounds, in the command line's terms."""
    from .drawing import RenderTimeoutError

    size = f" ({exc.nodes} value nodes)" if getattr(exc, "nodes", None) else ""
    fewer = "draw fewer nodes (--summarise --max-nodes 50)"
    if isinstance(exc, RenderTimeoutError):
        return GraphError(f"Graphviz's dot did not finish laying out {str(path)!r}{size} "
                          f"within {exc.limit:g} s and was stopped; {fewer}, or allow more "
                          "time with --render-timeout SECONDS")
    return GraphError(f"Graphviz's dot ran out of memory laying out {str(path)!r}{size} and "
                      f"was stopped; {fewer}")


def _write_drawing(drawing: Any, path: Path, image_format: str) -> tuple[Path, str]:
    """Write an image with Graphviz's dot; without dot, the .dot text. Returns (path, note)."""
    import graphviz

    from .drawing import RenderError

    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
        if image_format in DOT_FORMATS:
            path.write_text(drawing.source, encoding="utf-8")
            return path, ""
        try:
            image = drawing.pipe(format=image_format)
        except graphviz.ExecutableNotFound:
            dot_path = path.with_suffix(".dot")
            dot_path.write_text(drawing.source, encoding="utf-8")
            return dot_path, (f"Graphviz's dot program is not installed, so {str(path)!r} "
                              f"was not rendered; wrote the graph as DOT text to "
                              f"{str(dot_path)!r} instead. Install Graphviz (Debian/Ubuntu: "
                              "sudo apt-get install graphviz; macOS: brew install graphviz; "
                              "https://graphviz.org/download/) and run again, or render it "
                              f"yourself: dot -T{image_format} {_shown_path(dot_path)} -o "
                              f"{_shown_path(path)}")
        except RenderError as exc:  # (GraphvizNotFound is an ExecutableNotFound: above)
            raise _render_error(exc, path) from None
        path.write_bytes(image)
        return path, ""
    except OSError as exc:
        raise UsageError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def _write_frames(output: Value, directory: Path, image_format: str,
                  options: dict[str, Any]) -> tuple[list[Path], str]:
    from .drawing import draw
    from .tracing import trace as record

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--frames: {str(directory)!r} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--frames: cannot create {str(directory)!r}: "
                         f"{exc.strerror or exc}") from None
    recorded = record(output, accumulate=False)
    width = len(str(len(recorded)))
    written, note = [], ""
    for step in recorded:
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in step.name)
        path = directory / f"step-{step.index:0{width}d}-{safe}.{image_format}"
        image_path, note = _write_drawing(draw(output, step=step, **options), path,
                                          image_format)
        written.append(image_path)
    return written, note


def run_draw(args: argparse.Namespace) -> int:
    from .drawing import draw

    image_format = _image_format(args.output)
    graph = _build(args)
    output = _require_graph_output(graph)
    highlight = [name.strip() for item in args.highlight for name in item.split(",")
                 if name.strip()]
    for name in highlight:
        _differentiable_node(graph, name)  # an unknown name is an input error
    size = len(reverse_topological_order(output))
    if size > args.max_nodes and not args.summarise:
        raise GraphError(f"the graph has {size} value nodes, more than --max-nodes "
                         f"{args.max_nodes}: a drawing that size is unreadable (and slow to lay "
                         f"out); add --summarise to draw the {args.max_nodes} nodes nearest "
                         "the output, or raise --max-nodes")
    options: dict[str, Any] = {"show_derivatives": args.derivatives,
                               "max_nodes": args.max_nodes, "summarise": args.summarise,
                               "render_timeout": args.render_timeout}
    if highlight:
        options["highlight"] = highlight
    with _backward_errors("backward pass"):
        output.backward()  # so every node shows its gradient
        drawing = draw(output, **options)
    path, note = _write_drawing(drawing, args.output, image_format)
    print(f"wrote {_shown_path(path)}")
    if note:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if args.frames is not None:
        frame_format = "svg" if image_format in DOT_FORMATS else image_format
        with _backward_errors("backward pass"):
            frames, frame_note = _write_frames(output, args.frames, frame_format, options)
        print(f"wrote {len(frames)} frames to {_shown_path(args.frames)}{os.sep} "
              f"({frames[0].name} ... {frames[-1].name})" if frames else
              f"no backward steps: no frames written to {_shown_path(args.frames)}")
        if frame_note and not note:
            print(f"{PROG}: note: {frame_note}", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------- demo


class ProgressBar:
    """A one-line progress bar on a stream: redrawn in place on a terminal; elsewhere (a
    pipe, a log) one line at each quarter, so logs stay readable."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True, width: int = 30) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self.interactive = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.next_quarter = 1

    def update(self, done: int, cost: float) -> None:
        if not self.enabled:
            return
        if self.interactive:
            if done == self.total or done % max(1, self.total // 100) == 0:
                self.stream.write("\r" + self._line(done, cost))
                if done == self.total:
                    self.stream.write("\n")
                self.stream.flush()
        elif done * 4 >= self.next_quarter * self.total:
            while done * 4 >= self.next_quarter * self.total:
                self.next_quarter += 1
            self.stream.write(self._line(done, cost) + "\n")
            self.stream.flush()

    def _line(self, done: int, cost: float) -> str:
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        return (f"  [{bar}] {100 * done // self.total:3d}%  epoch {done}/{self.total}  "
                f"cost {cost:.3g}")


def run_demo(args: argparse.Namespace) -> int:
    import sympy

    from .drawing import draw
    from .explanation import explain
    from .symbolic import to_sympy
    from .tracing import trace as record

    program = parse_graph(KRAMER_GRAPH)
    graph = program.evaluate(KRAMER_VALUES)
    out = graph.output
    given = ", ".join(f"{name} = {_number(value)}" for name, value in KRAMER_VALUES.items())
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
        slide_graph = parse_graph(slide_text)
        slide = slide_graph.evaluate({n: graph.nodes[n].data for n in slide_graph.inputs})
        same_formula = sympy.simplify(explanation.expression - to_sympy(slide.output)) == 0
        same_number = math.isclose(slide.output.data, explanation.value, rel_tol=1e-12)
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
    from nn.data import KRAMER_ROWS  # the slide's data table (s0, out)

    found, start_cost, final_cost = _fit_kramer_rows(program, KRAMER_ROWS, args)
    print("  The weights gradient descent found:")
    print("    " + "   ".join(f"{name} = {value:.4f}" for name, value in found.items()))
    print(f"  cost C = {start_cost:.4g} at the first guess, {final_cost:.3g} at the end")
    print("    s0            out (slide)    out (network)")
    for s0, target in KRAMER_ROWS:
        fitted = program.evaluate({"s0": s0, **found}).output.data
        print(f"    {s0:11.8f}   {target:11.8f}    {fitted:11.8f}")
    whole = {name: float(round(value)) for name, value in found.items()}
    worst = max(abs(program.evaluate({"s0": s0, **whole}).output.data - target)
                for s0, target in KRAMER_ROWS)
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


def _lecture(formula: str) -> str:
    """``w2*s2*(1 - s2)*s1`` as the slides write it: ``w2 · s2(1 − s2) · s1``."""
    return formula.replace("*(", "(").replace("*", " · ").replace(" - ", " − ")


def _agreement(found: dict[str, float]) -> int:
    """How many decimals every weight agrees with its nearest whole number."""
    worst = max(abs(value - round(value)) for value in found.values())
    return max(0, min(12, int(-math.log10(worst)) if worst > 0 else 12))


def _fit_kramer_rows(program: GraphProgram, rows: Sequence[tuple[float, float]],
                     args: argparse.Namespace) -> tuple[dict[str, float], float, float]:
    """Gradient descent on the slide's rows, C = Σ ½(out − target)², from the first guess.

    The network is the same graph-language program, evaluated once per row with the
    weights as shared leaves; the engine's backward gives dC/dw; ``nn.optim.SGD`` makes
    the slides' update w ← w − α·dC/dw, with momentum (the cost surface has a long flat
    valley that plain steps crawl along; ``--momentum 0`` is the slides' plain rule).
    """
    from nn.optim import SGD

    weights = {name: Value(KRAMER_VALUES[name], name) for name in ("w0", "w1", "w2")}
    optimizer = SGD(list(weights.values()), lr=args.lr, momentum=args.momentum)
    print(f"5. \"What weights (w0 w1 w2) produced these data?\" — the slide's {len(rows)} "
          "rows (s0, out)")
    print(f"  Gradient descent on C = Σ ½(out − target)² over the rows, from the first guess "
          f"w0 = 2, w1 = 1, w2 = 0.5; α = {args.lr:g}, momentum {args.momentum:g}, "
          f"{args.epochs} epochs")
    sys.stdout.flush()  # the progress bar goes to stderr: keep the two in order
    bar = ProgressBar(args.epochs, sys.stderr, enabled=not args.no_progress)
    start_cost = math.nan
    for epoch in range(1, args.epochs + 1):
        try:
            cost: Any = 0.0
            for s0, target in rows:
                out = program.evaluate({"s0": s0, **weights}).output
                cost = cost + 0.5 * (out - target) ** 2
            optimizer.zero_grad()
            cost.backward()
        except (ArithmeticError, ValueError) as exc:
            # Too big a step sends the weights so far that the cost overflows a float.
            weights_now = ", ".join(f"{name} = {w.data:.3g}" for name, w in weights.items())
            raise GraphError(f"gradient descent diverged at epoch {epoch} ({weights_now}: "
                             f"{exc}); try a smaller --lr") from None
        if epoch == 1:
            start_cost = cost.data
        for name, weight in weights.items():
            if not math.isfinite(weight.grad):
                raise GraphError(f"gradient descent diverged at epoch {epoch} (dC/d{name} = "
                                 f"{weight.grad!r}); try a smaller --lr")
        optimizer.step()
        for name, weight in weights.items():
            if not math.isfinite(weight.data):
                raise GraphError(f"gradient descent diverged at epoch {epoch} ({name} = "
                                 f"{weight.data!r} after the step); try a smaller --lr")
        bar.update(epoch, cost.data)
    final_cost = sum(0.5 * (program.evaluate({"s0": s0, **weights}).output.data - target) ** 2
                     for s0, target in rows)
    return {name: w.data for name, w in weights.items()}, start_cost, final_cost
