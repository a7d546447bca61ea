"""The commands that read a graph: ``trace``, ``explain`` and ``draw``."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..engine import Value
from ..graph_language import (
    EvaluatedGraph,
    GraphError,
)
from .common import (
    DOT_FORMATS,
    EXIT_MISSING_PROGRAM,
    EXIT_OK,
    IMAGE_FORMATS,
    PROG,
    UsageError,
    _backward_errors,
    _build,
    _check_finite,
    _differentiable_node,
    _finite_or_null,
    _forward_lines,
    _json,
    _number,
    _output_name,
    _overflow_note,
    _require_graph_output,
    _shown_path,
    _wrt_names,
)


def run_trace(args: argparse.Namespace) -> int:
    from ..notation import formula as format_formula
    from ..tracing import trace as record

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


@contextmanager
def _size_in_flags(head: str, args: argparse.Namespace) -> Iterator[None]:
    """explain counts the paths and factors and checks the limits; say it in flags."""
    from ..explanation import ExplanationSizeError

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
    from ..symbolic import DEFAULT_SYMPY_TIMEOUT, SymbolicTimeoutError, run_sympy

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
    from ..explanation import explain
    from ..notation import formula as format_formula

    explanations = []
    for name, node in nodes.items():
        head = f"d{_output_name(graph)}/d{name}"
        with _backward_errors(f"explain {head}"), _size_in_flags(head, args):
            explanation = explain(output, node, expand=args.expand,
                                  max_paths=args.max_paths, max_factors=args.max_factors)
        _check_finite({name: explanation.value}, explanation.output_name)
        explanations.append(explanation)
    if args.markdown:
        return "\n\n".join(e.to_markdown() for e in explanations) + "\n"
    if args.latex:  # one equation per line, for an align environment or a slide
        return "".join(f"{e.to_latex()}\n" for e in explanations)
    if not args.json:
        return "".join(f"{e.to_text(ascii=args.ascii)}\n" for e in explanations)
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
    from ..drawing import RenderTimeoutError

    nodes = getattr(exc, "nodes", None)
    size = f" ({nodes} value nodes)" if nodes else ""
    fewer = "draw fewer nodes (--summarise --max-nodes 50)"
    if isinstance(exc, RenderTimeoutError):
        return GraphError(f"Graphviz's dot did not finish laying out {str(path)!r}{size} "
                          f"within {getattr(exc, 'limit', 0):g} s and was stopped; {fewer}, or "
                          "allow more time with --render-timeout SECONDS")
    return GraphError(f"Graphviz's dot ran out of memory laying out {str(path)!r}{size} and "
                      f"was stopped; {fewer}")


def _write_drawing(drawing: Any, path: Path, image_format: str) -> tuple[Path, str]:
    """Write an image with Graphviz's dot; without dot, the .dot text. Returns (path, note)."""
    import graphviz

    from ..drawing import RenderError

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
    """The flip-book, by ``drawing.save_frames`` (the one frame writer); without dot, each
    frame's DOT text instead, with a note."""
    import graphviz

    from ..drawing import RenderError, save_frames

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--frames: {str(directory)!r} exists and is not a directory")
    try:
        try:
            return save_frames(output, directory, image_format, **options), ""
        except graphviz.ExecutableNotFound:
            frames = save_frames(output, directory, "dot", **options)
            return frames, (f"Graphviz's dot program is not installed, so the frames were "
                            f"written as DOT text ({frames[0].name if frames else 'none'} "
                            "...); install Graphviz to render them")
        except RenderError as exc:
            raise _render_error(exc, directory) from None
    except OSError as exc:
        raise UsageError(f"--frames: cannot write into {str(directory)!r}: "
                         f"{exc.strerror or exc}") from None


