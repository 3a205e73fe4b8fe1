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
broadcast column. Weights and activations are uniformly random with the given densities; ``M = in *
activation_density`` columns are broadcast.

Derivation
----------
1. **Rows per PE.** ``out mod N`` PEs hold ``ceil(out / N)`` rows and the others ``floor(out / N)``.
   Written as one split: ``top = ceil((out - 1/2) / N)`` (``= ceil(out / N)`` for integer ``out``) and
   ``n_hi = out - N (top - 1)`` PEs hold ``top`` rows, the other ``N - n_hi`` hold ``top - 1`` (all ``N``
   hold ``top`` when ``N`` divides ``out``). Every chip total is a per-PE sum
   ``n_hi h(top) + (N - n_hi) h(top - 1)``.
2. **Entries per PE-column** (:mod:`hwcost._csc`): ``E[e] = r d + E[F]`` with the exact expected
   fillers ``E[F] = d sum_{k>=1} max(r - kL, 0) (1 - d)**(kL)``, ``L = 2**b``; ``Var[e]`` from the
   renewal and few-filler forms; ``p0 = (1 - d)**r`` the probability of an empty slice.
3. **Cycles per PE-column** ``w = max(1, e)``: since ``e = 0`` iff the slice is empty,
   ``E[w] = E[e] + p0``, ``Var[w] = Var[e] + p0 (1 - p0) - 2 E[e] p0`` and, giving ``e`` the skewness
   of its nonzero count ``(1 - 2d) / sqrt(r d q)`` (exact for ``r <= L``) damped by
   ``(1 + E[F])**-2`` (fillers make the slice a renewal count, far less skewed)::

       mu3[w] = mu3[e] + 3 p0 (E[e]**2 - Var e) - 3 (1 - 2 p0) E[e] p0 + p0 (1 - p0) (1 - 2 p0)

   (``w = 1`` for a slice of at most one row: mean 1, no spread).
4. **Latency, few columns (no stall).** With ``M <= D`` no broadcast waits for a full FIFO (broadcast
   ``k`` waits only for column ``k - D``), every PE starts each column as soon as it finishes the
   previous one, and the latency is exactly ``max_p S_p`` with ``S_p`` the sum of PE ``p``'s ``M``
   column works. At any depth each PE still works through its own sum, so ``max_p S_p`` is a lower
   bound of the latency. The sums of a handful of discrete, bounded, skewed works are far from Gaussian,
   so the expected maximum of ``n`` i.i.d. sums uses their skewness ``g = mu3[w] / (sigma**3 sqrt(M))``
   (clipped to ``[-1, 4]``; ``mu``, ``sigma`` the per-column mean and standard deviation)::

       E[max] = M mu + min(sigma sqrt(M) G(g, n), M (max(r, 1) - mu))

   with ``G`` the shifted-gamma quantile of :func:`hwcost._order_stats.expected_max_skewed` and the cap
   from ``w <= max(r, 1)``. The ``n_hi`` PEs with ``top`` rows and the ``N`` PEs counted with
   ``top - 1`` rows (an upper bound on the ``N - n_hi`` that hold them, which keeps ``n >= 1``) are two
   groups, combined with a maximum. ``NS``: this expected maximum minus ``M mu`` of the busiest PE.
5. **Latency, many columns.** When broadcasts wait, the busiest PE (``top`` rows) sets the pace::

       A = a sigma E_N sqrt(M) + c M sigma**2 E_N**2 / (D mu)

   * ``a sigma E_N sqrt(M)``: load imbalance at the end, the expected maximum of ``N`` per-PE sums
     (Gaussian extreme-value approximation, ``E_N = Phi^-1((N - 3/8) / (N + 1/4))``, Blom's formula:
     0 at ``N = 1``, smooth in ``N``);
   * ``c M sigma**2 E_N**2 / (D mu)``: FIFO coupling. A broadcast waits for the slowest FIFO, so the PEs
     move in a band ``D`` columns (``D mu`` cycles) wide; the spread of ``N`` PEs grows like a random
     walk with per-column variance ``(sigma E_N)**2`` and each time it hits the band edge the fast PEs
     idle: the regulator rate of a random walk confined to a band of width ``D mu`` is proportional to
     ``(sigma E_N)**2 / (D mu)`` per column. Deeper FIFOs average the imbalance over more columns.

   ``a`` and ``c`` are fitted to the cycle-level simulator (:data:`LATENCY_FIT`).
