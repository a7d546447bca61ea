"""The command line's graph language: assignments of arithmetic over named values.

    x1 = w0*s0; s1 = sigmoid(x1); x2 = w1*s1; s2 = sigmoid(x2); out = w2*s2

One or more statements separated by ``;`` or newlines. Each ``name = expression`` makes a
node labelled ``name``; the last statement is the output (a bare expression is allowed
there and is labelled ``out``). Names that are read but never assigned are the inputs
(leaves); their numbers come from ``--at name=value,...`` or a values file.

Allowed: names, numbers, ``+ - * / **``, unary ``-`` and ``+``, parentheses, and calls of
the engine's primitives (``FUNCTIONS``). The text is parsed into a syntax tree with
Python's ``ast`` module and every node of that tree is checked against a whitelist;
nothing the user writes is ever evaluated, executed or compiled to code. Evaluation walks
the checked tree and calls the engine (``engine.apply`` with the primitives table), so
this module computes nothing itself: no constant folding, no big integers — every number
becomes a float before the engine sees it, and ``9**9**9**9`` is a float overflow the
engine reports, not a computation that hangs.

Every problem raises ``GraphError`` (a ``ValueError``) whose message says what is wrong
and where (line and column, and the offending piece of text).

Why one module of this size (about 780 lines): the whitelist checker, the token-level
limits and the evaluator must agree on exactly one language; most of the lines are the
messages that say, for each kind of text that is not allowed, what is wrong with it.
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import keyword
import math
import re
import tokenize
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import Constant, Value, apply
from .primitives import PRIMITIVES

__all__ = [
    "FUNCTIONS", "MAX_NESTING", "MAX_OPERATIONS", "MAX_TEXT_LENGTH", "Assignment",
    "EvaluatedGraph", "GraphError", "GraphProgram", "evaluate_graph", "functions", "parse_graph",
    "parse_values",
]



def functions() -> tuple[str, ...]:
    """The functions a graph may call: every primitive of the table written as a call
    (sigmoid(x), leaky_relu(x, alpha)), built in or added with ``defprimitive``. The
    operators + - * / ** and unary - are the table's infix and prefix primitives."""
    return tuple(name for name, p in PRIMITIVES.items()
                 if p.notation.style == "call" and not p.internal and p.inputs is not None)


FUNCTIONS: tuple[str, ...] = functions()  # the built-in ones (functions() also lists added ones)

# Resource limits, checked on the text before Python's parser sees it. The parser itself
# gives up on deep nesting and on long chains of operators, but where it does depends on the
# Python version (3.11: 2989 unary minuses; 3.10 and 3.13: 5970), and so does its message.
# Below these limits every supported version parses (the shortest chain that fails on any of
# them has about 2,980 operators), so a graph gets the same answer on every Python.
MAX_TEXT_LENGTH = 10_000  # characters of graph text
MAX_NESTING = 50  # open parentheses at once
MAX_OPERATIONS = 2_000  # operators and function calls in the whole graph
MAX_VALUES_LENGTH = 1_000_000  # characters of a values file

# Python's operators, by the symbol the table writes them with (its infix notation).
_AST_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.USub: "-",
}


def _operator_primitive(op: ast.AST, style: str) -> Any:
    """The table's primitive written with this operator (``*`` is mul), or None."""
    symbol = _AST_SYMBOLS.get(type(op))
    for primitive in PRIMITIVES.values():
        if primitive.notation.style == style and primitive.notation.symbol == symbol:
            return primitive
    return None
