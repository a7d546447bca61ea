"""``compile_graph(output, inputs)``: a graph's forward and backward pass as straight-line code.

A graph whose shape is fixed (a training step, a lecture network evaluated at many points)
needs no object per node on every call: it is recorded once, written out as code, and the
code runs with new input numbers each time. The code is also a lesson of its own: it *is*
backpropagation written out, one line per operation, like a lecture's derivation::

    x1 = w0*s0
    s1 = sigmoid(x1)
    ...
    d_out = 1.0
    d_w2 = d_out*s2                 # out = w2 * s2
    d_s2 = d_out*w2                 # out = w2 * s2
    d_x2 = d_s2*(s2*sigmoid(-x2))   # s2 = sigmoid(x2)

Every line is a rule of the primitives table printed by SymPy's code printers
(``codegen.py``), so a primitive added with ``defprimitive`` compiles with no other code.
Backends: ``"python"`` (floats), ``"numpy"`` (arrays: one evaluation per element, inputs
broadcast), ``"torch"`` and ``"jax"`` (tensors; their own autodiff can differentiate it).

Numbers outside a primitive's domain are not checked line by line (that is what makes the
code fast): when a run raises or gives a non-finite or complex number, the point is run
again through the engine, which names the node and says what is wrong.
"""

from __future__ import annotations

import itertools
import keyword
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._options import check_choice
from .codegen import NAMESPACE_PROTOCOL, printed_template
from .engine import Constant, Value, apply, backprop
from .graph import Graph, as_graph
from .notation import number as format_number
from .notation import operation
from .primitives import FLOAT

__all__ = ["BACKENDS", "CompiledGraph", "compile_graph"]

BACKENDS = ("python", "numpy", "torch", "jax")
# Past this many operations the code is cut into functions of this many lines each, over
# numbered slots instead of names: CPython compiles one huge function in memory and time
# that grow faster than its length (a 2,000,000-line function needs gigabytes).
CHUNK = 20_000


class CompiledGraph:
    """A compiled graph: call it with one number (or array) per input, in the order of
    ``inputs``; it returns ``(value, grads)``, ``grads`` a tuple in the same order.

    ``.source`` is the generated code; ``.inputs`` the inputs' names; ``.backend``.
    """

    def __init__(self, graph: Graph, inputs: tuple[Value, ...], backend: str,
                 program: _Program) -> None:
        self.graph = graph
        self.backend = backend
        self._inputs = inputs
        self._program = program
        self.inputs: tuple[str, ...] = tuple(_name(graph, v) for v in inputs)
        self.operations = program.operations

    @property
    def source(self) -> str:
        return self._program.source()

    def __call__(self, *values: Any) -> tuple[Any, tuple[Any, ...]]:
        if len(values) != len(self._inputs):
            raise TypeError(f"the compiled {self.graph.names[self.graph.output]} takes "
                            f"{len(self._inputs)} input(s) ({', '.join(self.inputs)}), got "
                            f"{len(values)}")
        if self.backend == "python":
            for name, v in zip(self.inputs, values):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise TypeError(f"compiled graph: {name} must be a real number, not "
                                    f"{type(v).__name__} ({v!r}); backend='numpy' takes arrays")
            return self._run_python([float(v) for v in values])
        return self._program.run(*values)

    def _run_python(self, values: list[float]) -> tuple[float, tuple[float, ...]]:
        try:
            value, grads = self._program.run(*values)
        except (ArithmeticError, ValueError, TypeError):
            value, grads = math.nan, ()
        if type(value) is float and math.isfinite(value) and all(
                type(g) is float and math.isfinite(g) for g in grads):
            return value, grads
        # Outside a domain, an overflow, a complex power: the engine says where and why.
        return _eager(self.graph, self._inputs, values)

    def __repr__(self) -> str:
        return (f"<CompiledGraph of {self.graph.names[self.graph.output]} "
                f"({self.backend}): {self.operations} operations, inputs "
                f"{', '.join(self.inputs)}>")


