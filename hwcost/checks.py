"""Input checks, called outside ``jit``. Each raises ``ValueError`` naming the field, its value and
what is allowed. Nothing is clipped silently."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


def _values(value: Any, name: str) -> np.ndarray:
    """``value`` as a flat float64 array; ``ValueError`` naming ``name`` if it is not a real number (text,
    ``None``, a complex number, an integer beyond the float range)."""
    try:
        array = np.asarray(value)
        if array.dtype.kind in "cOUSMm":  # complex, objects (None, huge ints), text, dates and durations
            raise TypeError(array.dtype)
        return array.astype(np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}={value!r:.40} is not a number in the float range") from None


def check_finite(name: str, value: Any) -> None:
    """Reject NaN and infinities."""
    v = _values(value, name)
    if not np.all(np.isfinite(v)):
        bad = v[~np.isfinite(v)][0]
        raise ValueError(f"{name}={bad} is not finite; allowed: finite numbers")


def check_fraction(name: str, value: Any, *, open_low: bool = False) -> None:
    """Require every element in [0, 1] (or (0, 1] with ``open_low``)."""
    check_finite(name, value)
    v = _values(value, name)
    low_ok = v > 0 if open_low else v >= 0
    bad = ~(low_ok & (v <= 1))
    if np.any(bad):
        allowed = "(0, 1]" if open_low else "[0, 1]"
        raise ValueError(f"{name}={v[bad][0]:g} is outside {allowed}")


def check_positive(name: str, value: Any) -> None:
    """Require every element finite and > 0."""
    check_finite(name, value)
    v = _values(value, name)
    if np.any(v <= 0):
        raise ValueError(f"{name}={v[v <= 0][0]:g} must be > 0")


def check_non_negative(name: str, value: Any) -> None:
    """Require every element finite and >= 0."""
    check_finite(name, value)
    v = _values(value, name)
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
    v = _values(value, name)
    if np.any(v < low):
        raise ValueError(f"{name}={v[v < low][0]:g} must be >= {low:g}")


# --- magnitude bounds --------------------------------------------------------------------------------------
# The cost models compute in float32 (largest number about 3.4e38, smallest normal one about 1.2e-38). Every
# input is bounded so that no combination of accepted values overflows, vanishes or turns into NaN there:
# with sizes at most MAX_SIZE and their products at most MAX_COUNT, bit widths in [MIN_BITS, MAX_BITS],
# energies at most MAX_ENERGY_PJ and temperatures in TEMPERATURE_RANGE, a count is at most about 2**80 and an
# energy about 2**120 (tests/fuzz/test_api_fuzz.py prices random corners of every model's accepted ranges).
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Largest finite float32 (about 3.4e38)."""
FLOAT32_TINY = float(np.finfo(np.float32).tiny)
"""Smallest normal float32 (about 1.2e-38): a nonzero input below it is refused (it would compute as zero)."""
MAX_SIZE = 2**31
"""Largest size a model accepts: features, channels, kernel and plane sizes, PEs, FIFO depths (2**31)."""
MAX_COUNT = 2**62
"""Largest product of sizes: a layer's weights, input and output activations, multiply-accumulates (2**62)."""
MIN_BITS, MAX_BITS = 1, 2**16
"""Bit widths (words, weights, activations) are in [1, 2**16] bits."""
MAX_ENERGY_PJ = 1e6
"""Largest energy of one action, or of one bit moved, pJ (1 uJ; a DRAM bit costs about 20 pJ)."""
MAX_CLOCK_MHZ = 1e6
"""Largest clock frequency, MHz (1 THz); the smallest is MIN_CLOCK_MHZ."""
MIN_CLOCK_MHZ = 1e-3
"""Smallest clock frequency, MHz (1 kHz)."""
MIN_BANDWIDTH, MAX_BANDWIDTH = 1e-3, 2**31
"""Bandwidths are in [1e-3, 2**31] bits per cycle."""
TEMPERATURE_RANGE = (1e-6, 10.0)
"""Relaxation temperatures (``smoothing.temperature``, relative to the natural size of what each model relaxes)
are in [1e-6, 10]: far colder, the steps of a model with 2**31 PEs underflow in float32; far hotter, a
relaxed latency overflows."""


def _bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e18 else f"{x:g}"


def _interval(low: float, high: float, open_low: bool) -> str:
    return f"{'(' if open_low else '['}{_bound(low)}, {_bound(high)}]"


