"""Checks for the readers' keyword options (draw, explain, trace, to_sympy, save_frames).

A wrong option must say which option of which function is wrong and what it takes, not
fail later inside a format string or a comparison (``'>' not supported between 'int' and
'str'``). Every reader checks its options with these, so the messages read alike.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

__all__ = ["check_bool", "check_choice", "check_count", "check_limit", "check_seconds"]


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_bool(function: str, option: str, value: Any) -> bool:
    """``value`` must be True or False (not 0/1, not a string such as "no" that is true)."""
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":  # NumPy's bool
        return bool(value)
    if not isinstance(value, bool):
        raise TypeError(f"{function}: {option} must be True or False, not {_shown(value)}")
    return value


def check_count(function: str, option: str, value: Any, *, minimum: int = 0,
                maximum: int | None = None) -> int:
    """``value`` must be a whole number (an int, not a bool or a str) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{function}: {option} must be a whole number, not {_shown(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        span = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ValueError(f"{function}: {option} must be {span}, got {value}")
    return value


def check_limit(function: str, option: str, value: Any) -> int | None:
    """A size bound: a positive whole number, or None for no bound."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{function}: {option} must be a positive whole number or None, "
                        f"not {_shown(value)}")
    if value < 1:
        raise ValueError(f"{function}: {option} must be a positive whole number or None, "
                         f"got {value}")
    return value


def check_seconds(function: str, option: str, value: Any) -> float | None:
    """A time bound: a positive finite number of seconds, or None for no bound."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{function}: {option} must be a number of seconds or None, "
                        f"not {_shown(value)}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{function}: {option} must be a positive number of seconds or None, "
                         f"got {value!r}")
    return float(value)


def check_choice(function: str, option: str, value: Any, choices: Collection[str]) -> str:
    """``value`` must be one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{function}: {option} must be one of {listed}, not {value!r}")
    return value
