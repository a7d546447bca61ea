"""What every command shares: exit codes, the usage error, reading the graph and its values,
and turning the engine's errors into one-line input errors."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ..engine import Constant, Value
from ..graph_language import (
    MAX_TEXT_LENGTH,
    EvaluatedGraph,
    GraphError,
    GraphProgram,
    parse_graph,
    parse_values,
)

PROG = "autograd-lite"


IMAGE_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif")


DOT_FORMATS = ("dot", "gv")


EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2
# An image was asked for but Graphviz's dot is not installed (the DOT text was written).
EXIT_MISSING_PROGRAM = 3


class UsageError(Exception):
    """A usage or input error: reported as one line on stderr, exit status 2."""


def _shown_path(path: Path | str) -> str:
    """A file name as text that any terminal can print: invalid bytes as \xe9."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _file_name(text: str) -> Path:
    """A file name from the command line; a NUL byte cannot be in one (the OS refuses it)."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} contains a NUL byte, which no file name "
                                         "can contain")
    return Path(text)


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
    from ..notation import number as format_number

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
