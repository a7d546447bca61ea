"""Exercises: grade a student's chain-rule formula, or a primitive's local derivative.

    >>> from autograd_lite.lectures import kramer_chain
    >>> from autograd_lite.exercises import check_formula
    >>> n = kramer_chain()
    >>> check_formula(n["out"], n["w1"], "w2*s2*(1-s2)*s1").correct
    True
    >>> print(check_formula(n["out"], n["w1"], "w2*s1*(1-s1)*s1").message)  # doctest: +ELLIPSIS
    Not dout/dw1: at s0=2, w0=2, w1=1, w2=0.5 your formula gives 0.008673, ...

``check_formula(output, wrt, text)`` reads ``text`` with the graph language's whitelist
(``graph_language.parse_graph``: names, numbers, ``+ - * / **`` and the table's functions,
never ``eval``), allows only the names of the graph's nodes, and compares it with the chain
rule that ``explain(output, wrt)`` writes: at random points inside the graph's domain (the
engine's numbers) and with SymPy, after every intermediate name is replaced by its
expression over the leaves, so that ``s2*(1 - s2)``, ``sigmoid(x2)*(1 - sigmoid(x2))`` and
``out/w2`` are all accepted where they are equal. A wrong formula gets a counterexample
(a point, both numbers) and a diagnosis found by trying the typical mistakes on the true
chain rule until one gives the student's numbers: the sign, a missing path, a local
derivative of the wrong node, a missing (or half a) factor, an extra factor, a constant
factor, a chain that stops early, the derivative with respect to another node.

``check_derivative(name, rule)`` grades a local-derivative rule for a primitive of the table
(``"sigmoid"``, ``"tanh"``, ``"relu"``...), a callable ``rule(*inputs, out, f)`` over a
namespace (as the table writes its own rules) or a formula string over the input names and
``out`` (``"out*(1 - out)"``), against the table's rule: at the lecture's special points
(0, ±1, ...) and random ones, and with SymPy where the primitive is smooth. It says where
the rule differs, and recognises the sign, the variables exchanged (``x*(1 - x)`` for
sigmoid), another primitive's rule, the function itself, a constant factor, and the
convention at a kink (the lecture's ReLU'(0) = 1).

Nothing here differentiates: the reference is always the table, read by ``explain`` or
directly. Text a student writes never raises: a formula that cannot be read gets a
``Verdict`` saying why (``mistake="unreadable"``); only wrong arguments raise.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from .engine import Constant, Value
from .explanation import Explanation, Factor, Path, explain
from .graph import Graph, as_graph
from .graph_language import GraphError, GraphProgram, functions, parse_graph
from .notation import formula as format_formula
from .notation import number as format_number
from .notation import operation, product, sum_of
from .primitives import FLOAT, PRIMITIVES, Primitive
from .symbolic import (
    DEFAULT_SYMPY_TIMEOUT,
    SymbolicDepthError,
    SymbolicTimeoutError,
    run_sympy,
    sympy_expressions,
    sympy_namespace,
    sympy_number,
    to_sympy,
)

__all__ = ["MISTAKES", "Verdict", "check_derivative", "check_formula"]

MISTAKES: dict[str, str] = {
    "unreadable": "the text is not a formula of the allowed names and functions",
    "undefined": "the answer cannot be evaluated at points of the domain",
    "sign": "the right formula with the wrong sign",
    "missing_path": "only some of the paths from wrt to the output are summed",
    "wrong_node": "a local derivative written in the wrong node (s1·(1 − s1) for s2's)",
    "dropped_factor": "a local derivative along the path is missing",
    "partial_factor": "part of a local derivative is missing (s2 without (1 − s2))",
    "extra_factor": "a factor that is no local derivative on the path",
    "constant_factor": "the right formula times a constant",
    "stops_early": "the chain stops before the output (dout/dw1 instead of dC/dw1)",
    "wrong_wrt": "the derivative with respect to another node",
    "wrong_variable": "a derivative rule with its input and output exchanged (x·(1 − x))",
    "other_rule": "another primitive's derivative rule",
    "function_itself": "the function instead of its derivative",
    "convention": "right except at a kink, where the table follows the lecture's convention",
    "one_side": "a piecewise rule right on one side of its kink only",
    "wrong": "wrong, and none of the typical mistakes",
}
"""Every value ``Verdict.mistake`` takes (None when the answer is correct), described."""

DEFAULT_POINTS = 12  # random points a formula is compared at (the graph's own point first)
DEFAULT_RULE_POINTS = 200  # points a derivative rule is compared at (special ones first)
_DIAGNOSIS_POINTS = 8  # points the typical mistakes are tried at
_REL_TOL, _ABS_TOL = 1e-6, 1e-9  # equal numbers (the lecture's forms lose digits near ±1)
_MAX_SUBSET_PATHS = 10  # missing paths: every subset of up to this many paths is tried
_MAX_INLINE_OPERATIONS = 6  # a made-up name (u1) is written out if it is no longer than this
_UNICODE = str.maketrans({"·": "*", "⋅": "*", "×": "*", "−": "-", "–": "-"})
_HEAD = re.compile(r"\s*d\s*([A-Za-z_]\w*)\s*/\s*d\s*([A-Za-z_]\w*)\s*=(?!=)")
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class Verdict:
    """The grade of one answer: ``correct``, and a ``message`` saying why.

    When wrong: ``mistake`` (a key of ``MISTAKES``), ``counterexample`` (the point where the
    answer and the truth differ, by input name), ``answer_value`` and ``expected_value``
    (both numbers there). Always: ``expected`` (the right formula, as text that parses),
    ``answer`` (the text graded), ``proved`` (True: SymPy proved the answer equal to the
    truth; None: not decided symbolically, only by numbers) and ``points`` (how many points
    were compared). A Verdict is true when the answer is correct, and prints its message.
    """

    correct: bool
    message: str
    mistake: str | None = None
    expected: str = ""
    answer: str = ""
    counterexample: dict[str, float] | None = None
    answer_value: float | None = None
    expected_value: float | None = None
    proved: bool | None = None
    points: int = 0

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{'✔' if self.correct else '✘'} {self.message}"


# ---------------------------------------------------------------- reading the answer


class _UnreadableError(Exception):
    """The student's text cannot be graded; the message says why and where."""


