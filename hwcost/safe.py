"""Masked arithmetic for removable singularities: the value is exact and the gradient finite.

``jnp.where(c, f(x), y)`` alone is not enough: the backward pass of the branch not taken still sees
``f`` at the bad point, and ``0 * inf`` is NaN. Each helper evaluates its operation on a safe argument
where the mask is off (the "double where" of jax-md's ``util.safe_mask``).
"""

from __future__ import annotations

import jax.numpy as jnp

from hwcost.types import Array, Scalar


def safe_divide(numerator: Scalar, denominator: Scalar, where_zero: Scalar = 0.0) -> Array:
    """``numerator / denominator``, and ``where_zero`` where the denominator is 0; finite gradients."""
    den = jnp.asarray(denominator)
    nonzero = den != 0
    return jnp.where(nonzero, jnp.asarray(numerator) / jnp.where(nonzero, den, 1.0), where_zero)


def clamp_non_negative(x: Scalar) -> Array:
    """``max(x, 0)`` for a quantity whose exact value is ``>= 0`` (a variance, a headroom) and that rounding
    may push just below 0. At ``x = 0`` the derivative is that of ``x`` (``jnp.maximum`` would halve it),
    so a quantity that touches 0 at the end of its range (a variance at density 0) keeps its slope."""
    x = jnp.asarray(x)
    return jnp.where(x >= 0, x, 0.0)


def safe_sqrt(x: Scalar) -> Array:
    """``sqrt(x)`` for ``x >= 0``, with derivative 0 instead of infinity at ``x = 0`` (a standard deviation
    that vanishes at the end of its range, where it multiplies terms that vanish with it)."""
    x = jnp.asarray(x)
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)