6. **Bounds and blend.** By induction over the FIFO recurrence no PE finishes column ``k`` later than
   the sum of the per-column maxima up to ``k``, so ``C = M (max(top, 1) - mu)`` bounds every excess
   over ``M mu`` (near ``d = 1``, where ``sigma ~ sqrt(1 - d)``, the Gaussian terms would pass it, and
   fall with ``d`` at an infinite slope). The stalls are what item 5 adds above the lower bound of
   item 4, within the upper bound, and fade where no broadcast can wait::

       cycles = M mu + NS + (1 - beta) (min(max(A, NS), C) - NS),   beta = exp(-(M / (k D))**2)

   ``k = 8`` (``NO_STALL_SCALE``; ``beta >= 0.98`` for ``M <= D``, where item 4 is exact).
   Every term is ``>= 0``; the latency is at least ``M mu``, non-increasing in ``D``, and exactly 0 at
   ``M = 0``.

Relaxations (``hw.smoothing``; ``smooth.harden(hw)`` gives the exact value)
------------------------------------------------------------------------
``T = hw.smoothing.temperature`` (0.1 for :data:`EIE_64PE_45NM`) sets every relaxation:

* ``num_pes`` and ``out_features`` are continuous data leaves (the relaxed variant of structural
  integers, for sweeps and gradient-based design search). Relaxed, ``top`` is
  ``soft_ceil((out - 1/2) / N, T / N)`` floored at 1: the continuous, C1 step of ``ceil`` over ``T``
  output rows, placed half a row between the integer shapes (``out mod N = 1/2``), where the exact model is
  undefined. At every integer shape it is within ``(1 - tanh(1 / (2T))) / 2`` rows of the exact value
  (5e-5 at ``T = 0.1``). ``n_hi = out - N (top - 1)`` keeps ``sum rows = out``, stays above 1/2 (Blom's
  formula needs ``n > 3/8``) and every per-PE sum non-negative. One split serves every term: the counts,
  the busiest PE and both no-stall groups. Between the steps the rows are flat, so the derivatives in
  ``num_pes`` and ``out_features`` are those of the per-PE sums and of ``E_N`` (the value's own slope,
  small on the plateaus); a design search that wants the steps' trend widens them by raising ``T``.
* ``min`` and ``max`` of non-negative terms (the bounds, the two no-stall groups) are ``p``-norms with
  relative temperature ``0.1 T`` (``p = 100`` at ``T = 0.1``; :func:`hwcost.smooth.smooth_minimum_relative`):
  homogeneous, so they
  keep the latency at 0 for ``M = 0`` and linear in ``M`` near it.
* the skewness clip has softplus corners of width ``T``.
* ``fifo_depth`` is a data leaf (it enters through ``1 / D`` and ``beta``); ``index_bits`` and the
  Spmat word size are static.

Numerical floors that are no relaxations (the exact value is ``>= 0`` there):
:func:`hwcost.safe.clamp_non_negative` on variances and bounds, and square roots and divisions on safe
arguments (:mod:`hwcost.safe`: exact value, finite derivative, 0 where the argument is 0). No density is
clipped.

Energy (EIE Table II, 45 nm, 800 MHz; derivation in :data:`EIE_64PE_45NM`)
------------------------------------------------------------------------
Action counts are chip totals for one matrix-vector product: ``spmat_sram.read`` (64-bit words: a slice
of ``e > 0`` entries at a uniform word offset touches ``(e + k - 1) / k`` words on average),
``ptr_sram.read`` (pointer bank reads, 2 per PE per broadcast column), ``act_sram.read`` (one source
read per input, one destination read per entry), ``act_sram.write`` (one per entry), ``pe.mac`` (nonzero
weight x nonzero activation, ``M out d``), ``pe.filler`` (filler entries, which also occupy the
arithmetic unit), ``fifo.push`` (one per PE per broadcast column) and ``pe.cycle`` (PE-cycles:
``N * latency``; clock network energy, paid busy or idle). Every count is a sum of non-negative terms.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp

from hwcost import checks
from hwcost._csc import SliceEntries, empty_slice_probability, expected_entries, expected_fillers, slice_entries
from hwcost._order_stats import clip_skewness, expected_max_normal, expected_max_skewed
from hwcost.safe import clamp_non_negative, safe_divide, safe_sqrt
from hwcost.smooth import Smoothing, smooth_maximum_relative, smooth_minimum_relative, soft_ceil
from hwcost.types import (
    Array,
    CostModel,
    Counts,
    FcLayer,
    LayerRun,
    LayerStatistics,
    ModelCard,
    Monotone,
    Scalar,
    pytree_dataclass,
    static_field,
)


class LatencyFit(NamedTuple):
    """Coefficients of the latency (module docstring, items 5-6), fitted to ``archsim/eie.py``.

    Attributes:
        imbalance: ``a``, end load imbalance (dimensionless).
        fifo_coupling: ``c``, FIFO coupling (dimensionless).
        no_stall_scale: ``k``, width of the blend towards the no-stall form, in FIFO depths.
    """

    imbalance: float
    fifo_coupling: float
    no_stall_scale: float


# Fitted by benchmarks/fit_eie.py on random layers disjoint from the validation ones; the fit, its seeds
# and its error are in benchmarks/results/fit_eie.json.
LATENCY_FIT = LatencyFit(imbalance=0.402, fifo_coupling=0.335, no_stall_scale=8.0)
NO_STALL_SCALE = LATENCY_FIT.no_stall_scale

# Relaxation temperatures in units of hw.smoothing.temperature (module docstring, "Relaxations").
EXTREMUM_TEMPERATURE = 0.1  # relative temperature of the p-norm minima and maxima (p = 100 at T = 0.1)
SKEW_CLIP_TEMPERATURE = 1.0  # softplus width of the skewness clip (0.1 at T = 0.1)

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
def check_workload(layer: FcLayer) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: ``in_features`` in
    ``(0, 2**31]``, ``out_features`` in ``[1, 2**31]`` (a layer has at least one output row), densities in
    [0, 1]; NaN and infinities never (bounds: :mod:`hwcost.checks`)."""
    if not isinstance(layer, FcLayer):
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: FcLayer")
    checks.check_size("in_features", layer.in_features, low=0, open_low=True)
    checks.check_size("out_features", layer.out_features)
    checks.check_fraction("weight_density", layer.weight_density)
    checks.check_fraction("activation_density", layer.activation_density)


def check_hardware(hw: EieHardware) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: PEs and FIFO depth in
    ``[1, 2**31]``, clock in [1e-3, 1e6] MHz, energies in [0, 1e6] pJ, index bits, entries per word, and
    temperature in [1e-6, 10] (bounds: :mod:`hwcost.checks`)."""
    checks.check_size("num_pes", hw.num_pes)
    checks.check_size("fifo_depth", hw.fifo_depth)
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    for name in ("spmat_read_pj", "ptr_read_pj", "mac_pj", "act_read_pj", "act_write_pj", "fifo_push_pj"):
        checks.check_energy_pj(name, getattr(hw, name))
    checks.check_energy_pj("pe_cycle_pj", hw.pe_cycle_pj)
    checks.check_int_range("index_bits", hw.index_bits, 1, 16)
    checks.check_int_range("entries_per_spmat_read", hw.entries_per_spmat_read, 1, 1024)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


# --- per PE-column statistics ------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


class ColumnWork(NamedTuple):
    """Cycles ``w = max(1, e)`` one PE spends on one broadcast column (module docstring, item 3).

    Attributes:
        mean: ``E[w]``, cycles.
        var: ``Var[w]``, cycles**2.
        third: third central moment of ``w``, cycles**3.
        entries: entry statistics of the slice (:class:`hwcost._csc.SliceEntries`).
    """

    mean: Array
    var: Array
    third: Array
    entries: SliceEntries