_OPERATOR_ADVICE: dict[type[ast.AST], str] = {
    ast.FloorDiv: "'//' (floor division) is not allowed; use '/'",
    ast.Mod: "'%' (modulo) is not allowed",
    ast.MatMult: "'@' (matrix product) is not allowed; the engine works on scalars",
    ast.LShift: "'<<' is not allowed", ast.RShift: "'>>' is not allowed",
    ast.BitAnd: "'&' is not allowed", ast.BitOr: "'|' is not allowed",
    ast.BitXor: "'^' is not allowed; write powers as '**'",
    ast.Invert: "'~' is not allowed", ast.Not: "'not' is not allowed",
}
# What a rejected piece of syntax is called in an error message.
_SYNTAX_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing",
    ast.Lambda: "lambda", ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension", ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression", ast.NamedExpr: "':=' (walrus)",
    ast.Starred: "'*' unpacking", ast.JoinedStr: "an f-string", ast.List: "a list",
    ast.Tuple: "a tuple (a stray comma?)", ast.Dict: "a dict", ast.Set: "a set",
    ast.Compare: "a comparison", ast.BoolOp: "'and'/'or'", ast.IfExp: "'if ... else'",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield from",
    ast.Slice: "a slice", ast.FormattedValue: "an f-string",
}
_STATEMENT_NAMES: dict[type[ast.AST], str] = {
    ast.Import: "an import", ast.ImportFrom: "an import", ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition", ast.ClassDef: "a class definition",
    ast.AugAssign: "an augmented assignment ('+=' and friends)",
    ast.AnnAssign: "an annotated assignment", ast.Delete: "'del'", ast.Global: "'global'",
    ast.Nonlocal: "'nonlocal'", ast.Pass: "'pass'", ast.Return: "'return'",
    ast.Raise: "'raise'", ast.Assert: "'assert'", ast.If: "'if'", ast.For: "'for'",
    ast.While: "'while'", ast.With: "'with'", ast.Try: "'try'",
}
_ALLOWED_SUMMARY = ("a graph uses only names, numbers, + - * / **, parentheses and the "
                    "functions " + ", ".join(sorted(functions())))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


class GraphError(ValueError):
    """Bad graph text or values; the message says what is wrong and where."""


@dataclass(frozen=True)
class Assignment:
    """One statement: ``target = expression`` (``target`` is None for a bare expression)."""

    target: str | None
    expression: ast.expr
    source: str  # the statement's text, for messages
    line: int
    column: int  # 1-based
    code: tuple[Instruction, ...] = ()  # the expression as postfix instructions


@dataclass(frozen=True)
class GraphProgram:
    """Checked graph text, ready to evaluate with numbers for its inputs."""

    text: str  # the text as parsed: each line's indentation removed
    assignments: tuple[Assignment, ...]
    inputs: tuple[str, ...]  # names read but never assigned, in order of first use
    output: str  # the output's name: the last target, or "out" for a bare expression
    unused: tuple[str, ...]  # assigned names the output does not depend on
    indents: tuple[int, ...] = ()  # blanks stripped from each line (for columns in messages)
    first_use: Mapping[str, str] = field(default_factory=dict)  # input -> "column 4" (messages)

    def evaluate(self, values: Mapping[str, float | Value]) -> EvaluatedGraph:
        """Build the graph with the engine; ``values`` must give every input, and only those.

        A number becomes a new leaf labelled with its name; a ``Value`` is used as the leaf
        itself, so that a weight can be trained across many evaluations.
        """
        return _evaluate(self, values)


@dataclass
class EvaluatedGraph:
    """The built graph: the output ``Value`` and every named node."""

    program: GraphProgram
    output: Value
    nodes: dict[str, Value] = field(default_factory=dict)  # inputs and assigned names
    inputs: dict[str, Value] = field(default_factory=dict)

    def node(self, name: str) -> Value:
        """The node called ``name``, or a GraphError listing the names there are."""
        if name in self.nodes:
            return self.nodes[name]
        raise GraphError(f"the graph has no node named {name!r}{_suggest(name, self.nodes)}; "
                         f"its nodes are {', '.join(self.nodes)}")


# ---------------------------------------------------------------- parsing


