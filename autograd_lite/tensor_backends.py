"""The namespaces ``compile_graph`` runs its code in for tensors: PyTorch and JAX.

Optional extras (``pip install torch==2.13.0`` CPU, ``jax[cpu]``); imported only when a
graph is compiled for them. Each maps the primitives table's elementary functions
(``primitives.NAMESPACE_PROTOCOL``) to the library's own operations, so the compiled
function is made of them and the library's autodiff can differentiate it too.
"""

from __future__ import annotations

from typing import Any


def tensor_runtime(backend: str) -> dict[str, Any]:
    """The protocol's functions for ``backend`` ("torch" or "jax")."""
    if backend == "torch":
        import torch

        def t_xlogy(x: Any, y: Any) -> Any:
            return torch.xlogy(x, y)

        return {"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh,
                "sin": torch.sin, "cos": torch.cos, "abs": torch.abs,
                "sigmoid": torch.sigmoid, "relu": torch.relu, "sign": torch.sign,
                "xlogy": t_xlogy,
                "where": lambda c, a, b: torch.where(c, torch.as_tensor(a, dtype=torch.float64),
                                                     torch.as_tensor(b, dtype=torch.float64))}
    import jax
    import jax.numpy as jnp

    return {"exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "tanh": jnp.tanh,
            "sin": jnp.sin, "cos": jnp.cos, "abs": jnp.abs, "sigmoid": jax.nn.sigmoid,
            "relu": jax.nn.relu, "sign": jnp.sign, "xlogy": jax.scipy.special.xlogy,
            "where": jnp.where}
