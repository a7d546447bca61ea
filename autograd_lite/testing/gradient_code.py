"""Checking gradient code that is *not* written with Values: a hand-derived derivative, the
backward of a custom ``torch.autograd.Function`` or of a JAX ``custom_vjp``.

``assert_gradient_matches(f, grad_f, domain)``: ``f`` is the forward written with ordinary
arithmetic, so that it runs on floats and on Values (its math functions are autograd_lite's:
``from autograd_lite import exp, log, sigmoid, tanh``); ``grad_f`` is the gradient code under
test, on floats. Hypothesis draws points inside ``domain``; at each, ``grad_f``'s numbers
are compared with a reference:

- ``"engine"``: the engine's gradients of ``f`` run on Values (``autograd_lite.gradients``);
  a failure prints, for each wrong input, the chain-rule formula of the correct derivative
  (``explain``), so the student sees what the derivative should have been;
- ``"sympy"``: ``sympy.diff`` of ``f``'s SymPy form (``f`` called on SymPy symbols, or, when
  it cannot take them, the table's forward rules over SymPy: ``to_sympy``), evaluated with
  30 digits;
- ``"finite_differences"``: the five-point central difference of ``f`` on floats.

``assert_custom_backward_matches(custom, f, domain)`` does the same with the custom
backward's gradients (the library's autodiff through the custom function, in float64) in
place of ``grad_f``, and checks the custom forward against ``f`` too.

Hypothesis settings: the loaded profile's (``settings.load_profile``), or ``settings=``;
``max_examples=`` overrides one number. The checks turn off the deadline (the first example
pays for SymPy) and the example database, and report one failure, the simplest point
Hypothesis finds.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import settings as Settings
from hypothesis import strategies as st

from ..engine import Constant, Value, noting_float_conversions
from ..functional import _depends_on, gradients
from .references import _central_difference
from .strategies import _REFERENCE_DIGITS, _STENCIL_STEP

__all__ = ["REFERENCES", "assert_custom_backward_matches", "assert_gradient_matches",
           "check_settings"]

REFERENCES = ("engine", "sympy", "finite_differences")

_DEFAULT_TOLERANCE = {"engine": (1e-6, 1e-9), "sympy": (1e-6, 1e-9),
                      "finite_differences": (1e-5, 1e-7)}
_LONGEST_EXPANDED = 240  # characters: a longer formula over the inputs alone is left out


def _number(x: float) -> str:
    return f"{x:.10g}"


def check_settings(settings: Settings | None = None, max_examples: int | None = None,
                   **overrides: Any) -> Settings:
    """The Hypothesis settings a check runs with: ``settings`` (default: the loaded
    profile's), ``max_examples`` if given, no deadline, one failure reported, and no example
    database (every check runs the same inner test, so saved examples would be replayed by
    unrelated checks; the failure's message holds its point)."""
    if settings is not None and not isinstance(settings, Settings):
        raise TypeError(f"settings must be a hypothesis.settings, not {type(settings).__name__}")
    if max_examples is not None:
        if isinstance(max_examples, bool) or not isinstance(max_examples, numbers.Integral) \
                or max_examples < 1:
            raise ValueError(f"max_examples must be a positive int, not {max_examples!r}")
        overrides["max_examples"] = int(max_examples)
    overrides.setdefault("deadline", None)
    overrides.setdefault("report_multiple_bugs", False)
    overrides.setdefault("database", None)
    return Settings(settings, **overrides)


# ---------------------------------------------------------------- f's arguments and domain


@dataclass(frozen=True)
class _Arguments:
    names: tuple[str, ...]
    intervals: tuple[tuple[float, float], ...]

    def where(self, point: Sequence[float]) -> str:
        return ", ".join(f"{name} = {value!r}" for name, value in zip(self.names, point))


def _interval(spec: Any, name: str) -> tuple[float, float]:
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or len(spec) != 2:
        raise TypeError(f"domain[{name!r}] must be an interval (low, high), not {spec!r}")
    low, high = spec
    for end in (low, high):
        if isinstance(end, bool) or not isinstance(end, numbers.Real) or not math.isfinite(end):
            raise ValueError(f"domain[{name!r}] = {spec!r}: the ends must be finite numbers")
    if not low < high:
        raise ValueError(f"domain[{name!r}] = {spec!r}: low must be below high")
    return float(low), float(high)


def _arguments(f: Callable[..., Any], domain: Mapping[Any, Any], who: str) -> _Arguments:
    """f's positional arguments, named as in its signature, each with its interval."""
    if not callable(f):
        raise TypeError(f"{who}: f must be a function, not {type(f).__name__}")
    if not isinstance(domain, Mapping) or not domain:
        raise TypeError(f"{who}: domain must map each argument (its position or its name) "
                        f"to an interval (low, high), e.g. {{'x': (-3, 3)}}; got {domain!r}")
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    open_ended = not parameters or any(p.kind is p.VAR_POSITIONAL for p in parameters)
    by_position: dict[int, Any] = {}
    for key, spec in domain.items():
        if isinstance(key, str):
            if key not in positional:
                known = ", ".join(positional) or "none (use positions 0, 1, ...)"
                raise KeyError(f"{who}: domain names {key!r}, which is not an argument of "
                               f"f; its arguments: {known}")
            position = positional.index(key)
        elif isinstance(key, numbers.Integral) and not isinstance(key, bool) and int(key) >= 0:
            position = int(key)
        else:
            raise TypeError(f"{who}: a domain key is an argument's position (0, 1, ...) or "
                            f"name, not {key!r}")
        if position in by_position:
            raise ValueError(f"{who}: domain gives argument {position} twice")
        by_position[position] = spec
    count = max(len(positional), max(by_position) + 1) if open_ended else len(positional)
    if not open_ended and max(by_position) >= count:
        raise ValueError(f"{who}: domain gives argument {max(by_position)}, but f takes "
                         f"{count} ({', '.join(positional)})")
    names = [positional[k] if k < len(positional) else f"x{k}" for k in range(count)]
    missing = [f"{k} ({names[k]})" for k in range(count) if k not in by_position]
    if missing:
        raise ValueError(f"{who}: domain gives no interval for argument "
                         f"{', '.join(missing)}: every input needs one")
    intervals = tuple(_interval(by_position[k], names[k]) for k in range(count))
    return _Arguments(tuple(names), intervals)


def _function_name(f: Callable[..., Any]) -> str:
    """f's name for the headline (``softplus``), or "f"; formulas always call the output f."""
    name = getattr(f, "__name__", "")
    return name if name.isidentifier() else "f"


# ---------------------------------------------------------------- the references


def _on_values(f: Callable[..., Any], args: _Arguments, point: Sequence[float],
               who: str) -> tuple[Value | float, list[Value]]:
    """f run on Values (leaves labelled by argument name): its output and the leaves."""
    leaves = [Value(value, label=name) for name, value in zip(args.names, point)]
    with noting_float_conversions() as converted:
        out = f(*leaves)
    if isinstance(out, Value):
        pass
    elif isinstance(out, numbers.Real) and not isinstance(out, bool):
        out = float(out)
    else:
        raise TypeError(f"{who}: f must return one number (a Value when it runs on Values), "
                        f"not {type(out).__name__}")
    lost = [leaf.label for leaf in leaves if converted and _depends_on(converted, leaf)]
    if lost:
        raise TypeError(
            f"{who}: f turned a Value that depends on {', '.join(lost)} into a float "
            "(float(v), a math-module function such as math.exp(v), or another library's "
            "number), so the engine cannot follow it. Write f with autograd_lite's "
            "functions, which run on floats and on Values: "
            "from autograd_lite import exp, log, sigmoid, tanh, sqrt, sin, cos")
    return out, leaves


class _Reference:
    name = ""  # in each input's line: "the engine 0.731"
    of = ""  # in the headline: "the engine's gradient of softplus"
    kind = ""

    def __init__(self, f: Callable[..., Any], args: _Arguments, who: str) -> None:
        self.f, self.args, self.who = f, args, who

    def gradient(self, point: Sequence[float]) -> list[float]:  # pragma: no cover
        raise NotImplementedError

    def explain(self, point: Sequence[float], position: int) -> list[str]:
        return []


class _Engine(_Reference):
    name = "the engine"
    of = "the engine's gradient of"
    kind = "engine"

    def gradient(self, point: Sequence[float]) -> list[float]:
        out, leaves = _on_values(self.f, self.args, point, self.who)
        return [float(g) for g in gradients(out, leaves)]

    def explain(self, point: Sequence[float], position: int) -> list[str]:
        from ..explanation import explain

        out, leaves = _on_values(self.f, self.args, point, self.who)
        if not isinstance(out, Value) or type(out) is Constant:
            return [f"the correct derivative: df/d{self.args.names[position]}"
                    " = 0 (f does not depend on its inputs)"]
        out.label = "f"
        try:
            explanation = explain(out, leaves[position])
        except (ValueError, RuntimeError) as error:  # too many paths, SymPy's time limit
            return [f"the correct derivative: (no formula: {error})"]
        lines = ["the correct derivative: " + str(explanation).replace("\n", "\n    ")]
        try:
            expanded = explain(out, leaves[position], expand=True).symbols_text()
        except (ValueError, RuntimeError):
            expanded = ""
        if expanded and len(expanded) <= _LONGEST_EXPANDED \
                and expanded != explanation.symbols_text():
            lines.append(f"in the inputs alone: {explanation._head('unicode')} = {expanded}")
        return lines


class _SymPy(_Reference):
    name = "SymPy's diff"
    of = "SymPy's diff of"
    kind = "sympy"

    def __init__(self, f: Callable[..., Any], args: _Arguments, who: str) -> None:
        super().__init__(f, args, who)
        import sympy

        self.symbols = [sympy.Symbol(name, real=True) for name in args.names]
        self.direct = self._direct()
        self.cache: dict[Any, tuple[list[Any], Callable[..., Any]]] = {}

    def _direct(self) -> Any:
        """f called on SymPy symbols, when it can take them (plain arithmetic)."""
        import sympy

        try:
            expression = self.f(*self.symbols)
        except Exception:  # f uses autograd_lite's functions, branches on its inputs ...
            return None
        return expression if isinstance(expression, sympy.Expr) else None

    def expression(self, point: Sequence[float]) -> Any:
        if self.direct is not None:
            return self.direct
        from ..symbolic import to_sympy

        out, _ = _on_values(self.f, self.args, point, self.who)
        if not isinstance(out, Value):
            import sympy

            return sympy.Float(out)
        expression = to_sympy(out)
        plain = {sympy_symbol: symbol for symbol in self.symbols
                 for sympy_symbol in expression.free_symbols
                 if sympy_symbol.name == symbol.name}
        return expression.xreplace(plain)

    def derivatives(self, point: Sequence[float]) -> tuple[list[Any], Callable[..., Any]]:
        expression = self.expression(point)
        if expression not in self.cache:
            import sympy

            diffs = [sympy.diff(expression, symbol) for symbol in self.symbols]
            self.cache[expression] = (diffs, sympy.lambdify(self.symbols, diffs, "mpmath"))
        return self.cache[expression]

    def gradient(self, point: Sequence[float]) -> list[float]:
        import mpmath

        _, evaluate = self.derivatives(point)
        with mpmath.workdps(_REFERENCE_DIGITS):
            values = evaluate(*(mpmath.mpf(v) for v in point))
            return [float(mpmath.re(v)) if isinstance(v, mpmath.mpc) else float(v)
                    for v in values]

    def explain(self, point: Sequence[float], position: int) -> list[str]:
        diffs, _ = self.derivatives(point)
        return [f"the correct derivative (SymPy): df/"
                f"d{self.args.names[position]} = {diffs[position]}"]


class _FiniteDifferences(_Reference):
    name = "central differences"
    of = "central differences of"
    kind = "finite_differences"

    def step(self, point: Sequence[float]) -> float:
        """The stencil's step: it reaches 2 steps either side and stays inside the domain."""
        room = min(min(v - low, high - v) for v, (low, high) in zip(point, self.args.intervals))
        return min(_STENCIL_STEP, room / 2.5)

    def value(self, at: dict[str, float]) -> float:
        out = self.f(*(at[name] for name in self.args.names))
        return float(out)

    def gradient(self, point: Sequence[float]) -> list[float]:
        at = dict(zip(self.args.names, point))
        h = self.step(point)
        return [_central_difference(self.value, at, name, h) for name in self.args.names]

    def explain(self, point: Sequence[float], position: int) -> list[str]:
        return [f"(f's five-point central difference, step {self.step(point):.3g})"]


_REFERENCE_CLASSES: dict[str, type[_Reference]] = {
    "engine": _Engine, "sympy": _SymPy, "finite_differences": _FiniteDifferences}


def _reference(reference: str, f: Callable[..., Any], args: _Arguments,
               who: str) -> _Reference:
    if reference not in _REFERENCE_CLASSES:
        raise ValueError(f"{who}: reference must be one of "
                         f"{', '.join(map(repr, REFERENCES))}, not {reference!r}")
    return _REFERENCE_CLASSES[reference](f, args, who)


# ---------------------------------------------------------------- the comparison


class _MismatchError(AssertionError):
    """Raised inside Hypothesis's loop (cheap); the full message is written once, after."""

    def __init__(self, point: tuple[float, ...], kind: str) -> None:
        super().__init__(f"{kind} mismatch at {point!r}")
        self.point = point
        self.kind = kind


def _as_numbers(result: Any, count: int, who: str, source: str) -> list[float]:
    """The gradient code's result as ``count`` floats (a bare number for one input)."""
    if isinstance(result, (numbers.Real, Value)) and not isinstance(result, bool):
        result = [result]
    elif hasattr(result, "tolist") and not isinstance(result, (list, tuple)):
        result = result.tolist()  # a NumPy array or a tensor
        if not isinstance(result, list):
            result = [result]
    if isinstance(result, (str, bytes)) or not isinstance(result, Sequence):
        raise AssertionError(f"{who}: {source} must return one number per input ({count}), "
                             f"not {type(result).__name__}")
    if len(result) != count:
        raise AssertionError(f"{who}: {source} returned {len(result)} number(s) for "
                             f"{count} input(s)")
    floats = []
    for k, item in enumerate(result):
        if hasattr(item, "item") and not isinstance(item, Value):
            item = item.item()
        if isinstance(item, bool) or not isinstance(item, (numbers.Real, Value)):
            raise AssertionError(f"{who}: {source}'s number {k} is a "
                                 f"{type(item).__name__}, not a number")
        floats.append(float(item))
    return floats


def _close(got: float, wanted: float, rtol: float, atol: float) -> bool:
    return abs(got - wanted) <= atol + rtol * abs(wanted)  # NaN compares False: it fails


GradientSource = Callable[[tuple[float, ...]], tuple[float | None, list[float]]]


def _check(f: Callable[..., Any], source: GradientSource, source_name: str,
           forward_name: str, domain: Mapping[Any, Any], reference: str,
           rtol: float | None, atol: float | None, settings: Settings | None,
           max_examples: int | None, who: str) -> None:
    """Draw points, compare the source's (value, gradient) with the reference's."""
    args = _arguments(f, domain, who)
    ref = _reference(reference, f, args, who)
    default_rtol, default_atol = _DEFAULT_TOLERANCE[reference]
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)
    intervals = args.intervals
    if reference == "finite_differences":  # room for the stencil on both sides
        intervals = tuple((low + min(2.5 * _STENCIL_STEP, (high - low) / 4),
                           high - min(2.5 * _STENCIL_STEP, (high - low) / 4))
                          for low, high in intervals)
    points = st.tuples(*(st.floats(low, high, exclude_min=True, exclude_max=True,
                                   allow_nan=False, allow_infinity=False)
                         for low, high in intervals))

    def forward_value(point: tuple[float, ...]) -> float:
        out = f(*point)
        return float(out)

    def one_point(point: tuple[float, ...]) -> None:
        value, yours = source(point)
        if value is not None and not _close(value, forward_value(point), rtol, atol):
            raise _MismatchError(point, "forward")
        wanted = ref.gradient(point)
        if not all(_close(a, b, rtol, atol) for a, b in zip(yours, wanted)):
            raise _MismatchError(point, "gradient")

    from hypothesis import given

    test = check_settings(settings, max_examples)(given(point=points)(one_point))
    try:
        test()
    except _MismatchError as mismatch:
        message = _message(f, args, ref, source, (source_name, forward_name), mismatch,
                           rtol, atol)
        raise AssertionError(message) from None


def _message(f: Callable[..., Any], args: _Arguments, ref: _Reference,
             source: GradientSource, source_names: tuple[str, str], mismatch: _MismatchError,
             rtol: float, atol: float) -> str:
    source_name, forward_name = source_names
    point = mismatch.point
    value, yours = source(point)
    where = args.where(point)
    out = "f"
    if mismatch.kind == "forward":
        assert value is not None
        name = _function_name(f)
        return (f"{forward_name} disagrees with {name} at {where}: {_number(value)}, "
                f"{name} gives {_number(float(f(*point)))}. The backward is checked against f's "
                "gradient, so f must compute the same function.")
    wanted = ref.gradient(point)
    lines = [f"{source_name} disagrees with {ref.of} {_function_name(f)} at {where}"]
    for k, (name, got, want) in enumerate(zip(args.names, yours, wanted)):
        allowed = atol + rtol * abs(want)
        if _close(got, want, rtol, atol):
            lines.append(f"  d{out}/d{name}: {source_name} {_number(got)}, {ref.name} "
                         f"{_number(want)}  (agree)")
            continue
        lines.append(f"  d{out}/d{name}: {source_name} {_number(got)}, {ref.name} "
                     f"{_number(want)}  WRONG (difference {got - want:.3g}, "
                     f"allowed {allowed:.3g})")
        lines.extend(f"    {line}" for line in ref.explain(point, k))
    return "\n".join(lines)


# ---------------------------------------------------------------- the public checks


def assert_gradient_matches(f: Callable[..., Any], grad_f: Callable[..., Any],
                            domain: Mapping[Any, Any], *, reference: str = "engine",
                            rtol: float | None = None, atol: float | None = None,
                            settings: Settings | None = None,
                            max_examples: int | None = None) -> None:
    """``grad_f`` is the gradient of ``f`` at every point Hypothesis draws inside ``domain``.

    ``f(*xs)`` is the forward, written so that it runs on floats and on Values (math
    through autograd_lite: ``from autograd_lite import exp, log, sigmoid, tanh``).
    ``grad_f(*xs)`` is the code under test: one float per argument (a bare number for one
    argument). ``domain`` maps each argument, by position or by name, to ``(low, high)``;
    points are drawn strictly inside. ``reference`` is ``"engine"`` (autograd_lite's
    gradients; the failure shows the correct derivative's chain rule from ``explain``),
    ``"sympy"`` (``sympy.diff``, 30 digits) or ``"finite_differences"`` (five-point central
    differences of ``f``). Tolerance: ``atol + rtol·|reference|`` (defaults 1e-9 and 1e-6;
    1e-7 and 1e-5 for finite differences).

    Raises AssertionError naming the point, each input's two numbers (``grad_f``'s and the
    reference's) and, for each wrong one, the formula it should have been.

    >>> from autograd_lite import exp, log
    >>> assert_gradient_matches(lambda x: log(1 + exp(x)), lambda x: 1 / (1 + exp(-x)),
    ...                         {"x": (-5, 5)})
    """
    who = "assert_gradient_matches"
    if not callable(grad_f):
        raise TypeError(f"{who}: grad_f must be a function, not {type(grad_f).__name__}")
    count = len(_arguments(f, domain, who).names)
    name = getattr(grad_f, "__name__", "")
    source_name = name if name.isidentifier() else "grad_f"

    def source(point: tuple[float, ...]) -> tuple[float | None, list[float]]:
        return None, _as_numbers(grad_f(*point), count, who, source_name)

    _check(f, source, source_name, "", domain, reference, rtol, atol, settings, max_examples,
           who)


def _framework(custom: Any) -> str:
    """"torch" for a torch.autograd.Function subclass, "jax" for a jax custom_vjp/jvp."""
    if isinstance(custom, type) and any(
            klass.__name__ == "Function" and klass.__module__.startswith("torch.autograd")
            for klass in custom.__mro__):
        return "torch"
    if type(custom).__module__.startswith("jax"):
        return "jax"
    raise TypeError("assert_custom_backward_matches: custom must be a torch.autograd.Function "
                    "subclass or a function made with jax.custom_vjp (or jax.custom_jvp), "
                    f"not {type(custom).__name__}; pass framework='torch' or 'jax' for "
                    "another function of tensors")


def _torch_source(custom: Any, count: int, who: str, name: str) -> GradientSource:
    import torch

    function: Any = custom
    if isinstance(custom, type):  # a torch.autograd.Function subclass: called by .apply
        function = function.apply

    def source(point: tuple[float, ...]) -> tuple[float | None, list[float]]:
        xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
        out = function(*xs)
        if not isinstance(out, torch.Tensor) or out.numel() != 1:
            raise AssertionError(f"{who}: {name} must return one number (a tensor with one "
                                 f"entry), not {out!r}")
        grads = torch.autograd.grad(out.reshape(()), xs, allow_unused=True)
        values = [0.0 if g is None else float(g) for g in grads]
        return float(out.detach()), _as_numbers(values, count, who, f"{name}.backward")

    return source


def _jax_source(custom: Any, count: int, who: str, name: str) -> GradientSource:
    import jax
    import jax.numpy as jnp

    def run(point: tuple[float, ...]) -> tuple[float, Any]:
        xs = [jnp.asarray(v, dtype=jnp.float64) for v in point]
        value = custom(*xs)
        grads = jax.grad(lambda *a: jnp.reshape(custom(*a), ()),
                         argnums=tuple(range(count)))(*xs)
        return float(value), [float(g) for g in grads]

    def source(point: tuple[float, ...]) -> tuple[float | None, list[float]]:
        enable = getattr(jax, "enable_x64", None)
        if enable is None:  # older JAX: the global switch
            jax.config.update("jax_enable_x64", True)
            value, grads = run(point)
        else:
            with enable(True):
                value, grads = run(point)
        return value, _as_numbers(grads, count, who, f"{name}'s backward")

    return source


def assert_custom_backward_matches(custom: Any, f: Callable[..., Any],
                                   domain: Mapping[Any, Any], *, reference: str = "engine",
                                   framework: str | None = None, rtol: float | None = None,
                                   atol: float | None = None,
                                   settings: Settings | None = None,
                                   max_examples: int | None = None) -> None:
    """A custom backward computes the gradient of ``f``: the same check as
    ``assert_gradient_matches``, with the custom function's gradients in float64 as the code
    under test, and its forward compared with ``f`` as well.

    ``custom`` is a ``torch.autograd.Function`` subclass (called through ``.apply``) or a
    function made with ``jax.custom_vjp``/``jax.custom_jvp`` (``framework=`` names the
    library for any other function of tensors). It takes one scalar tensor per argument and
    returns one. ``f`` is the same formula written for floats and Values. Needs torch or jax
    (the ``torch``/``jax`` extras).
    """
    who = "assert_custom_backward_matches"
    if framework is None:
        framework = _framework(custom)
    elif framework not in ("torch", "jax"):
        raise ValueError(f"{who}: framework must be 'torch' or 'jax', not {framework!r}")
    count = len(_arguments(f, domain, who).names)
    name = getattr(custom, "__name__", "") or type(custom).__name__
    if not name.isidentifier():
        name = "the custom function"
    maker = _torch_source if framework == "torch" else _jax_source
    source = maker(custom, count, who, name)
    _check(f, source, f"{name}'s backward", f"{name}'s forward", domain, reference, rtol,
           atol, settings, max_examples, who)
