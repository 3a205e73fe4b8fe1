"""Differentiable cost model of EIE (Han et al., "EIE: Efficient Inference Engine on Compressed Deep Neural
Network", ISCA'16, arXiv 1602.01528): expected cycles, action counts and energy of one sparse
matrix-vector product ``y = W a`` on ``N`` processing elements (PEs).

Semantics modelled (the same as the cycle-level simulator ``archsim/eie.py``)
------------------------------------------------------------------------------
``W`` has shape ``(out, in)``; output row ``i`` belongs to PE ``i mod N``. Each PE stores its slice of
every column in CSC with ``b``-bit relative row indices; a run of ``z`` zeros before a nonzero costs
``floor(z / 2**b)`` filler entries; trailing zeros cost nothing. Nonzero activations are broadcast in
order, at most one per cycle, into per-PE FIFOs of depth ``D``; a broadcast waits until every FIFO has a
free slot. A PE spends one cycle per stored entry of its column slice and at least one cycle per
broadcast column. Weights and activations are uniformly random with the given densities.

Derivation (symbols: ``r`` rows per PE, ``d`` weight density, ``q = 1 - d``, ``L = 2**b``, ``x = q**L``)
----------------------------------------------------------------------------------------------------
1. **Entries per PE-column.** A filler is the ``k``-th block of ``L`` zeros in the run before a nonzero at
   local row ``j``: it exists iff row ``j`` is nonzero and rows ``j-kL .. j-1`` are zero, probability
   ``d * x**k`` for ``j >= kL``. Summing over ``j < r`` and ``k >= 1``::

       E[fillers] = d * f(r),   f(r) = sum_{k>=1} max(r - kL, 0) x**k = r S0 - L S1,
       S0 = x (1 - x**K) / (1 - x),  S1 = x (1 - (K+1) x**K + K x**(K+1)) / (1 - x)**2,  K = floor(r / L)

   ``f`` is continuous and piecewise linear in ``r`` (``K`` only counts the terms), so its derivative
   is exact away from ``r = kL``. ``E[e] = r d + d f(r)`` (``tests/hwcost/test_eie.py`` checks it against
   brute-force enumeration). At ``d = 1``: ``x = 0``, no fillers, ``e = r``.
2. **Cycles per PE-column** ``w = max(1, e)``: since ``e = 0`` iff the slice is empty,
   ``E[w] = E[e] + q**r`` and ``Var[w] = Var[e] + p0 (1 - p0) - 2 E[e] p0`` with ``p0 = q**r``.
   ``Var[e]``: the entries up to the last nonzero are the events of a renewal process with
   inter-event time ``T = min(Geometric(d), L)``; conditioning on the ``t`` trailing zeros
   (truncated geometric) gives ``V_renewal = (r - E t) Var T / E[T]**3 + Var t / E[T]**2``, right when
   a slice holds many entries. With few fillers ``F`` the decomposition ``e = nonzeros + F`` is used:
   ``V_few = r d q + E[F] + 2 Cov(nonzeros, F)``, the covariance exact in closed form
   (:func:`_filler_nonzero_covariance`), and ``Var F ~ E[F]`` (Poisson; the exact value is 0 for
   ``r <= L`` and ``E[F] (1 - E[F])`` for ``r <= 2L``, where at most one filler fits).
   ``Var[e] = u V_few + (1 - u) V_renewal`` with ``u = 1 / (1 + E[F])``: against the exact variance
   (dynamic programming over rows) within 1.2 % on average and 11 % at worst for rows 2..200 and
   densities 0.02..1 (the renewal form alone, floored by ``r d q``, was off by up to 100 % for
   ``L < r < 3L`` at ``d ~ 0.02``, where it gave a near-zero, even negative, ``Var[w]``; such layers
   were up to 9 % fast at large ``M`` and 34 % at a few columns).
3. **Latency.** With ``M = in * activation_density`` broadcast columns and the busiest PE holding
   ``ceil(out / N)`` rows (mean ``mu``, standard deviation ``sigma`` per column)::

       cycles = M mu + a sigma E_N sqrt(M) + c M sigma**2 E_N**2 / (D mu)

   * ``M mu``: the slowest PE's expected work (one cycle per entry, at least one per column);
   * ``a sigma E_N sqrt(M)``: load imbalance at the end, the expected maximum of ``N`` per-PE sums
     (Gaussian extreme-value approximation, ``E_N = Phi^-1((N - 3/8) / (N + 1/4))``, Blom's formula:
     0 at ``N = 1``, smooth in ``N``);
   * ``c M sigma**2 E_N**2 / (D mu)``: FIFO coupling. A broadcast waits for the slowest FIFO, so the PEs
     move in a band ``D`` columns (``D mu`` cycles) wide; the spread of ``N`` PEs grows like a random
     walk with per-column variance ``(sigma E_N)**2`` and each time it hits the band edge the fast PEs
     idle: the regulator rate of a random walk confined to a band of width ``D mu`` is proportional to
     ``(sigma E_N)**2 / (D mu)`` per column. Deeper FIFOs average the imbalance over more columns.
   ``a = 0.775`` and ``c = 0.219`` are fitted to the cycle-level simulator over random layers, PE counts
   1..256, FIFO depths 1..64 and index widths 2..8 (mean absolute error 1.9 %, 1 % on the paper's
   hardware; see ``tests/validation/test_eie_model_vs_archsim.py``), with item 2's earlier renewal
   variance; with the present one the nine Table III layers stay within 1.8 % (-1.7 % VGG-6, the
   largest), so they were kept. These terms describe many columns; item 4 takes over for a few.
4. **Few broadcast columns (no stall).** With ``M <= D`` no broadcast waits for a full FIFO (broadcast
   ``k`` waits only for column ``k - D``), every PE starts each column as soon as it finishes the
   previous one (at least one cycle per column keeps every PE behind the broadcast), and the latency is exactly
   ``max_p S_p`` with ``S_p`` the sum of PE ``p``'s ``M`` column works. The sums of a handful of
   discrete, bounded, skewed works are far from Gaussian (a one-column layer at 2 % weight density is
   mostly ``w = 1`` with rare longer slices), so the expected maximum of ``n`` i.i.d. sums uses the
   skewness ``g = mu3[w] / (sigma**3 sqrt(M))``: ``M mu + sigma sqrt(M) G(g, n)`` with ``G`` the
   shifted-gamma (Wilson-Hilferty) quantile at Blom's level, minus its median offset ``/ n`` (exact
   mean at ``n = 1``), ``g`` softly clipped to ``[-1, 4]``, and capped at ``M max(r, 1)`` (a slice has
   at most ``r`` entries). ``mu3[w]`` gives ``e`` the skewness of its nonzero count,
   ``(1 - 2d) / sqrt(r d q)`` (exact for ``r <= L``), damped by ``(1 + E[F])**-2`` (fillers make the
   slice a renewal count, far less skewed; long sparse slices are even negatively skewed, which this
   form does not reach), and adds the ``max(1, .)`` indicator exactly
   (:func:`_column_work_third_moment`). The ``out mod N`` PEs with ``ceil(out / N)`` rows and the
   others are two groups, each with its own count ``n``; their maxima are combined with a smooth
   maximum (:func:`no_stall_latency_cycles`). Against the exact expected maximum (per-column pmf by
   dynamic programming over rows, convolved ``M`` times; 64 PEs, rows 1..128, densities 0.02..1) it
   is within 1.4 % on average; at most 7.5 % for ``M >= 3``, 11 % for ``M = 2`` and 20 % for
   ``M = 1`` (one column of a slice of 64..128 rows at 2..3 % density: negative skewness, above).
   The latency blends the two forms::

       cycles = (1 - beta) * (items 3) + beta * no_stall,   beta = exp(-(M / (k D))**2),  k = 8

   ``k`` (``NO_STALL_SCALE``) was chosen from 0.5..16 on 382 random layers (one realisation each) and
   102 layers with ``M < 24`` (the simulator averaged over 40 seeds): against those expectations the
   model is within 1.2 % on average and 9.9 % at worst (before this form: 5.0 % and 20.5 %). On 60
   random layers with PE counts 1..256, FIFO depths 1..32 and index widths 2..8 the mean absolute
   error is 2.2 % (3.2 % before; the worst, -15 %, at FIFO depth 1, is unchanged).
   ``beta < 2e-4`` for ``M >= 3 k D`` (192 columns at ``D = 8``): the Table III layers see item 3 only.
   Validation (``tests/validation/test_eie_model_vs_archsim.py``, 60 random layers with ``M`` from 1,
   no exclusion): mean absolute error 1.5 %, at most 5.4 %; for ``M < 16``: 2.3 % and 5.4 %.

Relaxations (``hw.smoothing``; ``Smoothing(hard=True)`` gives the unrelaxed value)
-------------------------------------------------------------------------------
* ``num_pes`` is a continuous data leaf (the relaxed variant of a structural integer, for sweeps and
  gradient-based design search). Relaxed: rows per PE ``out / N`` for the mean counts and
  a steep continuous staircase for the busiest PE's rows (a logistic step of width
  ``hw.smoothing.temperature / N`` rows, default 0.1, placed half a PE's share before each step;
  within 0.01 rows of ``ceil(out / N)`` on every integer shape), differentiated straight-through as
  its trend ``out / N`` so that gradients in ``num_pes`` stay informative between steps. Hard: the exact split into
  ``out mod N`` PEs with ``ceil(out / N)`` rows and the rest with ``floor(out / N)``, busiest ``ceil``.
* The no-stall form (item 4) counts ``N (1 - s) + N frac(out / N) s`` PEs in the busy group, ``s`` the
  staircase's logistic step (``N`` at integer ``out / N``, ``out mod N`` once one PE holds an extra
  row), the rest with ``floor(out / N)`` rows (straight-through as ``out / N``), and combines the two
  groups with a smooth maximum of temperature ``0.02 sigma sqrt(M)``. Hard: the exact group sizes
  and a hard maximum.
* ``fifo_depth`` is a data leaf too (it enters the latency through ``1 / D`` and ``beta``); ``index_bits`` and the
  Spmat word size are static (structural; the filler sums are finite sums over ``L`` terms).
* Densities are clipped to ``[1e-3, 1 - 1e-6]`` inside the filler and variance terms only (removable
  singularities of the closed forms); the nonzero count uses the exact density.

Energy (EIE Table II, 45 nm, 800 MHz; derivation in :data:`EIE_64PE_45NM`)
------------------------------------------------------------------------
Action counts are chip totals for one matrix-vector product: ``spmat_sram.read`` (64-bit words),
``ptr_sram.read`` (pointer bank reads, 2 per PE per broadcast column), ``act_sram.read`` (one source
read per input, one destination read per entry), ``act_sram.write`` (one per entry), ``pe.mac`` (nonzero
weight x nonzero activation), ``pe.filler`` (filler entries, which also occupy the arithmetic unit),
``fifo.push`` (one per PE per broadcast column) and ``pe.cycle`` (PE-cycles: ``N * latency``; clock
network energy, paid busy or idle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtri

from hwcost import checks
from hwcost.smooth import Smoothing, smooth_maximum, smooth_minimum, smooth_relu, soft_step
from hwcost.types import Array, CostModel, Counts, FcLayer, Scalar, pytree_dataclass, static_field

# Latency coefficients fitted to archsim (module docstring, item 3).
IMBALANCE_COEFF = 0.775
FIFO_COUPLING_COEFF = 0.219
# Width of the blend towards the no-stall form, in FIFO depths (module docstring, item 4).
NO_STALL_SCALE = 8.0
_SKEW_MIN = -1.0  # soft clip of the skewness in expected_max_skewed
_SKEW_MAX = 4.0
_SKEW_CLIP_SOFTNESS = 0.1

_DENSITY_LOW = 1e-3
_DENSITY_HIGH = 1.0 - 1e-6

# --- EIE Table II (V-P), one PE at 800 MHz, 45 nm: power in mW ------------------------------------------
TABLE_II_TOTAL_MW = 9.157  # EIE Table II, total power of one PE
TABLE_II_CLOCK_NETWORK_MW = 1.874  # EIE Table II, clock network
TABLE_II_SPMAT_READ_MW = 4.955  # EIE Table II, SpmatRead
TABLE_II_PTR_READ_MW = 1.807  # EIE Table II, PtrRead
TABLE_II_ARITHM_UNIT_MW = 1.162  # EIE Table II, ArithmUnit
TABLE_II_ACT_RW_MW = 1.122  # EIE Table II, ActRW
TABLE_II_ACT_QUEUE_MW = 0.112  # EIE Table II, Act queue
CLOCK_MHZ = 800.0  # EIE Sec. VI / Table V, 45 nm
ENTRIES_PER_SPMAT_READ = 8  # EIE Sec. VI: 64-bit Spmat interface, 8-bit entries
STEADY_STATE_ACCESS_INTERVAL_CYCLES = 8.0  # EIE Sec. VI: Spmat and Ptr SRAM accessed every 8 cycles
PTR_READS_PER_COLUMN = 2  # EIE Sec. IV: p_j and p_j+1 from the even and odd pointer banks

_MODULE_ROWS_MW = (
    TABLE_II_SPMAT_READ_MW + TABLE_II_PTR_READ_MW + TABLE_II_ARITHM_UNIT_MW + TABLE_II_ACT_RW_MW + TABLE_II_ACT_QUEUE_MW
)
# The functional rows of Table II sum to the total (9.158 mW) and so include the clock network; it is
# moved into the per-PE-cycle term and the functional rows are scaled by the remaining share.
_FUNCTIONAL_SHARE = (TABLE_II_TOTAL_MW - TABLE_II_CLOCK_NETWORK_MW) / _MODULE_ROWS_MW
_PJ_PER_MW_CYCLE = 1e3 / CLOCK_MHZ  # mW at 800 MHz -> pJ per cycle


@pytree_dataclass
class EieHardware:
    """An EIE configuration (data leaves are traceable; ``index_bits`` and the Spmat word are static).

    Attributes:
        num_pes: number of PEs ``N`` (continuous relaxation of an integer >= 1).
        clock_mhz: clock frequency, MHz.
        fifo_depth: activation FIFO depth ``D`` per PE, entries (>= 1).
        spmat_read_pj: one 64-bit Spmat SRAM read, pJ.
        ptr_read_pj: one pointer SRAM bank read, pJ.
        mac_pj: one arithmetic-unit slot (codebook lookup, multiply, accumulate), pJ.
        act_read_pj: one activation register/SRAM read, pJ.
        act_write_pj: one activation register/SRAM write, pJ.
        fifo_push_pj: one activation-queue push (and its pop), pJ.
        pe_cycle_pj: clock network energy per PE per cycle, busy or idle, pJ.
        smoothing: relaxation temperature and the hard switch.
        index_bits: relative row index width ``b`` (fillers every ``2**b`` zeros), bits.
        entries_per_spmat_read: entries per 64-bit Spmat word.
    """

    num_pes: Scalar
    clock_mhz: Scalar
    fifo_depth: Scalar
    spmat_read_pj: Scalar
    ptr_read_pj: Scalar
    mac_pj: Scalar
    act_read_pj: Scalar
    act_write_pj: Scalar
    fifo_push_pj: Scalar
    pe_cycle_pj: Scalar
    smoothing: Smoothing
    index_bits: int = static_field(default=4)
    entries_per_spmat_read: int = static_field(default=ENTRIES_PER_SPMAT_READ)


EIE_64PE_45NM = EieHardware(
    num_pes=64.0,  # EIE Sec. I, Table V: 64 PEs
    clock_mhz=CLOCK_MHZ,  # EIE Sec. VI, Table V: 800 MHz, TSMC 45 nm GP
    fifo_depth=8.0,  # EIE Sec. VI-C, Fig. 8: activation queue depth 8
    # Table II at the paper's operating point: one entry per PE per cycle, a 64-bit Spmat word and a
    # pointer pair every 8 cycles (Sec. VI); rows scaled by the non-clock share (see module constants).
    spmat_read_pj=_FUNCTIONAL_SHARE * TABLE_II_SPMAT_READ_MW * _PJ_PER_MW_CYCLE * STEADY_STATE_ACCESS_INTERVAL_CYCLES,
    ptr_read_pj=_FUNCTIONAL_SHARE
    * TABLE_II_PTR_READ_MW
    * _PJ_PER_MW_CYCLE
    * STEADY_STATE_ACCESS_INTERVAL_CYCLES
    / PTR_READS_PER_COLUMN,
    mac_pj=_FUNCTIONAL_SHARE * TABLE_II_ARITHM_UNIT_MW * _PJ_PER_MW_CYCLE,
    act_read_pj=_FUNCTIONAL_SHARE * TABLE_II_ACT_RW_MW * _PJ_PER_MW_CYCLE / 2.0,
    act_write_pj=_FUNCTIONAL_SHARE * TABLE_II_ACT_RW_MW * _PJ_PER_MW_CYCLE / 2.0,
    fifo_push_pj=_FUNCTIONAL_SHARE * TABLE_II_ACT_QUEUE_MW * _PJ_PER_MW_CYCLE * STEADY_STATE_ACCESS_INTERVAL_CYCLES,
    pe_cycle_pj=TABLE_II_CLOCK_NETWORK_MW * _PJ_PER_MW_CYCLE,
    smoothing=Smoothing(temperature=0.1),  # busiest-PE row step width, in units of 1/N rows
    index_bits=4,  # EIE Sec. III-B: 4-bit relative row index
    entries_per_spmat_read=ENTRIES_PER_SPMAT_READ,  # EIE Sec. VI: 8 entries per 64-bit read
)
"""The paper's design point: 64 PEs at 800 MHz in 45 nm (EIE Table V), FIFO depth 8, 4-bit indices.

