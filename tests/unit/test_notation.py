"""The one notation module: numbers and formulas as every reader prints them (issue 11).

A printed formula must mean what the expression means: the ASCII form is parsed back with
SymPy and compared with the expression; numbers never round a non-zero value to 0.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import PRIMITIVES
from autograd_lite.notation import formula, number, operation, product, safe_filename

x, h, v, s1, s2, w1, w2, alpha = sympy.symbols("x h v s1 s2 w1 w2 alpha")


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != 0))
def test_a_number_that_is_not_zero_never_prints_as_zero(value):
    text = number(value)
    assert text not in ("0", "0.0000", "−0", "-0")
    back = Decimal(text.replace("−", "-"))  # Decimal: 1.798e+308 is beyond a float
    assert abs(back - Decimal(value)) <= Decimal("5e-4") * abs(Decimal(value))


def test_numbers_as_the_lecture_prints_them():
    assert number(0.7275) == "0.7275"
    assert number(0.98201379) == "0.9820"  # rounded: the trailing zero stays
    assert number(2.0) == "2" and number(0.5) == "0.5"  # exact: as it is
    assert number(-0.09734) == "−0.09734"
    assert number(-0.09734, style="ascii") == "-0.09734"
    assert number(5.5e-06) == "5.5e-06"  # the vanishing gradient stays visible
    assert number(5.5e-06, style="latex") == r"5.5 \times 10^{-6}"
    with pytest.raises(ValueError, match="digits must be a whole number"):
        number(1.0, digits=-1)


@pytest.mark.parametrize("expression", [
    s2 * (1 - s2), 1 - h**2, v * (1 - h**2) * x, x / (1 + sympy.exp(-x)),
    sympy.Piecewise((1, x >= 0), (alpha, True)), -x, 2**x * sympy.log(2), sympy.sign(x),
    sympy.Float(1.5e-5) * x, sympy.sqrt(h) - 1,
])
def test_the_ascii_form_parses_back_to_the_expression(expression):
    text = formula(expression, "ascii")
    assert sympy.parse_expr(text, local_dict={s.name: s for s in (x, h, v, s2, alpha)}) == \
        expression


def test_a_sum_inside_a_product_keeps_its_parentheses():
    # The example: dout/dw = v · (1 − h²) · x, not v · 1 − h² · x (= v − h²x).
    assert product([v, 1 - h**2, x]) == "v · (1 − h²) · x"
    assert product([v, 1 - h**2, x], "ascii") == "v*(1 - h**2)*x"
    assert product([v, 1 - h**2, x], "latex") == r"v \cdot \left(1 - h^{2}\right) \cdot x"
    assert sympy.parse_expr(product([v, 1 - h**2, x], "ascii")) == v * (1 - h**2) * x


def test_a_product_keeps_the_chain_order():
    # Kramer: dout/dw1 = w2 · s2(1 − s2) · s1, in path order (SymPy would sort it).
    assert product([w2, s2 * (1 - s2), s1]) == "w2 · s2·(1 − s2) · s1"
    assert product([w2, s2 * (1 - s2), s1], "latex") == \
        r"w_{2} \cdot s_{2} \left(1 - s_{2}\right) \cdot s_{1}"


def test_piecewise_derivatives_read_as_the_lecture_writes_them():
    relu_slope = sympy.Piecewise((1, x >= 0), (0, True))
    assert formula(relu_slope) == "1 if x ≥ 0, else 0"
    assert product([v, relu_slope]) == "v · (1 if x ≥ 0, else 0)"
    assert formula(sympy.Piecewise((1, x >= 0), (alpha, True))) == "1 if x ≥ 0, else α"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([s2 * (1 - s2), 1 - h**2, w1, -x, x / (2 + h), h**3,
                                 sympy.exp(-x), sympy.Piecewise((1, x >= 0), (0, True)),
                                 x - 2 * h, sympy.Rational(1, 4)]), min_size=1, max_size=5))
def test_any_chain_of_factors_parses_back(factors):
    text = product(factors, "ascii")
    names = {s.name: s for s in (x, h, w1, s2)}
    # equal as functions (SymPy distributes a number over a sum when it parses 1/4*(1 - h))
    assert sympy.simplify(sympy.parse_expr(text, local_dict=names) - sympy.Mul(*factors)) == 0


def test_operations_are_written_from_the_primitives_notation():
    assert operation(PRIMITIVES["mul"], ["w2", "s2"]) == "w2 * s2"
    assert operation(PRIMITIVES["neg"], ["x"]) == "−x"
    assert operation(PRIMITIVES["sigmoid"], ["x2"]) == "sigmoid(x2)"
    assert operation(PRIMITIVES["pow"], ["x", "2"]) == "x ** 2"


def test_safe_file_names():
    assert safe_filename("L1.N0.w2") == "L1.N0.w2"
    assert safe_filename("a/b c") == "a_b_c"
    assert safe_filename("../..") == "_"
    assert math.isfinite(len(safe_filename("x" * 10)))