def column_work(rows: Scalar, density: Scalar, index_bits: int = 4) -> ColumnWork:
    """:class:`ColumnWork` of a PE's slice of ``rows`` rows at weight density ``density``.

    Args:
        rows: rows of the slice (float, >= 0), any shape.
        density: weight density in [0, 1], broadcastable with ``rows``.
        index_bits: relative index width (static).
    Returns:
        :class:`ColumnWork`, broadcast shape; finite with finite derivatives for every input.
    """
    r, d = jnp.broadcast_arrays(_float(rows), _float(density))
    s = slice_entries(r, d, index_bits)
    p0, e, var_e = s.p_empty, s.entries, s.entries_var
    spread = r > 1.0  # a slice of at most one row takes exactly one cycle
    var = jnp.where(spread, clamp_non_negative(var_e + p0 * (1.0 - p0) - 2.0 * e * p0), 0.0)
    binomial_var = r * d * (1.0 - d)
    # mu3[e] = skewness of the nonzero count, damped by (1 + E[F])**-2, times Var[e]**1.5
    mu3_e = (1.0 - 2.0 * d) * var_e * safe_sqrt(safe_divide(var_e, binomial_var)) / (1.0 + s.fillers) ** 2
    third = mu3_e + 3.0 * p0 * (e * e - var_e) - 3.0 * (1.0 - 2.0 * p0) * e * p0 + p0 * (1.0 - p0) * (1.0 - 2.0 * p0)
    return ColumnWork(e + p0, var, jnp.where(spread, third, 0.0), s)


def column_work_moments(rows: Scalar, density: Scalar, index_bits: int = 4) -> tuple[Array, Array]:
    """``(E[w], Var[w])`` of :func:`column_work`, cycles and cycles**2."""
    work = column_work(rows, density, index_bits)
    return work.mean, work.var


# --- the split of the rows over the PEs ---------------------------------------------------------------
def _row_split(hw: EieHardware, layer: FcLayer) -> tuple[Array, Array]:
    """``(top, n_hi)``: the busiest PEs' rows and how many PEs hold them (module docstring, item 1 and
    "Relaxations"); the other ``N - n_hi`` PEs hold ``top - 1`` rows."""
    n = _float(hw.num_pes)
    out = _float(layer.out_features)
    t = hw.smoothing.temperature
    top = jnp.maximum(soft_ceil((out - 0.5) / n, t / n, hard=hw.smoothing.hard), 1.0)
    return top, out - n * (top - 1.0)


class ColumnSlices(NamedTuple):
    """The two row counts of a PE's slice (the busiest PEs' and the others') and their per-column work."""

    rows: Array  # (2, ...): [top, top - 1]
    pes_with_top: Array  # n_hi
    work: ColumnWork  # of rows, stacked


def column_slices(hw: EieHardware, layer: FcLayer) -> ColumnSlices:
    """:class:`ColumnSlices` of ``layer`` on ``hw`` (items 1-3); computed once, it feeds the latency terms and
    the entries per broadcast (:func:`latency_terms`, :func:`entries_per_broadcast`)."""
    top, n_hi = _row_split(hw, layer)
    d = _float(layer.weight_density)
    top, d = jnp.broadcast_arrays(top, d)
    rows = jnp.stack([top, top - 1.0])
    return ColumnSlices(rows, n_hi, column_work(rows, jnp.stack([d, d]), hw.index_bits))


def _pe_sum(hw: EieHardware, slices: ColumnSlices, per_slice: Array) -> Array:
    """Chip total of a per-slice quantity evaluated on ``[top, top - 1]`` rows: ``n_hi x[0] + (N - n_hi) x[1]``."""
    n_hi = slices.pes_with_top
    return n_hi * per_slice[0] + (_float(hw.num_pes) - n_hi) * per_slice[1]


def broadcast_columns(layer: FcLayer) -> Array:
    """Nonzero input activations broadcast, ``M = in_features * activation_density`` (not rounded).

    The expected count of a layer whose activations are nonzero with probability
    ``activation_density``; the simulator's benchmark inputs draw exactly ``round(in * density)``
    nonzeros, which equals this value whenever it is an integer (a layer with no nonzero activation
    takes no cycles in both).
    """
    return _float(layer.in_features) * _float(layer.activation_density)


