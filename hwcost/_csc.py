"""Statistics of one column slice stored in CSC with relative row indices and filler zeros.

A slice is ``r`` consecutive rows of one matrix column (the rows one processing element owns), each
nonzero independently with probability ``d`` (the weight density). It is stored as in EIE (Han et al.,
ISCA'16, Sec. III-B) and ESE (Han et al., FPGA'17): every nonzero is one entry whose ``b``-bit index
counts the zeros before it, so a run of ``z`` zeros before a nonzero costs ``floor(z / L)`` filler
entries, ``L = 2**b``; zeros after the last nonzero cost nothing.

Symbols: ``q = 1 - d``, ``x = q**L``, ``u = -log x = -L log(1 - d)``, ``K = floor(r / L)``,
``rho = r - K L``.

Fillers. A filler is the ``k``-th block of ``L`` zeros before a nonzero at local row ``j``: it exists
iff row ``j`` is nonzero and rows ``j-kL .. j-1`` are zero, probability ``d x**k`` for ``j >= kL``::

    E[F] = d f(r),   f(r) = sum_{k=1..K} (r - kL) x**k = rho S0 + L H1
    Cov[nonzeros, F] = d (q f(r) - L d g(r)),   g(r) = sum_{k=1..K} k (r - kL) x**k = rho S1 + L H2

(``Cov(X_i, X_j Z_jk)`` is ``q d x**k`` for ``i = j``, ``-d**2 x**k`` for each of the ``kL`` rows of the
zero block, 0 otherwise) with the geometric sums of :func:`geometric_sums`, written so that every term
is a sum of non-negative pieces that stays accurate in float32 down to ``d -> 0`` (where ``x -> 1`` and
the textbook forms ``x (1 - (K+1) x**K + K x**(K+1)) / (1 - x)**2`` lose every digit). ``f`` is
continuous and piecewise linear in ``r`` (``K`` only counts the terms), exact for integer ``r``.

Variance of the entries ``e``. The entries up to the last nonzero are the events of a renewal process
with inter-event time ``T = min(Geometric(d), L)``; conditioning on the ``t`` trailing zeros (a
geometric truncated at ``r``) gives ``V_renewal = (r - E t) Var T / E[T]**3 + Var t / E[T]**2``, right
when a slice holds many entries. With few fillers the decomposition ``e = nonzeros + F`` gives
``V_few = r d q + E[F] + 2 Cov(nonzeros, F)`` (``Var F ~ E[F]``, Poisson; exact for ``r <= L``, where
no filler fits). The two are blended with ``u = 1 / (1 + E[F])``::

    Var[e] = u V_few + (1 - u) V_renewal
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from hwcost.safe import clamp_non_negative
from hwcost.types import Array, Scalar

_SERIES_BELOW = 0.5  # phi_1, phi_2: Taylor series below this argument, closed form above
_SERIES_TERMS = {8: 14, 4: 8}  # by itemsize: 0.5**14 / 16! < 1e-17 (float64), 0.5**8 / 10! < 1e-9 (float32)
_SIGMA3_SERIES_BELOW = 2.0
_SIGMA3_SERIES_TERMS = {8: 11, 4: 7}  # 4**11 / 25! < 1e-18, 4**7 / 17! < 1e-10


def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _horner(z: Array, coefficients: list[float]) -> Array:
    out = jnp.full_like(z, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        out = out * z + c
    return out


def _factorial(n: int) -> float:
    out = 1.0
    for k in range(2, n + 1):
        out *= k
    return out


def _phi12(z: Array) -> tuple[Array, Array]:
    """``(phi_1(z), phi_2(z))`` for ``z >= 0``: ``(1 - e**-z) / z`` and ``(e**-z - 1 + z) / z**2``
    (``phi_n(z) = sum_i (-z)**i / (i + n)!``, positive and decreasing, ``1/n!`` at 0). Taylor series of
    ``phi_2`` below 1/2 (with ``phi_1 = 1 - z phi_2``), closed forms above; both exact to rounding."""
    small = z < _SERIES_BELOW
    zs = jnp.where(small, z, 0.0)
    zl = jnp.where(small, _SERIES_BELOW, z)
    terms = _SERIES_TERMS.get(z.dtype.itemsize, _SERIES_TERMS[8])
    series = _horner(-zs, [1.0 / _factorial(i + 2) for i in range(terms)])
    em1 = jnp.expm1(-zl)
    phi1 = jnp.where(small, 1.0 - zs * series, -em1 / zl)
    phi2 = jnp.where(small, series, (em1 + zl) / (zl * zl))
    return phi1, phi2


def _sinh_tail(z: Array) -> Array:
    """``e**-z (sinh z - z) / z**3`` for ``z >= 0`` (``1/6`` at 0, ``~ 1 / (2 z**3)`` for large ``z``)."""
    small = z < _SIGMA3_SERIES_BELOW
    zs = jnp.where(small, z, 0.0)
    zl = jnp.where(small, _SIGMA3_SERIES_BELOW, z)
    terms = _SIGMA3_SERIES_TERMS.get(z.dtype.itemsize, _SIGMA3_SERIES_TERMS[8])
    series = jnp.exp(-zs) * _horner(zs * zs, [1.0 / _factorial(2 * i + 3) for i in range(terms)])
    closed = (-jnp.expm1(-2.0 * zl) / (2.0 * zl) - jnp.exp(-zl)) / (zl * zl)
    return jnp.where(small, series, closed)


class GeometricSums(NamedTuple):
    """``sum_{k=1..n} w(k) a**k`` with ``a = exp(-u)`` for the weights ``w`` named (dimensionless)."""

    s0: Array  # w = 1
    s1: Array  # w = k
    h1: Array  # w = n - k
    h2: Array  # w = k (n - k)


def geometric_sums(n: Scalar, u: Scalar, second_order: bool = True) -> GeometricSums:
    """The geometric sums of :class:`GeometricSums`, accurate (float32 too) for every ``u >= 0``.

    With ``phi_1, phi_2`` as in :func:`_phi12` and ``s(z) = e**-z (sinh z - z) / z**3``::

        S0 = a n phi_1(n u) / phi_1(u)
        H1 = a n (n phi_2(n u) - phi_2(u)) / phi_1(u)**2
        S1 = n S0 - H1
        H2 = (n**2 - 1) / 4 * a ((n + 1)**2 s((n + 1) u / 2) - (n - 1)**2 a s((n - 1) u / 2)) / phi_1(u)**3

    (``H2`` from ``sum_k k (n - k) a**k = a ((n - 1)(1 - a**(n+1)) - (n + 1)(a - a**n)) / (1 - a)**3``
    written with ``sinh``). Every difference left is of terms at most ``n / 4`` times the result.

    Args:
        n: number of terms (float; an integer for the sums to mean what they say, any ``n >= 0`` for
            their continuation), any shape.
        u: decay rate ``u >= 0`` (finite), broadcastable with ``n``.
        second_order: whether to evaluate ``H2`` (left 0 otherwise; static).
    Returns:
        :class:`GeometricSums`, broadcast shape.
    """
    n, u = jnp.broadcast_arrays(_float(n), _float(u))
    a = jnp.exp(-u)
    p1, p2 = _phi12(u)
    p1n, p2n = _phi12(n * u)
    s0 = a * n * p1n / p1
    h1 = a * n * (n * p2n - p2) / (p1 * p1)
    s1 = n * s0 - h1
    if not second_order:
        return GeometricSums(s0, s1, h1, jnp.zeros_like(s0))
    m = jnp.maximum(n - 1.0, 0.0)
    tail_hi, tail_lo = _sinh_tail((n + 1.0) * u / 2.0), _sinh_tail(m * u / 2.0)
    h2 = (n * n - 1.0) / 4.0 * a * ((n + 1.0) ** 2 * tail_hi - m * m * a * tail_lo) / (p1 * p1 * p1)
    return GeometricSums(s0, s1, h1, jnp.where(n >= 2.0, h2, 0.0))


class FillerMoments(NamedTuple):
    """Filler statistics of one slice (dimensionless, entries)."""

    fillers: Array  # E[F]
    covariance: Array  # Cov[nonzeros, F]


def _decay_rate(density: Array) -> tuple[Array, Array]:
    """``(d < 1, -log(1 - d))`` on a safe density (0.5 where ``d = 1``)."""
    below_one = density < 1.0
    return below_one, -jnp.log1p(-jnp.where(below_one, density, 0.5))


def _filler_moments(rows: Array, d: Array, below_one: Array, span: float, sums: GeometricSums) -> FillerMoments:
    k = jnp.floor(rows / span)
    rho = rows - k * span
    f = rho * sums.s0 + span * sums.h1
    g = rho * sums.s1 + span * sums.h2
    # x = 0 at d = 1: no fillers (value and derivative 0 for L >= 2)
    return FillerMoments(
        jnp.where(below_one, d * f, 0.0), jnp.where(below_one, d * ((1.0 - d) * f - span * d * g), 0.0)
    )


def filler_moments(rows: Scalar, density: Scalar, index_bits: int) -> FillerMoments:
    """``E[F] = d f(r)`` and ``Cov[nonzeros, F] = d (q f - L d g)`` of one slice (module docstring).

    Exact for every density in [0, 1] (no clipping; 0 at ``d = 0`` and ``d = 1``) and integer ``r``;
    continuous and piecewise linear in ``r``. ``E[F] >= 0`` by construction.

    Args:
        rows: rows ``r >= 0`` of the slice (float), any shape.
        density: weight density ``d`` in [0, 1], broadcastable with ``rows``.
        index_bits: relative index width ``b`` (static).
    Returns:
        :class:`FillerMoments`, broadcast shape.
    """
    r, d = jnp.broadcast_arrays(_float(rows), _float(density))
    span = float(2**index_bits)
    below_one, v = _decay_rate(d)
    return _filler_moments(r, d, below_one, span, geometric_sums(jnp.floor(r / span), span * v))


def expected_fillers(rows: Scalar, density: Scalar, index_bits: int = 4) -> Array:
    """Expected filler entries of one slice, ``d f(r)`` (module docstring), dimensionless.

    Args:
        rows: rows of the slice ``r`` (float, >= 0), any shape.
        density: weight density ``d`` in [0, 1], broadcastable with ``rows``.
        index_bits: relative index width ``b`` (static).
    """
    return filler_moments(rows, density, index_bits).fillers


def expected_entries(rows: Scalar, density: Scalar, index_bits: int = 4) -> Array:
    """Expected stored entries (nonzeros + fillers) of one slice, ``r d + d f(r)``, dimensionless."""
    return _float(rows) * _float(density) + expected_fillers(rows, density, index_bits)


def empty_slice_probability(rows: Scalar, density: Scalar) -> Array:
    """Probability that a slice of ``r`` rows holds no nonzero (dimensionless): ``(1 - d)**r`` for
    ``r >= 1`` and every integer ``r``.

    Below one row (a relaxed slice between none and one row) the base is raised to
    ``q + d (1 - r)**2``, ``q = 1 - d``: ``(q + d (1 - r)**2)**r``. Plain ``q**r`` is discontinuous at
    ``(r, d) = (0, 1)``, where it is 0 for every ``r > 0`` but 1 at ``r = 0``: a slice of 1e-7 rows, as
    rounding leaves a relaxed row split, counted as surely nonempty at density 1 and as surely empty just
    below it. The raised base is continuous in ``(r, d)`` everywhere, equals ``q**r`` at ``r = 0`` and for
    ``r >= 1``, and joins it with a continuous derivative at ``r = 1``. The power is evaluated on a safe
    base, so the gradient is finite also at ``d = 1`` and ``r >= 1`` (where the derivative of ``q**r`` in
    ``d`` is infinite for ``r < 1``; it is taken as 0 there).
    """
    d = _float(density)
    r = _float(rows)
    base = 1.0 - d + d * jnp.square(jnp.maximum(1.0 - r, 0.0))
    base_safe = jnp.where(base > 0, base, 1.0)
    return jnp.where(base > 0, base_safe**r, jnp.where(r > 0, 0.0, 1.0))


class SliceEntries(NamedTuple):
    """Entry statistics of one slice (dimensionless): the mean and variance of the entries ``e``, the
    expected fillers and the probability that the slice is empty."""

    entries: Array  # E[e]
    entries_var: Array  # Var[e]
    fillers: Array  # E[F]
    p_empty: Array  # P(e = 0) = (1 - d)**r (:func:`empty_slice_probability`)


def slice_entries(rows: Scalar, density: Scalar, index_bits: int) -> SliceEntries:
    """:class:`SliceEntries` of a slice of ``r`` rows at weight density ``d`` (module docstring).

    Finite, with finite derivatives, for every ``r >= 0`` and ``d`` in [0, 1]; every field ``>= 0``.
    The filler sums (``K`` terms at rate ``u``) and the trailing-zero sums (``r`` terms at rate
    ``-log q``) are evaluated in one call of :func:`geometric_sums`.

    Args:
        rows: rows ``r`` (float), any shape.
        density: weight density in [0, 1], broadcastable with ``rows``.
        index_bits: relative index width ``b`` (static).
    Returns:
        :class:`SliceEntries`, broadcast shape.
    """
    r, d = jnp.broadcast_arrays(_float(rows), _float(density))
    span = 2**index_bits
    below_one, v = _decay_rate(d)
    # K filler terms at rate L v; the trailing zeros min(G, r) at rate v, P(G >= m) = q**m; both in one
    # evaluation over a stacked leading axis (one copy in the compiled graph; the trailing H2 is unused)
    both = geometric_sums(jnp.stack([jnp.floor(r / span), r]), jnp.stack([span * v, v]))
    fill, trail = (GeometricSums(*(field[k] for field in both)) for k in (0, 1))
    moments = _filler_moments(r, d, below_one, float(span), fill)
    fillers = moments.fillers
    few = r * d * (1.0 - d) + fillers + 2.0 * moments.covariance
    # T = min(Geometric(d), L): P(T > t) = q**t for t < L, a static sum over L terms
    tail = jnp.exp(jnp.arange(span, dtype=r.dtype) * -v[..., None])
    mean_t = jnp.sum(tail, axis=-1)
    # Var = E[T**2] - E[T]**2 and Var[min(G, r)] = 2 S1 - S0 - S0**2 = S0 (2 r - 1 - S0) - 2 H1 lose digits
    # where the variances are small, which is where the renewal form has little weight (few fillers)
    var_t = clamp_non_negative(jnp.sum((2.0 * jnp.arange(span, dtype=r.dtype) + 1.0) * tail, axis=-1) - mean_t**2)
    var_trail = clamp_non_negative(trail.s0 * (2.0 * r - 1.0 - trail.s0) - 2.0 * trail.h1)
    renewal = clamp_non_negative(r - trail.s0) * var_t / mean_t**3 + var_trail / mean_t**2
    weight = 1.0 / (1.0 + fillers)  # the renewal weight 1 - weight is 0 without fillers (d = 0, d = 1)
    var = weight * few + jnp.where(below_one, (1.0 - weight) * renewal, 0.0)
    return SliceEntries(r * d + fillers, clamp_non_negative(var), fillers, empty_slice_probability(r, d))


__all__ = [
    "FillerMoments",
    "GeometricSums",
    "SliceEntries",
    "empty_slice_probability",
    "expected_entries",
    "expected_fillers",
    "filler_moments",
    "geometric_sums",
    "slice_entries",
]
