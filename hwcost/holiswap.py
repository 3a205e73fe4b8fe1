"""Differentiable model of HoLiSwap (Turakhia, Das, Aamodt, Dally, "Reducing wire energy in L1 caches by
swapping hot lines into the nearest way", arXiv 1701.03878): the expected hits per physical way, swaps, wire
energy and swap stall cycles of one L1 access stream, as smooth functions of the stream's access-concentration
statistics (:class:`CacheTraceStats`), of the epoch length ``E`` and hot threshold ``T`` (relaxed) and of the
way geometry (:mod:`hwcost.cache_energy`).

The mechanism (papers.md sec. 9 and "HoLiSwap (additions to section 9)", V-P)
------------------------------------------------------------------------------
A ``W``-way set-associative L1 whose ways sit in separate subarrays, way 0 the nearest to the port. Each set
``s`` has an epoch counter ``C_s`` counting the set's accesses; when it reaches ``E`` a new epoch starts and
every hit counter of the set is zeroed. Each line has a hit counter ``H_l``; a line whose counter reaches the
threshold ``T`` is hot, and the hot line is swapped into way 0 (the ports are blocked for the swap). With
logarithmic counters the counter stores an exponent ``e`` (``H = 2**e`` after the first increment) and a hit
increments ``e`` with probability ``2**-e``.

The statistics of a stream (:func:`trace_statistics`)
-----------------------------------------------------
Time is counted per set, in *set accesses* (a set's clock advances by one at each access to that set; the
clocks of all sets together advance by the ``N`` accesses of the stream). A line's *residency* runs from the
miss that fills it to its eviction; with LRU replacement an access hits exactly when the line is among the
``W`` lines of its set most recently used (a set-local LRU stack distance below ``W``; Mattson et al. 1970),
so the residencies are a property of the trace, the sets and the associativity alone. A residency with ``h >= 1``
hits whose last hit comes ``d`` set accesses after the fill is summarised by its span ``L = d (h + 1) / h``
(the expected length of a window holding ``h`` uniformly placed events, its last ``d`` in) and its hit rate
``p = h / L`` (hits per set access). Residencies are binned on a fixed logarithmic grid of ``(p, L)``
(:data:`RATE_EDGES` x :data:`SPAN_EDGES`, :data:`CLASSES` classes); each class ``k`` keeps

* ``residency_share[k]``: the share ``a_k`` of the stream's accesses (fills and hits) in its residencies,
* ``hit_rate[k]``: ``p_k``, its hits over its span (a ratio estimator over the class),
* ``span[k]``: ``L_k``, its mean span in set accesses,

and the residencies of the class number ``R_k = N a_k / (1 + p_k L_k)``. Accesses to lines never reused
(``h = 0``) make up the rest, ``1 - sum_k a_k``. That is the whole workload: a small parametric mixture of hot,
warm and cold residencies, stationary per set (what it cannot see is below).

Detection (derivation)
----------------------
Within a residency of class ``k`` hits arrive as a Poisson process of rate ``p`` (per set access), and the
residency's span is exponential with mean ``L`` (rate ``lambda = 1 / L``): over the many residencies of a
class this is the maximum-entropy choice given the two measured means.

*Hits needed.* A counter zeroed at an epoch start (or at the fill) makes the line hot after ``K`` hits. With
linear counters ``K = k`` exactly, the integer threshold. With logarithmic counters, ``H = 2**e >= T`` needs
``e >= m``, ``m = #{j >= 0 : 2**j + 1/2 < T}`` (the smallest ``e`` with ``2**e >= T`` for integer ``T``); the
first hit sets ``e = 0`` and then the hits that raise ``e`` from ``j`` to ``j + 1`` are geometric with success
probability ``2**-j``, so ``K = 1 + sum_{j<m} Geom(2**-j)`` (a Morris counter) with::

    E[K] = 2**m,   Var[K] = sum_{j<m} (4**j - 2**j) = (4**m - 1) / 3 - (2**m - 1)

(the logarithmic counter's threshold is, on average, the next power of two at or above ``T``, with a spread
of about ``E[K] / sqrt(3)``: it is derived here, not ignored).

*Time to detection.* The time to the ``K``-th hit is a sum of ``K`` exponential gaps; with ``K`` random its
mean and variance are ``E[K] / p`` and ``(E[K] + Var[K]) / p**2``, and it is taken Gamma distributed with that
mean and variance: shape ``alpha = E[K]**2 / (E[K] + Var[K])`` and rate ``beta = p E[K] / (E[K] + Var[K])``
(exact for linear counters, ``alpha = k``, ``beta = p``). Write ``F(x) = P(alpha, beta x)`` (the regularised
lower incomplete gamma function) for the probability that ``K`` hits fall in ``x`` set accesses, and
``G(x) = E[exp(-lambda t); t <= x] = c**alpha P(alpha, (beta + lambda) x)``, ``c = beta / (beta + lambda)``.

*Epochs.* A residency starts at a uniformly distributed point of its set's epoch; ``r ~ U(0, E)`` set
accesses remain. The line is detected in the first, partial epoch if ``K`` hits fall within ``r``; if not, and
the residency outlives ``r``, each following full epoch is a fresh try. Whether the residency outlives the
detection time ``D`` has probability ``exp(-lambda D)``, so the probability that the line is detected while
resident is::

    Q = (1/E) int_0^E [ G(r) + (1 - F(r)) exp(-lambda r) G(E) / (1 - (1 - F(E)) exp(-lambda E)) ] dr

(the last factor sums the geometric series over full epochs), evaluated with :data:`QUADRATURE_NODES`-point
Gauss-Legendre quadrature in ``r``. For an exponential span, the hits after the detection are, by the same
memorylessness, the same fraction ``Q`` of the residency's hits: ``E[p (L - D)+] = p L Q``. And a detected line
holds way 0 for ``L Q`` set accesses on average.

Ways, swaps and energy
----------------------
Without HoLiSwap (``holiswap=False``) each way serves the accesses the placement of the trace gives it, ``N b_w``
(``way_share``: LRU replacement, a fill in the lowest free way or else in the victim's way; measured, and
independent of ``E`` and ``T``). With HoLiSwap the hits after a detection go to way 0; every other access stays
where the conventional cache places it: way 0 for a fraction ``f_k`` of class ``k`` (``way0_fraction``), and
so the others' share of way 0 is what is left of ``N b_0``. A swap exchanges two lines' ways and leaves the
LRU order alone, so the lines displaced by swaps and the lines filled after them keep the conventional
proportions; the measured traces show no discount for the time a detected line holds way 0 (the hot lines
live in sets of their own, the short residencies elsewhere). Hence::

    hits after detection   H0 = sum_k R_k p_k L_k Q_k
    way 0 accesses         A0 = H0 + N b_0 - sum_k f_k R_k p_k L_k Q_k
    ways 1..W-1            (N - A0) b_w / sum_{v >= 1} b_v
    swaps                  S  = sum_k R_k Q_k (1 - f_k),  from way w in the proportions b_w / sum_{v >= 1} b_v

(a detected line already in way 0 is not moved). Wire energy is ``sum_w A_w e_w + S e_swap`` with ``e_w`` the
wire energy of one access served by way ``w`` (:func:`hwcost.cache_energy.way_wire_energy_pj`) and ``e_swap``
the wire energy of one swap with way 0, averaged over the ``W - 1`` ways a detected line comes from
(:func:`hwcost.cache_energy.swap_with_nearest_energy_pj`). Every access also pays the array energy
(``array.access``, :func:`hwcost.cache_energy.array_energy_pj`), and a swap the arrays' two line reads and
two line writes (``swap.array``). Latency is the ports' occupancy: ``access_cycles`` per access plus
``swap_stall_cycles`` per swap.

Relaxations
-----------
``E`` enters the expectation continuously (no rounding). ``T`` is a counter value: the hard model uses the
integer threshold ``round(T)`` (linear counters) and the exponent ``m = sum_j step(T - 2**j - 1/2)``,
``j = 0 .. 20`` (logarithmic counters); the relaxed model replaces ``round`` by :func:`hwcost.smooth.soft_round`
and each step by the logistic :func:`hwcost.smooth.soft_step`, both at temperature ``hw.smoothing.temperature``
in units of one hit (every step sits halfway between integer thresholds, so integer ``T`` are priced
almost exactly). ``COST_MODEL.hard(hw)`` evaluates them exactly.

What the model cannot see
-------------------------
* **Phase changes.** The class statistics are pooled over the whole stream and all sets: a stream whose hot
  set changes over time (program phases) is priced as the mixture of its phases, which is exact for the sums
  above only as long as each residency is summarised correctly; epoch-scale bursts within a residency
  (clustered rather than Poisson hits) are not seen. ``hwcost.experiments.holiswap_validation`` measures this
  error by pricing each half of a trace on its own statistics: on the committed traces the two halves priced
  apart differ from the whole by up to 12 % in wire energy and 32 % in swaps (the L1-D of sort).
* **Competition in a set.** Two lines detected at overlapping times in one set contend for way 0: archsim
  swaps a line in only when it is strictly hotter than the line there, and after an epoch starts the lines
  race again. The model counts each detection of a line outside way 0 as one swap and gives each detected
  line its hits after the detection. Measured at E = 128, T = 64 (``holiswap_validation``, whose
  ``hot_overlap`` is the share of the detectable residencies' accesses that overlap another one in the same
  set): on the committed small traces (``hot_overlap`` at most 19 %) the wire energy is within 17.4 % (L1-I
  within 6.5 %) and the swaps within 28 %; on the full-size program traces the L1-I streams stay within 1.2 %
  in wire energy, but the L1-D streams of sort, stencil and gemm (``hot_overlap`` 99, 99.6 and 82 %) come out
  47, 51 and 13 % low in wire energy and 49, 67 and 41 % low in swaps: there archsim's hot lines take way 0
  from one another and HoLiSwap saves almost nothing (-1.9 % and 0.1 % for sort and stencil), while the model
  gives every detected line way 0. Pricing that contention needs joint statistics of the lines of a set,
  which this workload does not carry.
* **Placement under swaps.** The undetected accesses keep the conventional placement (above); the exchange of
  ways by swaps is not tracked line by line.
* **Logarithmic counters** are priced by their expected threshold behaviour (the mean and variance of ``K``);
  one run of a simulator draws one realisation of their coin flips.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammainc

from hwcost import cache_energy, checks
from hwcost.cache_energy import HOLISWAP_32KB_4WAY, Cache, CacheGeometry
from hwcost.safe import safe_divide
from hwcost.smooth import Smoothing, soft_round, soft_step
from hwcost.types import (
    Array,
    CostModel,
    Counts,
    LayerRun,
    LayerStatistics,
    ModelCard,
    Monotone,
    Scalar,
    pytree_dataclass,
    static_field,
)

# --- constants and assumptions (every one in this block) ---------------------------------------------------
RATE_EDGES = tuple(4.0**-j for j in range(6, -1, -1))
"""Upper edges of the hit-rate classes, hits per set access: 4**-6, 4**-5, ..., 1 (a rate below 4**-6 falls
in the lowest class)."""
SPAN_EDGES = tuple(8.0**j for j in range(0, 9))
"""Lower edges of the span classes, set accesses: 1, 8, 64, ..., 8**8 = 16.8 M (a longer span falls in the
last)."""
RATE_CLASSES = len(RATE_EDGES)
"""Hit-rate classes (7)."""
SPAN_CLASSES = len(SPAN_EDGES)
"""Span classes (9)."""
CLASSES = RATE_CLASSES * SPAN_CLASSES
"""Residency classes of a :class:`CacheTraceStats`, rate-major (63)."""
QUADRATURE_NODES = 32
"""Gauss-Legendre nodes of the integral over the epoch phase at the fill (32: the integrand is a smooth step
of relative width at least ``1 / sqrt(3)`` for logarithmic and ``1 / sqrt(k)`` for linear counters)."""
EPOCH_SET_ACCESSES = 128.0
"""The epoch length E, set accesses: the paper's motivation defines a hot line by at least 64 hits per 128 set
accesses (Sec. 1, Fig. 1, V-P); the chosen E is not reachable (papers.md sec. 9, "still missing"), so this
definition is the assumption (archsim.cache uses the same default)."""
HOT_THRESHOLD = 64.0
"""The hot threshold T, hits per epoch: the same definition of a hot line (Sec. 1, V-P; an assumption as
:data:`EPOCH_SET_ACCESSES`)."""
SWAP_STALL_CYCLES = 4.0
"""Assumption: cycles the ports are blocked per swap: two line reads and two line writes through one port, one
line per cycle (the paper's swap cost is not reachable, papers.md sec. 9)."""
ACCESS_CYCLES = 1.0
"""Assumption: port cycles per access (one access per cycle per port)."""
CLOCK_MHZ = 2000.0
"""Assumption: core clock, MHz (a 2 GHz core). Used only to turn cycles into time at report edges."""
MAX_THRESHOLD = 2.0**20
"""Largest hot threshold accepted (a 20-bit linear counter, or an exponent of 20)."""
EXPONENTS = 21
"""Exponents ``e = 0 .. 20`` a logarithmic counter can need below :data:`MAX_THRESHOLD`."""
SHARE_ROUNDING = 1e-4
"""Shares that must sum to 1 (or at most 1) may miss by this much (float32 rounding of measured shares)."""


# --- workload and hardware -----------------------------------------------------------------------------
@pytree_dataclass
class CacheTraceStats:
    """Access-concentration statistics of one L1 access stream (module docstring, "The statistics").

    Attributes:
        accesses: ``N``, accesses of the stream (>= 1).
        writeback_density: write-backs (dirty victims) per access, in [0, 1].
        way_share: ``[ways]`` share ``b_w`` of the accesses served by physical way ``w`` of the conventional
            cache (LRU, fills in the lowest free way, else the victim's way), summing to 1.
        residency_share: ``[CLASSES]`` shares ``a_k`` of the accesses (fills and hits) in residencies of
            class ``k``, each in [0, 1], summing to at most 1 (the rest are accesses to lines never reused).
        hit_rate: ``[CLASSES]`` hits per set access ``p_k`` of a resident line of class ``k``, in (0, 1].
        span: ``[CLASSES]`` mean span ``L_k`` of a residency of class ``k``, set accesses (>= 1).
        way0_fraction: ``[CLASSES]`` fraction ``f_k`` of class ``k``'s accesses whose line sits in way 0 of
            the conventional cache, in [0, 1].
        name: label used in reports.
    """

    accesses: Scalar
    writeback_density: Scalar
    way_share: Array
    residency_share: Array
    hit_rate: Array
    span: Array
    way0_fraction: Array
    name: str = static_field(default="trace")


@pytree_dataclass
class HoliswapHardware:
    """An L1 with HoLiSwap (module docstring for the mechanism and every assumption).

    Attributes:
        geometry: the cache and its way distances (:class:`hwcost.cache_energy.CacheGeometry`).
        epoch_set_accesses: ``E``, set accesses per epoch (>= 1), continuous.
        hot_threshold: ``T``, hits that make a line hot (>= 1), relaxed.
        swap_stall_cycles: cycles the ports are blocked per swap (>= 0).
        access_cycles: port cycles per access (>= 0).
        clock_mhz: clock, MHz (report edges only).
        smoothing: relaxation temperature and the hard switch.
        cache: ``"l1i"`` or ``"l1d"`` (bits moved per access, static).
        holiswap: whether hot lines are swapped into way 0 (``False``: the conventional cache, static).
        logarithmic_counters: logarithmic (``True``) or linear hit counters (static).
    """

    geometry: CacheGeometry
    epoch_set_accesses: Scalar
    hot_threshold: Scalar
    swap_stall_cycles: Scalar
    access_cycles: Scalar
    clock_mhz: Scalar
    smoothing: Smoothing
    cache: Cache = static_field(default="l1d")
    holiswap: bool = static_field(default=True)
    logarithmic_counters: bool = static_field(default=True)


HOLISWAP_L1D = HoliswapHardware(
    geometry=HOLISWAP_32KB_4WAY,
    epoch_set_accesses=EPOCH_SET_ACCESSES,
    hot_threshold=HOT_THRESHOLD,
    swap_stall_cycles=SWAP_STALL_CYCLES,
    access_cycles=ACCESS_CYCLES,
    clock_mhz=CLOCK_MHZ,
    smoothing=Smoothing(0.05),
)
"""HoLiSwap's 32 KB 4-way L1-D, each way an 8 KB subarray (Sec. 2, V-P; geometry
:data:`hwcost.cache_energy.HOLISWAP_32KB_4WAY`), logarithmic counters (Sec. 2, V-P); E = 128 and T = 64 from
the paper's definition of a hot line (Sec. 1, V-P), the swap stall and the clock assumptions
(:data:`SWAP_STALL_CYCLES`, :data:`CLOCK_MHZ`)."""
HOLISWAP_L1I = dataclasses.replace(HOLISWAP_L1D, cache="l1i")
"""The same cache as the L1-I."""


def sets(hw: HoliswapHardware) -> int:
    """Sets of the cache: ``size_bytes / (ways * line_bytes)``."""
    g = hw.geometry
    return g.size_bytes // (g.ways * g.line_bytes)


# --- checks --------------------------------------------------------------------------------------------
def _check_shape(name: str, value: Array, shape: tuple[int, ...] | None = None) -> None:
    actual = np.shape(value)
    if (shape is None and len(actual) != 1) or (shape is not None and actual != shape):
        raise ValueError(f"{name} has shape {actual}; allowed: {shape if shape else '(ways,)'}")


def check_workload(stats: CacheTraceStats) -> None:
    """``ValueError`` naming the field, its value and the allowed range: ``accesses`` in ``[1, 2**62]``,
    ``writeback_density`` in [0, 1], way shares in [0, 1] summing to 1, residency shares in [0, 1] summing to
    at most 1 (both within :data:`SHARE_ROUNDING`), hit rates in ``(0, 1]``, spans in ``[1, 2**40]``, way-0
    fractions in [0, 1], the class arrays of shape ``[CLASSES]``; ``TypeError`` for another workload type."""
    if not isinstance(stats, CacheTraceStats):
        raise TypeError(f"workload={type(stats).__name__} is not a CacheTraceStats")
    checks.check_range("accesses", stats.accesses, 1, checks.MAX_COUNT)
    checks.check_fraction("writeback_density", stats.writeback_density)
    _check_shape("way_share", stats.way_share)
    for name in ("residency_share", "hit_rate", "span", "way0_fraction"):
        _check_shape(name, getattr(stats, name), (CLASSES,))
    for name in ("way_share", "residency_share", "way0_fraction"):
        checks.check_range(name, getattr(stats, name), 0, 1)
    ways_total = float(np.sum(np.asarray(stats.way_share, np.float64)))
    if abs(ways_total - 1.0) > SHARE_ROUNDING:
        raise ValueError(f"way_share sums to {ways_total:g}; allowed: 1")
    total = float(np.sum(np.asarray(stats.residency_share, np.float64)))
    if total > 1.0 + SHARE_ROUNDING:
        raise ValueError(f"residency_share sums to {total:g}; allowed: at most 1")
    checks.check_range("hit_rate", stats.hit_rate, 0, 1, open_low=True)
    checks.check_range("span", stats.span, 1, 2.0**40)


def check_hardware(hw: HoliswapHardware) -> None:
    """``ValueError`` naming the field (dotted path for the geometry and the smoothing), its value and the
    allowed range: the geometry (:func:`hwcost.cache_energy.check_geometry`, at least two ways), ``E`` in
    ``[1, 2**31]``, ``T`` in ``[1, MAX_THRESHOLD]``, stall and access cycles in ``[0, 2**31]``, the clock, the
    temperature, and ``cache`` one of ``l1i``/``l1d``."""
    g = hw.geometry
    try:
        cache_energy.check_geometry(g)
    except ValueError as err:  # name the field by its path, and the cache shape the allowed range depends on
        shape = ", ".join(f"geometry.{f}={getattr(g, f)!r}" for f in ("size_bytes", "ways", "line_bytes", "columns"))
        raise ValueError(f"geometry.{err} (cache shape: {shape})") from None
    checks.check_int_range("geometry.ways", g.ways, 2, 2**20)
    wires = np.concatenate([np.asarray(cache_energy.way_wire_energy_pj(g, c), np.float64) for c in cache_energy.CACHES])
    wires = np.concatenate([wires, np.asarray(cache_energy.swap_with_nearest_energy_pj(g), np.float64)])
    if not np.all(np.isfinite(wires)) or np.max(wires) > checks.MAX_ENERGY_PJ:
        raise ValueError(
            "the wire energy of one access or swap, geometry.wire_pj_per_bit_mm x bits (geometry.l1i_bits_per_access, "
            "geometry.l1d_bits_per_access, geometry.line_bytes) x route (geometry.node_nm, geometry.cell_width_lambda, "
            "geometry.cell_height_lambda, geometry.decoder_wire_pitch_lambda, geometry.packing_efficiency) ="
            f" {np.max(wires):g} pJ, is outside [0, {checks.MAX_ENERGY_PJ:g}]"
        )
    checks.check_range("epoch_set_accesses", hw.epoch_set_accesses, 1, checks.MAX_SIZE)
    checks.check_range("hot_threshold", hw.hot_threshold, 1, MAX_THRESHOLD)
    checks.check_range("swap_stall_cycles", hw.swap_stall_cycles, 0, checks.MAX_SIZE)
    checks.check_range("access_cycles", hw.access_cycles, 0, checks.MAX_SIZE)
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)
    checks.check_choice("cache", hw.cache, cache_energy.CACHES)