def entries_per_broadcast(hw: EieHardware, layer: FcLayer, slices: ColumnSlices | None = None) -> Array:
    """Expected entries summed over all PEs for one broadcast column, ``out d + sum_p E[F_p]`` (``slices``:
    :func:`column_slices` of the same layer, if already computed)."""
    slices = column_slices(hw, layer) if slices is None else slices
    return _float(layer.out_features) * _float(layer.weight_density) + _pe_sum(hw, slices, slices.work.entries.fillers)


# --- latency -------------------------------------------------------------------------------------------
def no_stall_weight(hw: EieHardware, layer: FcLayer, fit: LatencyFit = LATENCY_FIT) -> Array:
    """Weight ``beta`` of the no-stall form, ``exp(-(M / (k D))**2)``, ``k = fit.no_stall_scale`` (item 6).

    Dimensionless, in ``(0, 1]``: 1 at ``M = 0``, 0.98 at ``M = D``, 0.37 at ``M = k D``.
    """
    x = broadcast_columns(layer) / (fit.no_stall_scale * _float(hw.fifo_depth))
    return jnp.exp(-(x**2))


def _latency_terms(hw: EieHardware, layer: FcLayer, slices: ColumnSlices, fit: LatencyFit) -> dict[str, Array]:
    hard = hw.smoothing.hard
    extremum_t = EXTREMUM_TEMPERATURE * hw.smoothing.temperature
    n = _float(hw.num_pes)
    m = broadcast_columns(layer)
    work = slices.work
    mu, var = work.mean, work.var  # (2, ...): [busiest, the others]
    sd, root_m = safe_sqrt(var), safe_sqrt(m)
    cap = m * clamp_non_negative(jnp.maximum(slices.rows, 1.0) - mu)  # every row an entry, every column
    counts = jnp.stack(jnp.broadcast_arrays(slices.pes_with_top, n))  # the two no-stall groups
    blom = expected_max_normal(counts)
    # item 4: the expected maximum of the per-PE sums, two groups of PEs
    sum_sd = sd * root_m
    raw_skew = safe_divide(work.third, sum_sd * var)
    skew = clip_skewness(raw_skew, SKEW_CLIP_TEMPERATURE * hw.smoothing.temperature, hard=hard)
    excess = smooth_minimum_relative(sum_sd * expected_max_skewed(skew, counts, blom), cap, extremum_t, hard=hard)
    gap = clamp_non_negative(m * (mu[0] - mu[1]))  # the busiest group's extra mean work
    over_others = smooth_maximum_relative(gap + excess[0], excess[1], extremum_t, hard=hard)
    no_stall = clamp_non_negative(over_others - gap)  # NS: no-stall latency minus M mu
    # item 5: many columns, the busiest PE
    e_n = blom[1]
    imbalance = fit.imbalance * sd[0] * e_n * root_m
    coupling = fit.fifo_coupling * m * var[0] * e_n**2 / (_float(hw.fifo_depth) * mu[0])
    # item 6: stalls min(max(A, NS), C) - NS = min(max(A, NS) - NS, C - NS), faded by beta
    beta = no_stall_weight(hw, layer, fit)
    above_no_stall = clamp_non_negative(
        smooth_maximum_relative(imbalance + coupling, no_stall, extremum_t, hard=hard) - no_stall
    )
    headroom = clamp_non_negative(cap[0] - no_stall)
    stalls = smooth_minimum_relative(above_no_stall, headroom, extremum_t, hard=hard)
    return {
        "work": m * mu[0],
        "end_imbalance": no_stall,
        "fifo_coupling": (1.0 - beta) * stalls,
    }


def latency_terms(hw: EieHardware, layer: FcLayer, slices: ColumnSlices | None = None) -> dict[str, Array]:
    """The latency terms (module docstring, items 4-6), cycles, each ``>= 0``; their sum is the latency.

    ``work``: ``M mu``, the busiest PE's mean work; ``end_imbalance``: the excess of the no-stall form
    (the expected maximum of the per-PE sums, the latency with unbounded FIFOs); ``fifo_coupling``: the
    stalls of FIFOs of depth ``D``, ``(1 - beta) (min(max(large, no_stall), cap) - no_stall)``
    (``large``: ``A`` of item 5; ``cap``: ``C`` of item 6). ``slices``: :func:`column_slices` of the same
    layer, if already computed.
    """
    slices = column_slices(hw, layer) if slices is None else slices
    return _latency_terms(hw, layer, slices, LATENCY_FIT)


