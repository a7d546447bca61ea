"""How the code is laid out (README, "How the code is laid out"): imports only run downward.

Every module of the two packages has a layer; a module may import only modules of lower
layers (or of its own package, for nn and the testing helpers). Function-level imports count
too; imports only for type checkers (``if TYPE_CHECKING:``) do not, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # tests/contract/this file -> the repository

# Lowest first. The same number: one layer (they must not import each other).
LAYERS: dict[str, int] = {
    "autograd_lite._options": 0,
    "autograd_lite.primitives": 0,
    "autograd_lite.engine": 1,
    "autograd_lite.functional": 2,
    "autograd_lite.anomaly": 2,  # detect_anomaly: records where the engine's nodes are made
    "autograd_lite.graph": 2,
    "autograd_lite.symbolic": 3,
    "autograd_lite.codegen": 4,  # the table printed as code (JavaScript for the explorer)
    "autograd_lite.notation": 1,
    "autograd_lite.extend": 4,
    "autograd_lite.tracing": 5,
    "autograd_lite.compiled": 5,  # the graph as code: table (printed) -> engine -> graph
    "autograd_lite.tensor_backends": 1,  # the namespaces of compiled graphs over tensors
    "autograd_lite.explanation": 6,
    "autograd_lite.forward": 6,  # jvp, forward_trace: the table's rules pushed inputs first
    "autograd_lite.rendering": 3,
    "autograd_lite.drawing": 7,
    "autograd_lite.updates": 7,  # explain_update: explain's formula in the update step
    "autograd_lite.exercises": 7,  # check_formula, check_derivative: graded by explain
    "autograd_lite.graph_language": 5,
    "autograd_lite.lectures": 5,
    "autograd_lite.explorer": 8,  # a front end over every reader: trace, explain, draw
    "autograd_lite.testing": 8,  # the package: its modules import one another
    "autograd_lite": 9,  # the package's front door: the user's names
    "nn": 10,  # built on autograd_lite; never imported by it, but by the front ends
    "autograd_lite.cli": 11,
    "autograd_lite.testing.backprop_check": 11,  # a NumPy backprop against the same nn network
    "autograd_lite.testing.pytest_plugin": 12,  # the gradient_check fixture: every check
    "autograd_lite.__main__": 12,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> tuple[str, int]:
    """The entry of LAYERS that holds ``module`` (the longest matching prefix)."""
    best = ""
    for name in LAYERS:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    if not best:
        raise KeyError(module)
    return best, LAYERS[best]


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import that runs (TYPE_CHECKING blocks skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if child.module is None:  # from . import primitives
                    found.extend((child.lineno, f"{target}.{alias.name}")
                                 for alias in child.names)
                else:
                    found.append((child.lineno, target))
            visit(child)

    visit(tree)
    return [(line, name) for line, name in found
            if name == "nn" or name.startswith(("nn.", "autograd_lite"))]


SOURCES = sorted([*ROOT.glob("autograd_lite/**/*.py"), *ROOT.glob("nn/**/*.py")])


def test_every_module_has_a_layer():
    missing = [_module_name(p) for p in SOURCES if not _has_layer(_module_name(p))]
    assert not missing, f"give these modules a layer in tests/contract/test_layout.py: {missing}"


def _has_layer(module: str) -> bool:
    try:
        _layer_of(module)
    except KeyError:
        return False
    return True


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_downward(path):
    module = _module_name(path)
    home, layer = _layer_of(module)
    upward = []
    for line, imported in _imports(path, module):
        target, target_layer = _layer_of(imported)
        if target == home:
            continue  # inside one package (nn, testing) or the module itself
        if target_layer >= layer:
            upward.append(f"line {line}: {imported} (layer {target_layer} >= {layer})")
    assert not upward, f"{module} imports upward or sideways: " + "; ".join(upward)


def test_the_check_itself_sees_an_upward_import(tmp_path):
    # The engine importing a reader must be caught.
    fake = tmp_path / "engine.py"
    fake.write_text("from .tracing import trace\n")
    imports = _imports(fake, "autograd_lite.engine")
    assert imports == [(1, "autograd_lite.tracing")]
    assert _layer_of("autograd_lite.tracing")[1] >= _layer_of("autograd_lite.engine")[1]


def test_importing_the_engine_does_not_import_sympy_graphviz_or_nn():
    import subprocess
    import sys

    code = ("import sys, autograd_lite; from autograd_lite import Value; "
            "(Value(2.0) * 3).backward(); "
            "print(sorted(m for m in ('sympy', 'graphviz', 'nn', 'hypothesis') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