# --- the model -----------------------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def hits_needed(hw: HoliswapHardware) -> tuple[Array, Array]:
    """Mean and variance of the hits ``K`` that make a line hot after its counter is zeroed (module docstring,
    "Hits needed"): linear counters ``(round(T), 0)``; logarithmic ``(2**m, (4**m - 1)/3 - (2**m - 1))`` with
    ``m = #{j >= 0 : 2**j + 1/2 < T}`` (``ceil(log2 T)`` for integer ``T``); ``round`` and the steps relaxed
    unless ``hw.smoothing.hard``."""
    t, hard = _float(hw.hot_threshold), hw.smoothing.hard
    temperature = hw.smoothing.temperature
    if not hw.logarithmic_counters:
        k = soft_round(t, temperature, hard=hard)
        return k, jnp.zeros_like(k)
    powers = jnp.asarray(2.0 ** np.arange(EXPONENTS), t.dtype)
    m = jnp.sum(soft_step(t - powers - 0.5, temperature, hard=hard))
    mean = jnp.exp2(m)
    variance = (jnp.exp2(2.0 * m) - 1.0) / 3.0 - (mean - 1.0)
    return mean, variance


def _gauss_legendre(dtype: jnp.dtype) -> tuple[Array, Array]:
    """Nodes in (0, 1) and weights summing to 1 of :data:`QUADRATURE_NODES`-point Gauss-Legendre quadrature."""
    x, w = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    return jnp.asarray((x + 1.0) / 2.0, dtype), jnp.asarray(w / 2.0, dtype)