Per-action energies come from EIE Table II (one PE, 9.157 mW at 800 MHz = 11.45 pJ per PE-cycle) at
the operating point of Sec. VI (one entry per PE per cycle; Spmat and Ptr SRAM accessed every 8 cycles):
the clock network (1.874 mW) becomes ``pe_cycle_pj = 2.34 pJ``; the functional rows (SpmatRead 4.955,
PtrRead 1.807, ArithmUnit 1.162, ActRW 1.122, Act queue 0.112 mW, summing to the total) are scaled by
``(9.157 - 1.874) / 9.158`` and divided by their access rates: Spmat 39.4 pJ per 64-bit read, Ptr 7.19 pJ
per bank read (two per column), 1.16 pJ per MAC slot, 0.56 pJ per activation read and per write,
0.89 pJ per FIFO push. At that operating point the model reproduces Table II's 9.157 mW per PE.
Latency is validated against the cycle-level simulator on EIE Table III's layers; cycles / 800 MHz
compare with Table IV's "theoretical" and "actual" rows.
"""


# --- input checks ---------------------------------------------------------------------------------------
def check_layer(layer: FcLayer) -> None:
    """Raise ``ValueError`` (naming the field) for nonpositive shapes, NaN, or densities outside [0, 1]."""
    if not isinstance(layer, FcLayer):
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: FcLayer")
    checks.check_positive("in_features", layer.in_features)
    checks.check_positive("out_features", layer.out_features)
    checks.check_fraction("weight_density", layer.weight_density)
    checks.check_fraction("activation_density", layer.activation_density)


def check_hardware(hw: EieHardware) -> None:
    """Raise ``ValueError`` (naming the field) for PEs < 1, FIFO depth < 1, bad energies or indices."""
    checks.check_finite("num_pes", hw.num_pes)
    checks.check_non_negative("num_pes - 1", jnp.asarray(hw.num_pes) - 1.0)
    checks.check_finite("fifo_depth", hw.fifo_depth)
    checks.check_non_negative("fifo_depth - 1", jnp.asarray(hw.fifo_depth) - 1.0)
    checks.check_positive("clock_mhz", hw.clock_mhz)
    for name in ("spmat_read_pj", "ptr_read_pj", "mac_pj", "act_read_pj", "act_write_pj", "fifo_push_pj"):
        checks.check_non_negative(name, getattr(hw, name))
    checks.check_non_negative("pe_cycle_pj", hw.pe_cycle_pj)
    checks.check_int_range("index_bits", hw.index_bits, 1, 16)
    checks.check_int_range("entries_per_spmat_read", hw.entries_per_spmat_read, 1, 1024)
    checks.check_positive("smoothing.temperature", hw.smoothing.temperature)


# --- per PE-column statistics ------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def expected_fillers(rows: Scalar, density: Scalar, index_bits: int = 4) -> Array:
    """Expected filler entries in one PE's slice of one column, ``d * f(r)`` (module docstring, item 1).

    Args:
        rows: rows of the slice ``r`` (float, >= 0), any shape.
        density: weight density ``d`` in [0, 1], broadcastable with ``rows``.
        index_bits: relative index width ``b`` (static).
    Returns:
        expected fillers, dimensionless, broadcast shape.
    """
    r = _float(rows)
    d = jnp.clip(_float(density), _DENSITY_LOW, _DENSITY_HIGH)
    span = float(2**index_bits)
    log_x = span * jnp.log1p(-d)  # log x, x = (1 - d)**L
    x = jnp.exp(log_x)
    k = jnp.floor(r / span)  # number of terms; f is continuous in r
    one_minus_x = -jnp.expm1(log_x)
    xk = jnp.exp(k * log_x)
    s0 = x * (-jnp.expm1(k * log_x)) / one_minus_x
    s1 = x * (1.0 - (k + 1.0) * xk + k * xk * x) / one_minus_x**2
    return d * jnp.maximum(r * s0 - span * s1, 0.0)  # guard against rounding below 0


def expected_entries(rows: Scalar, density: Scalar, index_bits: int = 4) -> Array:
    """Expected stored entries (nonzeros + fillers) in one PE's slice of one column: ``r d + d f(r)``."""
    return _float(rows) * _float(density) + expected_fillers(rows, density, index_bits)


