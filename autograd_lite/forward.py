"""Forward mode: ``jvp`` and ``forward_trace``, read off the same table as the backward pass.

Reverse mode (``backward``, ``trace``) starts at the output and hands d output / d node down
to every input. Forward mode starts at the inputs: each input gets a *tangent*, how fast it
moves (1 for the one to differentiate with respect to, 0 for the others), and each operation,
inputs first, gets

    tangent(node) = Σ over its inputs   d node / d input  ×  tangent(input)

where d node / d input is the table's local derivative evaluated on floats: the very number
the backward pass multiplies by (``Primitive.local_derivatives`` over ``FLOAT``). Nothing here
writes a derivative. One forward pass gives d node / d x for *every* node and *one* direction
x (a column of the Jacobian, J·v); one backward pass gives d output / d input for *one*
output and *every* input (a row, vᵀ·J). So for a loss of n weights, forward mode needs n
passes where reverse mode needs one (notebook 06 measures it).

An input whose tangent is 0 carries none: no local derivative is evaluated for it alone, as
``gradients(out, [x])`` never evaluates d/dy (d/dx of ``x ** y`` at x = −2 is defined even
though d/dy is not).
"""

from __future__ import annotations

import functools
import html
import inspect
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from .engine import (
    Constant,
    Value,
    _as_float,
    describe,
    is_recording,
    noting_float_conversions,
    reverse_topological_order,
)
from .functional import _depends_on
from .graph import Graph, as_graph
from .notation import formula as format_formula
from .notation import number as format_number
from .primitives import FLOAT
from .symbolic import local_formula
from .tracing import describe_operation, forward_lines, markdown_table, text_table

__all__ = ["ForwardContribution", "ForwardStep", "ForwardTrace", "forward_trace", "jvp"]


# ---------------------------------------------------------------- the pass


# What one operation's tangent is made of, per input that carries a tangent:
# (position, local derivative, the input's tangent, their product).
_Term = tuple[int, float, float, float]
_StepHook = Callable[[Value, float, list[_Term], bool], None]  # ..., seeded


def _undefined(node: Value, position: int, cause: Exception, who: str) -> Exception:
    prim = node.primitive
    assert prim is not None
    parents = node.parents
    call = f"{prim.name}({', '.join(describe(p) for p in parents)})"
    kind = ZeroDivisionError if isinstance(cause, ZeroDivisionError) else ValueError
    return kind(f"{who}: the local derivative of {prim.name} is undefined at {call} with "
                f"respect to its input {position + 1} ({describe(parents[position])}), which "
                f"carries a tangent, so the tangent of the result is undefined too ({cause})")


def _overflow(node: Value, tangents: dict[Value, float], who: str) -> OverflowError:
    prim = node.primitive
    assert prim is not None
    parents = node.parents
    args = [p.data for p in parents]
    slopes = prim.local_derivatives(args, node.data, FLOAT)
    shown = "; ".join(f"input {p + 1} ({describe(parent)}): local derivative {slopes[p]!r} × "
                      f"tangent {tangents[parent]!r}"
                      for p, parent in enumerate(parents) if parent in tangents)
    return OverflowError(f"{who}: overflow: the tangent of {describe(node)} is not a finite "
                         f"float ({shown}). Scale the inputs or the tangents.")


def _push_tangents(order: Iterable[Value], seeds: Mapping[Value, float], who: str,
                   on_step: _StepHook | None = None) -> dict[Value, float]:
    """{node: tangent} for every node that carries one, ``order`` inputs first.

    ``seeds``: the tangents given (a seeded operation keeps its seed: it is treated as an
    input, as d out / d x1 treats x1). Nodes that carry no tangent are left out (tangent 0),
    and so are zero seeds. ``on_step(node, tangent, terms, seeded)`` is called for each
    operation.
    """
    tangents = {node: float(t) for node, t in seeds.items() if t != 0}
    carried = tangents.get
    F = FLOAT
    for node in order:
        prim = node.primitive
        if prim is None:
            continue
        if node in seeds:
            if on_step is not None:
                on_step(node, float(seeds[node]), [], True)
            continue
        parents = node.parents
        terms: list[_Term] | None = [] if on_step is not None else None
        total = 0.0
        active = False
        position = 0
        try:
            for position, parent in enumerate(parents):
                tangent = carried(parent)
                if tangent is None:  # a constant, or an input no seed reaches
                    continue
                if not active:
                    active = True
                    args = [p.data for p in parents]
                    out = node.data
                    # any number of inputs (linear): every slope from one call of the rule
                    slopes = None if prim.gradient is None else prim.gradient(args, out, F)
                local = (prim.derivatives[position](*args, out, F) if slopes is None
                         else slopes[position])
                product = local * tangent
                total += product
                if terms is not None:
                    terms.append((position, float(local), tangent, float(product)))
        except (ArithmeticError, ValueError) as exc:
            raise _undefined(node, position, exc, who) from None
        if active:
            if total - total != 0.0:  # inf or nan
                raise _overflow(node, tangents, who)
            tangents[node] = total  # carried on even where it is 0 here (x - x)
        if on_step is not None:
            on_step(node, tangents.get(node, 0.0), terms or [], False)
    return tangents