def detection_probability(hw: HoliswapHardware, hit_rate: Array, span: Array) -> Array:
    """``Q``: the probability that a residency of hit rate ``p`` (hits per set access) and exponential span of
    mean ``L`` (set accesses) is detected hot while resident, which is also the fraction of its hits that come
    after the detection (module docstring, "Detection"); any shape, broadcast."""
    p, span = _float(hit_rate), _float(span)
    epoch = _float(hw.epoch_set_accesses)
    mean_k, var_k = hits_needed(hw)
    alpha = mean_k**2 / (mean_k + var_k)
    beta = p * mean_k / (mean_k + var_k)
    lam = 1.0 / span
    log_c = jnp.log(beta) - jnp.log(beta + lam)

    def cdf(x: Array) -> Array:
        return gammainc(alpha, beta * x)

    def discounted(x: Array) -> Array:
        return jnp.exp(alpha * log_c) * gammainc(alpha, (beta + lam) * x)

    nodes, weights = _gauss_legendre(p.dtype)
    r = epoch * nodes.reshape(nodes.shape + (1,) * p.ndim)
    full_epoch = discounted(epoch) / (-jnp.expm1(-lam * epoch) + cdf(epoch) * jnp.exp(-lam * epoch))
    integrand = discounted(r) + (1.0 - cdf(r)) * jnp.exp(-lam * r) * full_epoch
    return jnp.tensordot(weights, integrand, axes=1)