def _filler_nonzero_covariance(rows: Array, density: Array, index_bits: int) -> tuple[Array, Array]:
    """``(E[fillers], Cov[nonzeros, fillers])`` of one PE-column slice, exact (module docstring, item 2).

    With ``X_j`` = [row ``j`` nonzero] and ``Z_jk`` = [rows ``j-kL .. j-1`` zero], fillers are
    ``sum_{j,k} X_j Z_jk``; ``Cov(X_i, X_j Z_jk)`` is ``q d x**k`` for ``i = j``, ``-d**2 x**k`` for each of
    the ``kL`` rows ``i`` of the zero block and 0 otherwise, so ``Cov = d (q f(r) - L d g(r))`` with
    ``g(r) = sum_k k max(r - kL, 0) x**k = r S1 - L S2``, ``S2 = sum_{k<=K} k**2 x**k``.
    """
    d = jnp.clip(density, _DENSITY_LOW, _DENSITY_HIGH)
    span = float(2**index_bits)
    log_x = span * jnp.log1p(-d)
    x = jnp.exp(log_x)
    k = jnp.floor(rows / span)
    xk = jnp.exp(k * log_x)
    one_minus_x = -jnp.expm1(log_x)
    s0 = x * (-jnp.expm1(k * log_x)) / one_minus_x
    s1 = x * (1.0 - (k + 1.0) * xk + k * xk * x) / one_minus_x**2
    s2 = (
        x
        * (1.0 + x - (k + 1.0) ** 2 * xk + (2.0 * k * k + 2.0 * k - 1.0) * xk * x - k * k * xk * x * x)
        / one_minus_x**3
    )
    f = jnp.maximum(rows * s0 - span * s1, 0.0)
    g = jnp.maximum(rows * s1 - span * s2, 0.0)
    return d * f, d * ((1.0 - d) * f - span * d * g)