def parse_graph(text: str) -> GraphProgram:
    """Parse and check graph text; raise GraphError for anything outside the language."""
    if not isinstance(text, str):
        raise GraphError(f"the graph must be text, not {type(text).__name__}")
    text = text.replace("\r\n", "\n")  # files written on Windows
    _check_characters(text)
    stripped, indents = _strip_indentation(text)
    _check_operations(stripped, indents)
    try:
        with warnings.catch_warnings():
            # "1if x else 2" makes the parser warn "invalid decimal literal" on stderr; the
            # checker below names what is wrong with it ('if ... else' is not allowed), so
            # Python's warning would only be noise in front of the one-line error.
            warnings.simplefilter("ignore")
            module = ast.parse(stripped, mode="exec")
    except SyntaxError as exc:
        raise _syntax_error(exc, indents, stripped) from None
    except (RecursionError, MemoryError):  # pragma: no cover - a backstop: the limits stop it
        raise GraphError("the graph is nested or chained too deeply for the parser; "
                         "split it into several assignments") from None
    checker = _Checker(stripped, indents)
    assignments = checker.statements(module)
    return _link(assignments, checker)


def _check_characters(text: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise GraphError(f"the graph text is {len(text)} characters long; "
                         f"the limit is {MAX_TEXT_LENGTH}")
    if not text.strip():
        raise GraphError("the graph is empty: write assignments such as "
                         "'x1 = w0*s0; out = sigmoid(x1)'")
    depth = 0
    for line_number, line in enumerate(text.split("\n"), start=1):
        # A comment may say "s = σ(x)"; code may not (Python would fold some non-ASCII
        # names into ASCII ones: 'ｘ' is 'x'). Strings are rejected later, so '#' always
        # starts a comment here.
        code = line.partition("#")[0]
        for column, char in enumerate(line, start=1):
            where = _where(line_number, column, text)
            if not char.isprintable() and char != "\t":
                raise GraphError(f"{where}: control or invisible character {char!r} in the "
                                 "graph")
            if column > len(code):
                continue
            if not char.isascii():
                raise GraphError(f"{where}: non-ASCII character {char!r} (U+{ord(char):04X}); "
                                 "names are ASCII letters, digits and '_'")
            if char in "([{":
                depth += 1
                if depth > MAX_NESTING:
                    raise GraphError(f"{where}: parentheses nested more than {MAX_NESTING} "
                                     "deep; split the expression into assignments")
            elif char in ")]}":
                depth = max(depth - 1, 0)


# Tokens that only group or separate; every other operator token is an operation.
_PUNCTUATION = frozenset("()[]{},;:=")


# Python 3.12 tokenizes the inside of an f-string (older versions give one STRING token).
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _check_operations(text: str, indents: list[int]) -> None:
    """Refuse more than MAX_OPERATIONS operations, counted on the tokens, before parsing.

    An operation is an operator token (``+ - * / **``, and the ones the whitelist refuses
    later, such as ``~`` or ``.``), a keyword (``not``, ``lambda``, ...) or the ``(`` of a
    call. For a graph inside the language that is exactly one per node the graph will have.
    f-strings are refused here too: Python parses their inside as code, so one could hold a
    chain the parser gives up on, and only 3.12 and later show it to the count.
    """
    lines = text.split("\n")

    def where(token: tokenize.TokenInfo) -> str:
        line, column = token.start
        return _where(line, column + 1 + indents[line - 1], text)

    def refuse_fstring(start: tokenize.TokenInfo, end: tokenize.TokenInfo) -> GraphError:
        (first, begin), (last, stop) = start.start, end.end
        if first == last:
            piece = lines[first - 1][begin:stop]
        else:
            piece = "\n".join([lines[first - 1][begin:], *lines[first:last - 1],
                               lines[last - 1][:stop]])
        return GraphError(f"{where(start)}: an f-string is not allowed: {_quote(piece)}; "
                          f"{_ALLOWED_SUMMARY}")

    operations = 0
    previous: tokenize.TokenInfo | None = None
    fstring: list[tokenize.TokenInfo] = []  # the FSTRING_STARTs still open (3.12+)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            prefix = re.match(r"\w*", token.string)
            if token.type == tokenize.STRING and prefix and "f" in prefix[0].lower():
                raise refuse_fstring(token, token)
            if _FSTRING_START is not None and token.type == _FSTRING_START:
                fstring.append(token)
            if fstring:
                if token.type == _FSTRING_END:
                    start = fstring.pop()
                    if not fstring:
                        raise refuse_fstring(start, token)
                continue
            if _is_operation(token, previous):
                operations += 1
                if operations > MAX_OPERATIONS:
                    raise _too_many_operations(where(token))
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                previous = token
    except (tokenize.TokenError, SyntaxError):
        return  # bad syntax: the parser says what and where


def _is_operation(token: tokenize.TokenInfo, previous: tokenize.TokenInfo | None) -> bool:
    if token.type == tokenize.NAME:
        return keyword.iskeyword(token.string)
    if token.type != tokenize.OP:
        return False
    if token.string == "(":  # a call's: after a name, or after a call or an index
        return previous is not None and (previous.string in (")", "]") or (
            previous.type == tokenize.NAME and not keyword.iskeyword(previous.string)))
    return token.string not in _PUNCTUATION


def _too_many_operations(where: str) -> GraphError:
    return GraphError(f"{where}: the graph has more than {MAX_OPERATIONS} operations; "
                      "that is more than a graph to read step by step")


def _strip_indentation(text: str) -> tuple[str, list[int]]:
    """Remove each line's leading blanks (indentation means nothing here) and remember them."""
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines]
    return "\n".join(line[indent:] for line, indent in zip(lines, indents)), indents