def _baseline_shares(hw: HoliswapHardware, stats: CacheTraceStats) -> Array:
    """``b_w`` as floats, shape ``[ways]``; the even split when the statistics were measured for another
    associativity (they then say nothing about this cache's placement)."""
    ways = hw.geometry.ways
    share = _float(stats.way_share)
    if share.shape != (ways,):
        return jnp.full((ways,), 1.0 / ways, share.dtype)
    return share


def way_accesses(hw: HoliswapHardware, stats: CacheTraceStats) -> tuple[Array, Array]:
    """Expected accesses (hits and fills) served by each physical way, shape ``[ways]`` (way 0 the nearest),
    and the swaps of way 0 with each way, shape ``[ways]`` (entry 0 is zero) (module docstring, "Ways, swaps
    and energy")."""
    ways = hw.geometry.ways
    n = _float(stats.accesses)
    b = _baseline_shares(hw, stats)
    if not hw.holiswap:
        return n * b, jnp.zeros_like(b)
    share, p, span, f = (_float(x) for x in (stats.residency_share, stats.hit_rate, stats.span, stats.way0_fraction))
    q = detection_probability(hw, p, span)
    residencies = n * share / (1.0 + p * span)
    after = residencies * p * span * q  # hits after the detection, per class
    way0 = jnp.sum(after) + n * b[0] - jnp.sum(after * f)
    others = safe_divide(b[1:], jnp.sum(b[1:]), 1.0 / (ways - 1))
    swaps = jnp.sum(residencies * q * (1.0 - f))
    per_way = jnp.concatenate([way0[None], (n - way0) * others])
    return per_way, jnp.concatenate([jnp.zeros_like(swaps)[None], swaps * others])