def _entries_variance(rows: Array, density: Array, index_bits: int) -> tuple[Array, Array]:
    """Approximate ``Var[e]`` of the entries of one PE-column slice (module docstring, item 2), and the
    expected fillers ``E[F]`` it uses."""
    r = rows
    d = jnp.clip(density, _DENSITY_LOW, _DENSITY_HIGH)
    q = 1.0 - d
    span = 2**index_bits
    # T = min(Geometric(d), L): P(T > t) = q**t for t < L; finite sums over L (static) terms.
    t = jnp.arange(span, dtype=r.dtype)
    tail = q[..., None] ** t
    mean_t = jnp.sum(tail, axis=-1)
    var_t = jnp.sum((2.0 * t + 1.0) * tail, axis=-1) - mean_t**2
    # trailing zeros: P(t >= m) = q**m for 1 <= m <= r.
    qr = q**r
    mean_trail = q * (1.0 - qr) / d
    sum_m_qm = q * (1.0 - (r + 1.0) * qr + r * qr * q) / d**2
    var_trail = 2.0 * sum_m_qm - mean_trail - mean_trail**2
    renewal = jnp.maximum(r - mean_trail, 0.0) * var_t / mean_t**3 + var_trail / mean_t**2
    # few fillers: Var[nonzeros] + 2 Cov + Var[fillers] ~ E[fillers] (exact up to the last term)
    fillers, cov = _filler_nonzero_covariance(r, density, index_bits)
    few = r * d * q + fillers + 2.0 * cov
    weight = 1.0 / (1.0 + fillers)
    return smooth_relu(weight * few + (1.0 - weight) * renewal, 1e-4, hard=True), fillers