def _where(line: int, column: int, text: str) -> str:
    return f"column {column}" if "\n" not in text.rstrip("\n") else f"line {line}, column {column}"


def _syntax_error(exc: SyntaxError, indents: list[int], text: str) -> GraphError:
    line = exc.lineno or 1
    column = (exc.offset or 1) + (indents[line - 1] if line <= len(indents) else 0)
    reason = exc.msg
    if "integer string conversion" in reason:
        reason = "a number with too many digits"
    lines = text.split("\n")
    piece = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    shown = f" in {_quote(piece)}" if piece else ""
    return GraphError(f"{_where(line, column, text)}: syntax error: {reason}{shown}")


def _quote(piece: str, limit: int = 40) -> str:
    piece = " ".join(piece.split())
    if len(piece) > limit:
        piece = piece[: limit - 3] + "..."
    return repr(piece)


def _suggest(name: str, known: Mapping[str, object] | tuple[str, ...]) -> str:
    same_but_case = [k for k in known if k.lower() == name.lower()]
    close = same_but_case or difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Checker:
    """Walks the syntax tree and accepts only the whitelisted node types."""

    def __init__(self, text: str, indents: list[int]) -> None:
        self.text = text
        self.indents = indents

    def where(self, node: ast.AST) -> str:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1 + self.indents[line - 1]
        return _where(line, column, self.text)

    def piece(self, node: ast.AST) -> str:
        return _quote(ast.get_source_segment(self.text, node) or "")

    def reject(self, node: ast.AST, what: str) -> GraphError:
        return GraphError(f"{self.where(node)}: {what}")

    def statements(self, module: ast.Module) -> list[Assignment]:
        if not module.body:
            raise GraphError("the graph has no statements (only comments?): write assignments "
                             "such as 'x1 = w0*s0; out = sigmoid(x1)'")
        assignments = []
        last = len(module.body) - 1
        for index, statement in enumerate(module.body):
            assignments.append(self.statement(statement, is_last=index == last))
        return assignments

    def statement(self, statement: ast.stmt, is_last: bool) -> Assignment:
        line = statement.lineno
        column = statement.col_offset + 1 + self.indents[line - 1]
        source = ast.get_source_segment(self.text, statement) or ""
        if isinstance(statement, ast.Assign):
            if len(statement.targets) != 1:
                raise self.reject(statement, f"chained assignment {self.piece(statement)}: "
                                  "assign one name per statement")
            target = statement.targets[0]
            if not isinstance(target, ast.Name):
                raise self.reject(target, f"cannot assign to {self.piece(target)}: the left "
                                  "side of '=' must be a single name")
            self.check_name(target, assigned=True)
            self.expression(statement.value)
            return Assignment(target.id, statement.value, source, line, column,
                              _instructions(statement.value))
        if isinstance(statement, ast.Expr):
            self.expression(statement.value)
            if not is_last:
                raise self.reject(statement, f"the expression {self.piece(statement)} is not "
                                  "assigned to a name; only the last statement may be a "
                                  "bare expression (the output)")
            return Assignment(None, statement.value, source, line, column,
                              _instructions(statement.value))
        what = _STATEMENT_NAMES.get(type(statement), f"a {type(statement).__name__} statement")
        raise self.reject(statement, f"{what} is not allowed ({self.piece(statement)}); "
                          "a graph is a list of 'name = expression' assignments")

    def check_name(self, node: ast.Name, assigned: bool = False) -> None:
        name = node.id
        if name.startswith("__"):
            raise self.reject(node, f"the name {name!r} is not allowed (names starting with "
                              "'__' are reserved)")
        if name in functions():
            if assigned:
                raise self.reject(node, f"{name!r} is a function; it cannot be assigned to")
            raise self.reject(node, f"{name!r} is a function; call it, as in {name}(x)")

    def expression(self, root: ast.expr) -> None:
        # Iterative (an explicit stack): a long chain such as a+a+...+a needs no recursion.
        stack: list[ast.AST] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                self.check_name(node)
            elif isinstance(node, ast.Constant):
                self.number(node)
            elif isinstance(node, ast.BinOp):
                if _operator_primitive(node.op, "infix") is None:
                    raise self.reject(node, f"{self.operator_advice(node.op)} "
                                      f"(in {self.piece(node)})")
                stack += [node.right, node.left]
            elif isinstance(node, ast.UnaryOp):
                if not isinstance(node.op, (ast.USub, ast.UAdd)):
                    raise self.reject(node, f"{self.operator_advice(node.op)} "
                                      f"(in {self.piece(node)})")
                stack.append(node.operand)
            elif isinstance(node, ast.Call):
                self.call(node)
                stack += reversed([*node.args, *(k.value for k in node.keywords)])
            else:
                what = _SYNTAX_NAMES.get(type(node), type(node).__name__)
                raise self.reject(node, f"{what} is not allowed: {self.piece(node)}; "
                                  f"{_ALLOWED_SUMMARY}")

    def operator_advice(self, op: ast.AST) -> str:
        return _OPERATOR_ADVICE.get(type(op), f"the operator {type(op).__name__} is not allowed")

    def number(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.reject(node, f"{value!r} is not a number; {_ALLOWED_SUMMARY}")
        if isinstance(value, (str, bytes)):
            raise self.reject(node, f"strings are not allowed: {self.piece(node)}; "
                              f"{_ALLOWED_SUMMARY}")
        if isinstance(value, complex):
            raise self.reject(node, f"complex numbers are not allowed: {self.piece(node)}")
        if not isinstance(value, (int, float)):  # pragma: no cover - ast has no other kinds
            raise self.reject(node, f"{self.piece(node)} is not a number")
        if not _is_finite_float(value):
            raise self.reject(node, f"the number {self.piece(node)} is too large "
                              "(not a finite float)")

    def call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            raise self.reject(node, f"calling {self.piece(node.func)} is not allowed; "
                              f"{_ALLOWED_SUMMARY}")
        name = node.func.id
        known = functions()
        if name not in known:
            raise self.reject(node, f"unknown function {name!r}{_suggest(name, known)}; "
                              f"the functions are {', '.join(sorted(known))}")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.reject(argument, f"'*' unpacking is not allowed: "
                                  f"{self.piece(argument)}")
        # The call must fit the primitive's inputs: its names, and defaults for those left out
        # (leaky_relu(x) or leaky_relu(x, 0.1) or leaky_relu(x, alpha=0.1)).
        inputs = PRIMITIVES[name].inputs
        assert inputs is not None
        required = [i.name for i in inputs if i.default is None]
        optional = [i.name for i in inputs if i.default is not None]
        given = [k.arg for k in node.keywords]
        # The first input is always positional; the others may be named.
        settable = [i.name for i in inputs[max(1, len(node.args)):]]
        bad = next((k or "**" for k in given if k not in settable or given.count(k) > 1), None)
        if bad is not None:
            if not optional and len(inputs) == 1:
                takes = f"takes no keyword arguments (got {bad}=)"
            else:
                takes = (f"takes {', '.join(required)}"
                         + (f" and optionally {', '.join(optional)}" if optional else "")
                         + f"; {bad}= is not one it can be given here")
            raise self.reject(node, f"{name}() {takes}, in {self.piece(node)}")
        count = len(node.args) + len(given)
        missing = [n for n in required[len(node.args):] if n not in given]
        if count > len(inputs) or missing or not node.args:
            amount = (str(len(inputs)) if not optional
                      else f"{len(required)} or {len(inputs)}")
            raise self.reject(node, f"{name}() takes {amount} argument"
                              f"{'' if amount == '1' else 's'}, got {count}, in "
                              f"{self.piece(node)} (its inputs: "
                              + ", ".join(i.name if i.default is None else
                                          f"{i.name}={i.default:g}" for i in inputs) + ")")


def _is_finite_float(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int literal beyond the float range
        return False


def _names_read(expression: ast.expr) -> list[ast.Name]:
    """The names an expression reads (not the names of the functions it calls)."""
    nodes = list(ast.walk(expression))
    functions = {id(node.func) for node in nodes if isinstance(node, ast.Call)}
    return [node for node in nodes if isinstance(node, ast.Name) and id(node) not in functions]


def _link(assignments: list[Assignment], checker: _Checker) -> GraphProgram:
    """Resolve names: which are inputs, which are assigned, in what order; catch mix-ups."""
    assigned_at: dict[str, Assignment] = {}
    first_read: dict[str, ast.Name] = {}
    inputs: list[str] = []
    depends: dict[str, set[str]] = {}
    for assignment in assignments:
        reads = sorted(_names_read(assignment.expression),
                       key=lambda n: (n.lineno, n.col_offset))
        for name in reads:
            if name.id not in assigned_at and name.id not in first_read:
                first_read[name.id] = name
                inputs.append(name.id)
        target = assignment.target
        if target is None:
            target = "out" if "out" not in assigned_at and "out" not in first_read else None
        if target is not None:
            if target in assigned_at:
                earlier = assigned_at[target]
                raise GraphError(f"{_where(assignment.line, assignment.column, checker.text)}: "
                                 f"{target!r} is assigned twice (first at line {earlier.line}); "
                                 "each name names one node")
            if target in first_read:
                read = first_read[target]
                raise GraphError(f"{checker.where(read)}: {target!r} is used before it is "
                                 f"assigned (at line {assignment.line}); assign it first")
            assigned_at[target] = assignment
            depends[target] = {n.id for n in reads}
    last = assignments[-1]
    output = last.target or ("out" if "out" in assigned_at else "")
    unused = _unused(output, depends, assignments)
    first_use = {name: checker.where(node) for name, node in first_read.items()
                 if name in inputs}
    return GraphProgram(checker.text, tuple(assignments), tuple(inputs), output, unused,
                        tuple(checker.indents), first_use)


def _unused(output: str, depends: dict[str, set[str]],
            assignments: list[Assignment]) -> tuple[str, ...]:
    # A bare output that could not be named "out" has no name: start from what it reads.
    needed = {output} if output else {n.id for n in _names_read(assignments[-1].expression)}
    stack = list(needed)
    while stack:
        for name in depends.get(stack.pop(), ()):
            if name not in needed:
                needed.add(name)
                stack.append(name)
    return tuple(a.target for a in assignments if a.target and a.target not in needed)


# ---------------------------------------------------------------- values


def parse_values(text: str, source: str = "--at") -> dict[str, float]:
    """``"s0=2, w0=2"`` (commas, semicolons, blanks or newlines between; ``#`` comments),
    or a JSON object ``{"s0": 2, ...}``. ``source`` names where the text came from."""
    if len(text) > MAX_VALUES_LENGTH:
        raise GraphError(f"{source}: {len(text)} characters; the limit is {MAX_VALUES_LENGTH}")
    if text.lstrip().startswith("{"):
        return _parse_json_values(text, source)
    values: dict[str, float] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for item in re.split(r"[,;\s]+", line.replace(" = ", "=").replace("= ", "=")
                             .replace(" =", "=")):
            if not item:
                continue
            if "=" not in item:
                raise GraphError(f"{source}: {_quote(item)} is not name=value "
                                 "(write e.g. s0=2,w0=2)")
            name, number = item.split("=", 1)
            values[_value_name(name, values, source)] = _value_number(name, number, source)
    return values


class _Pairs(list):
    """A JSON object as its (name, value) pairs in order, duplicates kept."""


def _parse_json_values(text: str, source: str) -> dict[str, float]:
    try:
        # As pairs, not a dict: json.loads keeps only the last of {"x": 1, "x": 2}, which
        # the name=value form rejects as given twice; so must this.
        data = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError) as exc:
        raise GraphError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, _Pairs):
        raise GraphError(f"{source}: the JSON must be an object of name: number")
    values: dict[str, float] = {}
    for name, number in data:
        name = _value_name(name, values, source)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            kind = "object" if isinstance(number, _Pairs) else type(number).__name__
            raise GraphError(f"{source}: the value of {name!r} must be a number, "
                             f"not {kind}")
        if not _is_finite_float(number):
            raise GraphError(f"{source}: the value of {name!r} must be a finite number")
        values[name] = float(number)
    return values


