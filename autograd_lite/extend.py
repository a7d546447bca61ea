"""Adding a primitive: one call, and every reader knows it (HIPS autograd's ``autograd.extend``
is the model).

    >>> from autograd_lite import Value
    >>> from autograd_lite.extend import defprimitive
    >>> softplus = defprimitive(
    ...     "softplus",
    ...     lambda x, f: f.log(1 + f.exp(x)),          # forward, over the namespace f
    ...     [lambda x, out, f: f.sigmoid(x)],          # d out/dx, over the same namespace
    ... )
    >>> y = softplus(Value(0.0))                       # a Value; y.backward() works, and so do
    ...                                                # gradients, grad, trace, explain, draw ...

Rules are written over ``f``, whose functions are ``autograd_lite.primitives.NAMESPACE_PROTOCOL``
(``f.exp``, ``f.log``, ``f.where`` ...) and Python's arithmetic: the same line is then the number
backward multiplies by, a differentiable ``Value`` for second derivatives, and the SymPy
formula that explain prints. ``defprimitive`` tries each rule on SymPy symbols at once, so a
rule that calls ``math.exp`` or takes the wrong inputs is refused here, not deep inside a
later backward pass.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value, install_method
from .primitives import (
    ATOM,
    PRIMITIVES,
    DomainCheck,
    Input,
    Notation,
    Primitive,
    register,
)

__all__ = ["Input", "Notation", "Primitive", "defprimitive", "undefine"]

_BUILT_IN = frozenset(PRIMITIVES)


def _inputs(inputs: Sequence[Any] | None, count: int, name: str) -> tuple[Input, ...]:
    if inputs is None:
        names = ("x",) if count == 1 else ("a", "b") if count == 2 else tuple(
            f"x{i}" for i in range(1, count + 1))
        return tuple(Input(n) for n in names)
    if isinstance(inputs, str):
        inputs = (inputs,)
    made = []
    for item in inputs:
        if isinstance(item, Input):
            made.append(item)
        elif isinstance(item, str):
            made.append(Input(item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            default = item[1]
            if isinstance(default, bool) or not isinstance(default, (int, float)):
                raise TypeError(f"defprimitive({name!r}): the default of input {item[0]!r} "
                                f"must be a number, not {type(default).__name__}")
            made.append(Input(item[0], float(default)))
        else:
            raise TypeError(f"defprimitive({name!r}): each input is a name or (name, default), "
                            f"e.g. inputs=('x', ('alpha', 0.01)); got {item!r}")
    if len(made) != count:
        raise TypeError(f"defprimitive({name!r}): {len(made)} input name(s) but {count} "
                        "derivative rule(s): give one rule per input")
    seen = [i.name for i in made]
    for input_name in seen:
        if not input_name.isidentifier() or keyword.iskeyword(input_name):
            raise ValueError(f"defprimitive({name!r}): input name {input_name!r} is not an "
                             "identifier")
    if len(set(seen)) != len(seen):
        raise ValueError(f"defprimitive({name!r}): input names repeat: {seen}")
    defaults = [i.default is not None for i in made]
    if any(defaults[k] and not defaults[k + 1] for k in range(len(made) - 1)):
        raise ValueError(f"defprimitive({name!r}): inputs with defaults come last, as in "
                         "Python")
    return tuple(made)


def _try_on_symbols(primitive: Primitive) -> None:
    """Evaluate the rules once over SymPy symbols: a rule that is not written over ``f``
    (``math.exp(x)``), or takes the wrong number of inputs, fails here with its name."""
    import sympy

    from .symbolic import sympy_namespace

    f = sympy_namespace()
    symbols = sympy.symbols(" ".join(primitive.input_names), seq=True)
    name = primitive.name
    try:
        out = primitive.forward(*symbols, f)
    except Exception as exc:
        raise TypeError(f"defprimitive({name!r}): the forward rule failed on symbols "
                        f"{', '.join(map(str, symbols))} ({type(exc).__name__}: {exc}). Write "
                        "it as forward(*inputs, f) with f's functions (f.exp(x), not "
                        "math.exp(x))") from None
    rules = [("derivative", primitive.derivatives)]
    if primitive.lecture is not None:
        rules.append(("lecture form", primitive.lecture))
    for kind, group in rules:
        for position, rule in enumerate(group):
            try:
                rule(*symbols, out, f)
            except Exception as exc:
                raise TypeError(
                    f"defprimitive({name!r}): the {kind} for input "
                    f"{primitive.input_names[position]!r} failed on symbols "
                    f"({type(exc).__name__}: {exc}). Write it as rule(*inputs, out, f) with "
                    "f's functions") from None


def defprimitive(name: str, forward: Callable[..., Any],
                 derivatives: Sequence[Callable[..., Any]], *,
                 inputs: Sequence[Any] | None = None, check: DomainCheck | None = None,
                 notation: Notation | None = None, latex: str | None = None,
                 lecture: Sequence[Callable[..., Any]] | None = None, method: bool = True,
                 activation: bool | None = None,
                 smooth: Sequence[str | None] | None = None,
                 replace: bool = False) -> Primitive:
    """Define a primitive, register it, and return it (a ``Primitive``: call it on Values).

    - ``forward(*inputs, f)``: the output, over the namespace ``f``.
    - ``derivatives[i](*inputs, out, f)``: d out / d input i (one rule per input).
    - ``inputs``: names, with defaults as ``(name, number)``: ``("x", ("alpha", 0.01))``;
      default ``x`` for one input, ``a, b`` for two.
    - ``check(*numbers)``: None, or ``(ExceptionType, reason)`` for inputs outside the
      domain (the engine's error then names the node).
    - ``notation``: how it is written; default a call, ``name(x)``. ``latex`` sets its LaTeX
      name (``r"\\operatorname{softplus}"`` by default).
    - ``lecture``: the lecture's form of each derivative, for printing (must be equal).
    - ``method``: also ``Value.name`` (``x.softplus()``); ``activation``: usable as an nn
      activation (default: one input, or the others with defaults).
    - ``smooth``: per input, where it is smooth, for the testing strategies: ``"positive"``,
      ``"nonzero"``, ``"kink"`` (kinked at 0: kept one-signed) or None.

    It then works in backward, gradients (also ``create_graph=True``), grad, gradcheck,
    to_sympy, trace, explain, draw, derivative_table, the testing strategies and the graph
    language called from Python. ``replace=True`` redefines a primitive defined here before
    (built-in ones cannot be replaced).
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"defprimitive: the name must be an identifier, not {name!r}")
    if name in _BUILT_IN:
        raise ValueError(f"defprimitive: {name!r} is a built-in primitive; choose another name")
    if name in PRIMITIVES and not replace:
        raise ValueError(f"defprimitive: {name!r} is already defined (pass replace=True to "
                         "redefine it)")
    if method and name in vars(Value) and name not in PRIMITIVES:
        raise ValueError(f"defprimitive: Value already has an attribute {name!r}; choose "
                         "another name, or pass method=False")
    if not callable(forward):
        raise TypeError(f"defprimitive({name!r}): forward must be a function "
                        f"forward(*inputs, f), not {type(forward).__name__}")
    if callable(derivatives):
        derivatives = [derivatives]
    rules = tuple(derivatives)
    if not rules or not all(callable(rule) for rule in rules):
        raise TypeError(f"defprimitive({name!r}): derivatives must be a list of functions "
                        "rule(*inputs, out, f), one per input")
    specs = _inputs(inputs, len(rules), name)
    if notation is None:
        notation = Notation("call", name, ATOM, latex or rf"\operatorname{{{name}}}")
    elif not isinstance(notation, Notation):
        raise TypeError(f"defprimitive({name!r}): notation must be a Notation, "
                        f"not {type(notation).__name__}")
    if activation is None:
        activation = all(i.default is not None for i in specs[1:])
    if smooth is not None and len(tuple(smooth)) != len(specs):
        raise TypeError(f"defprimitive({name!r}): smooth= gives one entry per input")
    primitive = Primitive(
        name=name, forward=forward, derivatives=rules, inputs=specs, notation=notation,
        check=check, lecture=None if lecture is None else tuple(lecture), method=method,
        activation=bool(activation), smooth=tuple(smooth) if smooth is not None else ())
    _try_on_symbols(primitive)
    register(primitive)
    install_method(primitive)
    return primitive


def undefine(name: str) -> None:
    """Remove a primitive defined with ``defprimitive`` (tests use it to clean up).

    Graphs already built with it keep working; new ones cannot use it.
    """
    if name in _BUILT_IN:
        raise ValueError(f"undefine: {name!r} is built in")
    primitive = PRIMITIVES.pop(name, None)
    if primitive is None:
        raise KeyError(f"undefine: no primitive {name!r} was defined")
    if primitive.method and name in vars(Value):
        delattr(Value, name)