def empty_slice_probability(rows: Scalar, density: Scalar) -> Array:
    """Probability ``(1 - d)**r`` that a PE's column slice of ``r`` rows holds no nonzero.

    For a fractional (relaxed) ``r < 1`` the derivative is infinite at ``d = 1``; the power is evaluated on
    a safe base (double ``where``), so the value stays exact and the gradient finite (0 at ``d = 1``).
    A slice of no rows is always empty (``0**0 = 1``: the PEs beyond ``out`` in a layer with fewer rows
    than PEs read nothing, also at ``d = 1``).
    """
    q = 1.0 - _float(density)
    r = _float(rows)
    q_safe = jnp.where(q > 0, q, 1.0)
    return jnp.where(q > 0, q_safe**r, jnp.where(r > 0, 0.0, 1.0))


class _SliceStatistics(NamedTuple):
    """Statistics of one PE's slice of one broadcast column (cycles ``w = max(1, e)``, entries ``e``)."""

    mean: Array  # E[w]
    var: Array  # Var[w]
    entries: Array  # E[e]
    entries_var: Array  # Var[e]
    p_empty: Array  # P(e = 0)
    fillers: Array  # E[fillers]


def _slice_statistics(rows: Scalar, density: Scalar, index_bits: int) -> _SliceStatistics:
    r = _float(rows)
    d = _float(density)
    r, d = jnp.broadcast_arrays(r, d)
    entries = expected_entries(r, d, index_bits)
    p_empty = empty_slice_probability(r, d)
    entries_var, fillers = _entries_variance(r, d, index_bits)
    var = entries_var + p_empty * (1.0 - p_empty) - 2.0 * entries * p_empty
    return _SliceStatistics(
        entries + p_empty, smooth_relu(var, 1e-4, hard=True), entries, entries_var, p_empty, fillers
    )