def _read(text: str, allowed: Sequence[str], head: tuple[str, str], names_are: str
          ) -> GraphProgram:
    """The answer as a checked one-expression program over ``allowed`` names.

    The graph language's parser does the reading (its whitelist, limits and messages); here
    only what an answer adds: an optional head ``dout/dw1 =``, the middle dot and minus sign
    of the lecture's notation, one expression, and only the names allowed.
    """
    normalized = text.translate(_UNICODE)
    match = _HEAD.match(normalized)
    if match:
        if (match[1], match[2]) != head:
            raise _UnreadableError(f"the formula is headed d{match[1]}/d{match[2]}, but the "
                              f"exercise asks for d{head[0]}/d{head[1]}")
        normalized = " " * match.end() + normalized[match.end():]  # columns stay as typed
    if not normalized.strip():
        raise _UnreadableError("the formula is empty")
    calls = set(functions())
    for called in _CALLED.finditer(normalized):
        name = called[1]
        if name in allowed and name not in calls:
            raise _UnreadableError(
                f"column {called.start(1) + 1}: {name}(...) calls {name}, which is a name "
                f"here, not a function: write the product with '*', as in {name}*(...)")
    try:
        program = parse_graph(normalized)
    except GraphError as error:
        raise _UnreadableError(str(error)) from None
    if len(program.assignments) != 1 or program.assignments[0].target is not None:
        raise _UnreadableError("write one expression (no assignments, no ';'): the formula "
                          f"alone, or headed d{head[0]}/d{head[1]} = ...")
    for name in program.inputs:
        if name not in allowed:
            close = ([a for a in allowed if a.lower() == name.lower()]
                     or difflib.get_close_matches(name, list(allowed), n=1))
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _UnreadableError(f"{program.first_use.get(name, 'column 1')}: {name!r} is not "
                              f"{names_are}{hint}; the names are {', '.join(allowed)}")
    return program


def _body(text: str) -> str:
    """The formula without its head ``dout/dw1 =``, as the student wrote it."""
    match = _HEAD.match(text.translate(_UNICODE))
    return (text[match.end():] if match else text).strip()


def _evaluate(program: GraphProgram, values: Mapping[str, float]) -> float:
    """The answer's number at ``values`` (by name), computed by the engine."""
    result = program.evaluate({name: values[name] for name in program.inputs}).output
    number = float(result.data)
    if not math.isfinite(number):
        raise ValueError(f"the formula's value is {number}")
    return number


def _as_sympy(program: GraphProgram, values: Mapping[str, float]) -> Any:
    """The answer as SymPy over symbols named as written (the engine builds it at a point
    of its domain; ``to_sympy`` writes the graph it built)."""
    result = program.evaluate({name: values[name] for name in program.inputs}).output
    if type(result) is Constant or not program.inputs:
        return sympy_number(float(result.data))
    return to_sympy(result)


def _fx(factor: Factor) -> Any:
    """A factor's formula as SymPy (a rule may give a plain number: sub's -1)."""
    import sympy

    return sympy.sympify(factor.formula)


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def _all_close(values: Sequence[float | None], targets: Sequence[float]) -> bool:
    return all(v is not None and _close(v, t) for v, t in zip(values, targets))


def _num(value: float) -> str:
    return format_number(value, style="ascii")