def _value_name(name: str, values: Mapping[str, float], source: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise GraphError(f"{source}: {_quote(name)} is not a name (ASCII letters, digits, '_')")
    if name in values:
        raise GraphError(f"{source}: {name!r} is given twice")
    return name


def _value_number(name: str, number: str, source: str) -> float:
    number = number.strip()
    if not _NUMBER.match(number):
        raise GraphError(f"{source}: the value of {name.strip()!r} must be a number, "
                         f"got {_quote(number)}")
    result = float(number)
    if not math.isfinite(result):
        raise GraphError(f"{source}: the value of {name.strip()!r} is too large "
                         f"({_quote(number)} is not a finite float)")
    return result


# ---------------------------------------------------------------- evaluation


def evaluate_graph(text: str, values: Mapping[str, float | Value]) -> EvaluatedGraph:
    """Parse ``text`` and build it with the engine: ``parse_graph(text).evaluate(values)``."""
    return parse_graph(text).evaluate(values)


def _check_values(program: GraphProgram, values: Mapping[str, float | Value]) -> None:
    missing = [name for name in program.inputs if name not in values]
    if missing:
        given = ",".join(f"{name}=..." for name in missing)
        used = "; ".join(f"{name} at {program.first_use[name]}" for name in missing
                         if name in program.first_use)
        raise GraphError(f"no value for {', '.join(missing)} (first used: {used}): give "
                         f"{'it' if len(missing) == 1 else 'them'} with --at {given}")
    assigned = {a.target for a in program.assignments if a.target}
    for name in values:
        if name in assigned:
            raise GraphError(f"{name!r} is computed by the graph; it cannot also be given "
                             "a value")
        if name not in program.inputs:
            raise GraphError(f"a value is given for {name!r}, which the graph does not use"
                             f"{_suggest(name, program.inputs)}; the inputs are "
                             f"{', '.join(program.inputs) or '(none)'}")


def _evaluate(program: GraphProgram, values: Mapping[str, float | Value]) -> EvaluatedGraph:
    _check_values(program, values)
    inputs: dict[str, Value] = {}
    for name in program.inputs:
        number = values[name]
        if isinstance(number, Value):
            # A Value the caller keeps (a weight being trained): used as the leaf itself.
            if not number.label:
                number.label = name
            inputs[name] = number
            continue
        if isinstance(number, bool) or not isinstance(number, (int, float)) \
                or not math.isfinite(number):
            raise GraphError(f"the value of {name!r} must be a finite number, got {number!r}")
        inputs[name] = Value(float(number), name)
    nodes: dict[str, Value] = dict(inputs)
    output: Value | None = None
    for assignment in program.assignments:
        result = _run(assignment.code, nodes, program)
        name = assignment.target or (program.output or None)  # type: ignore[assignment]
        if name is not None and type(result) is not Constant:
            # (Numbers are shared cached leaves: labelling one would rename it everywhere.)
            if assignment.code[-1][0] is _PUSH_NAME:
                # "y = x" makes its own node (identity), so that x keeps its name.
                result = apply(_IDENTITY, result)
            result.label = name
        if name is not None:
            nodes[name] = result
        output = result
    assert output is not None
    return EvaluatedGraph(program, output, nodes, inputs)


# ---------------------------------------------------------------- instructions
# Each checked expression is turned once into postfix instructions (push a named node,
# push a number, apply a primitive to the last k results): plain data that _run walks
# with a stack. Evaluating a graph many times (training in the demo) then costs little
# more than calling the engine directly.

_PUSH_NAME = "name"
_PUSH_NUMBER = "number"
_APPLY = "apply"
_IDENTITY = PRIMITIVES["identity"]
Instruction = tuple[str, Any, Any, "ast.AST | None"]  # (kind, name|number|primitive, k, node)


def _instructions(root: ast.expr) -> tuple[Instruction, ...]:
    """Postfix code for a checked expression (iterative: no recursion on long chains)."""
    code: list[Instruction] = []
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Name):
            code.append((_PUSH_NAME, node.id, 0, node))
        elif isinstance(node, ast.Constant):
            code.append((_PUSH_NUMBER, float(node.value), 0, node))  # type: ignore[arg-type]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            stack.append((node.operand, False))  # +x is x
        elif not children_done:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(_operands(node))]
        elif isinstance(node, ast.BinOp):
            code.append((_APPLY, _operator_primitive(node.op, "infix"), 2, node))
        elif isinstance(node, ast.UnaryOp):
            code.append((_APPLY, _operator_primitive(node.op, "prefix"), 1, node))
        elif isinstance(node, ast.Constant) or node is None:  # pragma: no cover
            raise AssertionError("numbers are pushed above")
        else:
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            prim = PRIMITIVES[node.func.id]
            code.append((_APPLY, prim, prim.arity, node))
    return tuple(code)