def _total(terms: dict[str, Array]) -> Array:
    return terms["work"] + terms["end_imbalance"] + terms["fifo_coupling"]


def latency_cycles(hw: EieHardware, layer: FcLayer, fit: LatencyFit = LATENCY_FIT) -> Array:
    """Expected cycles from the first broadcast until the last PE finishes (scalar per layer).

    ``fit``: the latency coefficients (default :data:`LATENCY_FIT`; ``benchmarks/fit_eie.py`` varies them).
    """
    return _total(_latency_terms(hw, layer, column_slices(hw, layer), fit))


def no_stall_latency_cycles(hw: EieHardware, layer: FcLayer) -> Array:
    """Expected cycles of the no-stall form alone, ``M mu + NS`` (item 4; exact form for ``M <= D``), cycles."""
    no_stall_only = dataclasses.replace(hw, fifo_depth=jnp.inf)  # beta = 1
    return latency_cycles(no_stall_only, layer)


# --- counts ----------------------------------------------------------------------------------------------
def action_counts(hw: EieHardware, layer: FcLayer) -> Counts:
    """Expected chip-wide action counts of one matrix-vector product (module docstring), dimensionless."""
    slices = column_slices(hw, layer)
    m = broadcast_columns(layer)
    n = _float(hw.num_pes)
    k = float(hw.entries_per_spmat_read)
    s = slices.work.entries
    macs = m * _float(layer.out_features) * _float(layer.weight_density)
    fillers = m * _pe_sum(hw, slices, s.fillers)
    entries = macs + fillers
    nonempty = m * _pe_sum(hw, slices, 1.0 - s.p_empty)  # slices read, one per nonempty PE-column
    return {
        "spmat_sram.read": (entries + (k - 1.0) * nonempty) / k,
        "ptr_sram.read": PTR_READS_PER_COLUMN * n * m,
        "act_sram.read": entries + _float(layer.in_features),
        "act_sram.write": entries,
        "pe.mac": macs,
        "pe.filler": fillers,
        "fifo.push": n * m,
        "pe.cycle": n * _total(_latency_terms(hw, layer, slices, LATENCY_FIT)),
    }


def per_action_energy_pj(hw: EieHardware) -> dict[str, Scalar]:
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


def clock_mhz(hw: EieHardware) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


def lower(layer: LayerStatistics) -> LayerRun[FcLayer]:
    """How EIE runs one layer of a masked network.

    A fully connected layer is one matrix-vector product over its live input columns (a compressed model
    stores which inputs it reads; an input whose column is empty is never broadcast). A convolution is run
    as one product per output position (im2col, ``repeats = out_h * out_w``) with the ``(K, R S C)`` filter
    matrix. Rows keep their full count (pruned rows stay interleaved over the PEs).

    The weight density is that of the broadcast columns, ``weights_read / (broadcasts * rows)``: EIE reads
    only the columns of nonzero activations (Sec. III-C), so the model's multiplies ``M * rows * d`` equal
    the real mean. With no broadcast it is the stored density of the live columns (it then multiplies
    nothing).
    """
    spec = layer.spec
    live = jnp.asarray(layer.live_inputs)
    rows = float(spec.fan_out)
    stored = safe_divide(layer.kept_weights, live * rows)
    density = safe_divide(layer.weights_read, jnp.asarray(layer.broadcasts) * rows, where_zero=stored)
    activation = safe_divide(layer.broadcasts, live)
    return LayerRun(FcLayer(live, rows, density, activation, name=spec.name), float(spec.positions))