def column_work_moments(rows: Scalar, density: Scalar, index_bits: int = 4) -> tuple[Array, Array]:
    """Mean and variance of the cycles one PE spends on one broadcast column, ``w = max(1, e)``.

    Args:
        rows: rows of the PE's slice (float), any shape.
        density: weight density in [0, 1].
        index_bits: relative index width (static).
    Returns:
        ``(mean_cycles, variance_cycles2)``, broadcast shape.
    """
    stats = _slice_statistics(rows, density, index_bits)
    return stats.mean, stats.var


def expected_max_normal(n: Scalar) -> Array:
    """Expected maximum of ``n`` i.i.d. standard normals, Blom's ``Phi^-1((n - 3/8) / (n + 1/4))``.

    Smooth in ``n`` (a continuous relaxation of the count), 0 at ``n = 1``; within 5 % of the exact value
    for ``n`` in 2..256.
    """
    n = _float(n)
    return ndtri((n - 0.375) / (n + 0.25))


def _rows(hw: EieHardware, layer: FcLayer) -> tuple[Array, Array, Array]:
    """``(mean rows per PE, rows of the busiest PE, PEs with ceil rows)`` (relaxed or exact).

    Relaxed busiest-PE rows: the steep continuous staircase ``r + (1 - frac(r)) * s`` with
    ``s = soft_step(frac(r) - 1/(2N), T/N)`` (equal to ``ceil(r)`` once one PE holds an extra row,
    ``frac(r) >= 1/N``, and to ``r`` at integer ``r``), differentiated as its trend ``r = out / N``
    (straight-through), so that gradients in ``num_pes`` and ``out_features`` see the average slope
    instead of zero on the plateaus and spikes at the steps.
    """
    n = _float(hw.num_pes)
    r = _float(layer.out_features) / n
    lo = jnp.floor(r)
    if hw.smoothing.hard:
        return r, jnp.ceil(r), _float(layer.out_features) - n * lo
    frac = r - lo
    staircase = r + (1.0 - frac) * soft_step(frac - 0.5 / n, hw.smoothing.temperature / n)
    top = r + jax.lax.stop_gradient(staircase - r)
    return r, top, jnp.zeros_like(r)


def entries_per_broadcast(hw: EieHardware, layer: FcLayer) -> Array:
    """Expected entries summed over all PEs for one broadcast column (dimensionless).

    Relaxed: ``N * E[e](out / N)``; hard: the exact split into ``ceil`` and ``floor`` row counts.
    """
    r, _, n_hi = _rows(hw, layer)
    d = layer.weight_density
    n = _float(hw.num_pes)
    if hw.smoothing.hard:
        lo = jnp.floor(r)
        return n_hi * expected_entries(lo + 1.0, d, hw.index_bits) + (n - n_hi) * expected_entries(lo, d, hw.index_bits)
    return n * expected_entries(r, d, hw.index_bits)


def _per_pe_sum(hw: EieHardware, layer: FcLayer, fn: Callable[[Array], Array]) -> Array:
    r, _, n_hi = _rows(hw, layer)
    n = _float(hw.num_pes)
    if hw.smoothing.hard:
        lo = jnp.floor(r)
        return n_hi * fn(lo + 1.0) + (n - n_hi) * fn(lo)
    return n * fn(r)


def broadcast_columns(layer: FcLayer) -> Array:
    """Nonzero input activations broadcast, ``in_features * activation_density`` (not rounded).

    The expected count of a layer whose activations are nonzero with probability
    ``activation_density``; the simulator's benchmark inputs draw exactly ``round(in * density)``
    nonzeros, which equals this value whenever it is an integer (no floor at one column: a layer
    with no nonzero activation takes no cycles in both).
    """
    return _float(layer.in_features) * _float(layer.activation_density)


def _column_work_third_moment(rows: Array, density: Array, stats: _SliceStatistics) -> Array:
    """Third central moment of the cycles ``w = max(1, e)`` of one PE-column, cycles**3 (item 4).

    ``e`` is given the skewness of its nonzero count, ``Binomial(r, d)``: ``(1 - 2d) / sqrt(r d q)``
    (exact for ``r <= 2**b``, where no fillers occur), damped by ``(1 + E[fillers])**-2``. With
    ``p0 = q**r``, ``X = e - E e`` and the indicator ``Y = [e = 0] - p0`` (``w - E w = X + Y``;
    ``X = -E e`` whenever ``Y`` fires)::

        mu3[w] = mu3[e] + 3 p0 (E[e]**2 - Var e) - 3 (1 - 2 p0) E[e] p0 + p0 (1 - p0) (1 - 2 p0)

    (0 for a one-row slice, where ``w = 1`` always). ``stats``: :func:`_slice_statistics` of the slice.
    """
    d = jnp.clip(density, _DENSITY_LOW, _DENSITY_HIGH)
    q = 1.0 - d
    p0, mean_e, var_e = stats.p_empty, stats.entries, stats.entries_var
    skew_e = (1.0 - 2.0 * d) / jnp.sqrt(rows * d * q + 1e-12) / (1.0 + stats.fillers) ** 2
    mu3_e = skew_e * var_e * jnp.sqrt(var_e + 1e-12)
    indicator = p0 * (1.0 - p0) * (1.0 - 2.0 * p0)
    return mu3_e + 3.0 * p0 * (mean_e**2 - var_e) - 3.0 * (1.0 - 2.0 * p0) * mean_e * p0 + indicator


