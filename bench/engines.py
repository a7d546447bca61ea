"""The engines under test, behind one small interface.

Each adapter only says how to make a leaf from a float, how to run backward and read a
gradient, and where its relu/sigmoid live. The workloads (``workloads.py``) then build
every graph with the engine's own scalar type and the same Python operators.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class UnsupportedError(Exception):
    """The engine has no such operation (micrograd 0.1.0 has no sigmoid or exp)."""


@dataclass(frozen=True)
class Engine:
    name: str
    version: str
    leaf: Callable[[float], Any]
    backward: Callable[[Any], None]
    grad: Callable[[Any], float]
    relu: Callable[[Any], Any]
    sigmoid: Callable[[Any], Any]
    sgd_update: Callable[[list[Any], float], None]  # p.data -= lr·p.grad; p.grad = 0
    # an n-ary weighted sum b + Σ wᵢ·xᵢ as one node, or None (then it is built from + and *)
    linear: Callable[[list[Any], list[Any], Any], Any] | None = None


def _git_commit() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autograd_lite"],
                               capture_output=True, text=True,
                               cwd=Path(__file__).parent, check=True).stdout.strip()
        return result.stdout.strip() + ("+local changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def _sgd(params: list[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad
        p.grad = 0.0


def autograd_lite_engine(use_linear: bool = False) -> Engine:
    import autograd_lite
    from autograd_lite import Value

    linear = getattr(autograd_lite, "linear", None) if use_linear else None
    if use_linear and linear is None:
        raise UnsupportedError("this autograd_lite has no linear()")
    return Engine(
        name="autograd_lite (n-ary linear node)" if use_linear else "autograd_lite",
        version=f"{autograd_lite.__version__} ({_git_commit()})",
        leaf=Value,
        backward=Value.backward,
        grad=lambda v: v.grad,
        relu=Value.relu,
        sigmoid=Value.sigmoid,
        sgd_update=_sgd,
        linear=linear,
    )


def micrograd_engine() -> Engine:
    from micrograd.engine import Value

    def no_sigmoid(v: Any) -> Any:
        raise UnsupportedError("micrograd 0.1.0 has no sigmoid (nor exp to build one)")

    return Engine(
        name="micrograd",
        version=importlib.metadata.version("micrograd"),
        leaf=Value,
        backward=Value.backward,
        grad=lambda v: float(v.grad),
        relu=Value.relu,
        sigmoid=no_sigmoid,
        sgd_update=_sgd,
    )


def torch_engine() -> Engine:
    """PyTorch CPU scalar tensors, one tensor per number (optional: only when installed)."""
    import torch

    torch.set_num_threads(1)

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def grad(v: Any) -> float:
        return 0.0 if v.grad is None else float(v.grad)

    def sgd(params: list[Any], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    return Engine(
        name="PyTorch (CPU scalar tensors)",
        version=torch.__version__,
        leaf=leaf,
        backward=lambda out: out.backward(),
        grad=grad,
        relu=torch.relu,
        sigmoid=torch.sigmoid,
        sgd_update=sgd,
    )


def available_engines() -> tuple[list[Engine], list[str]]:
    """The engines that can run here, and a note for each one that cannot."""
    engines = [autograd_lite_engine()]
    notes = []
    try:
        engines.append(autograd_lite_engine(use_linear=True))
    except UnsupportedError as exc:
        notes.append(f"autograd_lite n-ary row skipped: {exc}")
    for make, package in ((micrograd_engine, "micrograd"), (torch_engine, "torch")):
        try:
            engines.append(make())
        except ImportError:
            notes.append(f"{package} is not installed: its column is skipped "
                         f"(`pip install {package}` to include it).")
    return engines, notes