def _eager(graph: Graph, inputs: tuple[Value, ...], values: Sequence[float]
           ) -> tuple[float, tuple[float, ...]]:
    """The graph run again by the engine at ``values``: its value and gradients, or the
    engine's own error, which names the node."""
    fresh: dict[Value, Value] = {v: Value(x, label=v.label) for v, x in zip(inputs, values)}
    for node in graph.reading_order:
        if node in fresh:
            continue
        if node.primitive is None:
            fresh[node] = Value(node.data, label=node.label)
            continue
        args = [p.data if type(p) is Constant else fresh[p] for p in node.parents]
        made = apply(node.primitive, *args)
        made.label = node.label
        fresh[node] = made
    output = fresh[graph.output]
    grads = backprop(output, wrt=[fresh[v] for v in inputs])
    return output.data, tuple(float(grads.get(fresh[v], 0.0)) for v in inputs)


# ---------------------------------------------------------------- names


def _name(graph: Graph, node: Value) -> str:
    """A node's name; an input the output does not depend on by its label."""
    return graph.names.get(node) or node.label or "unused"


def _identifiers(graph: Graph, reserved: set[str], inputs: tuple[Value, ...]
                 ) -> dict[Value, str]:
    """A Python identifier per node, from its name: ``L1.N0.w0`` -> ``L1_N0_w0``."""
    taken = set(reserved)
    names: dict[Value, str] = {}
    known = graph.names
    for node in [*graph.reading_order, *(v for v in inputs if v not in known)]:
        base = known.get(node) or node.label or "unused"
        if not base.isidentifier():
            base = re.sub(r"\W", "_", base) or "v"
            if base[0].isdigit():
                base = "_" + base
        if keyword.iskeyword(base) or base in taken or base.startswith("d_"):
            base += "_"
        name = base
        for k in itertools.count(2):
            if name not in taken:
                break
            name = f"{base}{k}"
        taken.add(name)
        names[node] = name
    return names


# ---------------------------------------------------------------- the program


class _Program:
    """The generated code, compiled: ``run(*inputs) -> (value, grads)``."""

    def __init__(self, lines: Callable[[], list[str]], run: Callable[..., Any],
                 operations: int) -> None:
        self._lines = lines
        self.run = run
        self.operations = operations

    def source(self) -> str:
        return "\n".join(self._lines()) + "\n"


def _literal(number: float, backend: str) -> str:
    text = repr(float(number))
    if text in ("inf", "-inf", "nan"):
        text = f"float({text!r})"
    return f"({text})" if text.startswith("-") else text


def _is_atom(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_]\w*|\d+(\.\d*)?(e[+-]?\d+)?", text))


def _format(template: str) -> str:
    """A printed rule as a format string: ``__a0__*__a1__`` -> ``{0}*{1}``, ``__out__`` ->
    ``{o}`` (printed code has no braces of its own), so filling it is one call."""
    return re.sub(r"__a(\d+)__", r"{\1}", template).replace("__out__", "{o}")


_FORMATS: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}


def _rules(node: Value, language: str) -> tuple[str, tuple[str, ...]]:
    """The node's forward rule and local derivatives as format strings (made once per
    primitive, number of inputs and whole-number constants)."""
    prim = node.primitive
    assert prim is not None
    key = (prim, len(node.parents), language, _integer_constants(node))
    rules = _FORMATS.get(key)
    if rules is None:
        printed = printed_template(*key)
        rules = _FORMATS[key] = (_format(printed.forward),
                                 tuple(_format(d) for d in printed.local))
    return rules


# Past this many operations a gradient passed on unchanged (d(a + b)/da = 1) is not copied
# into a variable of its own: the input's gradient is the same name until a second
# contribution arrives. Same numbers, a third fewer lines in a network (its sums), so it
# compiles and runs faster; a small graph keeps every d_node = d_output line, as the
# lecture writes them.
ALIAS_ABOVE = 2_000


