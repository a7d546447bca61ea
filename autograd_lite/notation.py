"""How numbers and formulas are written, once, for every reader: plain text (ASCII, which
pastes into Python), Unicode (what trace and explain print), Markdown and LaTeX.

- Numbers: ``number(x)`` keeps 4 significant digits (never ``0`` or ``0.0000`` for a number
  that is not 0: 5.5e-06 stays 5.5e-06), writes an exact number as it is (2, 0.5) and keeps
  a rounded one's trailing zeros (s1 = 0.98201… is 0.9820), so a reader can tell them apart.
- Formulas: SymPy expressions printed so that they mean what the expression means: a sum
  inside a product keeps its parentheses (``v · (1 − h²) · x``, never ``v · 1 − h² · x``),
  the ASCII form parses back with SymPy to the same expression, and a piecewise derivative
  reads as the lecture writes it (``1 if x ≥ 0, else 0``).
- A chain of factors keeps the order it is given in (the path order of a chain rule), which
  SymPy's own printer would sort away.
- Operations (``w2 * s2``, ``sigmoid(x2)``) are written from each primitive's notation, and
  file names made from node names are made safe in one way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .primitives import ATOM, Primitive

__all__ = ["STYLES", "formula", "number", "operation", "product", "safe_filename", "sum_of"]

STYLES = ("unicode", "ascii", "latex", "markdown")

_EXPONENT_MINUS = re.compile(r"(?<=[0-9]e)-")
_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_GREEK = {name: letter for name, letter in zip(
    ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma",
     "tau", "phi", "omega"), "αβγδεηθλμστφω")}


def _check_style(style: str) -> str:
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(map(repr, STYLES))}, not {style!r}")
    return style


def _unicode_minus(text: str) -> str:
    """A true minus sign, except inside a float's exponent (1.5e-5 stays as Python writes it)."""
    return _EXPONENT_MINUS.sub("\0", text).replace("-", "−").replace("\0", "-")


# ---------------------------------------------------------------- numbers


def number(value: float, digits: int = 4, style: str = "unicode") -> str:
    """``value`` to ``digits`` significant digits: 0.7275, 0.9820, 0.09734, 5.5e-06; exact
    numbers as they are (2, 0.5, 0.25). Never 0 for a number that is not 0."""
    _check_style(style)
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be a whole number from 1 to 17, not {digits!r}")
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if float(text) != value:
        text = f"{value:#.{digits}g}".rstrip(".")
        text = text.replace(".e", "e")
    if style == "latex" and "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    if style == "unicode" and text.startswith("-"):
        return "−" + text[1:]
    return text


# ---------------------------------------------------------------- formulas


def _printers() -> dict[str, Any]:
    """The SymPy printers of each style (made on first use: SymPy loads lazily)."""
    global _PRINTERS
    if _PRINTERS is not None:
        return _PRINTERS
    import sympy
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.str import StrPrinter

    class Ascii(StrPrinter):
        """SymPy's own string form, which parses back (``Piecewise((1, x >= 0), (0, True))``)."""

    # SymPy's printers dispatch on method names such as _print_Mul (hence N802).
    class Unicode(StrPrinter):
        def _print_Mul(self, expr: Any) -> str:  # noqa: N802
            return str(super()._print_Mul(expr)).replace("*", "·")

        def _print_Pow(self, expr: Any) -> str:  # noqa: N802
            base, exponent = expr.as_base_exp()
            if exponent.is_Integer and 1 < int(exponent) < 10:
                return self.parenthesize(base, 60) + str(int(exponent)).translate(_SUPERSCRIPTS)
            return str(super()._print_Pow(expr)).replace("**", "^")

        def _print_Symbol(self, expr: Any) -> str:  # noqa: N802
            return _GREEK.get(expr.name, expr.name)

        def _print_Relational(self, expr: Any) -> str:  # noqa: N802
            symbols = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "!=": "≠"}
            return (f"{self._print(expr.lhs)} {symbols.get(expr.rel_op, expr.rel_op)} "
                    f"{self._print(expr.rhs)}")

        def _print_Abs(self, expr: Any) -> str:  # noqa: N802
            return f"|{self._print(expr.args[0])}|"

        def _print_Max(self, expr: Any) -> str:  # noqa: N802
            return f"max({', '.join(self._print(a) for a in expr.args)})"

        def _print_Min(self, expr: Any) -> str:  # noqa: N802
            return f"min({', '.join(self._print(a) for a in expr.args)})"

        def _print_Piecewise(self, expr: Any) -> str:  # noqa: N802
            pieces = []
            for value, condition in expr.args:
                if condition is sympy.true:
                    pieces.append(f"else {self._print(value)}")
                else:
                    pieces.append(f"{self._print(value)} if {self._print(condition)}")
            return "(" + ", ".join(pieces) + ")"

    class Latex(LatexPrinter):
        def _print_Symbol(self, expr: Any, style: str = "plain") -> str:  # noqa: N802
            name = expr.name
            if name in _GREEK:
                return "\\" + name
            head, _, tail = name.partition("_")
            if tail.isdigit() and head.isalpha():  # label_2
                return rf"\mathrm{{{head}}}_{{{tail}}}"
            match = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
            if match:  # s2 -> s_{2}, w1 -> w_{1}: the lecture's subscripts
                return f"{match.group(1)}_{{{match.group(2)}}}"
            if len(name) > 1:
                escaped = name.replace("_", r"\_")
                return rf"\mathrm{{{escaped}}}"
            return name

    _PRINTERS = {"ascii": Ascii({"order": "none"}), "unicode": Unicode({"order": "none"}),
                 "latex": Latex({"order": "none"})}
    return _PRINTERS


