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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ._options import check_choice
from .codegen import NAMESPACE_PROTOCOL, printed_template
from .engine import Constant, Value, apply, backprop
from .graph import Graph, as_graph
from .notation import number as format_number
from .notation import operation
from .primitives import FLOAT

__all__ = ["BACKENDS", "CompiledGraph", "compile_graph", "runtime"]

BACKENDS = ("python", "numpy", "torch", "jax")
# Past this many statements the code is cut into functions of this many each (handing
# over, in a list, what crosses from one to the next): CPython compiles one huge function
# in memory and time that grow faster than its length.
CHUNK = 20_000
# Up to this many statements the first pass keeps them to write the parts from; past it
# they are written a second time instead, so that a huge graph's text is never all in
# memory (a network's step keeps them: writing twice cost it a fifth of its compile time).
KEEP = 400_000


class CompiledGraph:
    """A compiled graph: call it with one number (or array) per input, in the order of
    ``inputs``; it returns ``(value, grads)``, ``grads`` a tuple in the order of ``wrt``
    (by default the inputs).

    ``.source`` is the generated code; ``.inputs`` and ``.wrt`` the names; ``.backend``.
    """

    def __init__(self, graph: Graph, inputs: tuple[Value, ...], backend: str,
                 program: _Program, wrt: tuple[Value, ...] | None = None) -> None:
        self.graph = graph
        self.backend = backend
        self._inputs = inputs
        self._wrt = inputs if wrt is None else wrt
        self._program = program
        self.inputs: tuple[str, ...] = tuple(_name(graph, v) for v in inputs)
        self.wrt: tuple[str, ...] = tuple(_name(graph, v) for v in self._wrt)
        self.operations = program.operations

    @property
    def source(self) -> str:
        return self._program.source()

    def script(self) -> str:
        """``.source`` with the imports it needs first: a file that runs on its own (for the
        python and numpy backends), defining the function ``compiled``."""
        source = self.source
        used = sorted(n for n in NAMESPACE_PROTOCOL if re.search(rf"\b{n}\(", source))
        if self.backend == "python":
            head = ["from autograd_lite.primitives import FLOAT  # the engine's float functions"]
            head += [f"{n} = FLOAT.{n}" for n in used]
        else:
            head = ["from autograd_lite.compiled import runtime",
                    f"globals().update(runtime({self.backend!r}))  # " + ", ".join(used)]
        return "\n".join(head) + "\n\n\n" + source

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
        return _eager(self.graph, self._inputs, values, self._wrt)

    def __repr__(self) -> str:
        return (f"<CompiledGraph of {self.graph.names[self.graph.output]} "
                f"({self.backend}): {self.operations} operations, inputs "
                f"{', '.join(self.inputs)}>")


def _eager(graph: Graph, inputs: tuple[Value, ...], values: Sequence[float],
           wrt: tuple[Value, ...]) -> tuple[float, tuple[float, ...]]:
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
    grads = backprop(output, wrt=[fresh[v] for v in wrt])
    return output.data, tuple(float(grads.get(fresh[v], 0.0)) for v in wrt)


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
    """A name, a number, or already in parentheses: needs none as a factor."""
    if re.fullmatch(r"[A-Za-z_]\w*|\d+(\.\d*)?(e[+-]?\d+)?", text):
        return True
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for k, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and k < len(text) - 1:
            return False  # "(a) + (b)": the first parenthesis closes early
    return True


def _format(template: str) -> str:
    """A printed rule as a format string: ``__a0__*__a1__`` -> ``{0}*{1}``, ``__out__`` ->
    ``{o}`` (printed code has no braces of its own), so filling it is one call."""
    return re.sub(r"__a(\d+)__", r"{\1}", template).replace("__out__", "{o}")


# A local derivative as a format string, the inputs it reads, whether it reads out, and
# whether it is one name or number once filled (a factor that needs no parentheses).
Local = tuple[str, tuple[int, ...], bool, bool]
_FORMATS: dict[tuple[Any, ...], tuple[str, tuple[Local, ...]]] = {}


def _reads(text: str) -> tuple[tuple[int, ...], bool]:
    return (tuple(sorted({int(k) for k in re.findall(r"__a(\d+)__", text)})),
            "__out__" in text)


