"""The namespaces ``compile_graph`` runs its code in for tensors: PyTorch and JAX.

Optional extras (``pip install 'autograd_lite[torch]'``: torch 2.13.0, CPU build;
``'autograd_lite[jax]'``: jax[cpu]); imported only when a graph is compiled for them. Each
maps the primitives table's elementary functions (``primitives.NAMESPACE_PROTOCOL``) to the
library's own operations, so the compiled function is made of them and the library's
autodiff differentiates it too (``torch.autograd.grad``, ``jax.grad``, ``jax.jit``).

The functions compute what the float namespace (``primitives.FLOAT``) computes, element by
element, in float64, where the library's own function differs from it:

- ``sigmoid``: FLOAT's two branches (``1/(1 + e**-x)`` for x >= 0, ``e**x/(1 + e**x)``
  below), the same numbers, and a derivative that never subtracts from 1 (the library's
  own sigmoid differentiates as ``out·(1 − out)``: 0.0 at x = 37, where the slope is
  8.5e-17);
- ``relu``: ``x`` where x >= 0, else 0.0 (and 0.0 for -0.0 and NaN, as FLOAT): the
  library's derivative at 0 is then 1, the table's ``relu'(0)`` (PyTorch's relu has 0);
- ``sign`` (JAX): 0.0 at -0.0 and NaN (``jnp.sign`` gives -0.0 and NaN there);
- ``abs`` (JAX): its derivative at 0 is 0, ``sign(0)`` as in the table (``jnp.abs``'s is 1);
- ``xlogy(x, y)``: 0 wherever x is 0, y NaN or negative included (``torch.xlogy`` and
  ``jax.scipy.special.xlogy`` give NaN for y NaN), with gradient 0 in x and y there;
- every function takes Python numbers too (a leaf folded into the code is a float).

JAX: compiling for it turns on ``jax_enable_x64`` (float64 arrays), which the compiled
function's float64 needs; it is JAX's global switch, so it stays on for the process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["tensor_program", "tensor_runtime"]


def tensor_runtime(backend: str) -> dict[str, Any]:
    """The protocol's functions for ``backend`` ("torch" or "jax")."""
    if backend == "torch":
        return _torch_runtime()
    if backend == "jax":
        return _jax_runtime()
    raise ValueError(f"tensor_runtime: backend must be 'torch' or 'jax', not {backend!r}")


def tensor_program(backend: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``run(*inputs) -> (value, grads)`` around the generated ``function``: the inputs as
    float64 tensors (a float64 tensor passes through as itself, so autograd sees it), and
    the value and every gradient as tensors of the inputs' broadcast shape, one element per
    independent evaluation (as the numpy backend)."""
    if backend == "torch":
        import torch

        def as_tensor(x: Any) -> Any:
            return torch.as_tensor(x, dtype=torch.float64)

        broadcast_shapes: Callable[..., Any] = torch.broadcast_shapes

        def spread(x: Any, shape: Any) -> Any:
            x = as_tensor(x)
            return x if x.shape == shape else x.expand(shape).contiguous()
    elif backend == "jax":
        import jax.numpy as jnp

        _enable_x64()

        def as_tensor(x: Any) -> Any:
            return jnp.asarray(x, dtype=jnp.float64)

        broadcast_shapes = jnp.broadcast_shapes

        def spread(x: Any, shape: Any) -> Any:
            x = as_tensor(x)
            return x if x.shape == shape else jnp.broadcast_to(x, shape)
    else:
        raise ValueError(f"tensor_program: backend must be 'torch' or 'jax', not {backend!r}")

    def run(*values: Any) -> tuple[Any, tuple[Any, ...]]:
        tensors = [as_tensor(v) for v in values]
        shape = broadcast_shapes(*(t.shape for t in tensors))
        value, grads = function(*tensors)
        return spread(value, shape), tuple(spread(g, shape) for g in grads)

    return run


# ---------------------------------------------------------------- PyTorch


def _torch_runtime() -> dict[str, Any]:
    import torch

    float64 = torch.float64
    Tensor = torch.Tensor

    def t(x: Any) -> Any:  # a folded leaf or a literal: a Python number
        return x if isinstance(x, Tensor) else torch.as_tensor(x, dtype=float64)

    def where(condition: Any, if_true: Any, if_false: Any) -> Any:
        return torch.where(torch.as_tensor(condition), t(if_true), t(if_false))

    def unary(op: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda x: op(t(x))

    def sigmoid(x: Any) -> Any:
        x = t(x)
        positive = x >= 0
        e = torch.exp(torch.where(positive, -x, x))  # e**-|x| <= 1: nothing overflows
        return torch.where(positive, 1 / (1 + e), e / (1 + e))

    def relu(x: Any) -> Any:
        x = t(x)
        return torch.where(x >= 0, x + 0.0, 0.0)  # x + 0.0: -0.0 becomes 0.0, as FLOAT's

    def xlogy(x: Any, y: Any) -> Any:
        x, y = t(x), t(y)
        zero = x == 0
        return torch.where(zero, 0.0, x * torch.log(torch.where(zero, 1.0, y)))

    return {"exp": unary(torch.exp), "log": unary(torch.log), "sqrt": unary(torch.sqrt),
            "tanh": unary(torch.tanh), "sin": unary(torch.sin), "cos": unary(torch.cos),
            "abs": unary(torch.abs), "sigmoid": sigmoid, "relu": relu,
            "sign": unary(torch.sign),  # 0 at 0, -0.0 and NaN already, as FLOAT's
            "xlogy": xlogy, "where": where}


# ---------------------------------------------------------------- JAX


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # a no-op when it is on already


def _jax_runtime() -> dict[str, Any]:
    import jax.numpy as jnp

    _enable_x64()
    float64 = jnp.float64

    def sigmoid(x: Any) -> Any:
        positive = x >= 0
        e = jnp.exp(jnp.where(positive, -x, x))  # e**-|x| <= 1: nothing overflows
        return jnp.where(positive, 1 / (1 + e), e / (1 + e))

    def relu(x: Any) -> Any:
        return jnp.where(x >= 0, x + 0.0, 0.0)  # x + 0.0: -0.0 becomes 0.0, as FLOAT's

    def sign(x: Any) -> Any:  # jnp.sign(-0.0) is -0.0, jnp.sign(nan) NaN; FLOAT's are 0.0
        return jnp.nan_to_num(jnp.sign(x), nan=0.0) + 0.0

    def xlogy(x: Any, y: Any) -> Any:
        zero = jnp.asarray(x) == 0
        return jnp.where(zero, 0.0, x * jnp.log(jnp.where(zero, 1.0, y)))

    def where(condition: Any, if_true: Any, if_false: Any) -> Any:  # floats, even of 1 and 0
        return jnp.where(condition, jnp.asarray(if_true, dtype=float64),
                         jnp.asarray(if_false, dtype=float64))

    def abs_(x: Any) -> Any:  # jnp.abs's derivative at 0 is 1; the table's, sign(0), is 0
        return jnp.where(jnp.asarray(x) == 0, 0.0, jnp.abs(x))

    return {"exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "tanh": jnp.tanh,
            "sin": jnp.sin, "cos": jnp.cos, "abs": abs_, "sigmoid": sigmoid,
            "relu": relu, "sign": sign, "xlogy": xlogy, "where": where}