def _point_text(point: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={_num(value)}" for name, value in point.items())


def _ascii(expression: Any) -> str:
    return format_formula(expression, "ascii")


def _sympy_equal(a: Any, b: Any, timeout: float | None, what: str) -> bool | None:
    """True if SymPy proves ``a == b``, None if it cannot tell (or runs out of time)."""
    import sympy

    def work() -> bool | None:
        difference = a - b
        if difference == 0 or sympy.expand(difference) == 0:
            return True
        return True if sympy.simplify(difference) == 0 else None

    try:
        return run_sympy(work, what=what, timeout=timeout)
    except (SymbolicTimeoutError, SymbolicDepthError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------- check_formula


@dataclass
class _Point:
    """One point of the graph's domain: every node's value, every edge's local derivative,
    and every node's gradient (d output / d node)."""

    values: dict[Value, float]
    local: dict[tuple[Value, int], float]
    grads: dict[Value, float]
    by_name: dict[str, float]


class _Exercise:
    """One d output / d wrt: the graph, its chain rule, points of its domain."""

    def __init__(self, graph: Graph, wrt: Value, points: int, seed: int,
                 timeout: float | None) -> None:
        self.graph = graph
        self.wrt = wrt
        self.timeout = timeout
        self.names = graph.names
        self.out_name = graph.name(graph.output)
        self.wrt_name = self.names.get(wrt, wrt.label or "wrt")
        self.head = f"d{self.out_name}/d{self.wrt_name}"
        self.explanation: Explanation = explain(graph, wrt, timeout=timeout)
        self.paths: list[Path] = self.explanation.paths
        self.factors: list[Factor] = list({id(f): f for p in self.paths for f in p.factors
                                           }.values())
        self.points = self._sample(points, seed)
        self._visible: dict[Value, Any] | None = None
        self._tangents: list[dict[Value, float]] | None = None

    # ------------------------------------------------------------ points

    def _sample(self, count: int, seed: int) -> list[_Point]:
        rng = random.Random(seed)
        leaves = self.graph.leaves
        first = self._point({leaf: float(leaf.data) for leaf in leaves})
        points = [first] if first is not None else []
        tries = 0
        while len(points) < count and tries < 100 * count:
            tries += 1
            moved = {}
            for leaf in leaves:
                step = 0.5 * max(1.0, abs(leaf.data)) * rng.uniform(-1.0, 1.0)
                moved[leaf] = round(leaf.data + step, 3)
            point = self._point(moved)
            if point is not None:
                points.append(point)
        return points

    def _point(self, leaves: Mapping[Value, float]) -> _Point | None:
        """The graph at new leaf values, from the table's rules over floats (None outside
        the domain: a check fails, a number overflows, a derivative is undefined)."""
        values: dict[Value, float] = {}
        local: dict[tuple[Value, int], float] = {}
        try:
            for node in self.graph.reading_order:
                prim = node.primitive
                if prim is None:
                    values[node] = float(leaves[node])
                    continue
                args = [p.data if type(p) is Constant else values[p] for p in node.parents]
                if prim.check is not None and prim.check(*args) is not None:
                    return None
                values[node] = float(prim.forward(*args, FLOAT))
                if not math.isfinite(values[node]):
                    return None
                for position, parent in enumerate(node.parents):
                    if type(parent) is not Constant:
                        slope = float(prim.local_derivative(position, args, values[node], FLOAT))
                        if not math.isfinite(slope):
                            return None
                        local[(node, position)] = slope
        except (ArithmeticError, ValueError, TypeError):
            return None
        grads: dict[Value, float] = {self.graph.output: 1.0}
        for node in self.graph.order:  # output first
            upstream = grads.get(node, 0.0)
            for position, parent in enumerate(node.parents):
                if type(parent) is not Constant:
                    grads[parent] = grads.get(parent, 0.0) + upstream * local[(node, position)]
        if not all(math.isfinite(g) for g in grads.values()):
            return None
        by_name = {self.names[node]: value for node, value in values.items()}
        return _Point(values, local, grads, by_name)

    def leaves_at(self, point: _Point) -> dict[str, float]:
        """The point's inputs by name, in natural order (s0, w0, w1, w2, w10)."""
        named = {self.names[leaf]: point.values[leaf] for leaf in self.graph.leaves}
        return {name: named[name] for name in sorted(named, key=_natural)}

    def truth(self, point: _Point) -> float:
        return point.grads.get(self.wrt, 0.0)

    def tangents(self, points: Sequence[_Point]) -> list[dict[Value, float]]:
        """d node / d wrt for every node, at each point (forward through the table)."""
        result = []
        for point in points:
            tangent: dict[Value, float] = {self.wrt: 1.0}
            for node in self.graph.reading_order:
                if node is self.wrt or node.primitive is None:
                    continue
                tangent[node] = sum(point.local[(node, i)] * tangent.get(p, 0.0)
                                    for i, p in enumerate(node.parents)
                                    if type(p) is not Constant)
            result.append(tangent)
        return result

    # ------------------------------------------------------------ formulas as text

    def symbol(self, node: Value) -> Any:
        import sympy

        return sympy.Symbol(self.names[node])

    def visible(self) -> dict[Any, Any]:
        """Each generated name (u1) as its expression in the graph's other names, written
        as the graph language writes it: arithmetic, and a call as a call (``step(x)``).
        A name that stands for a long expression stays (it is a name a formula may use)."""
        import sympy

        if self._visible is None:
            shown: dict[Value, Any] = {}
            f = sympy_namespace()
            calls = set(functions())
            for node in self.graph.reading_order:
                prim = node.primitive
                if prim is None or not self.graph.is_generated(node):
                    continue
                args = [sympy_number(p.data) if type(p) is Constant
                        else shown.get(p, self.symbol(p)) for p in node.parents]
                if prim.name in calls:
                    written = sympy.Function(prim.name)(*args)
                else:
                    written = prim.forward(*args, f)
                if sympy.count_ops(written) <= _MAX_INLINE_OPERATIONS:
                    shown[node] = written
            self._visible = shown
        return {sympy.Symbol(self.names[node]): e for node, e in self._visible.items()}

    def shown(self, expression: Any) -> tuple[Any, Any]:
        """(its number, the rest in visible names): 2*u1 is (2, target - out)."""
        import sympy

        coefficient, rest = sympy.sympify(expression).as_coeff_Mul()
        return coefficient, rest.xreplace(self.visible())

    def text(self, expression: Any) -> str:
        """A formula in the names a student can use (generated names written out)."""
        coefficient, rest = self.shown(expression)
        if rest == 1:
            return _ascii(coefficient)
        return _ascii(rest) if coefficient == 1 else product([coefficient, rest], "ascii")

    def chain_text(self, paths: Sequence[Path]) -> str:
        """The chain rule in path order, in visible names, each path's numbers gathered in
        front (½ · 2 · (−1) · (target − out) is written out − target, as the slide does)."""
        import sympy

        if not paths:
            return "0"
        terms = []
        for path in paths:
            coefficient: Any = sympy.Integer(1)
            factors = []
            for f in path.factors:
                number, rest = self.shown(_fx(f))
                coefficient *= number
                if rest != 1:
                    factors.append(rest)
            if coefficient == -1:
                flip = next((i for i, x in enumerate(factors) if isinstance(x, sympy.Add)), None)
                if flip is not None:
                    factors[flip] = sympy.expand(-factors[flip])
                    coefficient = sympy.Integer(1)
            if coefficient == 0:
                continue
            if coefficient != 1 or not factors:
                factors.insert(0, coefficient)
            terms.append(_ascii(factors[0]) if len(factors) == 1 else product(factors, "ascii"))
        return sum_of(terms, "ascii") if terms else "0"

    def definition(self, node: Value) -> str:
        prim = node.primitive
        if prim is None:
            return self.names[node]
        inputs = [_num(p.data) if type(p) is Constant else self.names[p] for p in node.parents]
        return f"{self.names[node]} = {operation(prim, inputs, 'ascii')}"

    def edge(self, factor: Factor) -> str:
        """``ds2/dx2 = s2*(1 - s2) (s2 = sigmoid(x2))``: a local derivative, named."""
        node, parent = factor.node, factor.parent
        return (f"d{self.names[node]}/d{self.names[parent]} = {self.text(_fx(factor))} "
                f"({self.definition(node)})")

    def route(self, path: Path) -> str:
        nodes = list(reversed(path.nodes)) or [self.wrt]
        shown = [n for i, n in enumerate(nodes)
                 if i in (0, len(nodes) - 1) or not self.graph.is_generated(n)]
        return " → ".join(self.names[n] for n in shown)

    def upstream(self, node: Value) -> str:
        """d output / d node as the chain rule writes it (visible names, path order)."""
        return self.chain_text(explain(self.graph, node, timeout=self.timeout).paths)

    def edges(self) -> Iterator[Factor]:
        """Every edge of the graph as a Factor (its local derivative in node names)."""
        from .symbolic import local_formula

        for node in self.graph.reading_order:
            if node.primitive is None:
                continue
            for position, parent in enumerate(node.parents):
                if type(parent) is not Constant:
                    yield Factor(node, parent, position,
                                 local_formula(node, position, self.names), 0.0)


def _node(graph: Graph, wrt: Value | str) -> Value:
    if isinstance(wrt, str):
        try:
            return graph.node(wrt)
        except KeyError as error:
            raise ValueError(error.args[0]) from None
    if not isinstance(wrt, Value):
        raise TypeError(f"check_formula(output, wrt, text): wrt must be a Value of the graph "
                        f"or its name, not {type(wrt).__name__}")
    return wrt


def check_formula(output: Value | Graph, wrt: Value | str, text: str, *,
                  points: int = DEFAULT_POINTS, seed: int = 0,
                  timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> Verdict:
    """Grade ``text``, a student's formula for d output / d wrt written in node names.

    ``wrt`` is a node of the graph (or its name). The formula may use any node's name (its
    label, or a generated one such as ``u1``), numbers, ``+ - * / **`` and the table's
    functions (``sigmoid(x2)``); it may be headed ``dout/dw1 =`` and use the lecture's ``·``
    and ``−``. It is compared with ``explain(output, wrt)`` at ``points`` points (the graph's
    own values first, then random ones near them inside the domain, from ``seed``) and with
    SymPy (``proved``). Returns a ``Verdict``; it raises only for arguments that are not a
    graph, a node of it and a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"check_formula: the formula must be a str, not {type(text).__name__}")
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"check_formula: points must be a positive int, not {points!r}")
    graph = as_graph(output)
    wrt = _node(graph, wrt)
    exercise = _Exercise(graph, wrt, points, seed, timeout)
    expected = exercise.chain_text(exercise.paths)
    allowed = list(dict.fromkeys(graph.names[n] for n in graph.reading_order))
    try:
        program = _read(text, allowed, (exercise.out_name, exercise.wrt_name),
                        "a node of this graph")
    except _UnreadableError as error:
        return Verdict(False, f"Cannot read your formula for {exercise.head}: {error}.",
                       "unreadable", expected, text)
    if not exercise.points:  # pragma: no cover - the graph's own point is in its domain
        raise ValueError(f"check_formula: no point of the graph's domain found for "
                         f"{exercise.head}")

    answers: list[float | None] = []
    failure = ""
    for point in exercise.points:
        try:
            answers.append(_evaluate(program, point.by_name))
        except (GraphError, ArithmeticError, ValueError) as error:
            answers.append(None)
            failure = failure or f"at {_point_text(exercise.leaves_at(point))}: {error}"
    truths = [exercise.truth(point) for point in exercise.points]
    defined = [k for k, a in enumerate(answers) if a is not None]
    if len(defined) * 2 < len(answers):
        return Verdict(False, f"Your formula for {exercise.head} cannot be evaluated inside "
                       f"the graph's domain ({failure}).", "undefined", expected, text,
                       points=len(defined))
    wrong = [k for k in defined if not _close(answers[k], truths[k])]  # type: ignore[arg-type]
    if not wrong:
        return _correct(exercise, program, text, expected, len(defined))
    first = wrong[0]
    answer_value = answers[first]
    assert answer_value is not None
    counterexample = exercise.leaves_at(exercise.points[first])
    lead = (f"Not {exercise.head}: at {_point_text(counterexample)} your formula gives "
            f"{_num(answer_value)}, the derivative is {_num(truths[first])}.")
    chosen = [first, *[k for k in defined if k != first]][:_DIAGNOSIS_POINTS]
    if not exercise.paths:
        return Verdict(False, f"{lead} {exercise.head} is 0: {exercise.explanation.note}.",
                       "wrong", expected, text, counterexample, answer_value, truths[first],
                       None, len(defined))
    mistake, hint = _diagnose(exercise, program, [exercise.points[k] for k in chosen],
                              [answers[k] for k in chosen])  # type: ignore[misc]
    return Verdict(False, f"{lead} {hint}", mistake, expected, text, counterexample,
                   answer_value, truths[first], None, len(defined))


def _correct(exercise: _Exercise, program: GraphProgram, text: str, expected: str,
             count: int) -> Verdict:
    import sympy

    leaf_form = {exercise.symbol(node): e for node, e in
                 sympy_expressions(exercise.graph).items() if node.primitive is not None}
    proved = None
    try:
        answer = _as_sympy(program, exercise.points[0].by_name)
    except (GraphError, ArithmeticError, ValueError):
        answer = None
    if answer is not None:
        truth = sympy.sympify(exercise.explanation.expression)
        proved = _sympy_equal(answer.xreplace(leaf_form), truth.xreplace(leaf_form),
                              exercise.timeout, "check_formula")
    how = (f"SymPy proves it equal to the chain rule's {expected}, and they agree at "
           f"{count} points" if proved else
           f"it agrees with the chain rule's {expected} at {count} points (SymPy did not "
           "decide it symbolically)")
    return Verdict(True, f"Correct: {exercise.head} = {_body(text)}: {how}.", None, expected,
                   text, proved=proved, points=count)


# ---------------------------------------------------------------- diagnosis


def _diagnose(exercise: _Exercise, program: GraphProgram, points: list[_Point],
              answers: list[float]) -> tuple[str, str]:
    """The first typical mistake that gives the student's numbers, and what to say."""
    for mistake, hint, values in _mistakes(exercise, points, answers, set(program.inputs)):
        try:
            numbers = values()
        except (ArithmeticError, ValueError, TypeError):
            continue
        if _all_close(answers, numbers):
            return mistake, hint()
    return "wrong", _no_diagnosis(exercise, program, points)


Candidate = tuple[str, Callable[[], str], Callable[[], list[float]]]


def _mistakes(exercise: _Exercise, points: list[_Point], answers: list[float],
              used: set[str]) -> Iterator[Candidate]:
    """The typical mistakes, most telling first: (kind, hint, its numbers at ``points``).

    A mistake that puts a name into the formula (a wrong node, an extra factor) is tried
    only with names the student wrote (``used``): x2 is not "your formula has x2" when the
    student wrote s1*w1.
    """
    import sympy

    e = exercise
    truth = [e.truth(p) for p in points]
    paths = e.paths
    slope = {id(f): [p.local[(f.node, f.position)] for p in points] for f in e.factors}

    def total(selected: Sequence[Path], replace: Mapping[int, list[float]] | None = None,
              drop: frozenset[int] = frozenset()) -> list[float]:
        """The sum over ``selected`` paths of their products, some factors changed."""
        sums = [0.0] * len(points)
        for path in selected:
            for k in range(len(points)):
                value = 1.0
                for f in path.factors:
                    if id(f) not in drop:
                        value *= (replace or {}).get(id(f), slope[id(f)])[k]
                sums[k] += value
        return sums

    def at(expression: Any) -> list[float]:
        """A formula in node names at each point."""
        out = []
        for p in points:
            number = complex(expression.xreplace(
                {sympy.Symbol(n): sympy.Float(v) for n, v in p.by_name.items()}))
            if number.imag or not math.isfinite(number.real):
                raise ValueError("not a real number")
            out.append(number.real)
        return out

    def changed(f: Factor, formula: Any) -> list[float]:
        return total(paths, {id(f): at(formula)})

    def dropped(*gone: Factor) -> list[float]:
        return total(paths, drop=frozenset(id(f) for f in gone))

    def kept(indices: tuple[int, ...]) -> list[float]:
        return total([paths[i] for i in indices])

    def times(formula: Any) -> list[float]:
        return [t * x for t, x in zip(truth, at(formula))]

    # 1. The sign.
    yield "sign", partial(_sign_hint, e), partial(lambda: [-t for t in truth])

    # 2. Missing paths: the answer is the sum over some of them.
    if len(paths) > 1:
        sizes = (range(len(paths) - 1, 0, -1) if len(paths) <= _MAX_SUBSET_PATHS
                 else (len(paths) - 1, 1))
        for size in sizes:
            for indices in itertools.combinations(range(len(paths)), size):
                yield ("missing_path", partial(_missing_path_hint, e, indices),
                       partial(kept, indices))

    factors = [f for f in e.factors if _fx(f).free_symbols]  # numbers: sign, constant
    nodes = e.graph.reading_order

    # 3. A local derivative written in the wrong node: s1*(1 - s1) for ds2/dx2.
    for f in factors:
        for symbol in sorted(_fx(f).free_symbols, key=str):
            for other in nodes:
                if e.names[other] == str(symbol) or e.names[other] not in used:
                    continue
                formula = _fx(f).xreplace({symbol: sympy.Symbol(e.names[other])})
                if formula != _fx(f):
                    yield ("wrong_node", partial(_wrong_node_hint, e, f, formula, str(symbol),
                                                 other), partial(changed, f, formula))

    # 4. A dropped local derivative (in every path that has it).
    for f in factors:
        yield "dropped_factor", partial(_dropped_hint, e, f), partial(dropped, f)

    # 5. Half a local derivative: s2 without (1 - s2).
    for f in factors:
        parts = [a for a in sympy.Mul.make_args(_fx(f)) if a.free_symbols]
        if len(parts) > 1:
            for part in parts:
                rest = _fx(f) / part
                yield ("partial_factor", partial(_partial_hint, e, f, rest),
                       partial(changed, f, rest))

    # 6. An extra factor: an edge off the paths, a factor twice, a node's value.
    for edge in e.edges():
        if _fx(edge).free_symbols and {str(s) for s in _fx(edge).free_symbols} <= used:
            yield "extra_factor", partial(_extra_hint, e, edge), partial(times, _fx(edge))
    for node in nodes:
        if e.names[node] not in used:
            continue
        yield ("extra_factor", partial(_extra_name_hint, e, node),
               partial(times, e.symbol(node)))

    # 7. A constant factor (the 1/2 of the cost and the 2 of the square).
    if (all(t != 0 for t in truth) and answers[0] != 0
            and not _close(abs(answers[0] / truth[0]), 1.0)):
        ratio = answers[0] / truth[0]
        yield ("constant_factor", partial(_constant_hint, e, ratio),
               partial(lambda: [t * ratio for t in truth]))

    # 8. The chain stops early: the answer is d node / d wrt for a node below the output.
    on_paths = e.graph.on_paths_to(e.wrt)
    below = [n for n in nodes if n in on_paths and n is not e.graph.output and n is not e.wrt]
    if below:
        tangents = e.tangents(points)
        for node in below:
            yield ("stops_early", partial(_stops_early_hint, e, node),
                   partial(lambda node: [t[node] for t in tangents], node))

    # 9. The derivative with respect to another node.
    for node in nodes:
        if node is not e.wrt and node is not e.graph.output:
            yield ("wrong_wrt", partial(_wrong_wrt_hint, e, node),
                   partial(lambda node: [p.grads.get(node, 0.0) for p in points], node))

    # 10. Two dropped local derivatives.
    for f, g in itertools.combinations(factors, 2):
        yield "dropped_factor", partial(_dropped_two_hint, e, f, g), partial(dropped, f, g)


def _missing_path_hint(e: _Exercise, kept: tuple[int, ...]) -> str:
    paths = e.paths
    missing = [paths[i] for i in range(len(paths)) if i not in kept]
    has = "; ".join(e.route(paths[i]) for i in kept)
    return (f"The graph has {len(paths)} paths from {e.wrt_name} to {e.out_name}; your "
            f"formula has {len(kept)} of them ({has}). Missing: "
            f"{'; '.join(e.route(p) for p in missing)}. The chain rule adds the product of "
            "the local derivatives along every path.")


def _dropped_hint(e: _Exercise, f: Factor) -> str:
    return (f"A factor is missing: {e.edge(f)}. Every edge on the path from {e.wrt_name} "
            f"to {e.out_name} contributes its local derivative.")


def _dropped_two_hint(e: _Exercise, f: Factor, g: Factor) -> str:
    return f"Two factors are missing: {e.edge(f)}, and {e.edge(g)}."


def _partial_hint(e: _Exercise, f: Factor, rest: Any) -> str:
    prim = f.node.primitive
    assert prim is not None
    return (f"Part of a local derivative is missing: {e.edge(f)}, {prim.name}'s rule; your "
            f"formula has only {e.text(rest)} of it.")


def _extra_hint(e: _Exercise, edge: Factor) -> str:
    if any(f.node is edge.node and f.position == edge.position for f in e.factors):
        return (f"The factor {e.edge(edge)} is in your formula twice; each edge on a path "
                "contributes its local derivative once.")
    return (f"An extra factor {e.text(_fx(edge))}: that is {e.edge(edge)}, on the edge "
            f"{e.names[edge.parent]} → {e.names[edge.node]}, which no path from "
            f"{e.wrt_name} to {e.out_name} takes.")


def _extra_name_hint(e: _Exercise, node: Value) -> str:
    return (f"An extra factor {e.names[node]}: no local derivative between {e.wrt_name} "
            f"and {e.out_name} calls for it.")


def _stops_early_hint(e: _Exercise, node: Value) -> str:
    name = e.names[node]
    return (f"Your formula is d{name}/d{e.wrt_name}: the chain stops at {name}. It goes on "
            f"up to {e.out_name}: multiply by d{e.out_name}/d{name} = {e.upstream(node)}.")


def _wrong_wrt_hint(e: _Exercise, node: Value) -> str:
    name = e.names[node]
    return (f"Your formula is d{e.out_name}/d{name}, the derivative with respect to {name}, "
            f"not {e.wrt_name}.")


def _constant_hint(e: _Exercise, ratio: float) -> str:
    squares = any(n.primitive is not None and n.primitive.name == "pow"
                  and type(n.parents[1]) is Constant and n.parents[1].data == 2
                  for n in e.graph.reading_order)
    note = (" Differentiating a square gives a 2 that the 1/2 in front of it cancels."
            if squares and any(_close(ratio, r) for r in (2.0, 0.5)) else "")
    return f"Off by a constant factor: your formula is {_num(ratio)} times {e.head}.{note}"


def _sign_hint(e: _Exercise) -> str:
    """The sign: name the −1 on the path (d(target − out)/dout) when there is one."""
    import sympy

    text = f"The sign is wrong: your formula is minus {e.head}."
    for path in e.paths:
        for f in path.factors:
            formula = _fx(f)
            if formula.free_symbols or not formula < 0:
                continue
            node, parent = e.names[f.node], e.names[f.parent]
            said = (f"{text} On the way the chain passes {e.definition(f.node)}, whose local "
                    f"derivative d{node}/d{parent} is {e.text(formula)}")
            if f.parent is e.wrt:
                return said + "."
            # the chain above parent with one more -1: what the student's sign amounts to
            part = explain(e.graph, f.parent, timeout=e.timeout)
            flipped = e.chain_text([Path((Factor(f.node, f.parent, 0, sympy.Integer(-1), -1.0),
                                          *p.factors)) for p in part.paths])
            return f"{said}: so d{e.out_name}/d{parent} = {e.upstream(f.parent)}, not {flipped}."
    below = [n for n in e.paths[0].nodes[1:] if n is not e.wrt and not e.graph.is_generated(n)]
    if below:  # the output's end of the chain, where a cost's difference is
        upper = e.upstream(below[0])
        if " - " in upper or " + " in upper:
            return (f"{text} Check the output's end of the chain: "
                    f"d{e.out_name}/d{e.names[below[0]]} = {upper}.")
    return f"{text} Check the sign of each local derivative (d(a - b)/db = -1)."


def _wrong_node_hint(e: _Exercise, f: Factor, changed: Any, symbol: str, other: Value) -> str:
    node = f.node
    prim = node.primitive
    assert prim is not None
    right = e.text(_fx(f))
    lead = (f"A local derivative in the wrong node: d{e.names[node]}/d{e.names[f.parent]} "
            f"({e.definition(node)}) is {right}; your formula has {e.text(changed)} there")
    if symbol == e.names[node] and other in node.parents:
        return (f"{lead}. {prim.name}'s slope is written in its output {symbol}, not in its "
                f"input {e.names[other]}.")
    for edge in e.edges():
        if _fx(edge) == changed and not (edge.node is node and edge.position == f.position):
            where = (", the derivative with respect to the other input" if edge.node is node
                     else f" ({e.definition(edge.node)})")
            return (f"{lead}, which is d{e.names[edge.node]}/d{e.names[edge.parent]}"
                    f"{where}.")
    return f"{lead}."


def _no_diagnosis(exercise: _Exercise, program: GraphProgram, points: list[_Point]) -> str:
    """No single typical mistake fits: compare the answer's factors with the path's."""
    import sympy

    e = exercise
    paths = e.paths
    try:
        answer = _as_sympy(program, points[0].by_name)
    except (GraphError, ArithmeticError, ValueError):
        answer = None
    terms = len(sympy.Add.make_args(sympy.expand(answer))) if answer is not None else 0
    if len(paths) != 1:
        yours = f"; your formula has {terms} terms" if terms else ""
        return (f"The graph has {len(paths)} paths from {e.wrt_name} to {e.out_name} "
                f"({'; '.join(e.route(p) for p in paths)}): the chain rule adds the product "
                f"of the local derivatives along each{yours}.")
    route = e.route(paths[0])
    if answer is None or isinstance(answer, sympy.Add):
        return (f"There is one path from {e.wrt_name} to {e.out_name} ({route}): the chain "
                "rule is one product, of the local derivatives along it"
                + (", and your formula is a sum." if answer is not None else "."))

    def values(expression: Any) -> list[float] | None:
        try:
            return [float(expression.xreplace({sympy.Symbol(n): sympy.Float(v)
                                               for n, v in p.by_name.items()})) for p in points]
        except (TypeError, ValueError):
            return None

    parts = [a for a in sympy.Mul.make_args(answer) if a.free_symbols]
    part_values = [values(a) for a in parts]
    has, lacks = [], []
    matched: set[int] = set()
    for f in paths[0].factors:
        if _fx(f) == 1 or not _fx(f).free_symbols:
            continue
        wanted = [p.local[(f.node, f.position)] for p in points]
        match = next((i for i, v in enumerate(part_values)
                      if i not in matched and v is not None and _all_close(v, wanted)), None)
        if match is None:
            lacks.append(e.edge(f))
        else:
            matched.add(match)
            has.append(e.text(_fx(f)))
    extra = [_ascii(parts[i]) for i in range(len(parts)) if i not in matched]
    said = [f"The chain rule multiplies the local derivatives along the path {route}."]
    if has:
        said.append(f"Your formula has {', '.join(has)} of them.")
    if lacks:
        said.append(f"It lacks {'; '.join(lacks)}.")
    if extra:
        said.append(f"It has {', '.join(extra)}, which {'is' if len(extra) == 1 else 'are'} "
                    "no local derivative on the path.")
    return " ".join(said)


# ---------------------------------------------------------------- check_derivative


def _primitive(name: str | Primitive) -> Primitive:
    if isinstance(name, Primitive):
        prim = name
    elif isinstance(name, str):
        found = PRIMITIVES.get(name)
        if found is None or found.internal:
            known = [n for n, p in PRIMITIVES.items() if not p.internal and p.inputs is not None]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"check_derivative: no primitive named {name!r}{hint}; the "
                             f"table has {', '.join(known)}")
        prim = found
    else:
        raise TypeError(f"check_derivative: name must be a primitive's name (a str), not "
                        f"{type(name).__name__}")
    if prim.inputs is None:
        raise ValueError(f"check_derivative: {prim.name} takes any number of inputs; only a "
                         "primitive with fixed inputs has one rule per input to grade")
    return prim


def _position(prim: Primitive, wrt: str | int | None) -> int:
    names = prim.input_names
    if wrt is None:
        return 0
    if isinstance(wrt, str) and wrt in names:
        return names.index(wrt)
    if isinstance(wrt, int) and not isinstance(wrt, bool) and 0 <= wrt < len(names):
        return wrt
    raise ValueError(f"check_derivative: wrt must be one of {prim.name}'s inputs "
                     f"({', '.join(names)}) or its position, not {wrt!r}")


def _specials(prim: Primitive, i: int) -> tuple[list[float], Callable[[random.Random], float]]:
    """The points an input is tried at first (its kink, ±1, ...) and how to draw more."""
    spec = prim.inputs[i] if prim.inputs is not None else None
    tag = prim.smooth[i] if i < len(prim.smooth) else None
    if spec is not None and spec.default is not None:  # a parameter: leaky_relu's alpha
        return ([spec.default, 0.1, 0.2, 0.5],
                lambda rng: round(rng.uniform(0.0, 0.9), 3))
    if tag == "positive":
        return ([1.0, 0.5, 2.0, 0.1, 3.0, 0.01, 10.0],
                lambda rng: round(rng.uniform(0.01, 6.0), 3))
    return ([0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-3, -1e-3, 3.0, -3.0, 6.0, -6.0],
            lambda rng: round(rng.uniform(-6.0, 6.0), 3))


def _rule_points(prim: Primitive, position: int, count: int, seed: int
                 ) -> list[tuple[tuple[float, ...], float, float]]:
    """(inputs, out, the table's slope) at special points, then random ones, in the domain."""
    rng = random.Random(seed)
    arity = prim.arity or 0
    specials = [_specials(prim, i) for i in range(arity)]
    cap = 13 if arity == 1 else 6
    chosen: list[tuple[float, ...]] = list(itertools.product(*(s[:cap] for s, _ in specials)))
    tries = 0
    while len(chosen) < 4 * count and tries < 40 * count:
        tries += 1
        chosen.append(tuple(draw(rng) for _, draw in specials))
    seen: set[tuple[float, ...]] = set()
    points = []
    for args in chosen:
        if args in seen:
            continue
        seen.add(args)
        try:
            if prim.check is not None and prim.check(*args) is not None:
                continue
            out = float(prim.forward(*args, FLOAT))
            slope = float(prim.local_derivative(position, args, out, FLOAT))
        except (ArithmeticError, ValueError, TypeError):
            continue
        if math.isfinite(out) and math.isfinite(slope):
            points.append((args, out, slope))
        if len(points) == count:
            break
    return points


class _Rule:
    """A student's rule, callable on numbers (and on SymPy where it can be)."""

    def __init__(self, prim: Primitive, position: int, rule: Callable[..., Any] | str) -> None:
        self.prim = prim
        self.names = prim.input_names
        self.program: GraphProgram | None = None
        self.function: Callable[..., Any] | None = None
        self.with_namespace = True
        if isinstance(rule, str):
            self.text = rule.strip()
            self.program = _read(rule, [*self.names, "out"], ("out", self.names[position]),
                                 f"an input of {prim.name} or out")
        elif callable(rule):
            self.function = rule
            self.with_namespace = self._takes_namespace(rule)
            self.text = self._describe(rule)
        else:
            raise TypeError(f"check_derivative: the rule must be a callable "
                            f"rule({', '.join(self.names)}, out, f) or a formula string, not "
                            f"{type(rule).__name__}")

    def _takes_namespace(self, rule: Callable[..., Any]) -> bool:
        arity = len(self.names)
        wanted = f"({', '.join(self.names)}, out, f)"
        try:
            parameters = list(inspect.signature(rule).parameters.values())
        except (TypeError, ValueError):  # a builtin without a signature: try the table's way
            return True
        if any(p.kind is p.VAR_POSITIONAL for p in parameters):
            return True
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                          p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in positional if p.default is p.empty]
        if len(required) <= arity + 2 <= len(positional):
            return True
        if len(required) <= arity + 1 <= len(positional):
            return False
        raise _UnreadableError(f"the rule takes {len(required)} argument"
                               f"{'' if len(required) == 1 else 's'}; a rule for "
                               f"{self.prim.name} takes {wanted} (or without f)")

    def _describe(self, rule: Callable[..., Any]) -> str:
        """``your rule (out*(1 - out))`` when it runs on SymPy symbols, else its name."""
        import sympy

        name = getattr(rule, "__name__", "")
        called = "your rule" if not name or name == "<lambda>" else name
        symbols = sympy.symbols(" ".join(self.names), seq=True)
        written = self.sympy(symbols, sympy.Symbol("out"), ((), 0.0))
        return f"{called} ({_display(written)})" if written is not None else called

    def __call__(self, args: Sequence[float], out: float) -> float:
        if self.program is not None:
            values = dict(zip(self.names, args))
            values["out"] = out
            return _evaluate(self.program, values)
        assert self.function is not None
        extra = (FLOAT,) if self.with_namespace else ()
        number = float(self.function(*args, out, *extra))
        if not math.isfinite(number):
            raise ValueError(f"the rule's value is {number}")
        return number

    def sympy(self, symbols: Sequence[Any], out: Any, point: tuple[tuple[float, ...], float]
              ) -> Any:
        """The rule over SymPy (None where it only runs on numbers: ``if``, ``math.exp``)."""
        import sympy

        try:
            if self.program is not None:
                values = dict(zip(self.names, point[0]))
                values["out"] = point[1]
                written = _as_sympy(self.program, values)
                return written.xreplace({sympy.Symbol(n): s for n, s in
                                         zip([*self.names, "out"], [*symbols, out])})
            assert self.function is not None
            extra = (sympy_namespace(),) if self.with_namespace else ()
            result = self.function(*symbols, out, *extra)
            return None if isinstance(result, str) else sympy.sympify(result)
        except Exception:  # a student's rule may fail on symbols in any way
            return None


def _rule_text(prim: Primitive, position: int, rule: Callable[..., Any]) -> str:
    """A table rule as the lecture writes it, over the input names and ``out``."""
    import sympy

    symbols = sympy.symbols(" ".join(prim.input_names), seq=True)
    return _display(rule(position, symbols, sympy.Symbol("out"), sympy_namespace()))


def _display(expression: Any) -> str:
    """ASCII (it pastes into Python), but a piecewise rule as the lecture reads it."""
    import sympy

    pieces = isinstance(expression, sympy.Basic) and expression.has(sympy.Piecewise)
    return format_formula(expression, "unicode" if pieces else "ascii")


def check_derivative(name: str | Primitive, rule: Callable[..., Any] | str, *,
                     wrt: str | int | None = None, points: int = DEFAULT_RULE_POINTS,
                     seed: int = 0, timeout: float | None = DEFAULT_SYMPY_TIMEOUT) -> Verdict:
    """Grade a student's local-derivative rule for the primitive ``name`` of the table.

    ``rule`` is a callable ``rule(*inputs, out, f)`` over the namespace ``f`` (as the table
    writes its rules: ``lambda x, out, f: out * (1 - out)``; ``rule(*inputs, out)`` works too),
    or a formula string over the input names and ``out`` (``"out*(1 - out)"``, optionally
    headed ``dout/dx =``), read with the graph language's whitelist. ``wrt`` picks the input
    of a primitive with several (a name or a position; the first by default). The rule is
    compared with the table's at special points (the kink 0, ±1, ...) and random ones (from
    ``seed``), ``points`` in all, and, where the primitive is smooth, with SymPy.
    """
    prim = _primitive(name)
    position = _position(prim, wrt)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"check_derivative: points must be a positive int, not {points!r}")
    x = prim.input_names[position]
    head = f"{prim.name}'s dout/d{x}"
    table = _rule_points(prim, position, points, seed)
    # The lecture's form of the rule, unless it differs from the rule backward uses at some
    # point (abs: "1 if x >= 0, else -1" against sign(x), which is 0 at 0).
    differs = any(not _close(float(prim.shown_derivative(position, args, out, FLOAT)), slope)
                  for args, out, slope in table)
    expected = _rule_text(prim, position,
                          prim.local_derivative if differs else prim.shown_derivative)
    try:
        student = _Rule(prim, position, rule)
    except _UnreadableError as error:
        return Verdict(False, f"Cannot read your rule for {head}: {error}.", "unreadable",
                       expected, rule if isinstance(rule, str) else "")
    answer = student.text
    answers: list[float | None] = []
    errors: list[str] = []
    for args, out, _ in table:
        try:
            answers.append(student(args, out))
            errors.append("")
        except (GraphError, ArithmeticError, ValueError, TypeError) as error:
            answers.append(None)
            errors.append(str(error) if isinstance(error, GraphError)
                          else f"{type(error).__name__}: {error}")
    truths = [slope for _, _, slope in table]
    wrong = [k for k, a in enumerate(answers) if a is None or not _close(a, truths[k])]
    kinks = [i for i, tag in enumerate(prim.smooth) if tag == "kink"]

    def at(k: int) -> dict[str, float]:
        return dict(zip(prim.input_names, table[k][0]))

    def is_kink(k: int) -> bool:
        return any(table[k][0][i] == 0 for i in kinks)

    if not wrong:
        return _rule_correct(prim, position, student, table, head, expected, answer,
                             [k for k in range(len(table)) if is_kink(k)], timeout)
    first = wrong[0]
    got = answers[first]
    there = f"at {_point_text(at(first))}"
    lead = (f"Not {head}: {there} your rule fails ({errors[first]}), the table's rule "
            f"gives {_num(truths[first])}." if got is None else
            f"Not {head}: {there} your rule gives {_num(got)}, the table's rule gives "
            f"{_num(truths[first])}.")
    mistake, hint = _diagnose_rule(prim, position, student, table, answers, wrong, is_kink,
                                   kinks)
    return Verdict(False, f"{lead} {hint}".strip(), mistake, expected, answer, at(first), got,
                   truths[first], None, len(table))