def _rules(node: Value, language: str) -> tuple[str, tuple[Local, ...]]:
    """The node's forward rule and local derivatives as format strings (made once per
    primitive, number of inputs and whole-number constants)."""
    prim = node.primitive
    assert prim is not None
    key = (prim, len(node.parents), language, _integer_constants(node))
    rules = _FORMATS.get(key)
    if rules is None:
        printed = printed_template(*key)
        rules = _FORMATS[key] = (_format(printed.forward), tuple(
            (_format(d), *_reads(d), _is_atom(re.sub(r"__a\d+__|__out__", "v", d)))
            for d in printed.local))
    return rules


class _Line:
    """One statement: its text, the name it sets, the names it reads (to cut the code into
    functions that hand over only what crosses)."""

    __slots__ = ("reads", "sets", "text")

    def __init__(self, text: str, sets: str, reads: Sequence[str]) -> None:
        self.text, self.sets, self.reads = text, sets, reads


# Past this many operations a gradient passed on unchanged (d(a + b)/da = 1) is not copied
# into a variable of its own: the input's gradient is the same name until a second
# contribution arrives. Same numbers, a third fewer lines in a network (its sums), so it
# compiles and runs faster; a small graph keeps every d_node = d_output line, as the
# lecture writes them.
ALIAS_ABOVE = 2_000


class _Emitter:
    """The code's statements, written on demand (``statements()``, a generator): the
    forward pass in reading order, then the backward pass output first, restricted to the
    nodes on a path from an input. After a full pass, ``returns`` holds the names of the
    inputs' gradients. A big graph is written twice (once to see what crosses between its
    parts, once to write them), so that its text is never all in memory.

    ``comments``: each backward line says which node it comes from (``# out = w2 * s2``).
    """

    def __init__(self, graph: Graph, inputs: tuple[Value, ...], backend: str,
                 comments: bool = True, wrt: tuple[Value, ...] | None = None) -> None:
        self.graph, self.inputs, self.backend, self.comments = graph, inputs, backend, comments
        self.wrt = inputs if wrt is None else wrt  # the inputs whose gradients are returned
        self.language = "numpy" if backend in ("numpy", "torch", "jax") else "python"
        self.ids = _identifiers(graph, {*NAMESPACE_PROTOCOL, "np", "math"}, inputs)
        self.operations = sum(1 for n in graph.order if n.primitive is not None)
        reached = [v for v in self.wrt if v in graph]
        self.needed = graph.on_paths_to(reached) if reached else set()
        self.returns: list[str] = []

    def statements(self) -> Iterator[_Line]:
        graph, ids, backend, language = self.graph, self.ids, self.backend, self.language
        names = graph.names
        input_set = set(self.inputs)
        output_name = names[graph.output]
        for node in graph.reading_order:
            prim = node.primitive
            if prim is None:
                if node not in input_set:  # folded: a number fixed at compile time
                    yield _Line(f"{ids[node]} = {_literal(node.data, backend)}"
                                f"  # fixed ({names[node]} is not an input)", ids[node], ())
                continue
            args = [_literal(p.data, backend) if type(p) is Constant else ids[p]
                    for p in node.parents]
            rule, _ = _rules(node, language)
            yield _Line(f"{ids[node]} = {rule.format(*args, o=ids[node])}", ids[node],
                        [ids[p] for p in node.parents if type(p) is not Constant])
        yield _Line(f"# backward: d_<node> is d {output_name} / d node, output first", "", ())

        needed = self.needed
        alias = self.operations > ALIAS_ABOVE
        held: dict[Value, str] = {}  # node -> the name that holds d output / d node so far
        output = graph.output
        if output in needed:
            held[output] = f"d_{ids[output]}"
            yield _Line(f"{held[output]} = 1.0", held[output], ())
        for node in graph.order:  # output first: each node's gradient is complete when read
            prim = node.primitive
            if prim is None or node not in needed or node not in held:
                continue
            args = [_literal(p.data, backend) if type(p) is Constant else ids[p]
                    for p in node.parents]
            _, locals_ = _rules(node, language)
            where = "  # " + names[node] + " = " + operation(
                prim, [format_number(p.data) if type(p) is Constant else names[p]
                       for p in node.parents]) if self.comments else ""
            upstream = held.pop(node)  # read for the last time here
            for position, parent in enumerate(node.parents):
                if type(parent) is Constant or parent not in needed:
                    continue
                rule_text, read_inputs, reads_out, atom = locals_[position]
                local = rule_text.format(*args, o=ids[node])
                reads = [args[k] for k in read_inputs if type(node.parents[k]) is not Constant]
                if reads_out:
                    reads.append(ids[node])
                reads.append(upstream)
                if local == "1":
                    term = upstream
                elif local == "-1":
                    term = f"-{upstream}"
                else:
                    term = f"{upstream}*{local if atom else f'({local})'}"
                own = f"d_{ids[parent]}"
                if parent not in held:
                    if alias and term == upstream:  # the same number: the same name
                        held[parent] = upstream
                        continue
                    line = f"{own} = {term}"
                elif held[parent] == own:
                    # (arrays: a new one, since += would change every array bound to it)
                    line = (f"{own} += {term}" if language == "python"
                            else f"{own} = {own} + {term}")
                    reads.append(own)
                else:  # held under another name until now
                    line = f"{own} = {held[parent]} + {term}"
                    reads.append(held[parent])
                held[parent] = own
                yield _Line(line + where, own, reads)
        self.returns = [held.get(v, "0.0") for v in self.wrt]


