"""Input checks, called outside ``jit``. Each raises ``ValueError`` naming the field, its value and
what is allowed. Nothing is clipped silently."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _values(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64).reshape(-1)


def check_finite(name: str, value: Any) -> None:
    """Reject NaN and infinities."""
    v = _values(value)
    if not np.all(np.isfinite(v)):
        bad = v[~np.isfinite(v)][0]
        raise ValueError(f"{name}={bad} is not finite; allowed: finite numbers")


def check_fraction(name: str, value: Any, *, open_low: bool = False) -> None:
    """Require every element in [0, 1] (or (0, 1] with ``open_low``)."""
    check_finite(name, value)
    v = _values(value)
    low_ok = v > 0 if open_low else v >= 0
    bad = ~(low_ok & (v <= 1))
    if np.any(bad):
        allowed = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name}={v[bad][0]:g} is outside {allowed}")


def check_positive(name: str, value: Any) -> None:
    """Require every element finite and > 0."""
    check_finite(name, value)
    v = _values(value)
    if np.any(v <= 0):
        raise ValueError(f"{name}={v[v <= 0][0]:g} must be > 0")


def check_non_negative(name: str, value: Any) -> None:
    """Require every element finite and >= 0."""
    check_finite(name, value)
    v = _values(value)
    if np.any(v < 0):
        raise ValueError(f"{name}={v[v < 0][0]:g} must be >= 0")


def check_int_range(name: str, value: Any, low: int, high: int | float = math.inf) -> None:
    """Require an integer in [low, high]."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"{name}={value!r} must be an integer in [{low}, {high}]")
    if not low <= int(value) <= high:
        raise ValueError(f"{name}={value!r} is outside [{low}, {high}]")


def check_choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> None:
    """Require ``value`` to be one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is unknown; allowed: {', '.join(map(str, allowed))}")


def check_at_least(name: str, value: Any, low: float) -> None:
    """Require every element finite and >= ``low``."""
    check_finite(name, value)
    v = _values(value)
    if np.any(v < low):
        raise ValueError(f"{name}={v[v < low][0]:g} must be >= {low:g}")