def expected_max_skewed(skewness: Scalar, n: Scalar) -> Array:
    """Standardised expected maximum of ``n`` i.i.d. variables with the given skewness (item 4).

    The shifted-gamma (Wilson-Hilferty) quantile at Blom's level, ``z = E_n``::

        WH(g, z) = (2 / g) ((1 - g**2/36 + g z / 6)**3 - 1),   result = WH(g, E_n) - WH(g, 0) / n

    ``WH(g, 0) / n`` removes the gamma's median offset at ``n = 1`` (the maximum of one variable is its
    mean, result 0) and fades as ``1/n``. The skewness is softly clipped to ``[-1, 4]`` (beyond about 4
    the cube-root approximation turns over). ``g -> 0`` gives Blom's Gaussian ``E_n``.

    Args:
        skewness: skewness ``g`` of each variable (dimensionless), any shape.
        n: number of variables (continuous, >= 1), broadcastable.
    Returns:
        ``(E[max] - mean) / standard deviation``, dimensionless.
    """
    g = _float(skewness)
    g = _SKEW_MAX - smooth_relu(_SKEW_MAX - g, _SKEW_CLIP_SOFTNESS)
    g = _SKEW_MIN + smooth_relu(g - _SKEW_MIN, _SKEW_CLIP_SOFTNESS)
    n = _float(n)

    def wilson_hilferty(z: Array) -> Array:
        # (2/g)((1 + u)**3 - 1) with u = g (z/6 - g/36), expanded so that g = 0 needs no division
        u_over_g = z / 6.0 - g / 36.0
        u = g * u_over_g
        return 2.0 * u_over_g * (3.0 + 3.0 * u + u * u)

    return wilson_hilferty(expected_max_normal(n)) - wilson_hilferty(jnp.zeros_like(n)) / n


def _group_max(rows: Array, count: Array, density: Scalar, m: Array, stats: _SliceStatistics) -> tuple[Array, Array]:
    """Expected maximum over ``count`` PEs with ``rows`` rows of their sums of ``m`` column works, and
    the standard deviation of one sum (cycles); capped at ``m * max(rows, 1)`` (every row an entry).
    ``stats``: :func:`_slice_statistics` of ``rows``."""
    mean, var = stats.mean, stats.var
    mu3 = _column_work_third_moment(rows, _float(density), stats)
    sd = jnp.sqrt(var + 1e-12)
    sum_sd = sd * jnp.sqrt(m + 1e-12)
    skew = mu3 / (sd**3 + 1e-12) / jnp.sqrt(m + 1e-12)
    value = m * mean + sum_sd * expected_max_skewed(skew, count)
    cap = m * (1.0 + smooth_relu(rows - 1.0, 1e-3, hard=True))
    return smooth_minimum(value, cap, 0.02 * sum_sd + 1e-3), sum_sd


def no_stall_latency_cycles(hw: EieHardware, layer: FcLayer) -> Array:
    """Expected cycles when no broadcast waits for a full FIFO (exact form for ``M <= D``, item 4).

    ``max_p S_p`` with ``S_p`` the sum of the ``M`` column works of PE ``p``: the PEs with
    ``ceil(out / N)`` rows and those with ``floor(out / N)`` rows are two groups of i.i.d. sums, each
    with its skewness-corrected expected maximum; the two are combined with a smooth maximum.
    Relaxed: the busiest-row staircase of :func:`_rows`, ``N (1 - s) + N frac(r) s`` PEs in the busy
    group (``s`` the staircase's step: all ``N`` PEs at integer ``out / N``), floor rows
    straight-through as ``out / N``; hard: the exact split.

    Returns:
        expected cycles (scalar per layer, or the broadcast shape of vmapped leaves).
    """
    rows, counts = _no_stall_groups(hw, layer)
    return _no_stall_max(hw, layer, rows, counts, _slice_statistics(rows, layer.weight_density, hw.index_bits))


def _no_stall_groups(hw: EieHardware, layer: FcLayer) -> tuple[Array, Array]:
    """Rows and PE counts of the two groups of the no-stall form, stacked on a leading axis of 2:
    ``[busiest rows, floor rows]`` and ``[PEs with the busiest rows, N]`` (relaxed or exact)."""
    n = _float(hw.num_pes)
    r, top, n_hi = _rows(hw, layer)
    lo = jnp.floor(r)
    if hw.smoothing.hard:
        n_top = jnp.where(n_hi > 0, n_hi, n)
    else:
        frac = r - lo
        step = soft_step(frac - 0.5 / n, hw.smoothing.temperature / n)  # the step of _rows' staircase
        n_top = n * (1.0 - step) + n * frac * step
        lo = r + jax.lax.stop_gradient(lo - r)
    # both groups in one evaluation: half the operations of two (and the busiest group's moments are
    # those of latency_terms, which shares them)
    rows = jnp.stack(jnp.broadcast_arrays(top, lo))
    counts = jnp.stack(jnp.broadcast_arrays(n_top, n))
    return rows, counts


def _no_stall_max(hw: EieHardware, layer: FcLayer, rows: Array, counts: Array, stats: _SliceStatistics) -> Array:
    """Smooth maximum of the two groups' expected maxima (:func:`no_stall_latency_cycles`), cycles."""
    m = broadcast_columns(layer)
    maxima, sum_sd = _group_max(rows, counts, layer.weight_density, m, stats)
    return smooth_maximum(maxima[0], maxima[1], 0.02 * sum_sd[0] + 1e-3, hard=hw.smoothing.hard)


