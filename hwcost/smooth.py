"""Smooth relaxations of the hard operations the cost models need, each with its hard twin.

Every relaxation takes a ``temperature`` in the units of its argument; as the temperature
goes to zero it converges to the hard version (``tests/hwcost/test_smooth.py`` checks this).
No cost model uses Python ``if``/``min``/``max``/``ceil`` on traced values: they call these.

Use :class:`Smoothing` to carry the temperatures and the ``hard`` switch through a model, so
that the exact value is always one flag away from the relaxed one.
"""

from __future__ import annotations

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
    return temperature * jax.nn.logsumexp(x / temperature, axis=axis)


def smooth_maximum(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``maximum(a, b)`` (log-sum-exp of two), units of ``a``."""
    if hard:
        return jnp.maximum(a, b)
    return temperature * jnp.logaddexp(a / temperature, b / temperature)


def smooth_minimum(a: Array, b: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Element-wise smooth ``minimum(a, b)``, a lower bound tending to the minimum as T -> 0."""
    return -smooth_maximum(-a, -b, temperature, hard=hard)


def smooth_relu(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Softplus ``T * log(1 + exp(x / T))``; tends to ``max(x, 0)`` as T -> 0."""
    if hard:
        return jnp.maximum(x, 0.0)
    return temperature * jax.nn.softplus(x / temperature)


def soft_step(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Logistic step ``sigmoid(x / T)``; tends to the Heaviside step ``x > 0`` as T -> 0."""
    if hard:
        return (x > 0).astype(jnp.result_type(x, jnp.float32))
    return jax.nn.sigmoid(x / temperature)


def soft_round(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable rounding (Agustsson & Theis 2020, "Universally quantized neural compression").

    ``m + tanh(r / T) / (2 tanh(1 / (2 T)))`` with ``m = floor(x) + 1/2`` and ``r = x - m``. It is
    continuous and monotone, has a nonzero gradient everywhere, and tends to ``round(x)`` as T -> 0.
    """
    if hard:
        return jnp.round(x)
    m = jnp.floor(x) + 0.5
    r = x - m
    return m + jnp.tanh(r / temperature) / (2.0 * jnp.tanh(0.5 / temperature))


def soft_floor(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable floor: ``soft_round(x - 1/2)``; tends to ``floor(x)`` as T -> 0."""
    if hard:
        return jnp.floor(x)
    return soft_round(x - 0.5, temperature)


def soft_ceil(x: Array, temperature: Scalar, hard: bool = False) -> Array:
    """Differentiable ceiling: ``soft_round(x + 1/2)``; tends to ``ceil(x)`` as T -> 0."""
    if hard:
        return jnp.ceil(x)
    return soft_round(x + 0.5, temperature)