def _emit(graph: Graph, inputs: tuple[Value, ...], backend: str, comments: bool = True
          ) -> tuple[list[str], list[str], list[str], dict[Value, str], int]:
    """(forward lines, backward lines, return names, identifiers, operations) over names.

    ``comments``: each backward line says which node it comes from (``# out = w2 * s2``).
    """
    language = "numpy" if backend in ("numpy", "torch", "jax") else "python"
    reserved = {*NAMESPACE_PROTOCOL, "np", "math"}
    ids = _identifiers(graph, reserved, inputs)
    grad_ids = {node: f"d_{ids[node]}" for node in ids}
    input_set = set(inputs)
    names = graph.names
    forward: list[str] = []
    rules: dict[Value, tuple[str, tuple[str, ...]]] = {}
    operations = 0
    for node in graph.reading_order:
        prim = node.primitive
        if prim is None:
            if node not in input_set:  # folded: a number fixed at compile time
                forward.append(f"{ids[node]} = {_literal(node.data, backend)}"
                               f"  # fixed ({graph.names[node]} is not an input)")
            continue
        operations += 1
        args = [_literal(p.data, backend) if type(p) is Constant else ids[p]
                for p in node.parents]
        rule, _ = rules[node] = _rules(node, language)
        forward.append(f"{ids[node]} = {rule.format(*args, o=ids[node])}")

    reached = [v for v in inputs if v in graph]
    needed = graph.on_paths_to(reached) if reached else set()
    backward: list[str] = []
    alias = operations > ALIAS_ABOVE
    held: dict[Value, str] = {}  # node -> the name that holds d output / d node so far
    output = graph.output
    if output in needed:
        backward.append(f"{grad_ids[output]} = 1.0")
        held[output] = grad_ids[output]
    for node in graph.order:  # output first: each node's gradient is complete when read
        prim = node.primitive
        if prim is None or node not in needed or node not in held:
            continue
        args = [_literal(p.data, backend) if type(p) is Constant else ids[p]
                for p in node.parents]
        _, locals_ = rules[node]
        where = "  # " + names[node] + " = " + operation(
            prim, [format_number(p.data) if type(p) is Constant else names[p]
                   for p in node.parents]) if comments else ""
        upstream = held[node]
        for position, parent in enumerate(node.parents):
            if type(parent) is Constant or parent not in needed:
                continue
            local = locals_[position].format(*args, o=ids[node])
            if local == "1":
                term = upstream
            elif local == "-1":
                term = f"-{upstream}"
            else:
                term = f"{upstream}*{local if _is_atom(local) else f'({local})'}"
            own = grad_ids[parent]
            if parent not in held:
                if alias and term == upstream:  # the same number: the same name
                    held[parent] = upstream
                    continue
                line = f"{own} = {term}"
            elif held[parent] == own:
                # (arrays: a new one, since += would also change every array bound to it)
                line = f"{own} += {term}" if language == "python" else f"{own} = {own} + {term}"
            else:  # held under another name until now
                line = f"{own} = {held[parent]} + {term}"
            held[parent] = own
            backward.append(line + where)
    returns = [held.get(v, "0.0") for v in inputs]
    return forward, backward, returns, ids, operations


def _integer_constants(node: Value) -> tuple[tuple[int, int], ...]:
    """The inputs that are whole-number constants (``u1**2``): their rule is printed with
    the number in place, so ``2*u1**(2 - 1)`` is written ``2*u1``."""
    return tuple((k, int(p.data)) for k, p in enumerate(node.parents)
                 if type(p) is Constant and float(p.data).is_integer() and abs(p.data) < 1e6)


def _runtime(backend: str) -> dict[str, Any]:
    """The namespace the code runs in: the protocol's functions for the backend."""
    if backend == "python":
        return {name: getattr(FLOAT, name) for name in NAMESPACE_PROTOCOL}
    if backend == "numpy":
        import numpy as np

        def sigmoid(x: Any) -> Any:  # two branches, so that exp never overflows
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def xlogy(x: Any, y: Any) -> Any:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))

        return {"np": np, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
                "sin": np.sin, "cos": np.cos, "abs": np.abs, "sigmoid": sigmoid,
                "relu": lambda x: np.where(x > 0, x, 0.0), "sign": np.sign,
                "xlogy": xlogy, "where": np.where}
    from .tensor_backends import tensor_runtime

    return tensor_runtime(backend)