def _operands(node: ast.AST) -> list[ast.expr]:
    """The operands in the primitive's input order; a call's inputs left out are their
    defaults, as number nodes (leaky_relu(x) is leaky_relu(x, 0.01))."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    inputs = PRIMITIVES[node.func.id].inputs
    assert inputs is not None
    by_name = {k.arg: k.value for k in node.keywords}
    operands: list[ast.expr] = list(node.args)
    for spec in inputs[len(node.args):]:
        if spec.name in by_name:
            operands.append(by_name[spec.name])
        else:
            operands.append(ast.Constant(spec.default))
    return operands


def _run(code: tuple[Instruction, ...], nodes: Mapping[str, Value],
         program: GraphProgram) -> Value:
    """Evaluate postfix code, calling the engine for every operation."""
    results: list[Any] = []
    push = results.append
    for kind, argument, count, node in code:
        if kind is _APPLY:
            operands = results[-count:]
            del results[-count:]
            try:
                push(apply(argument, *operands))
            except (ArithmeticError, ValueError) as exc:
                raise _evaluation_error(exc, node, program) from None
        elif kind is _PUSH_NAME:
            push(nodes[argument])
        else:
            push(argument)
    (result,) = results
    # A bare number ("c = 2") becomes a Constant leaf of its own.
    return result if isinstance(result, Value) else apply(_IDENTITY, result)


def _evaluation_error(exc: Exception, node: ast.AST | None, program: GraphProgram) -> GraphError:
    # The engine's message names the operation and its operands; add where it is written.
    line = getattr(node, "lineno", 1)
    column = getattr(node, "col_offset", 0) + 1 + program.indents[line - 1]
    piece = _quote(ast.get_source_segment(program.text, node) or "") if node else "''"
    return GraphError(f"{_where(line, column, program.text)}: {exc} (in {piece})")