# ---------------------------------------------------------------- jvp


def _numbers(items: Any, what: str) -> list[float]:
    if isinstance(items, Value) or (isinstance(items, numbers.Number)
                                    and not isinstance(items, bool)):
        raise TypeError(f"jvp(f, primals, tangents): {what} must be a sequence of numbers, one "
                        f"per argument of f, not a single {type(items).__name__}: wrap it, "
                        "jvp(f, [2.0], [1.0])")
    if isinstance(items, (str, bytes, Mapping, Set)) or not isinstance(items, Iterable):
        raise TypeError(f"jvp(f, primals, tangents): {what} must be a sequence of numbers "
                        f"(a list or tuple), not {type(items).__name__}")
    found = []
    for position, item in enumerate(items):
        if type(item) is float and item - item == 0.0:  # the common case, finite: no checks
            found.append(item)
            continue
        if isinstance(item, Value):
            raise TypeError(f"jvp(): {what}[{position}] is a Value; primals and tangents are "
                            f"numbers (jvp makes the Values f gets): pass its .data, "
                            f"{item.data!r}")
        found.append(_as_float(item, f"jvp(): {what}[{position}]"))
    return found


def _argument_names(f: Callable[..., Any], count: int) -> list[str]:
    """Labels for the Values f gets: its parameters' names where it has them, else x1 ..."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:count]
    taken = set(names)
    k = 0
    while len(names) < count:
        k += 1
        if f"x{k}" not in taken:
            names.append(f"x{k}")
    return names


def jvp(f: Callable[..., Any], primals: Sequence[float],
        tangents: Sequence[float]) -> tuple[float, float]:
    """``(f(*primals), d/dε f(primals + ε·tangents) at ε = 0)``: forward mode, as ``jax.jvp``.

    ``f`` takes one ``Value`` per primal (labelled with f's parameter names) and returns a
    Value. ``primals`` and ``tangents`` are sequences of numbers of the same length. The
    result is the value and the directional derivative ``Σ df/dxᵢ · tangentᵢ``: with the
    tangent 1 at input i and 0 elsewhere, ``df/dxᵢ``. Computed in one pass over the graph f
    builds, inputs first, each node's tangent the sum over its inputs of the table's local
    derivative × that input's tangent (see the module doc). A result that does not depend on
    the inputs has tangent 0. Nothing touches ``.grad``.
    """
    if not callable(f):
        raise TypeError(f"jvp(f, primals, tangents): f must be a function, "
                        f"not {type(f).__name__}")
    xs = _numbers(primals, "primals")
    ts = _numbers(tangents, "tangents")
    if len(xs) != len(ts):
        raise ValueError(f"jvp(): {len(xs)} primal(s) but {len(ts)} tangent(s); they pair up "
                         "one to one, a tangent for each argument of f")
    if not is_recording():
        raise RuntimeError("jvp() inside no_grad(): f's operations would record no graph to "
                           "push tangents through; call jvp outside the no_grad block")
    name = getattr(f, "__name__", "f")
    leaves = [Value(x, label) for x, label in zip(xs, _argument_names(f, len(xs)))]
    with noting_float_conversions() as converted:
        output = f(*leaves)
    if not isinstance(output, Value):
        raise TypeError(f"jvp(): f must return a Value (computed from the Values it is given), "
                        f"not {type(output).__name__}"
                        + (" (for a constant, return Value(c): its tangent is 0)"
                           if isinstance(output, numbers.Real) else ""))
    if converted and any(_depends_on(converted, leaf) for leaf in leaves):
        raise TypeError(
            f"jvp({name}): {name} turned a Value that depends on its arguments into a float "
            "(float(v), a math-module function such as math.sin(v), or another library's "
            "number), so the tangent would miss every path through that float. Use "
            "autograd_lite's functions (autograd_lite.sin(v), v.exp(), ...) instead.")
    order = reverse_topological_order(output)  # one walk; it also refuses a stale graph
    order.reverse()  # inputs first: each node after its inputs, as the reading order
    found = _push_tangents(order, dict(zip(leaves, ts)), "jvp")
    return output.data, found.get(output, 0.0)


# ---------------------------------------------------------------- forward_trace: records


@dataclass(frozen=True, eq=False)
class ForwardContribution:
    """What one input adds to an operation's tangent: local derivative × the input's tangent."""

    parent: Value  # the input that carries a tangent
    name: str  # its name in the trace
    position: int  # which input of the operation it is (0 = left operand)
    local: float  # d node / d parent, the number (the table's rule on floats)
    tangent: float  # the parent's tangent (d parent / d wrt, for one wrt with tangent 1)
    product: float  # local × tangent: what this input adds to the node's tangent
    node: Value = field(repr=False)  # the operation's output
    names: dict[Value, str] = field(repr=False)

    @functools.cached_property
    def formula(self) -> Any:
        """d node / d parent: the table's rule as a SymPy expression in node names, the same
        formula ``trace`` prints (built on first use: SymPy costs ~100x the numbers)."""
        return local_formula(self.node, self.position, self.names)

    @property
    def formula_text(self) -> str:
        return format_formula(self.formula)


@dataclass(eq=False)
class ForwardStep:
    """One operation of the forward pass: ``node``'s tangent from its inputs' tangents."""

    index: int  # 1 for the first operation in reading order
    node: Value
    name: str
    tangent: float  # the node's tangent: Σ of the contributions (its seed, if seeded)
    contributions: list[ForwardContribution]  # one per input that carries a tangent
    seeded: bool = False  # the node is one of wrt: its tangent is given, not computed
    trace: ForwardTrace | None = field(default=None, repr=False)

    @property
    def op(self) -> str:
        return self.node.op

    @property
    def computation(self) -> str:
        """How the node was computed, in names: ``w2 * s2``, ``sigmoid(x2)``."""
        names = self.trace.names if self.trace is not None else {}
        return describe_operation(self.node, names)

    def __repr__(self) -> str:
        terms = " + ".join(f"{format_number(c.local)}·{format_number(c.tangent)}"
                           for c in self.contributions)
        how = "seeded" if self.seeded else (terms or "no input carries a tangent")
        return (f"<ForwardStep {self.index}: {self.name} = {self.computation}, tangent "
                f"{format_number(self.tangent)} ({how})>")


class ForwardTrace:
    """The recorded forward-mode pass of ``output`` along the seeded tangents.

    Iterate it for its ``ForwardStep``s (every operation, inputs first). ``.tangent`` is the
    output's tangent (d output / d wrt for one wrt seeded with 1), ``.tangents`` every node's.
    ``str(trace)`` is a plain-text table, ``to_markdown()`` and ``to_latex()`` tables for
    notes and slides; in Jupyter it renders as an HTML table.
    """

    def __init__(self, output: Value, seeds: dict[Value, float], steps: list[ForwardStep],
                 tangents: dict[Value, float], names: dict[Value, str], graph: Graph) -> None:
        self.output = output
        self.seeds = seeds  # wrt node -> its tangent, as given
        self.wrt = tuple(seeds)
        self.steps = steps
        self.tangents = tangents  # node -> tangent, every node of the graph (0 included)
        self.names = names
        self.graph = graph
        for step in steps:
            step.trace = self

    @property
    def value(self) -> float:
        return self.output.data

    @property
    def tangent(self) -> float:
        """The output's tangent: d output / d wrt (times the seed), the pass's result."""
        return self.tangents.get(self.output, 0.0)

    def tangent_of(self, node: Value | str) -> float:
        """A node's tangent (a Value or its name in the trace)."""
        if isinstance(node, str):
            node = self.graph.node(node)
        if node not in self.tangents:
            raise KeyError(f"{describe(node)} is not in the graph of {self.names[self.output]}")
        return self.tangents[node]

    def __iter__(self) -> Iterator[ForwardStep]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> ForwardStep:
        return self.steps[index]

    def step_of(self, node: Value | str) -> ForwardStep:
        """The step that computed ``node``'s tangent (a Value or its name)."""
        for step in self.steps:
            if step.node is node or step.name == node:
                return step
        what = node if isinstance(node, str) else self.names.get(node, repr(node))
        raise KeyError(f"no step of this trace computes {what!r} (leaves have no step: their "
                       "tangents are given)")

    def __repr__(self) -> str:
        return (f"<ForwardTrace of {self._derivative()} = {format_number(self.tangent)}: "
                f"{len(self.steps)} steps>")

    # ------------------------------------------------------------ wording

    def _simple(self) -> bool:
        """One input seeded with 1: every tangent is d node / d that input."""
        return len(self.seeds) == 1 and next(iter(self.seeds.values())) == 1.0

    def _per(self) -> str:
        """``/dw0`` for d node/dw0, or '' when the tangent is a direction."""
        return f"/d{self.names.get(self.wrt[0], '?')}" if self._simple() else ""

    def _derivative(self) -> str:
        o = self.names[self.output]
        return f"d{o}{self._per()}" if self._simple() else f"the tangent of {o}"

    def _direction(self) -> str:
        seeded = ", ".join(f"{self._name(n)} = {format_number(t)}" for n, t in self.seeds.items())
        others = [self.names[n] for n in self.graph.leaves if n not in self.seeds]
        rest = f"; 0 at {', '.join(others)}" if others else ""
        return f"tangent {seeded}{rest}"

    def _name(self, node: Value) -> str:
        return self.names.get(node, node.label or "(not in the graph)")

    def _title(self) -> str:
        return (f"Forward pass of {self._derivative()}: {self._direction()}; "
                f"{len(self.steps)} steps, inputs first (reading order)")

    def _header(self) -> tuple[str, ...]:
        per = self._per()
        if per:
            return ("step", "node", "computed as", f"tangent d node{per}", "input",
                    "local derivative d node/d input", f"input's tangent d input{per}",
                    "added = local × tangent")
        return ("step", "node", "computed as", "tangent", "input",
                "local derivative d node/d input", "input's tangent", "added = local × tangent")

    def _rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for step in self.steps:
            first = (str(step.index), f"{step.name} = {format_number(step.node.data)}",
                     step.computation, format_number(step.tangent))
            if step.seeded:
                rows.append((*first, "—", "(seeded: its tangent is given)", "", ""))
            elif not step.contributions:
                rows.append((*first, "—", "(no input carries a tangent)", "", ""))
            for k, c in enumerate(step.contributions):
                lead = first if k == 0 else ("", "", "", "")
                local = (format_number(c.local) if c.formula_text == format_number(c.local)
                         else f"{c.formula_text} = {format_number(c.local)}")
                rows.append((*lead, c.name, local, format_number(c.tangent),
                             format_number(c.product)))
        return rows

    def forward_lines(self) -> list[str]:
        """The inputs with their numbers, then each operation as computed (reading order):
        every name a step or a formula uses is defined here."""
        return forward_lines(self.graph, self.names)

    def tangent_lines(self) -> list[str]:
        """The pass's result: the output's tangent (``dout/dw0 = 0.003501``)."""
        return [f"{self._derivative()} = {format_number(self.tangent)}"]

    def __str__(self) -> str:
        return text_table(self._title(), self.graph, self._header(), self._rows(),
                          self.tangent_lines())

    def to_markdown(self) -> str:
        """For lecture notes: the forward pass, the step table (one row per input of each
        step) and the tangent it ends with, as Markdown."""
        return markdown_table(self._title(), self.forward_lines(), self._header(),
                              self._rows(), "Tangent:", self.tangent_lines())

    def to_latex(self) -> str:
        """The step table as a LaTeX ``tabular`` (``booktabs`` rules), formulas typeset in
        the graph's own names, for lecture notes or a slide."""
        import sympy

        def name(node: Value) -> str:
            return format_formula(sympy.Symbol(self.names[node]), "latex")

        def number(value: float) -> str:
            return format_number(value, style="latex")

        if self._simple():
            w = name(self.wrt[0])
            tangent = rf"$\frac{{\partial\,\cdot}}{{\partial {w}}}$"
        else:
            tangent = "tangent"
        lines = [r"\begin{tabular}{rllllll}", r"\toprule",
                 rf"step & node & tangent {tangent} & input & local derivative & "
                 r"input's tangent & added \\", r"\midrule"]
        for step in self.steps:
            lead = (f"{step.index} & ${name(step.node)} = {number(step.node.data)}$ & "
                    f"${number(step.tangent)}$")
            if step.seeded:
                lines.append(f"{lead} & & (seeded) & & \\\\")
            elif not step.contributions:
                lines.append(f"{lead} & & (no input carries a tangent) & & \\\\")
            for k, c in enumerate(step.contributions):
                start = lead if k == 0 else "& &"
                local = format_formula(c.formula, "latex")
                shown = (f"${number(c.local)}$" if local == number(c.local)
                         else f"${local} = {number(c.local)}$")
                lines.append(f"{start} & ${name(c.parent)}$ & {shown} & "
                             f"${number(c.tangent)}$ & ${number(c.product)}$ \\\\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = "".join(f"<th>{html.escape(h)}</th>" for h in self._header())
        body = []
        for row in self._rows():
            style = ' style="border-top: 1px solid #999"' if row[0] != "" else ""
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
            body.append(f"<tr{style}>{cells}</tr>")
        result = html.escape(" ".join(self.tangent_lines()))
        return (f"<table><caption>{html.escape(self._title())}</caption>"
                f"<thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody>"
                f"<tfoot><tr><td colspan=\"{len(self._header())}\">{result}</td></tr></tfoot>"
                "</table>")


# ---------------------------------------------------------------- forward_trace()


def _wrt_nodes(graph: Graph, wrt: Any) -> list[Value]:
    items = [wrt] if isinstance(wrt, (Value, str)) else wrt
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise TypeError(f"forward_trace(output, wrt): wrt must be a Value, a node's name, or "
                        f"a list of them, not {type(wrt).__name__}")
    nodes = []
    for item in items:
        if isinstance(item, str):
            item = graph.node(item)  # KeyError naming the graph's names
        elif not isinstance(item, Value):
            raise TypeError(f"forward_trace(): wrt must hold Values or node names, "
                            f"not {type(item).__name__}")
        if type(item) is Constant:
            raise ValueError(f"forward_trace(): {item.data!r} is a constant written into the "
                             "expression; it has no tangent (seed a Value instead)")
        if item in nodes:
            raise ValueError(f"forward_trace(): {describe(item)} is given twice in wrt")
        nodes.append(item)
    if not nodes:
        raise ValueError("forward_trace(): wrt is empty; name the input(s) to seed")
    return nodes


def _seeds(nodes: list[Value], tangent: Any) -> list[float]:
    if isinstance(tangent, numbers.Real) and not isinstance(tangent, bool):
        return [_as_float(tangent, "forward_trace(): tangent")] * len(nodes)
    if isinstance(tangent, (str, bytes, Mapping, Value)) or not isinstance(tangent, Iterable):
        raise TypeError(f"forward_trace(): tangent must be a number or a list of numbers (one "
                        f"per wrt), not {type(tangent).__name__}")
    seeds = [_as_float(t, f"forward_trace(): tangent[{i}]") for i, t in enumerate(tangent)]
    if len(seeds) != len(nodes):
        raise ValueError(f"forward_trace(): {len(nodes)} wrt node(s) but {len(seeds)} "
                         "tangent(s); give one number per wrt, or one number for all")
    return seeds


def forward_trace(output: Value | Graph, wrt: Value | str | Sequence[Value | str],
                  tangent: float | Sequence[float] = 1.0) -> ForwardTrace:
    """Run forward mode over ``output``'s graph and record every step, inputs first.

    ``wrt`` is the node to differentiate with respect to (a Value or its name), or a list of
    them; ``tangent`` its tangent (default 1: every tangent is then d node / d wrt), or one
    per wrt for a direction. A seeded node that is an operation is treated as an input (its
    own inputs do not move it), as d out / d x1 does. Each step is one operation in reading
    order: its tangent and, for each input that carries one, the local derivative (the
    table's formula in node names and its number), the input's tangent and their product.
    The numbers are ``jvp``'s; the trace's ``tangent`` equals ``gradients(output, [wrt])``,
    the backward pass's number, on the same graph. Nothing touches ``.grad``.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"forward_trace() needs a Value, not {type(output).__name__}")
    graph = as_graph(output)
    output = graph.output
    graph.order  # noqa: B018 - walked once to refuse a stale graph (StaleGraphError)
    nodes = _wrt_nodes(graph, wrt)
    seeds = dict(zip(nodes, _seeds(nodes, tangent)))
    names = dict(graph.names)
    for node in nodes:  # a node outside the graph: seeded, its name for the title only
        if node not in names:
            names[node] = node.label or "(not in the graph)"
    steps: list[ForwardStep] = []

    def record(node: Value, node_tangent: float, terms: list[_Term], seeded: bool) -> None:
        parents = node.parents
        steps.append(ForwardStep(
            index=len(steps) + 1, node=node, name=names[node], tangent=node_tangent,
            contributions=[ForwardContribution(
                parent=parents[p], name=names[parents[p]], position=p, local=local,
                tangent=t, product=product, node=node, names=names)
                for p, local, t, product in terms], seeded=seeded))

    order = graph.reading_order
    found = _push_tangents(order, seeds, "forward_trace", on_step=record)
    tangents = {node: found.get(node, 0.0) for node in order}
    for node, seed in seeds.items():
        tangents[node] = seed
    return ForwardTrace(output, seeds, steps, tangents, names, graph)
