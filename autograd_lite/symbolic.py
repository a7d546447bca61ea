"""The graph as SymPy: the primitives' rules evaluated over symbols.

``to_sympy`` applies each primitive's *forward* rule to SymPy expressions; ``explain``
(another module) applies the *derivative* rules. Both use the namespace built here, so
SymPy never gets a second copy of the table.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from ._options import check_seconds
from .engine import Constant, Value, reverse_topological_order
from .graph import Graph, as_graph, node_names

__all__ = ["DEFAULT_SYMPY_TIMEOUT", "MAX_SYMBOLIC_DEPTH", "SymbolicDepthError",
           "SymbolicTimeoutError", "graph_depth", "local_formula", "node_names", "run_sympy",
           "sympy_expressions", "sympy_namespace", "sympy_number", "to_sympy"]

# SymPy builds, compares and prints expressions recursively, about 10 Python frames per
# level of nesting: with Python's default limit of 1000 frames a chain of 100 sigmoids
# raised RecursionError. run_sympy() does the SymPy work in a thread with a big stack and
# a high recursion limit, so a graph up to MAX_SYMBOLIC_DEPTH nodes deep works (the graph
# language allows 2000 operations); deeper graphs are refused before anything is built.
MAX_SYMBOLIC_DEPTH = 2000
_SYMPY_STACK = 512 * 2**20  # bytes of (virtual) stack for the worker thread
_SYMPY_RECURSION_LIMIT = 200_000  # frames: 2000 levels at up to ~100 frames each
# SymPy's own time grows fast with depth (measured: 300 nested sigmoids take 28 s to
# build, 1000 nested sin 11 s; nested tanh(tanh(...)) doubles per level and a depth of
# 12 took over 3 minutes), so every run_sympy() has a wall-time bound as well.
DEFAULT_SYMPY_TIMEOUT = 20.0  # seconds

T = TypeVar("T")


class SymbolicDepthError(ValueError):
    """The graph is deeper than ``MAX_SYMBOLIC_DEPTH``: too deep to write as one formula."""


class SymbolicTimeoutError(TimeoutError):
    """SymPy did not finish within the time bound and was stopped."""


class _Stop(BaseException):
    """Raised inside the worker to stop SymPy (a BaseException: SymPy's `except Exception`
    clauses must not swallow it)."""


_worker = threading.local()  # .active: this thread is a run_sympy worker
_limit_lock = threading.Lock()
_limit_users = 0
_saved_limit = 0


def _raise_recursion_limit() -> None:
    global _limit_users, _saved_limit
    with _limit_lock:
        if _limit_users == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, _SYMPY_RECURSION_LIMIT))
        _limit_users += 1


def _restore_recursion_limit() -> None:
    global _limit_users
    with _limit_lock:
        _limit_users -= 1
        if _limit_users == 0:
            sys.setrecursionlimit(_saved_limit)


def _interrupt(thread: threading.Thread) -> None:
    """Raise _Stop in ``thread`` at its next bytecode (CPython; elsewhere it runs on)."""
    try:
        import ctypes

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):  # pragma: no cover - not CPython
        return
    if thread.ident is not None:
        set_async_exc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Stop))


def run_sympy(work: Callable[[], T], *, what: str,
              timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> T:
    """Run ``work()`` (SymPy on a deep expression) with room to recurse and a time bound.

    In a worker thread with a big stack and a high recursion limit (the limit is the
    interpreter's: while a worker runs, other threads may recurse deeper too). Past
    ``timeout`` seconds the worker is stopped and ``SymbolicTimeoutError`` says so; a
    RecursionError even so becomes ``SymbolicDepthError``. Inside a worker, ``work`` runs
    directly. ``what`` names the work in messages (``"to_sympy(out)"``).
    """
    timeout = check_seconds(what.split("(")[0], "timeout", timeout)
    if getattr(_worker, "active", False):
        return work()
    from sympy.core.parameters import global_parameters

    settings = (global_parameters.evaluate, global_parameters.distribute)  # thread-local
    outcome: dict[str, Any] = {}

    def run() -> None:
        _worker.active = True
        global_parameters.evaluate, global_parameters.distribute = settings
        _raise_recursion_limit()
        try:
            outcome["result"] = work()
        except _Stop:
            outcome["stopped"] = True
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            _restore_recursion_limit()

    old_size = threading.stack_size(_SYMPY_STACK)
    try:
        worker = threading.Thread(target=run, name=f"autograd_lite {what}", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_size)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while worker.is_alive():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            worker.join(0.5 if left is None else min(left, 0.5))
    finally:
        # On the time bound, Ctrl-C or any error here: stop the worker, do not leave it.
        for _ in range(100):  # it may be inside a C call for a while; try for ~5 s
            if not worker.is_alive() or outcome:  # finished (or finishing): leave it be
                break
            _interrupt(worker)
            worker.join(0.05)
        worker.join(1.0)
    if "result" in outcome:
        return outcome["result"]
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, RecursionError):
            raise SymbolicDepthError(
                f"{what}: the expression is nested too deeply for SymPy (RecursionError "
                f"even with {_SYMPY_RECURSION_LIMIT} frames); use a shallower graph") from None
        raise error
    raise SymbolicTimeoutError(
        f"{what}: SymPy did not finish within {timeout:g} s and was stopped; the expression "
        "is too deep or too big to write out (a chain of nested functions such as "
        "tanh(tanh(...)) grows fast). Use a shallower part of the graph, gradients() or "
        "trace() for the numbers, or allow more time with timeout=seconds.")


def graph_depth(output: Value | Graph) -> int:
    """The most operations on any path from a leaf up to ``output`` (a leaf alone: 0)."""
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"graph_depth() needs a Value, not {type(output).__name__}")
    order = output.order if isinstance(output, Graph) else reverse_topological_order(output)
    root = order[0]
    depth: dict[Value, int] = {}
    for node in reversed(order):  # inputs first
        parents = [depth[p] for p in node.parents if type(p) is not Constant]
        depth[node] = 1 + max(parents, default=0) if node.parents else 0
    return depth[root]


def check_depth(output: Value | Graph, what: str) -> None:
    """Refuse, before building anything, a graph deeper than MAX_SYMBOLIC_DEPTH."""
    depth = graph_depth(output)
    if depth > MAX_SYMBOLIC_DEPTH:
        raise SymbolicDepthError(
            f"{what}: the graph is {depth} operations deep, more than MAX_SYMBOLIC_DEPTH="
            f"{MAX_SYMBOLIC_DEPTH}; a formula nested that deep cannot be written out. Use "
            "gradients() or trace() for the numbers, or a shallower part of the graph.")


@functools.cache
def sympy_namespace() -> SimpleNamespace:
    """The elementary functions as SymPy writes them (SymPy is imported on first use)."""
    import sympy

    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        if condition is True or condition is False:  # a number compared with 0
            return if_true if condition else if_false
        return sympy.Piecewise((if_true, condition), (if_false, True))

    from .primitives import check_namespace

    return check_namespace(SimpleNamespace(
        exp=sympy.exp,
        log=sympy.log,
        sqrt=sympy.sqrt,
        tanh=sympy.tanh,
        sin=sympy.sin,
        cos=sympy.cos,
        abs=sympy.Abs,
        sigmoid=lambda x: 1 / (1 + sympy.exp(-x)),
        relu=lambda x: sympy.Max(0, x),
        sign=sympy.sign,
        xlogy=lambda x, y: x * sympy.log(y),
        where=where,
    ), "SymPy")


def sympy_number(number: float) -> Any:
    """A float as SymPy should show it: 2.0 -> 2, 0.5 -> 1/2, 0.1 -> 1/10, else a Float."""
    import sympy

    if number == int(number) and abs(number) < 2**53:
        return sympy.Integer(int(number))
    text = repr(number)
    if len(text) <= 8 and "e" not in text:
        return sympy.Rational(text)
    return sympy.Float(number)


def to_sympy(output: Value | Graph, names: dict[Value, str] | None = None, *,
             timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> Any:
    """The whole expression as SymPy, over one symbol per leaf (named by ``node_names``).

    Constants (numbers written into the expression) appear as numbers. A graph up to
    ``MAX_SYMBOLIC_DEPTH`` operations deep works (deeper: ``SymbolicDepthError``); SymPy
    gets ``timeout`` seconds (None: no bound), then ``SymbolicTimeoutError``. SymPy
    recurses on a deep result in your own code too (``str()`` of 100 nested sigmoids):
    ``run_sympy(lambda: str(expr), what="str")`` gives that the same room.
    """
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"to_sympy() needs a Value, not {type(output).__name__}")
    graph = as_graph(output)
    if names is not None:
        _check_names(graph, names)
    check_depth(graph, "to_sympy")
    return run_sympy(lambda: sympy_expressions(graph, names)[graph.output],
                     what="to_sympy", timeout=timeout)


def _check_names(graph: Graph, names: Any) -> None:
    """``names`` must name every node SymPy needs: each leaf and operation of the graph."""
    if not isinstance(names, dict):
        raise TypeError(f"to_sympy: names must be a dict of node -> name (as node_names() "
                        f"gives), not {type(names).__name__}")
    for node in graph.reading_order:
        if node not in names:
            raise ValueError(f"to_sympy: names has no name for {node!r}; start from "
                             "node_names(output) and change the entries you want")
        if not isinstance(names[node], str) or not names[node]:
            raise TypeError(f"to_sympy: the name of {node!r} must be a non-empty str, not "
                            f"{names[node]!r}")


def sympy_expressions(output: Value | Graph,
                      names: dict[Value, str] | None = None) -> dict[Value, Any]:
    """Every non-constant node of the graph as a SymPy expression over the leaves' symbols.

    The primitives' forward rules evaluated over SymPy: ``to_sympy`` is the output's entry,
    ``explain(expand=True)`` writes each local derivative with these.
    """
    import sympy

    f = sympy_namespace()
    graph = as_graph(output)
    names = graph.names if names is None else names
    expressions: dict[Value, Any] = {}
    for node in graph.reading_order:
        prim = node._prim
        if prim is None:
            expressions[node] = sympy.Symbol(names[node])
            continue
        args = [sympy_number(p.data) if type(p) is Constant else expressions[p]
                for p in node.parents]
        expressions[node] = prim.forward(*args, f)
    return expressions


def local_formula(node: Value, position: int, names: dict[Value, str],
                  expressions: dict[Value, Any] | None = None) -> Any:
    """d node / d node.parents[position] from the primitives table, in node names (SymPy).

    The lecture's form of the rule where the table has one (sigmoid's ``s2*(1 - s2)``).
    Constant inputs appear as their numbers; every other input and the node itself as a
    SymPy symbol named by ``names``, or, given ``expressions`` (``sympy_expressions``), as
    its expression over the leaves.
    """
    import sympy

    prim = node.primitive
    if prim is None:
        raise ValueError(f"{names.get(node, node.label)!r} is a leaf: it has no local derivative")

    def written(v: Value) -> Any:
        return sympy.Symbol(names[v]) if expressions is None else expressions[v]

    args = [sympy_number(p.data) if type(p) is Constant else written(p) for p in node.parents]
    return prim.shown_derivative(position, args, written(node), sympy_namespace())


class DerivativeTable(str):
    """The lecture's "Name | Function | Gradient" table: as text it is a Markdown table in
    the lecture's notation; in Jupyter an HTML table; ``to_latex()`` a ``tabular``.

    ``rows`` holds (name, function, gradients) as SymPy, one gradient per input, over the
    inputs' names and ``out`` (the function's value, as the slides write σ′ = σ(1 − σ)).
    """

    rows: list[tuple[str, Any, list[tuple[str, Any]]]]

    def __new__(cls, rows: list[tuple[str, Any, list[tuple[str, Any]]]]) -> DerivativeTable:
        from .notation import formula

        lines = ["| Name | Function | Gradient |", "|---|---|---|"]
        for name, function, gradients in rows:
            slopes = "; ".join(f"d/d{formula(_sym(i))} = {formula(g)}" for i, g in gradients)
            lines.append(f"| {name} | out = {formula(function)} | {slopes} |")
        table = super().__new__(cls, "\n".join(lines))
        table.rows = rows
        return table

    def to_markdown(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        from .notation import formula

        def cells(name: str, function: Any, gradients: list[tuple[str, Any]]) -> str:
            slopes = "; ".join(f"d/d{formula(_sym(i))} = {formula(g)}" for i, g in gradients)
            return (f"<tr><td>{html.escape(name)}</td>"
                    f"<td>out = {html.escape(formula(function))}</td>"
                    f"<td>{html.escape(slopes)}</td></tr>")

        body = "".join(cells(*row) for row in self.rows)
        return ("<table><thead><tr><th>Name</th><th>Function</th><th>Gradient</th></tr>"
                f"</thead><tbody>{body}</tbody></table>")

    def to_latex(self) -> str:
        """A ``tabular`` (booktabs) with every formula typeset."""
        from .notation import formula

        lines = [r"\begin{tabular}{lll}", r"\toprule", r"Name & Function & Gradient \\",
                 r"\midrule"]
        for name, function, gradients in self.rows:
            slopes = r",\ ".join(
                rf"\frac{{\partial\,\mathrm{{out}}}}{{\partial {formula(_sym(i), 'latex')}}} = "
                f"{formula(g, 'latex')}" for i, g in gradients)
            escaped = name.replace("_", r"\_")
            lines.append(rf"{escaped} & $\mathrm{{out}} = {formula(function, 'latex')}$ & "
                         rf"${slopes}$ \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines)


def _sym(name: str) -> Any:
    import sympy

    return sympy.Symbol(name)


def derivative_table() -> DerivativeTable:
    """The lecture's "Name | Function | Gradient" table, read straight off the primitives.

    Each row evaluates the primitive's forward rule and its local-derivative rules (the
    lecture's forms) over SymPy symbols (inputs ``x``, ``a, b`` or as the entry names them,
    output ``out``): nothing here is written by hand. Printed in the lecture's notation
    (``d/dx = 1 if x ≥ 0, else 0`` for ReLU); ``.to_latex()`` for notes.
    """
    import sympy

    from .primitives import PRIMITIVES

    f = sympy_namespace()
    out = sympy.Symbol("out")
    rows = []
    for prim in PRIMITIVES.values():
        if prim.internal:  # grad()'s bookkeeping node, not a lecture operation
            continue
        names = prim.names_for(3)  # linear with one weight: w1, x1, b
        inputs = sympy.symbols(" ".join(names), seq=True)
        function = prim.forward(*inputs, f)
        gradients = [(name, prim.shown_derivative(position, inputs, out, f))
                     for position, name in enumerate(names)]
        rows.append((prim.name, function, gradients))
    return DerivativeTable(rows)
