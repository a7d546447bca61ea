"""The one table: every fact about a primitive is its entry, and readers read it (issue 11).

These tests check the wiring, not numbers: that the Value methods, the free functions and
the namespaces are exactly what the registry says, so nothing is written twice.
"""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path

import pytest
import sympy

import autograd_lite as ag
from autograd_lite import PRIMITIVES, Value
from autograd_lite.engine import VALUES
from autograd_lite.primitives import FLOAT, NAMESPACE_PROTOCOL, check_namespace
from autograd_lite.symbolic import sympy_namespace

PACKAGE = Path(ag.__file__).parent


def test_every_primitive_with_a_method_is_a_value_method_and_a_free_function():
    with_method = {name for name, p in PRIMITIVES.items() if p.method}
    assert with_method == {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu",
                           "sin", "cos"}  # SPEC.md's list of methods
    for name in with_method:
        assert callable(getattr(Value, name))
        assert getattr(ag, name) is PRIMITIVES[name]  # the free function is the entry itself
        assert name in ag.__all__


def _type_checking_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.FunctionDef):
                    names.add(statement.name)
                elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target,
                                                                         ast.Name):
                    names.add(statement.target.id)
    return names


def test_the_declarations_for_type_checkers_list_exactly_the_generated_names():
    with_method = {name for name, p in PRIMITIVES.items() if p.method}
    engine = ast.parse((PACKAGE / "engine.py").read_text())
    value_class = next(n for n in engine.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    assert _type_checking_names(value_class) == with_method
    init = ast.parse((PACKAGE / "__init__.py").read_text())
    assert _type_checking_names(init) - {"NARY_PRIMITIVES"} == with_method


def test_methods_take_the_inputs_and_defaults_of_the_entry():
    x = Value(-2.0)
    # leaky_relu(x, alpha=0.01): the default from the entry, by position and by keyword
    assert PRIMITIVES["leaky_relu"].inputs[1].default == 0.01
    assert x.leaky_relu().data == pytest.approx(-0.02)
    assert x.leaky_relu(0.1).data == pytest.approx(-0.2)
    assert x.leaky_relu(alpha=0.5).data == pytest.approx(-1.0)
    assert ag.leaky_relu(x, alpha=0.5).data == pytest.approx(-1.0)
    with pytest.raises(TypeError, match=r"leaky_relu\(x, alpha=0.01\) has no input 'beta'"):
        x.leaky_relu(beta=1)
    with pytest.raises(TypeError, match=r"sigmoid\(x\): x is missing"):
        ag.sigmoid()
    assert "alpha=0.01" in inspect.getdoc(Value.leaky_relu)


@pytest.mark.parametrize("namespace, name", [(FLOAT, "float"), (VALUES, "Value"),
                                             (sympy_namespace(), "SymPy")])
def test_every_namespace_provides_the_protocol(namespace, name):
    assert check_namespace(namespace, name) is namespace
    for function in NAMESPACE_PROTOCOL:
        assert callable(getattr(namespace, function))


def test_a_namespace_missing_a_function_is_refused_naming_it():
    from types import SimpleNamespace

    broken = SimpleNamespace(**{n: getattr(FLOAT, n) for n in NAMESPACE_PROTOCOL if n != "xlogy"})
    with pytest.raises(TypeError, match="the broken namespace lacks xlogy"):
        check_namespace(broken, "broken")


def test_linear_is_in_the_one_registry():
    assert PRIMITIVES["linear"].arity is None
    assert {"linear": PRIMITIVES["linear"]} == ag.NARY_PRIMITIVES


# The forward rules against definitions written here, independently of the table: the
# testing strategies' SymPy twins are the table's forward rules, so they are checked here.
_X, _Y = sympy.symbols("x y", real=True)
INDEPENDENT_SYMPY = {
    "add": _X + _Y, "sub": _X - _Y, "mul": _X * _Y, "div": _X / _Y, "pow": _X**_Y,
    "neg": -_X, "abs": sympy.Abs(_X), "exp": sympy.exp(_X), "log": sympy.log(_X),
    "sqrt": sympy.sqrt(_X), "tanh": sympy.tanh(_X), "sigmoid": 1 / (1 + sympy.exp(-_X)),
    "relu": sympy.Max(0, _X), "leaky_relu": sympy.Piecewise((_X, _X >= 0), (_Y * _X, True)),
    "step": sympy.Piecewise((1, _X >= 0), (0, True)),  # Kauchak's threshold unit
    "sin": sympy.sin(_X), "cos": sympy.cos(_X), "identity": _X,
}
INDEPENDENT_FLOAT = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x**y, "neg": lambda x: -x, "abs": abs,
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)), "relu": lambda x: max(x, 0.0),
    "leaky_relu": lambda x, a: x if x >= 0 else a * x, "sin": math.sin, "cos": math.cos,
    "step": lambda x: 1.0 if x >= 0 else 0.0,
    "identity": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(INDEPENDENT_SYMPY))
def test_each_forward_rule_is_the_function_it_names(name):
    primitive = PRIMITIVES[name]
    inputs = (_X, _Y)[:primitive.arity]
    over_sympy = primitive.forward(*inputs, sympy_namespace())
    for point in ((0.7, 1.3), (2.5, 0.5), (-0.6, 1.5), (-1.75, 0.25)):
        if name in ("log", "sqrt") and point[0] <= 0:
            continue
        if name == "pow" and point[0] < 0:
            continue
        at = dict(zip(inputs, map(sympy.Rational, map(str, point))))
        expected = float(INDEPENDENT_SYMPY[name].subs(at))
        assert float(over_sympy.subs(at)) == pytest.approx(expected, rel=1e-14), point
        numbers = point[:primitive.arity]
        assert primitive.forward(*numbers, FLOAT) == pytest.approx(
            INDEPENDENT_FLOAT[name](*numbers), rel=1e-14), point


def test_every_built_in_primitive_has_an_independent_definition_here():
    assert set(INDEPENDENT_SYMPY) == set(PRIMITIVES) - {"linear"}