def way_keys(hw: HoliswapHardware) -> tuple[str, ...]:
    """``("way0.access", ..., "way{W-1}.access")``."""
    return tuple(f"way{w}.access" for w in range(hw.geometry.ways))


def swap_keys(hw: HoliswapHardware) -> tuple[str, ...]:
    """``("swap.way1", ..., "swap.way{W-1}")``: swaps of way 0 with each other way."""
    return tuple(f"swap.way{w}" for w in range(1, hw.geometry.ways))


def action_counts(hw: HoliswapHardware, stats: CacheTraceStats) -> Counts:
    """Expected counts of one stream: ``way{w}.access`` per physical way (its hits, fills and write-backs),
    ``array.access`` (every access and write-back), ``swap.way{w}`` (swaps of way 0 with way ``w``: their
    wires) and ``swap.array`` (every swap: the arrays' two line reads and two line writes)."""
    per_way, swaps = way_accesses(hw, stats)
    n = _float(stats.accesses)
    writebacks = n * _float(stats.writeback_density)
    transfers = per_way * (1.0 + writebacks / n)  # write-backs leave the ways in the proportions of accesses
    counts = {key: transfers[w] for w, key in enumerate(way_keys(hw))}
    counts["array.access"] = n + writebacks
    counts.update({key: swaps[w + 1] for w, key in enumerate(swap_keys(hw))})
    counts["swap.array"] = jnp.sum(swaps)
    return counts


def swaps(counts: Counts) -> Array:
    """All swaps of a count dictionary (its ``swap.array`` entry)."""
    return counts["swap.array"]