def _integer_constants(node: Value) -> tuple[tuple[int, int], ...]:
    """The inputs that are whole-number constants (``u1**2``): their rule is printed with
    the number in place, so ``2*u1**(2 - 1)`` is written ``2*u1``."""
    found: tuple[tuple[int, int], ...] = ()
    for k, p in enumerate(node.parents):
        if type(p) is Constant:
            data = p._data  # a Constant's is a float
            if data.is_integer() and -1e6 < data < 1e6:
                found += ((k, int(data)),)
    return found


def runtime(backend: str) -> dict[str, Any]:
    """The namespace compiled code runs in: the protocol's functions (``exp``, ``sigmoid``,
    ``where`` ...) for ``backend``, as the engine computes them."""
    backend = check_choice("runtime", "backend", backend, BACKENDS)
    return _runtime(backend)


def _runtime(backend: str) -> dict[str, Any]:
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
                  backend: str = "python", *,
                  wrt: Sequence[Value | str] | None = None) -> CompiledGraph:
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

    ``wrt``: the inputs whose gradients are returned (default: all of them), in its
    order; the backward pass then runs only along the paths from these (a training step
    needs the weights' gradients, not the data's).

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
    if wrt is None:
        targets = order
    else:
        if isinstance(wrt, (Value, str)) or not isinstance(wrt, Sequence):
            raise TypeError("compile_graph: wrt must be a list of inputs (Values or names)")
        by_name = {_name(graph, v): v for v in order}
        picked: list[Value] = []
        for w in wrt:
            target = by_name.get(w) if isinstance(w, str) else w
            if target is None or not any(target is v for v in order):
                raise ValueError(f"compile_graph: wrt {w!r} is not one of the inputs "
                                 f"({', '.join(by_name)})")
            picked.append(target)
        targets = tuple(picked)
    return CompiledGraph(graph, order, backend, _named(graph, order, backend, targets),
                         targets)


