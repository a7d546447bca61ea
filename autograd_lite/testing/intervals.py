"""Interval arithmetic as one more namespace of the table's rules: the forward rule of any
primitive evaluated over ``Interval``s gives the range of its output over a box of inputs,
so no primitive needs range code of its own (the strategies use it to keep every operand
inside its primitive's smooth domain)."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from ..primitives import Primitive, check_namespace


class _Undecided:
    """A comparison of intervals that holds for some of their points and not others."""

    def __bool__(self) -> bool:
        raise TypeError("a comparison of intervals is undecided here: rules must choose "
                        "with f.where(...), not with if")


_UNDECIDED = _Undecided()


Range = tuple[float, float]  # an interval as (low, high), as the generator keeps them


def _hull(*numbers: float) -> Range:
    return (min(numbers), max(numbers))


class Interval:
    """[low, high]: encloses a node's value at every point of the domain box.

    The primitives' forward rules evaluated over these (the ``INTERVALS`` namespace) give
    each generated node's range, so no primitive needs range code of its own.
    """

    __slots__ = ("high", "low")

    def __init__(self, low: float, high: float) -> None:
        self.low = float(low)
        self.high = float(high)

    @staticmethod
    def of(x: Interval | float) -> Interval:
        return x if isinstance(x, Interval) else Interval(x, x)

    def __iter__(self) -> Iterator[float]:
        return iter((self.low, self.high))

    def __repr__(self) -> str:
        return f"Interval({self.low!r}, {self.high!r})"

    def __add__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        return Interval(self.low + o.low, self.high + o.high)

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.high, -self.low)

    def __sub__(self, other: Interval | float) -> Interval:
        return self + (-Interval.of(other))

    def __rsub__(self, other: float) -> Interval:
        return Interval.of(other) - self

    def __mul__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        return Interval(*_hull(self.low * o.low, self.low * o.high, self.high * o.low,
                               self.high * o.high))

    __rmul__ = __mul__

    def __truediv__(self, other: Interval | float) -> Interval:
        o = Interval.of(other)
        if o.low <= 0 <= o.high:
            raise ZeroDivisionError(f"interval division by {o}, which holds 0")
        return self * Interval(1 / o.high, 1 / o.low)  # 1/b is monotone on a one-signed b

    def __rtruediv__(self, other: float) -> Interval:
        return Interval.of(other) / self

    def __pow__(self, other: Interval | float) -> Interval:
        exponent = Interval.of(other)
        low, high = self.low, self.high
        if exponent.low == exponent.high and exponent.low == int(exponent.low):
            k = exponent.low
            if low > 0 or high < 0:  # an integer power is monotone on a one-signed interval
                return Interval(*_hull(low**k, high**k))
            if k < 0:
                raise ZeroDivisionError(f"interval {self} to the power {k}: it holds 0")
            if k % 2 == 0:
                return Interval(0.0, max(low**k, high**k))
            return Interval(low**k, high**k)
        if low <= 0:
            raise ValueError(f"interval {self} to a fractional power: not all positive")
        # base ** exponent = exp(exponent · ln base), each step monotone
        product = Interval(math.log(low), math.log(high)) * exponent
        return Interval(math.exp(product.low), math.exp(product.high))

    def __rpow__(self, other: float) -> Interval:
        return Interval.of(other) ** self

    def _compare(self, other: Interval | float, holds: Callable[[float, float], bool]) -> Any:
        o = Interval.of(other)
        # An order holds for all points of two intervals iff it holds at all four corners.
        corners = {holds(a, b) for a in (self.low, self.high) for b in (o.low, o.high)}
        return corners.pop() if len(corners) == 1 else _UNDECIDED

    def __ge__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.ge)

    def __gt__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.gt)

    def __le__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.le)

    def __lt__(self, other: Interval | float) -> Any:
        return self._compare(other, operator.lt)


def _monotone(function: Callable[[float], float]) -> Callable[[Any], Interval]:
    def apply(x: Any) -> Interval:
        x = Interval.of(x)
        return Interval(function(x.low), function(x.high))
    return apply


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _sin_range(x: Any) -> Interval:
    low, high = Interval.of(x)
    found = [math.sin(low), math.sin(high)]
    # sin peaks at pi/2 + 2k pi and dips at -pi/2 + 2k pi: include those inside [low, high]
    if math.ceil((low - math.pi / 2) / (2 * math.pi)) <= (high - math.pi / 2) / (2 * math.pi):
        found.append(1.0)
    if math.ceil((low + math.pi / 2) / (2 * math.pi)) <= (high + math.pi / 2) / (2 * math.pi):
        found.append(-1.0)
    return Interval(*_hull(*found))


def _abs_range(x: Any) -> Interval:
    low, high = Interval.of(x)
    if low <= 0 <= high:
        return Interval(0.0, max(-low, high))
    return Interval(*_hull(abs(low), abs(high)))


def _where_range(condition: Any, if_true: Any, if_false: Any) -> Any:
    if condition is _UNDECIDED:
        a, b = Interval.of(if_true), Interval.of(if_false)
        return Interval(min(a.low, b.low), max(a.high, b.high))
    return if_true if condition else if_false


INTERVALS = check_namespace(SimpleNamespace(
    exp=_monotone(math.exp),
    log=_monotone(math.log),
    sqrt=_monotone(math.sqrt),
    tanh=_monotone(math.tanh),
    sigmoid=_monotone(_sigmoid),
    sin=_sin_range,
    cos=lambda x: _sin_range(Interval.of(x) + math.pi / 2),
    abs=_abs_range,
    relu=lambda x: Interval(max(Interval.of(x).low, 0.0), max(Interval.of(x).high, 0.0)),
    sign=lambda x: Interval(math.copysign(1, Interval.of(x).low) if Interval.of(x).low else 0.0,
                            math.copysign(1, Interval.of(x).high) if Interval.of(x).high
                            else 0.0),
    xlogy=lambda x, y: Interval.of(x) * _monotone(math.log)(y),
    where=_where_range,
), "interval")
"""The forward rules evaluated over intervals: one more namespace of the table's rules."""


def output_range(primitive: Primitive, ranges: Sequence[tuple[float, float]]
                 ) -> tuple[float, float]:
    """The range of ``primitive``'s output over the box of input ``ranges``."""
    result = primitive.forward(*(Interval(low, high) for low, high in ranges), INTERVALS)
    result = Interval.of(result)
    return (result.low, result.high)