def no_stall_weight(hw: EieHardware, layer: FcLayer) -> Array:
    """Weight ``beta`` of the no-stall form, ``exp(-(M / (k D))**2)``, ``k = NO_STALL_SCALE`` (item 4).

    Dimensionless, in ``(0, 1]``: 1 at ``M = 0``, 0.98 at ``M = D``, 0.37 at ``M = k D``.
    """
    x = broadcast_columns(layer) / (NO_STALL_SCALE * _float(hw.fifo_depth))
    return jnp.exp(-(x**2))


def latency_terms(hw: EieHardware, layer: FcLayer) -> dict[str, Array]:
    """The latency terms of the module docstring (items 3-4), cycles; their sum is the latency.

    ``work`` is ``M mu``; ``end_imbalance`` and ``fifo_coupling`` are the large-``M`` terms weighted by
    ``1 - beta``, and ``end_imbalance`` also holds ``beta`` times the no-stall form's excess over
    ``M mu``, so that ``sum = (1 - beta) * large + beta * no_stall``.
    """
    rows, counts = _no_stall_groups(hw, layer)  # rows[0]: the busiest PE's rows
    stats = _slice_statistics(rows, layer.weight_density, hw.index_bits)
    mean, var = stats.mean[0], stats.var[0]
    sigma = jnp.sqrt(var + 1e-12)
    m = broadcast_columns(layer)
    e_n = expected_max_normal(hw.num_pes)
    beta = no_stall_weight(hw, layer)
    work = m * mean
    large_imbalance = IMBALANCE_COEFF * sigma * e_n * jnp.sqrt(m + 1e-12)
    coupling = FIFO_COUPLING_COEFF * m * var * e_n**2 / (_float(hw.fifo_depth) * mean)
    return {
        "work": work,
        "end_imbalance": (1.0 - beta) * large_imbalance + beta * (_no_stall_max(hw, layer, rows, counts, stats) - work),
        "fifo_coupling": (1.0 - beta) * coupling,
    }


def latency_cycles(hw: EieHardware, layer: FcLayer) -> Array:
    """Expected cycles from the first broadcast until the last PE finishes (scalar per layer)."""
    return sum(latency_terms(hw, layer).values(), start=jnp.zeros(()))


def action_counts(hw: EieHardware, layer: FcLayer) -> Counts:
    """Expected chip-wide action counts of one matrix-vector product (module docstring), dimensionless."""
    m = broadcast_columns(layer)
    n = _float(hw.num_pes)
    d = layer.weight_density
    k = float(hw.entries_per_spmat_read)
    entries = m * entries_per_broadcast(hw, layer)
    macs = m * _float(layer.out_features) * _float(d)

    def words(rows: Array) -> Array:
        # a slice of e > 0 entries at a uniform word offset touches (e + k - 1) / k words on average
        p_empty = empty_slice_probability(rows, d)
        return (expected_entries(rows, d, hw.index_bits) + (k - 1.0) * (1.0 - p_empty)) / k

    return {
        "spmat_sram.read": m * _per_pe_sum(hw, layer, words),
        "ptr_sram.read": PTR_READS_PER_COLUMN * n * m,
        "act_sram.read": entries + _float(layer.in_features),
        "act_sram.write": entries,
        "pe.mac": macs,
        "pe.filler": entries - macs,
        "fifo.push": n * m,
        "pe.cycle": n * latency_cycles(hw, layer),
    }


def action_energies_pj(hw: EieHardware) -> dict[str, Scalar]:
    """Energy of one action of each kind, pJ (same keys as :func:`action_counts`)."""
    return {
        "spmat_sram.read": hw.spmat_read_pj,
        "ptr_sram.read": hw.ptr_read_pj,
        "act_sram.read": hw.act_read_pj,
        "act_sram.write": hw.act_write_pj,
        "pe.mac": hw.mac_pj,
        "pe.filler": hw.mac_pj,
        "fifo.push": hw.fifo_push_pj,
        "pe.cycle": hw.pe_cycle_pj,
    }


def energy_pj(hw: EieHardware, layer: FcLayer) -> Counts:
    """Energy of one matrix-vector product per action kind, pJ (same keys as :func:`action_counts`)."""
    counts = action_counts(hw, layer)
    per_action = action_energies_pj(hw)
    return {key: counts[key] * per_action[key] for key in counts}


def hard(hw: EieHardware) -> EieHardware:
    """The same hardware evaluated without relaxations (exact row split, hard ceil)."""
    return dataclasses.replace(hw, smoothing=Smoothing(hw.smoothing.temperature, hard=True))


def clock_mhz(hw: EieHardware) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


def example_workload() -> FcLayer:
    """EIE Table III Alex-7: 4096 x 4096, 9 % weight and 35.3 % activation density (an interior point)."""
    return FcLayer(4096.0, 4096.0, 0.09, 0.353, name="Alex-7")


COST_MODEL = CostModel(
    name="eie",
    action_counts=action_counts,
    energy_pj=energy_pj,
    latency_cycles=latency_cycles,
    default_hardware=EIE_64PE_45NM,
    example_workload=example_workload,
    clock_mhz=clock_mhz,
    hard=hard,
)

__all__ = [
    "COST_MODEL",
    "EIE_64PE_45NM",
    "EieHardware",
    "action_counts",
    "action_energies_pj",
    "broadcast_columns",
    "check_hardware",
    "check_layer",
    "clock_mhz",
    "column_work_moments",
    "energy_pj",
    "entries_per_broadcast",
    "example_workload",
    "expected_entries",
    "expected_fillers",
    "expected_max_normal",
    "expected_max_skewed",
    "hard",
    "latency_cycles",
    "latency_terms",
    "no_stall_latency_cycles",
    "no_stall_weight",
]