def _named(graph: Graph, inputs: tuple[Value, ...], backend: str,
           wrt: tuple[Value, ...]) -> _Program:
    operations = sum(1 for n in graph.order if n.primitive is not None)
    name = "compiled"
    output_name = graph.names[graph.output]

    def functions(comments: bool = True) -> Iterator[str]:
        """The code, one top-level function at a time: one function, or for a big graph
        the driver and then its parts, each written and handed on before the next."""
        emitter = _Emitter(graph, inputs, backend, comments, wrt)
        ids = emitter.ids
        params = ", ".join(ids[v] for v in inputs)
        head = [f"def {name}({params}):",
                f"    # forward: {output_name} from "
                f"{', '.join(_name(graph, v) for v in inputs) or 'nothing'}"]
        kept: list[_Line] | None = []
        plan = _Plan({ids[v] for v in inputs})
        for line in emitter.statements():
            plan.see(line)
            if kept is not None:
                kept.append(line)
                if len(kept) > KEEP:
                    kept = None  # a very big graph: written again, part by part
        returns = emitter.returns
        grads = ", ".join(returns)
        result = f"{ids[graph.output]}, ({grads}{',' if len(returns) == 1 else ''})"
        if kept is not None and len(kept) <= CHUNK:
            yield "\n".join([*head, *(f"    {s.text}" for s in kept),
                             f"    return {result}"]) + "\n"
            return
        plan.end([ids[graph.output], *returns])
        yield plan.driver(name, params, head[1], result)
        again = (iter(kept) if kept is not None
                 else _Emitter(graph, inputs, backend, comments, wrt).statements())
        del kept
        yield from plan.parts(again)

    def lines() -> list[str]:
        return "".join(functions()).splitlines()

    namespace = _runtime(backend)
    # The code that runs is .source without its comments (they are for reading; writing
    # them costs a fifth of the compile time of a network). Each function is compiled on
    # its own: CPython's memory for one grows faster than its length.
    for function_source in functions(comments=operations <= ALIAS_ABOVE):
        exec(compile(function_source, f"<compiled {output_name}>", "exec"), namespace)
    function = namespace[name]
    if backend == "numpy":
        import numpy as np

        def run(*values: Any) -> Any:
            # The arrays as they are (NumPy broadcasts each operation); only a result of
            # another shape (a gradient that is a scalar) or an input itself is made anew.
            arrays = [np.asarray(v, dtype=float) for v in values]
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
            given = {id(a) for a in arrays}

            def result(x: Any) -> Any:
                x = np.asarray(x, dtype=float)
                if x.shape != shape:
                    return np.broadcast_to(x, shape).copy()
                return x.copy() if id(x) in given else x

            with np.errstate(all="ignore"):
                value, grads = function(*arrays)
            return result(value), tuple(result(g) for g in grads)
        return _Program(lines, run, operations)
    if backend in ("torch", "jax"):
        from .tensor_backends import tensor_program

        return _Program(lines, tensor_program(backend, function), operations)
    return _Program(lines, function, operations)


class _Plan:
    """How a big graph's statements are cut into functions ``_part_0(v)``, ``_part_1(v)``
    ... of CHUNK statements each, still over names: what one part sets and a later part
    reads is handed over in the list ``v`` (one slot per such name). Seen in one pass over
    the statements, written in a second."""

    def __init__(self, given: set[str]) -> None:
        self.count = 0
        self.where: dict[str, int] = dict.fromkeys(given, -1)  # name -> part that set it last
        self.loads: list[dict[str, None]] = []
        self.stores: list[dict[str, None]] = []
        self.slot: dict[str, int] = {}

    def see(self, line: _Line) -> None:
        part = self.count // CHUNK
        self.count += 1
        if part == len(self.loads):
            self.loads.append({})
            self.stores.append({})
        where = self.where
        for read in line.reads:
            setter = where.get(read, part)
            if setter != part:  # set by an earlier part (or given): handed over
                self.loads[part][read] = None
                if setter >= 0:
                    self.stores[setter][read] = None
        if line.sets:
            where[line.sets] = part

    def end(self, live: list[str]) -> None:
        for name in live:  # what the driver returns is handed back too
            setter = self.where.get(name)
            if setter is not None and setter >= 0:
                self.stores[setter][name] = None
        self.where = {}
        for names in (*self.loads, *self.stores):
            for n in names:
                self.slot.setdefault(n, len(self.slot))
        for n in live:
            if n.isidentifier():
                self.slot.setdefault(n, len(self.slot))

    def driver(self, name: str, params: str, comment: str, result: str) -> str:
        slot = self.slot
        text = [f"def {name}({params}):", comment,
                f"    v = [None] * {len(slot)}  # what the parts hand over"]
        text += [f"    v[{slot[p]}] = {p}" for p in (x.strip() for x in params.split(","))
                 if p in slot]
        text += [f"    _part_{k}(v)" for k in range(len(self.loads))]
        result_text = re.sub(r"\b[A-Za-z_]\w*\b",
                             lambda m: f"v[{slot[m.group(0)]}]" if m.group(0) in slot
                             else m.group(0), result)
        text.append(f"    return {result_text}")
        return "\n".join(text) + "\n"

    def parts(self, statements: Iterator[_Line]) -> Iterator[str]:
        slot = self.slot
        for k in itertools.count():
            block = list(itertools.islice(statements, CHUNK))
            if not block:
                return
            body = [f"def _part_{k}(v):",
                    *(f"    {n} = v[{slot[n]}]" for n in self.loads[k]),
                    *(f"    {line.text}" for line in block),
                    *(f"    v[{slot[n]}] = {n}" for n in self.stores[k])]
            yield "\n".join(body) + "\n"
