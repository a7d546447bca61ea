"""Optimizers (SGD with momentum, Adam) and learning-rate schedules.

An optimizer reads each parameter's ``.grad`` and changes its ``.data`` in place: an
update is plain arithmetic on floats, so it never records graph.

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.zero_grad(); loss.backward(); opt.step()

Schedules ("often will start larger and then get smaller", Kauchak) are callables
``epoch -> learning rate``; ``fit`` sets ``optimizer.lr = schedule(epoch)`` before each
epoch, and a hand-written loop can do the same.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from autograd_lite import Constant, Value

__all__ = [
    "SGD", "Adam", "ConstantLR", "CosineDecay", "ExponentialDecay", "InverseTimeDecay",
    "LinearDecay", "Optimizer", "Schedule", "StepDecay",
]


def _positive(x: Any, what: str, allow_zero: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number, got {x!r}")
    if x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {x!r}")
    return float(x)


def _fraction(x: Any, what: str) -> float:
    x = _positive(x, what, allow_zero=True)
    if x >= 1:
        raise ValueError(f"{what} must be in [0, 1), got {x!r}")
    return x


class Optimizer:
    """Holds the parameters (a list of Values, or a Module) and the learning rate ``lr``."""

    def __init__(self, params: Iterable[Value] | Any, lr: float,
                 weight_decay: float = 0.0) -> None:
        name = type(self).__name__
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()
        if isinstance(params, Value):
            raise TypeError(f"{name}: params must be a list of Values, not a single Value "
                            "(wrap it: [w])")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be a list of Values or a Module, "
                            f"not {type(params).__name__}") from None
        seen: set[int] = set()
        self.params: list[Value] = []
        for position, p in enumerate(params):
            if not isinstance(p, Value) or type(p) is Constant:
                kind = "a Constant" if isinstance(p, Value) else type(p).__name__
                raise TypeError(f"{name}: params[{position}] must be a Value leaf, not {kind}")
            if p.parents:
                raise ValueError(f"{name}: params[{position}] ({p.label or 'unlabelled'}) is "
                                 f"the result of an operation ({p.op}), not a parameter leaf")
            if id(p) not in seen:  # a parameter listed twice is still updated once
                seen.add(id(p))
                self.params.append(p)
        if not self.params:
            raise ValueError(f"{name}: no parameters to optimize")
        self.lr = _positive(lr, f"{name} lr")
        self.weight_decay = _positive(weight_decay, f"{name} weight_decay", allow_zero=True)
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def _gradients(self) -> list[float]:
        """Each parameter's gradient, plus weight_decay · p (the gradient of ½λ‖p‖²)."""
        decay = self.weight_decay
        grads = []
        for p in self.params:
            g = p.grad
            if not math.isfinite(g):
                raise ValueError(f"{type(self).__name__}.step: the gradient of "
                                 f"{p.label or 'a parameter'} is {g!r}")
            grads.append(g + decay * p.data if decay else g)
        return grads

    def step(self) -> None:  # pragma: no cover - every optimizer defines it
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent with momentum: Δw ← μ·Δw − η·g,  w ← w + Δw.

    With ``momentum=0`` this is the lectures' w ← w − η dC/dw. Momentum "keeps moving in
    the direction of the previous update" (Kauchak): the update is a running sum of past
    steps, each shrunk by μ per step.
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _fraction(momentum, "SGD momentum")
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        grads = self._gradients()
        lr, mu, velocity = self.lr, self.momentum, self.velocity
        for i, (p, g) in enumerate(zip(self.params, grads)):
            change = mu * velocity[i] - lr * g
            velocity[i] = change
            p.data += change
        self.steps += 1

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): per-parameter steps from running averages of g and g².

        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        m̂ = m / (1 − β1^t),      v̂ = v / (1 − β2^t)
        w ← w − lr · m̂ / (√v̂ + ε)
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_fraction(beta1, "Adam beta1"), _fraction(beta2, "Adam beta2"))
        self.eps = _positive(eps, "Adam eps")
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        grads = self._gradients()
        beta1, beta2 = self.betas
        self.steps += 1
        t = self.steps
        correction1 = 1 - beta1**t
        correction2 = 1 - beta2**t
        lr, eps, m, v = self.lr, self.eps, self.m, self.v
        for i, (p, g) in enumerate(zip(self.params, grads)):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            p.data -= lr * (m[i] / correction1) / (math.sqrt(v[i] / correction2) + eps)

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")