_PRINTERS: dict[str, Any] | None = None


def formula(expression: Any, style: str = "unicode") -> str:
    """One SymPy expression (a local derivative, a whole gradient) in ``style``.

    ``ascii`` parses back with ``sympy.parse_expr`` to the same expression; ``unicode`` is
    the printed form (``s2·(1 − s2)``, ``1 − h²``); ``markdown`` is Unicode inside backticks;
    ``latex`` for typesetting.
    """
    _check_style(style)
    printers = _printers()
    if style == "latex":
        return str(printers["latex"].doprint(expression))
    if style == "ascii":
        return str(printers["ascii"].doprint(expression))
    text = _unicode_minus(str(printers["unicode"].doprint(expression)))
    if _is_piecewise(expression) and text.startswith("(") and text.endswith(")"):
        text = text[1:-1]  # alone, a piecewise needs no parentheses
    return f"`{text}`" if style == "markdown" else text


def _is_piecewise(expression: Any) -> bool:
    return type(expression).__name__ == "Piecewise"


def _needs_parentheses_in_product(expression: Any, first: bool) -> bool:
    """A sum, or anything else that binds less than a product (a relation); a negative
    factor only where it is not the first (``−sin(u1) · v2``, but ``v2 · (−sin(u1))``)."""
    import sympy
    from sympy.printing.precedence import PRECEDENCE, precedence

    expression = sympy.sympify(expression)
    if expression.is_Add or precedence(expression) >= PRECEDENCE["Mul"]:
        return bool(expression.is_Add)
    negative = expression.could_extract_minus_sign() and not expression.is_Add
    return not (negative and first)


def product(factors: Sequence[Any], style: str = "unicode") -> str:
    """Factors multiplied in the order given (a path, output end first), each parenthesised
    where it binds less than a product: ``w2 · s2·(1 − s2) · s1``; ASCII ``w2*s2*(1 - s2)*s1``."""
    _check_style(style)
    if not factors:
        return "1"
    texts = []
    for index, factor in enumerate(factors):
        text = formula(factor, "unicode" if style == "markdown" else style)
        # A piecewise reads as words ("1 if x ≥ 0, else 0"): among factors it needs
        # parentheses, except in ASCII, where it is a call (Piecewise(...)).
        piecewise = _is_piecewise(factor) and style != "ascii"
        if piecewise or _needs_parentheses_in_product(factor, first=index == 0):
            text = rf"\left({text}\right)" if style == "latex" else f"({text})"
        texts.append(text)
    joined = {"unicode": " · ", "markdown": " · ", "ascii": "*", "latex": r" \cdot "}[style]
    text = joined.join(texts)
    return f"`{text}`" if style == "markdown" else text


def sum_of(terms: Sequence[str], style: str = "unicode") -> str:
    """Terms already written (``product`` of each path) added up; a term that is itself a
    product of several factors is parenthesised in Unicode, where it is easier to read."""
    _check_style(style)
    if not terms:
        return "0"
    if len(terms) == 1:
        return terms[0]
    if style in ("unicode", "markdown"):
        inner = [t.strip("`") for t in terms]
        text = " + ".join(f"({t})" if " · " in t else t for t in inner)
        return f"`{text}`" if style == "markdown" else text
    return " + ".join(terms)


# ---------------------------------------------------------------- operations and files


def operation(primitive: Primitive, inputs: Sequence[str], style: str = "unicode") -> str:
    """How a node was computed, from its primitive's notation: ``w2 * s2``, ``−x``,
    ``sigmoid(x2)``, ``linear(w1, w2, x1, x2, b)``."""
    _check_style(style)
    notation = primitive.notation
    if notation.style == "infix" and len(inputs) == 2:
        symbol = notation.symbol
        if style == "latex":
            symbol = notation.latex or symbol
        return f"{inputs[0]} {symbol} {inputs[1]}"
    if notation.style == "prefix" and len(inputs) == 1:
        sign = "−" if style in ("unicode", "markdown") and notation.symbol == "-" else (
            notation.symbol)
        return f"{sign}{inputs[0]}"
    if style == "latex":
        return rf"{notation.latex or primitive.name}({', '.join(inputs)})"
    return f"{notation.symbol if notation.precedence == ATOM else primitive.name}" \
           f"({', '.join(inputs)})"


def safe_filename(text: str) -> str:
    """``text`` usable in a file name on every system: letters, digits, ``_ . -`` kept."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip(".")
    return safe or "_"