def compile_graph(output: Value | Graph, inputs: Sequence[Value | str],
                  backend: str = "python") -> CompiledGraph:
    """The graph of ``output`` as straight-line code for its forward and backward pass.

    ``inputs``: the leaves (Values, or their names) the compiled function takes, in order;
    every other leaf keeps the number it has now (it is folded into the code). Calling the
    result with one number per input returns ``(value, grads)``; it takes new numbers on
    every call (the graph's shape is fixed now).

    - ``backend="python"``: floats. A number outside an operation's domain is caught and the
      point is run through the engine, whose error names the node.
    - ``backend="numpy"``: arrays, broadcast together; value and grads are arrays, each
      element an independent evaluation (a per-sample graph over a whole batch).
    - ``backend="torch"`` / ``"jax"``: tensors, in float64; the function is made of the
      library's operations, so its own autodiff differentiates it too.

    ``.source`` is the code: one line per operation, variables named after the labels,
    the backward lines as upstream × local derivative with the node they come from.
    """
    backend = check_choice("compile_graph", "backend", backend, BACKENDS)
    if not isinstance(output, (Value, Graph)):
        raise TypeError(f"compile_graph() needs a Value, not {type(output).__name__}")
    graph = as_graph(output)
    if isinstance(inputs, (Value, str)) or not isinstance(inputs, Sequence):
        raise TypeError("compile_graph(output, inputs): inputs must be a list of the leaves "
                        "(Values or their names) the compiled function takes")
    chosen: list[Value] = []
    for item in inputs:
        node = graph.node(item) if isinstance(item, str) else item
        if not isinstance(node, Value):
            raise TypeError(f"compile_graph: an input must be a Value or a name, not "
                            f"{type(item).__name__}")
        # An input the output does not depend on is taken, its gradient 0 (as gradients()).
        if node.primitive is not None and node in graph:
            raise ValueError(f"compile_graph: {graph.names[node]} is computed "
                             f"({graph.definition(node)}), not an input: inputs are leaves")
        if node in chosen:
            raise ValueError(f"compile_graph: {_name(graph, node)} is given twice")
        chosen.append(node)
    order = tuple(chosen)
    operations = sum(1 for n in graph.order if n.primitive is not None)
    if operations > CHUNK:
        program = _chunked(graph, order, backend)
    else:
        program = _named(graph, order, backend)
    return CompiledGraph(graph, order, backend, program)


def _named(graph: Graph, inputs: tuple[Value, ...], backend: str) -> _Program:
    operations = sum(1 for n in graph.order if n.primitive is not None)
    name = "compiled"

    def lines(comments: bool = True) -> list[str]:
        forward, backward, returns, ids, _ = _emit(graph, inputs, backend, comments)
        params = ", ".join(ids[v] for v in inputs)
        head = [f"def {name}({params}):",
                f"    # forward: {graph.names[graph.output]} from "
                f"{', '.join(_name(graph, v) for v in inputs) or 'nothing'}"]
        body = [f"    {line}" for line in forward]
        body.append("    # backward: d_<node> is d "
                    f"{graph.names[graph.output]} / d node, output first")
        body += [f"    {line}" for line in backward]
        grads = ", ".join(returns)
        body.append(f"    return {ids[graph.output]}, ({grads}{',' if len(returns) == 1 else ''})")
        return head + body

    namespace = _runtime(backend)
    # The code that runs is .source without its comments (they are for reading; writing
    # them costs a fifth of the compile time of a network).
    code = "\n".join(lines(comments=operations <= ALIAS_ABOVE))
    exec(compile(code, f"<compiled {graph.names[graph.output]}>", "exec"), namespace)
    function = namespace[name]
    if backend == "numpy":
        import numpy as np

        def run(*values: Any) -> Any:
            arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
            with np.errstate(all="ignore"):
                value, grads = function(*arrays)
            shape = arrays[0].shape if arrays else ()
            return (np.broadcast_to(np.asarray(value, dtype=float), shape).copy(),
                    tuple(np.broadcast_to(np.asarray(g, dtype=float), shape).copy()
                          for g in grads))
        return _Program(lines, run, operations)
    if backend in ("torch", "jax"):
        def run_tensors(*values: Any) -> Any:
            return function(*values)
        return _Program(lines, run_tensors, operations)
    return _Program(lines, function, operations)