def check_range(name: str, value: Any, low: float, high: float, *, open_low: bool = False) -> None:
    """Require every element finite and in ``[low, high]`` (``(low, high]`` with ``open_low``).

    A nonzero element smaller in size than :data:`FLOAT32_TINY` is refused too: the models compute in float32,
    where it would be zero (and a zero where the range excludes it). The message names the field, its value
    and the allowed range, e.g. ``in_features=1e+300 is outside (0, 2147483648]``; a value below the range
    reads ``in_features=0 must be > 0; allowed: (0, 2147483648]``.
    """
    allowed = _interval(low, high, open_low)
    v = _values(value, name)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name}={v[~np.isfinite(v)][0]} is not finite; allowed: {allowed}")
    below = v <= low if open_low else v < low
    if np.any(below):
        relation = ">" if open_low else ">="
        raise ValueError(f"{name}={v[below][0]:g} must be {relation} {_bound(low)}; allowed: {allowed}")
    if np.any(v > high):
        raise ValueError(f"{name}={v[v > high][0]:g} is outside {allowed}")
    tiny = (v != 0) & (np.abs(v) < FLOAT32_TINY)
    if np.any(tiny):
        raise ValueError(
            f"{name}={v[tiny][0]:g} is below float32's smallest normal number {FLOAT32_TINY:.3g} "
            f"(the models compute in float32, where it is zero); allowed: {allowed}"
        )


def check_size(name: str, value: Any, *, low: float = 1, open_low: bool = False) -> None:
    """A size (features, channels, kernel or plane size, PEs, FIFO depth): in ``[low, MAX_SIZE]`` (``(low,
    MAX_SIZE]`` with ``open_low``); :func:`check_range`."""
    check_range(name, value, low, MAX_SIZE, open_low=open_low)


def check_bits(name: str, value: Any) -> None:
    """A bit width: in ``[MIN_BITS, MAX_BITS]``, i.e. at least one bit; :func:`check_range`."""
    check_range(name, value, MIN_BITS, MAX_BITS)


def check_energy_pj(name: str, value: Any) -> None:
    """An energy per action or per bit, pJ: in ``[0, MAX_ENERGY_PJ]``; :func:`check_range`."""
    check_range(name, value, 0, MAX_ENERGY_PJ)


def check_energy_fields(hardware: Any) -> None:
    """Every field of the dataclass ``hardware`` whose name ends in ``_pj`` or ``_pj_per_bit``:
    :func:`check_energy_pj`."""
    for field in dataclasses.fields(hardware):
        if field.name.endswith("_pj") or field.name.endswith("_pj_per_bit"):
            check_energy_pj(field.name, getattr(hardware, field.name))


def check_clock_mhz(name: str, value: Any) -> None:
    """A clock frequency, MHz: in ``[MIN_CLOCK_MHZ, MAX_CLOCK_MHZ]``; :func:`check_range`."""
    check_range(name, value, MIN_CLOCK_MHZ, MAX_CLOCK_MHZ)


def check_bandwidth(name: str, value: Any) -> None:
    """A bandwidth, bits per cycle: in ``[MIN_BANDWIDTH, MAX_BANDWIDTH]``; :func:`check_range`."""
    check_range(name, value, MIN_BANDWIDTH, MAX_BANDWIDTH)


def check_temperature(name: str, value: Any) -> None:
    """A relaxation temperature: in :data:`TEMPERATURE_RANGE`; :func:`check_range`."""
    check_range(name, value, *TEMPERATURE_RANGE)


def check_product(
    names: tuple[str, ...] | list[str], values: tuple[Any, ...] | list[Any], what: str, high: float = MAX_COUNT
) -> None:
    """Require the product of ``values`` (the fields ``names``, each already checked) to be at most ``high``
    (default :data:`MAX_COUNT`), element by element; ``what`` says what the product counts. The message names
    every field of the product: ``in_channels*out_channels*...=1.2e+50 (multiply-accumulates) is outside
    [0, 4611686018427387904]``."""
    product = np.ones(())
    for value in values:
        product = product * np.asarray(value, dtype=np.float64)
    p = product.reshape(-1)
    if np.any(p > high):
        fields = "*".join(names)
        raise ValueError(f"{fields}={p[p > high][0]:g} ({what}) is outside [0, {_bound(high)}]; make the layer smaller")
