"""The primitives table printed as code for another runtime: a browser page's JavaScript today.

The rules are the table's own (``primitives.py``), evaluated over a namespace whose
elementary functions are *unevaluated* SymPy functions (``exp``, ``sigmoid``, ``xlogy``,
``where`` ...) and then printed by SymPy's code printer. So the generated code calls a
runtime's helpers by the namespace's names, which that runtime defines once
(``JAVASCRIPT_HELPERS``), and no derivative is written here: a primitive added with
``extend.defprimitive`` is printed like the built-in ones.

Unevaluated functions keep the rule as the table writes it: sigmoid's derivative stays
``out*sigmoid(-x)`` (stable) instead of SymPy's ``exp(-x)/(1 + exp(-x))**2``, and
``xlogy(out, a)`` keeps its 0 at ``out = 0`` where ``out*log(a)`` would give NaN.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from .primitives import NAMESPACE_PROTOCOL, PRIMITIVES, Primitive, check_namespace

__all__ = ["JAVASCRIPT_HELPERS", "NAMESPACE_PROTOCOL", "PrintedPrimitive", "code_namespace",
           "javascript", "primitive_key", "printed_template"]

# The namespace's functions in JavaScript, each as the float namespace computes it
# (primitives.FLOAT): the same branches, so the page's numbers are the engine's.
JAVASCRIPT_HELPERS = """\
const exp = Math.exp, log = Math.log, sqrt = Math.sqrt, tanh = Math.tanh,
      sin = Math.sin, cos = Math.cos, abs = Math.abs;
function sigmoid(x) { if (x >= 0) return 1 / (1 + Math.exp(-x));
                      const e = Math.exp(x); return e / (1 + e); }
function relu(x) { return x > 0 ? x : 0; }
function sign(x) { return x > 0 ? 1 : (x < 0 ? -1 : 0); }
function xlogy(x, y) { return x === 0 ? 0 : x * Math.log(y); }
function where(condition, ifTrue, ifFalse) { return condition ? ifTrue : ifFalse; }
"""


@functools.cache
def code_namespace() -> SimpleNamespace:
    """The protocol's functions as unevaluated SymPy functions of the same names."""
    import sympy

    return check_namespace(SimpleNamespace(
        **{name: sympy.Function(name) for name in NAMESPACE_PROTOCOL}), "code")


def primitive_key(primitive: Primitive, count: int) -> str:
    """``mul``, or ``linear/5`` for a primitive of any number of inputs taking ``count``."""
    return primitive.name if primitive.arity is not None else f"{primitive.name}/{count}"


@dataclass(frozen=True)
class PrintedPrimitive:
    """One primitive at one number of inputs, printed: ``forward(i0, i1)``, and
    ``local(i0, i1, out)`` returning every input's local derivative, in input order."""

    key: str
    forward: str  # an expression over i0 ... i(n-1)
    local: tuple[str, ...]  # one expression per input, over i0 ... and out


def _print(primitive: Primitive, count: int, printer: Any) -> PrintedPrimitive:
    import sympy

    f = code_namespace()
    inputs = sympy.symbols(" ".join(f"i{k}" for k in range(count)), seq=True)
    out = sympy.Symbol("out")
    # Unevaluated, so that a sum is added in the order the rule adds it (linear's
    # b + w1·x1 + w2·x2): floating-point addition is not associative.
    with sympy.evaluate(False):
        forward = sympy.sympify(primitive.forward(*inputs, f))
        local = [sympy.sympify(d) for d in primitive.local_derivatives(list(inputs), out, f)]
    return PrintedPrimitive(primitive_key(primitive, count), printer(forward),
                            tuple(printer(d) for d in local))


def _javascript_printer(expression: Any) -> str:
    from sympy.printing.jscode import JavascriptCodePrinter

    class Printer(JavascriptCodePrinter):
        # The namespace's functions are the runtime's helpers, called by their own names.
        def _print_Function(self, expr: Any) -> str:  # noqa: N802 - SymPy's dispatch
            name = type(expr).__name__
            if name in NAMESPACE_PROTOCOL:
                return f"{name}({', '.join(self._print(a) for a in expr.args)})"
            return str(super()._print_Function(expr))

    return " ".join(str(Printer({"strict": False, "order": "none"}).doprint(expression)).split())


def javascript(used: dict[str, int]) -> str:
    """A JavaScript object literal ``{"mul": {forward(i0, i1) {...}, local(...) {...}}}`` of
    the primitives named in ``used`` (name -> number of inputs, for ``linear``)."""
    entries = []
    for key, count in sorted(used.items()):
        name = key.split("/")[0]
        primitive = PRIMITIVES[name]
        printed = _print(primitive, count, _javascript_printer)
        params = ", ".join(f"i{k}" for k in range(count))
        with_out = f"{params}, out" if params else "out"
        entries.append(
            f"  {json.dumps(key)}: {{\n"
            f"    forward({params}) {{ return {printed.forward}; }},\n"
            f"    local({with_out}) {{ return [{', '.join(printed.local)}]; }},\n"
            f"  }}")
    return "{\n" + ",\n".join(entries) + "\n}"


# ---------------------------------------------------------------- Python and NumPy


def _python_printer(numpy: bool) -> Callable[[Any], str]:
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        def _print_Function(self, expr: Any) -> str:  # noqa: N802 - SymPy's dispatch
            name = type(expr).__name__
            args = [self._print(a) for a in expr.args]
            # Python: where() is a conditional expression, so only the branch taken is
            # computed (a log in the other branch cannot fail); NumPy: np.where, both.
            if name == "where" and not numpy:
                return f"({args[1]} if {args[0]} else {args[2]})"
            if name in NAMESPACE_PROTOCOL:
                return f"{name}({', '.join(args)})"
            return str(super()._print_Function(expr))

    printer = Printer({"strict": False, "order": "none", "fully_qualified_modules": False})
    return lambda expression: " ".join(str(printer.doprint(expression)).split())


@functools.cache
def printed_template(primitive: Primitive, count: int, language: str,
                     integers: tuple[tuple[int, int], ...] = ()) -> PrintedPrimitive:
    """The primitive's rules printed once, over the placeholders ``__a0__`` ... and
    ``__out__`` that the caller fills with its own names (Python or NumPy).

    ``integers`` are inputs that are whole-number constants, ``((1, 2),)`` for ``u**2``:
    they are put in before printing, so that the rule comes out simplified (``2*__a0__``,
    not ``2*__a0__**(2 - 1)``).
    """
    import sympy

    if language not in ("python", "numpy"):
        raise ValueError(f"printed_template: language must be 'python' or 'numpy', "
                         f"not {language!r}")
    f = code_namespace()
    placeholders = list(sympy.symbols(" ".join(f"__a{k}__" for k in range(count)), seq=True))
    out = sympy.Symbol("__out__")
    # The forward rule unevaluated: a sum is added in the order the rule adds it (floating
    # point addition is not associative), with the caller's numbers in the placeholders.
    with sympy.evaluate(False):
        forward = sympy.sympify(primitive.forward(*placeholders, f))
    # The local derivatives with the whole numbers in place, simplified by SymPy.
    inputs = [sympy.Integer(dict(integers)[k]) if k in dict(integers) else placeholder
              for k, placeholder in enumerate(placeholders)]
    with sympy.evaluate(bool(integers)):
        local = [sympy.sympify(d) for d in primitive.local_derivatives(inputs, out, f)]
    printer = _python_printer(language == "numpy")
    return PrintedPrimitive(primitive_key(primitive, count), printer(forward),
                            tuple(printer(d) for d in local))