def _chunked(graph: Graph, inputs: tuple[Value, ...], backend: str) -> _Program:
    """A big graph: numbered slots ``v[i]`` / ``g[i]`` instead of names, the lines cut into
    functions of ``CHUNK`` lines, each compiled once (the source is written again on
    demand, never kept)."""
    if backend != "python":
        raise ValueError(f"compile_graph: a graph of more than {CHUNK} operations compiles "
                         f"for the python backend only (not {backend!r}); for arrays, "
                         "compile one example's graph and pass the batch")
    order = graph.reading_order
    slot = {node: i for i, node in enumerate(order)}
    for v in inputs:  # inputs the output does not depend on: a slot each, gradient 0
        slot.setdefault(v, len(slot))
    input_slots = [slot[v] for v in inputs]
    reached = [v for v in inputs if v in graph]
    needed = graph.on_paths_to(reached) if reached else set()

    def forward_lines() -> Any:
        for node in order:
            prim = node.primitive
            if prim is None:
                continue
            args = [_literal(p.data, backend) if type(p) is Constant else f"v[{slot[p]}]"
                    for p in node.parents]
            rule, _ = _rules(node, "python")
            yield f"v[{slot[node]}] = {rule.format(*args, o=f'v[{slot[node]}]')}"

    def backward_lines() -> Any:
        for node in graph.order:
            prim = node.primitive
            if prim is None or node not in needed:
                continue
            args = [_literal(p.data, backend) if type(p) is Constant else f"v[{slot[p]}]"
                    for p in node.parents]
            _, locals_ = _rules(node, "python")
            for position, parent in enumerate(node.parents):
                if type(parent) is Constant or parent not in needed:
                    continue
                local = locals_[position].format(*args, o=f"v[{slot[node]}]")
                term = f"g[{slot[node]}]" if local == "1" else (
                    f"g[{slot[node]}]*({local})")
                yield f"g[{slot[parent]}] += {term}"

    namespace = _runtime(backend)
    chunks: list[Callable[..., None]] = []
    operations = sum(1 for n in order if n.primitive is not None)
    for kind, lines in (("forward", forward_lines()), ("backward", backward_lines())):
        for k in itertools.count():
            block = list(itertools.islice(lines, CHUNK))
            if not block:
                break
            name = f"_{kind}_{k}"
            text = f"def {name}(v, g):\n    " + "\n    ".join(block) + "\n"
            exec(compile(text, f"<compiled {kind} {k}>", "exec"), namespace)
            chunks.append(namespace.pop(name))
    leaves = [(slot[n], n.data) for n in order if n.primitive is None and n not in inputs]
    size, out = len(slot), slot[graph.output]

    def run(*values: float) -> tuple[float, tuple[float, ...]]:
        v = [0.0] * size
        for i, x in leaves:
            v[i] = x
        for i, x in zip(input_slots, values):
            v[i] = x
        g = [0.0] * size
        g[out] = 1.0
        for chunk in chunks:
            chunk(v, g)
        return v[out], tuple(g[i] for i in input_slots)

    def source() -> list[str]:
        text = ["# slots: " + ", ".join(f"v[{slot[n]}] = {graph.names[n]}" for n in
                                        order[:20]) + (", ..." if len(order) > 20 else ""),
                "# forward"]
        text += list(forward_lines())
        text += ["# backward: g[i] is d output / d v[i]", f"g[{out}] = 1.0"]
        text += list(backward_lines())
        return text

    return _Program(source, run, operations)