def counts_and_latency(hw: HoliswapHardware, stats: CacheTraceStats) -> tuple[Counts, Array]:
    """Counts and port cycles, ``access_cycles`` per access plus ``swap_stall_cycles`` per swap, from one
    evaluation of :func:`way_accesses`."""
    counts = action_counts(hw, stats)
    cycles = _float(hw.access_cycles) * _float(stats.accesses) + _float(hw.swap_stall_cycles) * swaps(counts)
    return counts, cycles


def latency_cycles(hw: HoliswapHardware, stats: CacheTraceStats) -> Array:
    """Port cycles of the stream: ``access_cycles`` per access plus ``swap_stall_cycles`` per swap."""
    return counts_and_latency(hw, stats)[1]


def per_action_energy_pj(hw: HoliswapHardware) -> dict[str, Scalar]:
    """Energy of one action of each kind, pJ: a way's wire energy per line transfer
    (:func:`hwcost.cache_energy.way_wire_energy_pj`), the array energy per access, the wires of a swap of way
    0 with way ``w`` (:func:`hwcost.cache_energy.swap_with_nearest_energy_pj`) and a swap's arrays (two line
    reads and two line writes)."""
    g = hw.geometry
    wires = cache_energy.way_wire_energy_pj(g, hw.cache)
    swap_wires = cache_energy.swap_with_nearest_energy_pj(g)
    table: dict[str, Scalar] = {key: wires[w] for w, key in enumerate(way_keys(hw))}
    table["array.access"] = cache_energy.array_energy_pj(g, hw.cache)
    table.update({key: swap_wires[w + 1] for w, key in enumerate(swap_keys(hw))})
    table["swap.array"] = 4.0 * 8.0 * g.line_bytes * _float(g.array_pj_per_bit)
    return table


def wire_energy_pj(hw: HoliswapHardware, stats: CacheTraceStats) -> Array:
    """Expected wire energy of the stream, pJ: transfers per way times the way's wire energy, plus the swaps'
    wires (the quantity ``archsim.cache.CacheResult.wire_energy_pj`` counts)."""
    counts, prices = action_counts(hw, stats), per_action_energy_pj(hw)
    keys = (*way_keys(hw), *swap_keys(hw))
    return sum((counts[k] * prices[k] for k in keys), start=jnp.zeros((), counts["array.access"].dtype))


def clock_mhz(hw: HoliswapHardware) -> Scalar:
    """The clock, MHz."""
    return hw.clock_mhz


def dense_limit(hw: HoliswapHardware, stats: CacheTraceStats) -> dict[str, Array]:
    """Closed-form counts at ``writeback_density = 1`` (every access evicts a dirty line), whatever the
    concentration: the arrays see each access and each write-back once, ``2 N``."""
    return {"array.access": 2.0 * _float(stats.accesses)}


# --- statistics of a stream ------------------------------------------------------------------------------
def _class_centres() -> tuple[np.ndarray, np.ndarray]:
    """Geometric centres ``(p, L)`` of every class, rate-major, shape ``[CLASSES]`` each (the values of an empty
    class: it carries no share, so they only keep the leaves valid)."""
    upper = np.asarray(RATE_EDGES)
    rate = np.sqrt(upper * np.concatenate([[upper[0] / 4.0], upper[:-1]]))
    span = np.asarray(SPAN_EDGES) * np.sqrt(8.0)
    return np.repeat(rate, SPAN_CLASSES), np.tile(span, RATE_CLASSES)


RESIDENCY_FIELDS = ("set", "line", "way", "fill", "hits", "last", "dirty", "evicted")
"""Fields of :func:`residencies`."""