# ---------------------------------------------------------------- schedules


class Schedule:
    """A learning rate per epoch (counted from 0): ``schedule(epoch) -> lr``."""

    def __init__(self, lr: float) -> None:
        self.lr = _positive(lr, f"{type(self).__name__} lr")

    def __call__(self, epoch: int) -> float:
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"{type(self).__name__}: epoch must be an int >= 0, got {epoch!r}")
        return self.rate(int(epoch))

    def rate(self, epoch: int) -> float:  # pragma: no cover - every schedule defines it
        raise NotImplementedError


class ConstantLR(Schedule):
    """The same rate every epoch."""

    def rate(self, epoch: int) -> float:
        return self.lr


class StepDecay(Schedule):
    """lr · factor^⌊epoch / every⌋: multiply by ``factor`` every ``every`` epochs."""

    def __init__(self, lr: float, every: int, factor: float = 0.5) -> None:
        super().__init__(lr)
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"StepDecay every must be a positive int, got {every!r}")
        self.every: int = int(every)
        self.factor: float = _positive(factor, "StepDecay factor")

    def rate(self, epoch: int) -> float:
        return self.lr * self.factor ** (epoch // self.every)


class ExponentialDecay(Schedule):
    """lr · factor^epoch."""

    def __init__(self, lr: float, factor: float) -> None:
        super().__init__(lr)
        self.factor = _positive(factor, "ExponentialDecay factor")

    def rate(self, epoch: int) -> float:
        return self.lr * self.factor**epoch


class InverseTimeDecay(Schedule):
    """lr / (1 + decay · epoch): the classic η_t ∝ 1/t of stochastic approximation."""

    def __init__(self, lr: float, decay: float) -> None:
        super().__init__(lr)
        self.decay = _positive(decay, "InverseTimeDecay decay", allow_zero=True)

    def rate(self, epoch: int) -> float:
        return self.lr / (1 + self.decay * epoch)


class LinearDecay(Schedule):
    """From ``lr`` at epoch 0 straight down to ``final_lr`` at ``epochs``, then constant.

    micrograd's moons demo uses ``1.0 − 0.9·k/100``: ``LinearDecay(1.0, 0.1, 100)``.
    """

    def __init__(self, lr: float, final_lr: float, epochs: int) -> None:
        super().__init__(lr)
        self.final_lr = _positive(final_lr, "LinearDecay final_lr", allow_zero=True)
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(f"LinearDecay epochs must be a positive int, got {epochs!r}")
        self.epochs: int = int(epochs)

    def rate(self, epoch: int) -> float:
        fraction = min(epoch, self.epochs) / self.epochs
        return self.lr + (self.final_lr - self.lr) * fraction


class CosineDecay(Schedule):
    """Half a cosine from ``lr`` down to ``final_lr`` over ``epochs``, then constant."""

    def __init__(self, lr: float, final_lr: float, epochs: int) -> None:
        super().__init__(lr)
        self.final_lr = _positive(final_lr, "CosineDecay final_lr", allow_zero=True)
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise ValueError(f"CosineDecay epochs must be a positive int, got {epochs!r}")
        self.epochs: int = int(epochs)

    def rate(self, epoch: int) -> float:
        fraction = min(epoch, self.epochs) / self.epochs
        return self.final_lr + (self.lr - self.final_lr) * 0.5 * (1 + math.cos(math.pi * fraction))