def _kink_note(prim: Primitive, x: str, slope: float) -> str:
    if prim.name == "relu":
        return ("the table follows the lecture's ReLU' = 1 (z ≥ 0), 0 (z < 0), so "
                "ReLU'(0) = 1; PyTorch and micrograd use 0 there")
    if prim.name == "leaky_relu":
        return ("the table follows the lecture's convention for ReLU, ReLU'(0) = 1: the slope "
                "at 0 is 1; PyTorch uses alpha there")
    return f"the table's slope at the kink {x} = 0 is {_num(slope)}"


def _rule_correct(prim: Primitive, position: int, student: _Rule,
                  table: list[tuple[tuple[float, ...], float, float]], head: str,
                  expected: str, answer: str, kinks: list[int],
                  timeout: float | None) -> Verdict:
    import sympy

    x = prim.input_names[position]
    proved = None
    if not any(tag == "kink" for tag in prim.smooth) and table:
        symbols = [sympy.Symbol(n, positive=True) if tag == "positive" else
                   sympy.Symbol(n, real=True) for n, tag in
                   itertools.zip_longest(prim.input_names, prim.smooth[:len(prim.input_names)])]
        f = sympy_namespace()
        out = prim.forward(*symbols, f)
        written = student.sympy(symbols, out, table[0][:2])
        if written is not None:
            truth = prim.shown_derivative(position, symbols, out, f)
            proved = _sympy_equal(written, truth, timeout, "check_derivative")
    how = (f"SymPy proves it equal to the table's {expected}, and they agree at "
           f"{len(table)} points" if proved else
           f"it agrees with the table's rule {expected} at {len(table)} points")
    if kinks:
        how += f", including the kink {x} = 0 ({_kink_note(prim, x, table[kinks[0]][2])})"
    return Verdict(True, f"Correct: {answer} is {head}: {how}.", None, expected, answer,
                   proved=proved, points=len(table))