def residencies(line_addresses: np.ndarray, sets: int, ways: int, is_write: np.ndarray | None = None) -> dict:
    """Every residency of the conventional LRU cache of ``sets`` sets and ``ways`` ways fed with
    ``line_addresses`` (set ``line mod sets``; a fill goes to the lowest free way, else to the LRU victim's
    way), in set-local time (set accesses): int64 arrays ``set``, ``line``, ``way`` (physical), ``fill`` (the
    set clock at the filling miss), ``hits``, ``last`` (the set clock at the last hit, ``fill`` if none) and
    ``dirty`` (1 if written while resident) and ``evicted`` (1 if closed by an eviction, 0 if still resident at
    the end), one entry per residency, open from the miss to the eviction or
    the end of the stream. The lines' stack distances and the fill rule alone decide them."""
    lines = np.asarray(line_addresses, dtype=np.int64).reshape(-1)
    writes = np.zeros(lines.shape, bool) if is_write is None else np.asarray(is_write, bool).reshape(-1)
    set_of = lines % sets
    order = np.argsort(set_of, kind="stable")
    out: dict[str, list[int]] = {k: [] for k in RESIDENCY_FIELDS}
    bounds = np.searchsorted(set_of[order], np.arange(sets + 1))

    def close(s: int, line: int, record: list[int], evicted: int) -> None:
        for key, value in zip(RESIDENCY_FIELDS, (s, line, *record, evicted), strict=True):
            out[key].append(value)

    for s in range(sets):
        chosen = order[bounds[s] : bounds[s + 1]]
        stream, written = lines[chosen].tolist(), writes[chosen].tolist()
        stack: list[int] = []  # most recent first
        open_: dict[int, list[int]] = {}  # line -> [way, fill, hits, last, dirty]
        for clock, line in enumerate(stream):
            record = open_.get(line)
            if record is not None:
                stack.remove(line)
                record[2] += 1
                record[3] = clock
            else:
                if len(stack) == ways:
                    victim = stack.pop()
                    way = open_[victim][0]
                    close(s, victim, open_.pop(victim), 1)
                else:
                    way = len(stack)
                record = open_[line] = [way, clock, 0, clock, 0]
            if written[clock]:
                record[4] = 1
            stack.insert(0, line)
        for line, record in open_.items():
            close(s, line, record, 0)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def trace_statistics(
    line_addresses: np.ndarray, sets: int, ways: int, is_write: np.ndarray | None = None, *, name: str = "trace"
) -> CacheTraceStats:
    """The :class:`CacheTraceStats` of a stream of line addresses (module docstring, "The statistics"), for a
    cache of ``sets`` sets and ``ways`` ways; ``is_write`` (bool, same length) marks stores, whose lines are
    written back when evicted (a dirty line still resident at the end of the stream is not written back)."""
    lines = np.asarray(line_addresses, dtype=np.int64).reshape(-1)
    if lines.size == 0:
        raise ValueError("line_addresses is empty; allowed: at least one access")
    if is_write is not None and np.shape(is_write) != lines.shape:
        raise ValueError(f"is_write has shape {np.shape(is_write)}; allowed: {lines.shape}, one per access")
    checks.check_int_range("sets", sets, 1, 2**40)
    checks.check_int_range("ways", ways, 1, 2**20)
    res = residencies(lines, sets, ways, is_write)
    hits = res["hits"].astype(np.float64)
    accesses = hits + 1.0
    n = float(lines.size)
    in_way0 = res["way"] == 0
    way_share = np.bincount(res["way"], weights=accesses, minlength=ways) / n
    writebacks = float(np.sum(res["dirty"] * res["evicted"]))
    reused = hits > 0
    h, d = hits[reused], (res["last"] - res["fill"])[reused].astype(np.float64)
    span = d * (h + 1.0) / h
    rate = h / span
    rate_class = np.clip(np.searchsorted(np.asarray(RATE_EDGES), rate, side="left"), 0, RATE_CLASSES - 1)
    span_class = np.clip(np.searchsorted(np.asarray(SPAN_EDGES), span, side="right") - 1, 0, SPAN_CLASSES - 1)
    k = rate_class * SPAN_CLASSES + span_class
    class_accesses = np.bincount(k, weights=h + 1.0, minlength=CLASSES)
    class_way0 = np.bincount(k, weights=(h + 1.0) * in_way0[reused], minlength=CLASSES)
    hit_sum = np.bincount(k, weights=h, minlength=CLASSES)
    span_sum = np.bincount(k, weights=span, minlength=CLASSES)
    count = np.bincount(k, minlength=CLASSES).astype(np.float64)
    rate_default, span_default = _class_centres()
    filled = count > 0
    rate_k = np.where(filled, hit_sum / np.where(filled, span_sum, 1.0), rate_default)
    span_k = np.where(filled, span_sum / np.where(filled, count, 1.0), span_default)
    return CacheTraceStats(
        accesses=n,
        writeback_density=writebacks / n,
        way_share=way_share,
        residency_share=class_accesses / n,
        hit_rate=np.minimum(rate_k, 1.0),
        span=np.maximum(span_k, 1.0),
        way0_fraction=np.where(filled, class_way0 / np.where(filled, class_accesses, 1.0), 0.0),
        name=name,
    )


def from_classes(
    accesses: float,
    classes: list[tuple[float, float, float, float]],
    *,
    way_share: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25),
    writeback_density: float = 0.0,
    name: str = "mixture",
) -> CacheTraceStats:
    """A :class:`CacheTraceStats` of ``accesses`` accesses made of the given ``(share, hit_rate, span,
    way0_fraction)`` residency classes (at most :data:`CLASSES`), the remaining classes empty."""
    if len(classes) > CLASSES:
        raise ValueError(f"classes has {len(classes)} entries; allowed: at most {CLASSES}")
    rate, span = _class_centres()
    share, way0 = np.zeros(CLASSES), np.zeros(CLASSES)
    for i, (a, p, length, f) in enumerate(classes):
        share[i], rate[i], span[i], way0[i] = a, p, length, f
    return CacheTraceStats(
        float(accesses), float(writeback_density), np.asarray(way_share, np.float64), share, rate, span, way0,
        name=name,
    )  # fmt: skip


# --- lowering: a layer as a sparse matrix-vector product through the L1-D ----------------------------------
WORDS_PER_LINE = 16
"""Assumption of the lowering: 4-byte words (values, indices, pointers, activations) in 64-byte lines."""


def lower(layer: LayerStatistics) -> LayerRun[CacheTraceStats]:
    """A masked layer as the L1-D stream of a column-wise (CSC) sparse matrix-vector product on a core, once
    per output position.

    Accesses of one product: the output vector zeroed (``fan_out`` stores), per nonzero input one activation
    load and two column-pointer loads (``3 b``, ``b = broadcasts``), per kept weight read its value and index
    loads and a load and a store of the output it accumulates into (``4 w``, ``w = weights_read``). Two
    residency classes (assumption: :data:`WORDS_PER_LINE` words per line, the output vector resident through
    the product):

    * streamed lines (activations, pointers, values, indices): ``WORDS_PER_LINE`` consecutive accesses each,
      one fill and ``WORDS_PER_LINE - 1`` hits over as many set accesses;
    * output lines: ``fan_out / WORDS_PER_LINE`` lines of ``u = (fan_out + 2 w) / (fan_out / WORDS_PER_LINE)``
      accesses each, resident through the product; the set of one sees its ``u`` accesses and a ``1 / sets``
      share of the others, so its hit rate is ``u / (u + (N - u_total) / sets)`` per set access (128 sets of
      the default cache);

    and the output lines written back once each (``writeback_density = fan_out / WORDS_PER_LINE / N``).
    """
    spec = layer.spec
    fan_out = float(spec.fan_out)
    b, w = _float(layer.broadcasts), _float(layer.weights_read)
    streamed = 3.0 * b + 2.0 * w
    output = fan_out + 2.0 * w
    n = streamed + output
    per_line = output / (fan_out / WORDS_PER_LINE)
    others_per_set = streamed / float(sets(HOLISWAP_L1D))
    out_rate = per_line / (per_line + others_per_set)
    out_span = (per_line - 1.0) / out_rate
    stream_rate = (WORDS_PER_LINE - 1.0) / WORDS_PER_LINE
    rate, span = (jnp.asarray(x, n.dtype) for x in _class_centres())
    share = jnp.zeros(CLASSES, n.dtype).at[0].set(streamed / n).at[1].set(output / n)
    rate = rate.at[0].set(stream_rate).at[1].set(out_rate)
    span = span.at[0].set(float(WORDS_PER_LINE)).at[1].set(out_span)
    ways = HOLISWAP_L1D.geometry.ways
    even = jnp.full((ways,), 1.0 / ways, n.dtype)
    way0 = jnp.full((CLASSES,), 1.0 / ways, n.dtype)
    writebacks = fan_out / WORDS_PER_LINE / n
    stats = CacheTraceStats(n, writebacks, even, share, rate, span, way0, name=spec.name)
    return LayerRun(stats, float(spec.positions))


