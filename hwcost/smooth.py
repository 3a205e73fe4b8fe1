"""Smooth relaxations of the hard operations the cost models need, each with its hard twin.

Every relaxation takes a ``temperature`` in the units of its argument; as the temperature
goes to zero it converges to the hard version (``tests/hwcost/test_smooth.py`` checks this).
No cost model uses Python ``if``/``min``/``max``/``ceil`` on traced values: they call these.

Use :class:`Smoothing` to carry the temperatures and the ``hard`` switch through a model, so
that the exact value is always one flag away from the relaxed one. Inside :func:`relaxations_forbidden`
every relaxation asked for its relaxed form raises, which proves that a model's hard twin is exact.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from typing import TypeVar

import jax
import jax.numpy as jnp

from hwcost.types import Array, Scalar, pytree_dataclass, static_field


@pytree_dataclass
class Smoothing:
    """Relaxation settings carried by a hardware description.

    Attributes:
        temperature: relative temperature (dimensionless); models scale it by the natural size of
            the quantity being relaxed (e.g. a per-PE work in cycles), documented where used.
        hard: if True every relaxation evaluates its hard twin (exact, piecewise, not smooth).
    """

    temperature: Scalar = 0.05
    hard: bool = static_field(default=False)


HwT = TypeVar("HwT")


def harden(hw: HwT) -> HwT:
    """``hw`` with every :class:`Smoothing` in it (at any depth of dataclass fields) switched to ``hard``:
    the hardware evaluated without relaxations, the exact twin of the relaxed model."""
    if isinstance(hw, Smoothing):
        return dataclasses.replace(hw, hard=True)  # type: ignore[return-value]
    if not dataclasses.is_dataclass(hw) or isinstance(hw, type):
        return hw
    changes = {f.name: harden(getattr(hw, f.name)) for f in dataclasses.fields(hw)}
    return dataclasses.replace(hw, **changes)


_FORBIDDEN = contextvars.ContextVar("relaxations_forbidden", default=False)


@contextlib.contextmanager
def relaxations_forbidden() -> Iterator[None]:
    """Within this block every relaxation evaluated without ``hard=True`` raises ``RuntimeError``.

    Relaxations run at trace time, so tracing a model's hard twin here shows that none of its values
    comes from a relaxed operation.
    """
    token = _FORBIDDEN.set(True)
    try:
        yield
    finally:
        _FORBIDDEN.reset(token)


def _relaxed(name: str) -> None:
    if _FORBIDDEN.get():
        raise RuntimeError(f"{name} was evaluated relaxed (hard=False) where relaxations are forbidden")


def smooth_max(x: Array, temperature: Scalar, axis: int | None = -1, hard: bool = False) -> Array:
    """Log-sum-exp maximum, ``T * logsumexp(x / T)``; an upper bound that tends to ``max`` as T -> 0.

    Args:
        x: values, any shape.
        temperature: T > 0, units of ``x``.
        axis: reduction axis.
        hard: evaluate ``jnp.max`` instead.
    """
    if hard:
        return jnp.max(x, axis=axis)
    _relaxed("smooth_max")
    return temperature * jax.nn.logsumexp(x / temperature, axis=axis)


def smooth_maximum(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``maximum(a, b)`` (log-sum-exp of two), units of ``a``."""
    if hard:
        return jnp.maximum(a, b)
    _relaxed("smooth_maximum")
    return temperature * jnp.logaddexp(a / temperature, b / temperature)


def smooth_minimum(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``minimum(a, b)``, a lower bound tending to the minimum as T -> 0."""
    return -smooth_maximum(-a, -b, temperature, hard=hard)


def smooth_relu(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Softplus ``T * log(1 + exp(x / T))``; tends to ``max(x, 0)`` as T -> 0."""
    if hard:
        return jnp.maximum(x, 0.0)
    _relaxed("smooth_relu")
    return temperature * jax.nn.softplus(x / temperature)


def soft_step(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Logistic step ``sigmoid(x / T)``; tends to the Heaviside step ``x > 0`` as T -> 0."""
    if hard:
        x = jnp.asarray(x)
        return (x > 0).astype(jnp.result_type(x, jnp.float32))
    _relaxed("soft_step")
    return jax.nn.sigmoid(x / temperature)


def soft_round(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable rounding (Agustsson & Theis 2020, "Universally quantized neural compression").

    ``m + tanh(r / T) / (2 tanh(1 / (2 T)))`` with ``m = floor(x) + 1/2`` and ``r = x - m``. It is
    continuous and monotone, has a nonzero gradient everywhere, and tends to ``round(x)`` as T -> 0.
    """
    if hard:
        return jnp.round(x)
    _relaxed("soft_round")
    m = jnp.floor(x) + 0.5
    r = x - m
    return m + jnp.tanh(r / temperature) / (2.0 * jnp.tanh(0.5 / temperature))


def soft_floor(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable floor: ``soft_round(x - 1/2)``; tends to ``floor(x)`` as T -> 0."""
    if hard:
        return jnp.floor(x)
    _relaxed("soft_floor")
    return soft_round(x - 0.5, temperature)


def soft_ceil(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable ceiling: ``soft_round(x + 1/2)``; tends to ``ceil(x)`` as T -> 0."""
    if hard:
        return jnp.ceil(x)
    _relaxed("soft_ceil")
    return soft_round(x + 0.5, temperature)


def _ratio_power(lo: Array, hi: Array, power: Array) -> Array:
    """``(lo / hi)**power`` for ``0 <= lo <= hi``, 0 where ``lo = 0``, with finite derivatives everywhere
    (also in ``power``, and at ``lo = hi = 0``)."""
    ratio = jnp.where(hi > 0, lo / jnp.where(hi > 0, hi, 1.0), 0.0)
    positive = ratio > 0
    return jnp.where(positive, jnp.exp(power * jnp.log(jnp.where(positive, ratio, 1.0))), 0.0)


def smooth_maximum_relative(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``maximum(a, b)`` of non-negative values: the ``p``-norm
    ``(a**p + b**p)**(1/p)``, ``p = 1 / T``, units of ``a``.

    The temperature ``T`` is relative (dimensionless): the result lies in ``[max, 2**T max]`` and is
    homogeneous of degree 1, so it is exactly 0 at ``a = b = 0`` and its derivatives stay finite there.
    Tends to ``max`` as T -> 0.
    """
    if hard:
        return jnp.maximum(a, b)
    _relaxed("smooth_maximum_relative")
    hi, lo = jnp.maximum(a, b), jnp.minimum(a, b)
    return hi * jnp.exp(temperature * jnp.log1p(_ratio_power(lo, hi, 1.0 / temperature)))


def smooth_minimum_relative(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``minimum(a, b)`` of non-negative values: ``(a**-p + b**-p)**(-1/p)``,
    ``p = 1 / T``, units of ``a``; in ``[2**-T min, min]``, exactly 0 where either is 0, finite
    derivatives everywhere. Tends to ``min`` as T -> 0."""
    if hard:
        return jnp.minimum(a, b)
    _relaxed("smooth_minimum_relative")
    hi, lo = jnp.maximum(a, b), jnp.minimum(a, b)
    return lo * jnp.exp(-temperature * jnp.log1p(_ratio_power(lo, hi, 1.0 / temperature)))
