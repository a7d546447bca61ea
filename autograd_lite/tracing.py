"""``trace(output)``: the backward pass, one recorded step per operation, in the order it runs.

Each step is what a student writes on paper when backpropagating by hand: the node being
processed, its gradient d output / d node (the *upstream* gradient), and for each input the
local derivative (as a number and as the table's formula written in node names), the product
that is added to the input's gradient, and that input's gradient so far.

The numbers come from the engine's own pass (``engine.backprop(..., on_step=...)``) and the
formulas from the same table of primitives evaluated over SymPy symbols: no derivative is
written here.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._options import check_bool
from .engine import Constant, Value, backprop
from .graph import Graph, as_graph
from .notation import formula as format_formula
from .notation import number as format_number
from .notation import operation
from .symbolic import local_formula

__all__ = ["Contribution", "Step", "Trace", "trace"]


# ---------------------------------------------------------------- records


@dataclass(frozen=True, eq=False)
class Contribution:
    """What one step sends to one input: local derivative, product added, gradient so far."""

    parent: Value  # the input that receives the contribution
    name: str  # its name in the trace (label, or a generated one such as u1)
    position: int  # which input of the operation it is (0 = left operand)
    local: float  # d node / d parent, the number
    contribution: float  # upstream × local: what this step adds to d output / d parent
    grad_after: float  # d output / d parent summed over the paths processed so far
    node: Value = field(repr=False)  # the operation's output, the node being processed
    names: dict[Value, str] = field(repr=False)  # the trace's names for all nodes

    @functools.cached_property
    def formula(self) -> Any:
        """d node / d parent: the table's rule as a SymPy expression in node names.

        Built on first use: SymPy costs ~100x the numbers, and a trace of a big graph
        should stay as cheap as the backward pass until someone reads its formulas.
        """
        return local_formula(self.node, self.position, self.names)

    @property
    def formula_text(self) -> str:
        return format_formula(self.formula)


@dataclass(eq=False)
class Step:
    """One operation of the backward pass: ``node`` passes ``upstream`` on to its inputs."""

    index: int  # 1 for the output's step, then in the order the pass runs
    node: Value
    name: str
    upstream: float  # d output / d node, complete when the node is processed
    contributions: list[Contribution]  # one per non-constant input, in input order
    trace: Trace | None = field(default=None, repr=False)  # the pass this step belongs to

    @property
    def op(self) -> str:
        return self.node.op

    @property
    def computation(self) -> str:
        """How the node was computed, in names: ``w2 * s2``, ``sigmoid(x2)``."""
        names = self.trace.names if self.trace is not None else {}
        return describe_operation(self.node, names)

    def __repr__(self) -> str:
        sent = ", ".join(f"{c.name} += {format_number(c.contribution)}"
                         for c in self.contributions)
        return (f"<Step {self.index}: {self.name} = {self.computation}, upstream "
                f"{format_number(self.upstream)}; {sent}>")


def describe_operation(node: Value, names: dict[Value, str]) -> str:
    """``w2 * s2`` for a binary operator, ``sigmoid(x2)`` for a function; '' for a leaf."""
    prim = node.primitive
    if prim is None:
        return ""
    inputs = [format_number(p.data) if type(p) is Constant else names.get(p, p.label or "?")
              for p in node.parents]
    return operation(prim, inputs)


class Trace:
    """The recorded backward pass of ``output``: iterate it for its ``Step``s.

    ``str(trace)`` is a plain-text table, ``trace.to_markdown()`` a Markdown table for notes,
    and in Jupyter the trace renders as an HTML table.
    """

    def __init__(self, output: Value, steps: list[Step], gradients: dict[Value, float],
                 names: dict[Value, str], graph: Graph | None = None) -> None:
        self.output = output
        self.steps = steps
        self.gradients = gradients  # d output / d node for every node of the graph
        self.names = names  # node -> the name the trace uses for it
        self.graph = graph if graph is not None else as_graph(output)  # drawings reuse it
        for step in steps:
            step.trace = self

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    def __repr__(self) -> str:
        return (f"<Trace of {self.names[self.output]} = {format_number(self.output.data)}: "
                f"{len(self.steps)} steps>")

    def step_of(self, node: Value | str) -> Step:
        """The step that processed ``node`` (a Value or its name in the trace)."""
        for step in self.steps:
            if step.node is node or step.name == node:
                return step
        what = node if isinstance(node, str) else self.names.get(node, repr(node))
        raise KeyError(f"no step of this trace processes {what!r} (leaves have no step: they "
                       f"only receive gradients)")

    def grads_after(self, index: int) -> dict[Value, float]:
        """d output / d node as the pass knows it after step ``index`` (0: only the output).

        Nodes the pass has not reached yet are missing. The flip-book frames draw this.
        """
        if not 0 <= index <= len(self.steps):
            raise IndexError(f"step index {index} out of range 0..{len(self.steps)}")
        known: dict[Value, float] = {self.output: 1.0}
        for step in self.steps[:index]:
            for c in step.contributions:
                known[c.parent] = c.grad_after
        return known

    # ------------------------------------------------------------ tables

    _HEADER = ("step", "node", "computed as", "upstream d{o}/d node", "input",
               "local derivative", "added = upstream × local", "d{o}/d input so far")

    def _rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for step in self.steps:
            first = (str(step.index), f"{step.name} = {format_number(step.node.data)}",
                     step.computation, format_number(step.upstream))
            if not step.contributions:  # every input a constant: nothing to pass on
                rows.append((*first, "—", "(constant inputs only)", "", ""))
            for k, c in enumerate(step.contributions):
                lead = first if k == 0 else ("", "", "", "")
                local = (format_number(c.local) if c.formula_text == format_number(c.local)
                         else f"{c.formula_text} = {format_number(c.local)}")
                rows.append((*lead, c.name, local, format_number(c.contribution),
                             format_number(c.grad_after)))
        return rows

    def _header(self) -> tuple[str, ...]:
        o = self.names[self.output]
        return tuple(h.format(o=o) for h in self._HEADER)

    def _title(self) -> str:
        name = self.names[self.output]
        return (f"Backward pass of {name} = {format_number(self.output.data)}: "
                f"{len(self.steps)} steps, output first (reverse topological order)")

    def __str__(self) -> str:
        return text_table(self._title(), self.graph, self._header(), self._rows())

    def forward_lines(self) -> list[str]:
        """The forward pass in names: the inputs, then each operation as computed, reading
        order (``x1 = w0 * s0 = 4``). Every name a step or a formula uses is defined here."""
        return forward_lines(self.graph, self.names)

    def gradient_lines(self) -> list[str]:
        """d output / d input for every input (leaf) of the graph: the pass's result."""
        o = self.names[self.output]
        return [f"d{o}/d{self.names[n]} = {format_number(self.gradients.get(n, 0.0))}"
                for n in self.graph.reading_order if n.primitive is None]

    def to_markdown(self) -> str:
        """For lecture notes: the forward pass, the step table (one row per input of each
        step) and the gradients it ends with, as Markdown."""
        return markdown_table(self._title(), self.forward_lines(), self._header(),
                              self._rows(), "Gradients:", self.gradient_lines())

    def to_latex(self) -> str:
        """The step table as a LaTeX ``tabular`` (with ``booktabs`` rules), formulas typeset
        in the chain's own names: ``\\input`` it into lecture notes or a slide."""
        from .notation import formula as typeset

        def name(node: Value) -> str:
            return typeset(_symbol(self.names[node]), "latex")

        def number(value: float) -> str:
            return format_number(value, style="latex")

        o = name(self.output)
        lines = [r"\begin{tabular}{rllllll}", r"\toprule",
                 rf"step & node & upstream $\frac{{\partial {o}}}{{\partial\,\cdot}}$ & "
                 r"input & local derivative & added & so far \\", r"\midrule"]
        for step in self.steps:
            lead = (f"{step.index} & ${name(step.node)} = {number(step.node.data)}$ & "
                    f"${number(step.upstream)}$")
            if not step.contributions:
                lines.append(f"{lead} & & (constant inputs only) & & \\\\")
            for k, c in enumerate(step.contributions):
                start = lead if k == 0 else "& &"
                local = typeset(c.formula, "latex")
                shown = (f"${number(c.local)}$" if local == number(c.local)
                         else f"${local} = {number(c.local)}$")
                lines.append(f"{start} & ${name(c.parent)}$ & {shown} & "
                             f"${number(c.contribution)}$ & ${number(c.grad_after)}$ \\\\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = "".join(f"<th>{html.escape(h)}</th>" for h in self._header())
        body = []
        for row in self._rows():
            starts_step = row[0] != ""
            style = ' style="border-top: 1px solid #999"' if starts_step else ""
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
            body.append(f"<tr{style}>{cells}</tr>")
        return (f"<table><caption>{html.escape(self._title())}</caption>"
                f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>")


# ---------------------------------------------------------------- trace()


# ---------------------------------------------------------------- tables of a pass
# (the backward pass's here, the forward mode's in forward.py: one way to write both)


def forward_lines(graph: Graph, names: dict[Value, str]) -> list[str]:
    """The inputs with their numbers, then each operation as computed, in reading order."""
    leaves = [n for n in graph.reading_order if n.primitive is None]
    lines = []
    if leaves:
        lines.append(", ".join(f"{names[n]} = {format_number(n.data)}" for n in leaves))
    for node in graph.reading_order:
        if node.primitive is not None:
            lines.append(f"{names[node]} = {describe_operation(node, names)} = "
                         f"{format_number(node.data)}")
    return lines


def text_table(title: str, graph: Graph, header: tuple[str, ...],
               rows: list[tuple[str, ...]], tail: Sequence[str] = ()) -> str:
    """A pass as plain text: the title, the made-up names defined, the columns aligned."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [title]
    generated = [graph.definition(n) for n in graph.reading_order if graph.is_generated(n)]
    if generated:  # every made-up name defined before the table uses it
        lines.append("where " + ", ".join(generated))
    return "\n".join([*lines, line(header), rule, *(line(r) for r in rows), *tail])


def markdown_table(title: str, forward: Sequence[str], header: tuple[str, ...],
                   rows: list[tuple[str, ...]], result_title: str,
                   result: Sequence[str]) -> str:
    """A pass as Markdown: the forward pass, the step table, the result it ends with."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"**{title}**", "", "Forward pass:", ""]
    lines += [f"- `{line}`" for line in forward]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    lines += ["", result_title, ""]
    lines += [f"- `{line}`" for line in result]
    return "\n".join(lines)


def trace(output: Value | Graph, *, accumulate: bool = True) -> Trace:
    """Run the backward pass of ``output`` and record every step, output first.

    Like ``output.backward()``, this adds d output / d node into every node's ``.grad``
    (so a ``draw`` afterwards shows the gradients, and tracing twice doubles them);
    pass ``accumulate=False`` to leave ``.grad`` alone. The numbers recorded in the steps
    are this pass's own, whatever ``.grad`` held before. Leaves have no step: they only
    receive contributions. Constant inputs (numbers written into the expression) get no
    gradient, so no contribution is recorded for them.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"trace() needs a Value, not {type(output).__name__}")
    accumulate = check_bool("trace", "accumulate", accumulate)
    graph = as_graph(output)
    output = graph.output
    names = graph.names
    steps: list[Step] = []

    def record(node: Value, upstream: Any, contributions: list[Any]) -> None:
        parents = node.parents
        positions = iter(i for i, p in enumerate(parents) if type(p) is not Constant)
        recorded = []
        for (parent, local, added, after), position in zip(contributions, positions):
            assert parents[position] is parent  # backprop reports inputs in order
            recorded.append(Contribution(
                parent=parent, name=names[parent], position=position, local=float(local),
                contribution=float(added), grad_after=float(after), node=node, names=names))
        steps.append(Step(index=len(steps) + 1, node=node, name=names[node],
                          upstream=float(upstream), contributions=recorded))

    gradients = backprop(output, on_step=record, order=graph.order)
    if accumulate:
        for node, gradient in gradients.items():
            node.grad += gradient
    return Trace(output, steps, {node: float(g) for node, g in gradients.items()}, names,
                 graph)


def _symbol(name: str) -> Any:
    import sympy

    return sympy.Symbol(name)