def dense_limit(hw: EieHardware, layer: FcLayer) -> dict[str, Array]:
    """Counts of the dense product in closed form: every weight multiplies every input (``in * out`` MACs
    and accumulator writes, no filler), one FIFO push and two pointer reads per PE per input."""
    macs = _float(layer.in_features) * _float(layer.out_features)
    pes_times_inputs = _float(hw.num_pes) * _float(layer.in_features)
    return {
        "pe.mac": macs,
        "pe.filler": jnp.zeros_like(macs),
        "act_sram.write": macs,
        "act_sram.read": macs + _float(layer.in_features),
        "fifo.push": pes_times_inputs,
        "ptr_sram.read": PTR_READS_PER_COLUMN * pes_times_inputs,
    }


def sample_workloads() -> dict[str, FcLayer]:
    """Layers covering the model's regimes: many broadcast columns (Alex-7, rows a multiple of the PEs and
    of the 16-row filler span; Alex-8, not), dense activations (NT-We), fewer rows than PEs (LeNet-300-100
    ip3), a few columns (no-stall form), very sparse and nearly dense weights, and a single column on
    65 rows (one PE busier than the others on 64 PEs: a no-stall group of one PE, the caps binding)."""
    return {
        "alex7": FcLayer(4096.0, 4096.0, 0.09, 0.353, name="Alex-7"),
        "alex8": FcLayer(4096.0, 1000.0, 0.25, 0.375, name="Alex-8"),
        "nt_we": FcLayer(4096.0, 600.0, 0.1, 1.0, name="NT-We"),
        "fewer_rows_than_pes": FcLayer(100.0, 10.0, 0.26, 0.8, name="ip3"),
        "few_columns": FcLayer(20.0, 300.0, 0.1, 0.3, name="few-columns"),
        "very_sparse": FcLayer(784.0, 300.0, 0.02, 0.19, name="sparse"),
        "nearly_dense": FcLayer(300.0, 100.0, 0.97, 0.6, name="dense"),
        "single_column": FcLayer(100.0, 65.0, 0.3, 0.01, name="single-column"),
    }


def sample_hardware() -> dict[str, EieHardware]:
    """Besides the paper's 64 PEs: a relaxed, non-integer PE count and a wide machine with short FIFOs."""
    return {
        "50.5_pes": dataclasses.replace(EIE_64PE_45NM, num_pes=50.5),
        "200_pes_fifo_2": dataclasses.replace(EIE_64PE_45NM, num_pes=200.0, fifo_depth=2.0),
    }


COST_MODEL = CostModel(
    card=ModelCard(
        name="eie",
        title="EIE sparse inference engine (64 PEs, 800 MHz, 45 nm)",
        source="Han et al., EIE: Efficient Inference Engine on Compressed Deep Neural Network, ISCA'16, "
        "Sec. III-VI, Tables II-V",
        workloads=(FcLayer,),
    ),
    per_action_energy_pj=per_action_energy_pj,
    action_counts=action_counts,
    latency_cycles=latency_cycles,
    default_hardware=EIE_64PE_45NM,
    sample_workloads=sample_workloads,
    lower=lower,
    check_hardware=check_hardware,
    check_workload=check_workload,
    clock_mhz=clock_mhz,
    sample_hardware=sample_hardware,
    monotone=(
        Monotone("energy", "workload.weight_density"),
        Monotone("latency", "workload.weight_density"),
        Monotone("energy", "workload.activation_density"),
        Monotone("latency", "workload.activation_density"),
        Monotone("latency", "hardware.fifo_depth", increasing=False, grid=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 64.0)),
    ),
    dense_limit=dense_limit,
)

__all__ = [
    "COST_MODEL",
    "EIE_64PE_45NM",
    "LATENCY_FIT",
    "ColumnSlices",
    "ColumnWork",
    "EieHardware",
    "LatencyFit",
    "action_counts",
    "broadcast_columns",
    "check_hardware",
    "check_workload",
    "clock_mhz",
    "column_slices",
    "column_work",
    "column_work_moments",
    "empty_slice_probability",
    "entries_per_broadcast",
    "expected_entries",
    "expected_fillers",
    "expected_max_normal",
    "expected_max_skewed",
    "latency_cycles",
    "latency_terms",
    "lower",
    "no_stall_latency_cycles",
    "no_stall_weight",
    "per_action_energy_pj",
]