def _diagnose_rule(prim: Primitive, position: int, student: _Rule,
                   table: list[tuple[tuple[float, ...], float, float]],
                   answers: list[float | None], wrong: list[int],
                   is_kink: Callable[[int], bool], kinks: list[int]) -> tuple[str, str]:
    x = prim.input_names[position]
    truths = [slope for _, _, slope in table]
    if all(is_kink(k) for k in wrong):
        k = wrong[0]
        got = answers[k]
        yours = "fails" if got is None else f"gives {_num(got)}"
        return ("convention",
                f"Your rule agrees with the table everywhere except at the kink {x} = 0, "
                f"where yours {yours}: {_kink_note(prim, x, truths[k])}.")
    defined = [k for k, a in enumerate(answers) if a is not None]
    if len(defined) * 2 < len(answers):
        return "undefined", "Your rule cannot be evaluated at most points of the domain."
    if all(answers[k] is None for k in wrong):
        return ("undefined", f"Your rule agrees with the table wherever it can be evaluated, "
                f"but fails at {len(wrong)} point{'s' if len(wrong) > 1 else ''} of the domain "
                "where the table's rule is defined (its limit there).")
    mine = [answers[k] for k in defined]

    def matches(numbers: Callable[[int], float]) -> bool:
        try:
            return _all_close(mine, [numbers(k) for k in defined])
        except (ArithmeticError, ValueError, TypeError):
            return False

    if any(truths[k] != 0 for k in defined) and matches(lambda k: -truths[k]):
        return "sign", "The sign is wrong: your rule is minus the table's."
    if prim.arity == 1:
        def swapped(k: int) -> float:
            (value,), out, _ = table[k]
            return student((out,), value)

        if _all_close([truths[k] for k in defined],
                      [_safe(swapped, k) for k in defined]):
            uses_out = "out" in _rule_text(prim, position, prim.shown_derivative)
            written = (f"{prim.name}'s slope is written in its output, out" if uses_out else
                       f"{prim.name}'s slope is written in its input, {x}")
            return ("wrong_variable", f"Your rule has {x} and out the wrong way round: it "
                    f"would be right with the two exchanged. {written}.")
    if matches(lambda k: table[k][1]):
        return ("function_itself", f"Your rule gives the function itself, out = "
                f"{prim.name}({', '.join(prim.input_names)}), not its slope.")
    def slope(rule: Primitive, j: int, own: bool, k: int) -> float:
        args, out, _ = table[k]
        return float(rule.local_derivative(j, args, rule.forward(*args, FLOAT) if own else out,
                                           FLOAT))

    def form(rule: Primitive, k: int) -> float:
        return float(rule.shown_derivative(0, table[k][0], table[k][1], FLOAT))

    for j in range(prim.arity or 0):
        if j != position and matches(partial(slope, prim, j, False)):
            return ("wrong_wrt", f"Your rule is dout/d{prim.input_names[j]}, the slope with "
                    f"respect to the other input, not dout/d{x}.")
    if prim.arity == 1:
        for other in PRIMITIVES.values():
            if other is prim or other.internal or other.arity != 1 or _constant_rule(other):
                continue
            if matches(partial(form, other)):
                return ("other_rule", f"Your rule has the form of {other.name}'s derivative "
                        f"({_rule_text(other, 0, other.shown_derivative)} in its output), not "
                        f"{prim.name}'s.")
            if matches(partial(slope, other, 0, True)):
                return ("other_rule", f"Your rule is {other.name}'s derivative, not "
                        f"{prim.name}'s.")
    first = defined[0]
    if all(truths[k] != 0 for k in defined):
        ratio = mine[0] / truths[first]  # type: ignore[operator]
        if ratio != 0 and not _close(abs(ratio), 1.0) and matches(lambda k: ratio * truths[k]):
            return ("constant_factor",
                    f"Off by a constant factor: your rule is {_num(ratio)} times the table's.")
    for i in kinks:
        for side, opposite, sign in ((">", "<", 1.0), ("<", ">", -1.0)):
            here = [k for k in defined if sign * table[k][0][i] > 0]
            there = [k for k in wrong if sign * table[k][0][i] < 0]
            if here and there and not any(sign * table[k][0][i] > 0 for k in wrong):
                name = prim.input_names[i]
                k = there[0]
                return ("one_side", f"Your rule is right for {name} {side} 0 but not for "
                        f"{name} {opposite} 0: at {name} = {_num(table[k][0][i])} the table's "
                        f"rule gives {_num(truths[k])}.")
    return ("wrong", f"It differs at {len(wrong)} of {len(table)} points.")


def _constant_rule(prim: Primitive) -> bool:
    """Is the primitive's slope a constant (neg's -1, step's 0)? Then matching it says
    nothing about a rule."""
    import sympy

    x, out = sympy.symbols("x out")
    f = sympy_namespace()
    return not any(sympy.sympify(rule(0, [x], out, f)).free_symbols
                   for rule in (prim.shown_derivative, prim.local_derivative))


def _safe(function: Callable[[int], float], k: int) -> float:
    try:
        return function(k)
    except (GraphError, ArithmeticError, ValueError, TypeError):
        return math.nan