def run_draw(args: argparse.Namespace) -> int:
    from ..drawing import draw
    from ..graph import TooManyNodes

    image_format = _image_format(args.output)
    graph = _build(args)
    output = _require_graph_output(graph)
    highlight = [name.strip() for item in args.highlight for name in item.split(",")
                 if name.strip()]
    for name in highlight:
        _differentiable_node(graph, name)  # an unknown name is an input error
    if args.decimals > 17:
        raise UsageError("--decimals: a float has at most 17 significant digits")
    options: dict[str, Any] = {"show_derivatives": args.derivatives,
                               "max_nodes": args.max_nodes, "summarise": args.summarise,
                               "render_timeout": args.render_timeout,
                               "rankdir": args.rankdir, "decimals": args.decimals}
    if highlight:
        options["highlight"] = highlight
    with _backward_errors("backward pass"):
        output.backward()  # so every node shows its gradient
        step = None
        if args.step is not None:
            from ..tracing import trace as record

            recorded = record(output, accumulate=False)
            if args.step > len(recorded):
                raise UsageError(f"--step {args.step}: the backward pass of "
                                 f"{_output_name(graph)} has {len(recorded)} steps")
            step = recorded[args.step - 1]
        try:
            drawing = draw(output, step=step, title=args.title, **options)
        except TooManyNodes as exc:  # draw counts and checks; say it in flags
            raise GraphError(
                f"the graph has {exc.count} value nodes, more than --max-nodes {exc.limit}: a "
                "drawing that size is unreadable (and slow to lay out); add --summarise to "
                f"draw the {exc.limit} nodes nearest the output, or raise --max-nodes") from None
    path, note = _write_drawing(drawing, args.output, image_format)
    print(f"wrote {_shown_path(path)}")
    if note:
        # The image asked for was not made (no dot): say so, write the DOT text, and exit
        # non-zero, so that a script or a Makefile does not take the missing image for made.
        print(f"{PROG}: error: {note}", file=sys.stderr)
        return EXIT_MISSING_PROGRAM
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


def run_explore(args: argparse.Namespace) -> int:
    import graphviz

    from ..explorer import explore
    from ..rendering import RenderError

    if args.output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {str(args.output)!r}: the explorer is one HTML page; give a "
                         "file name ending in .html")
    if args.decimals > 17:
        raise UsageError("--decimals: a float has at most 17 significant digits")
    graph = _build(args)
    output = _require_graph_output(graph)
    with _backward_errors("backward pass"):
        try:
            page = explore(output, title=args.title, rankdir=args.rankdir,
                           decimals=args.decimals, show_derivatives=args.derivatives)
        except graphviz.ExecutableNotFound:
            print(f"{PROG}: error: Graphviz's dot program is not installed, and the page "
                  "draws the graph with it (Debian/Ubuntu: sudo apt-get install graphviz; "
                  "macOS: brew install graphviz); no page written", file=sys.stderr)
            return EXIT_MISSING_PROGRAM
        except RenderError as exc:
            raise _render_error(exc, args.output) from None
    try:
        page.save(args.output)
    except OSError as exc:
        raise UsageError(f"cannot write {str(args.output)!r}: {exc.strerror or exc}") from None
    print(f"wrote {_shown_path(args.output)} ({len(page.html) // 1024} KB, "
          f"{page.steps} backward steps)")
    return EXIT_OK


def run_compile(args: argparse.Namespace) -> int:
    from ..compiled import compile_graph

    graph = _build(args)
    output = _require_graph_output(graph)
    wanted = [name.strip() for item in args.wrt for name in item.split(",") if name.strip()]
    if wanted:
        inputs = []
        for name in wanted:
            node = _differentiable_node(graph, name)
            if node.primitive is not None:
                raise GraphError(f"--wrt {name}: {name} is computed in the graph, not an "
                                 f"input; the inputs are {', '.join(graph.inputs)}")
            inputs.append(node)
    else:
        inputs = list(graph.inputs.values())
    with _backward_errors("compile"):
        compiled = compile_graph(output, inputs, backend=args.backend)
    sys.stdout.write(compiled.script())
    return EXIT_OK