# --- samples and the bundle ------------------------------------------------------------------------------
def sample_workloads() -> dict[str, CacheTraceStats]:
    """Mixtures covering the regimes: a hot loop (a few lines take most accesses, long-lived, mostly in the
    first-filled way 0), warm data (moderate rates, epoch-scale lives), a streaming scan (short bursts, no hot
    lines, many write-backs)."""
    return {
        "hot_loop": from_classes(
            2.0e5, [(0.55, 0.7, 3000.0, 0.5), (0.2, 0.04, 800.0, 0.2), (0.1, 15.0 / 16.0, 16.0, 0.25)],
            way_share=(0.4, 0.3, 0.2, 0.1), writeback_density=0.02, name="hot-loop",
        ),
        "warm": from_classes(
            5.0e4, [(0.3, 0.08, 400.0, 0.25), (0.3, 0.02, 2000.0, 0.25), (0.2, 0.6, 60.0, 0.25)], name="warm"
        ),
        "streaming": from_classes(
            1.0e5, [(0.85, 15.0 / 16.0, 16.0, 0.25), (0.05, 0.01, 200.0, 0.3)], writeback_density=0.05,
            name="streaming",
        ),
    }  # fmt: skip


def sample_hardware() -> dict[str, HoliswapHardware]:
    """Besides the default: linear counters at a non-integer threshold and epoch, the conventional cache
    (HoLiSwap off), and the L1-I with short epochs in a 2 x 2 placement."""
    return {
        "linear_counters": dataclasses.replace(
            HOLISWAP_L1D, logarithmic_counters=False, hot_threshold=11.3, epoch_set_accesses=181.5
        ),
        "conventional": dataclasses.replace(HOLISWAP_L1D, holiswap=False),
        "l1i_short_epochs_2x2": dataclasses.replace(
            HOLISWAP_L1I,
            epoch_set_accesses=64.0,
            hot_threshold=6.0,
            geometry=dataclasses.replace(HOLISWAP_32KB_4WAY, columns=2),
        ),
    }


THRESHOLD_GRID = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 128.0)
"""Hot thresholds the monotone promises are walked along."""

COST_MODEL = CostModel(
    card=ModelCard(
        name="holiswap",
        title="HoLiSwap L1: hot lines swapped into the nearest of 4 subarray ways (32 KB, 22 nm)",
        source="Turakhia, Das, Aamodt, Dally, Reducing wire energy in L1 caches (HoLiSwap), arXiv 1701.03878, "
        "Sec. 1-2 and shared/reference/papers.md sec. 9; geometry hwcost.cache_energy",
        workloads=(CacheTraceStats,),
    ),
    per_action_energy_pj=per_action_energy_pj,
    action_counts=action_counts,
    latency_cycles=latency_cycles,
    default_hardware=HOLISWAP_L1D,
    sample_workloads=sample_workloads,
    lower=lower,
    check_hardware=check_hardware,
    check_workload=check_workload,
    clock_mhz=clock_mhz,
    sample_hardware=sample_hardware,
    monotone=(
        Monotone("swap.array", "hardware.hot_threshold", increasing=False, grid=THRESHOLD_GRID),
        Monotone("latency", "hardware.hot_threshold", increasing=False, grid=THRESHOLD_GRID),
        Monotone("latency", "hardware.swap_stall_cycles", grid=(0.0, 1.0, 4.0, 16.0, 100.0)),
        Monotone("energy", "workload.accesses", grid=(1.0, 10.0, 1e3, 1e5, 1e7)),
        Monotone("latency", "workload.accesses", grid=(1.0, 10.0, 1e3, 1e5, 1e7)),
        Monotone("energy", "workload.writeback_density"),
    ),
    dense_limit=dense_limit,
    counts_and_latency=counts_and_latency,
)

__all__ = [
    "CLASSES",
    "COST_MODEL",
    "HOLISWAP_L1D",
    "HOLISWAP_L1I",
    "RESIDENCY_FIELDS",
    "CacheTraceStats",
    "HoliswapHardware",
    "action_counts",
    "check_hardware",
    "check_workload",
    "clock_mhz",
    "counts_and_latency",
    "dense_limit",
    "detection_probability",
    "from_classes",
    "hits_needed",
    "latency_cycles",
    "lower",
    "per_action_energy_pj",
    "residencies",
    "sample_hardware",
    "sample_workloads",
    "sets",
    "swap_keys",
    "swaps",
    "trace_statistics",
    "way_accesses",
    "way_keys",
    "wire_energy_pj",
]
