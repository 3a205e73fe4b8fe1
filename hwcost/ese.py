"""Differentiable cost model of ESE (Han et al., "ESE: Efficient Speech Recognition Engine with Sparse LSTM on
FPGA", FPGA'17, arXiv 1612.00694): cycles, action counts and board energy of one utterance of an LSTM layer
with a projection (LSTMP) on one channel of ``N`` processing elements (PEs), or of one sparse matrix-vector
product (an ``FcLayer``) on one channel.

Sources are labelled as in ``shared/reference/papers.md`` (V-P paper text or abstract, V-S secondary source,
V-D derived, [recalled] unverified); what no source gives is an assumption, listed once in
:data:`ASSUMPTIONS` and made a parameter of :class:`EseHardware`.

Architecture (papers.md sec. 3 and "ESE (additions to section 3)")
------------------------------------------------------------------
* A channel holds ``N = 32`` PEs (V-S) fed by one activation broadcast; PE ``p`` owns the rows ``i`` with
  ``i mod N = p`` of every matrix and stores its slices in CSC with 4-bit relative indices and 12-bit weights
  (2 bytes per entry, V-S), a filler entry for every 16 zeros before a nonzero: the EIE format
  (:mod:`hwcost._csc`). A PE spends one cycle per stored entry of its slice of a broadcast column and at
  least one per column; broadcasts pass through per-PE activation FIFOs of depth ``D = 8`` (V-S) and wait
  for a free slot in every FIFO (PEs synchronised per input element). This is EIE's schedule, so each
  matrix-vector product is priced by :mod:`hwcost.eie` (latency, entries, fillers) on the channel's PEs.
* Element-wise units outside the PEs (V-S) apply the sigmoid/tanh lookup tables and compute
  ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``.
* ``num_channels`` channels process that many utterances at once with the same weights (V-D, below).

The LSTMP and its schedule (one frame, steady state)
----------------------------------------------------
With ``x_t`` (``input_size``), ``y_{t-1}`` (``projection_size``), ``C = cell_size``, ``P = projection_size``::

    z_k = W_k [x_t; y_{t-1}]  for k in i, f, g, o     (4 SpMVs, C x (input_size + P) each)
    i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g);  c_t = f c_{t-1} + i g;  h_t = o tanh(c_t)
    y_t = W_ym h_t                                    (1 SpMV, P x C)

The channel runs the five products one after another, each to completion (a gate's outputs leave the PEs'
accumulators for the element-wise units only when every PE has finished it). The element-wise work of gate
``k`` overlaps the product of gate ``k + 1`` (the state machine of the paper; V-S); what cannot overlap is
``h_t`` after gate ``o`` (the projection's input) and ``y_t`` after the projection (the next frame's input):
each costs the element-wise pipeline latency ``L_ew`` once, after which values stream at ``N`` per cycle,
faster than the broadcast consumes them. So the compute cycles of a frame are::

    T_compute = sum_k T_spmv(W_k) + T_spmv(W_ym) + 2 L_ew

Each product's ``T_spmv`` is EIE's latency (:func:`hwcost.eie.latency_cycles`) for a matrix of ``rows``
outputs, ``cols`` inputs and the broadcast fraction of nonzero inputs (``x_t`` at ``activation_density``,
``y_{t-1}`` and ``h_t`` dense: outputs of tanh and sigmoid are never exactly zero). Its terms are the busiest
PE's work ``M mu``, the end imbalance of the per-PE sums and the FIFO coupling (``hwcost.eie`` docstring,
items 4-6, coefficients :data:`hwcost.eie.LATENCY_FIT`, fitted to the same recurrence that ``archsim/ese.py``
runs).

Load balance. ``balanced_density`` ``beta`` in [0, 1] is the fraction of the random-mask spread of the per-PE
nonzero totals that load-balance-aware pruning removes (``beta = 1 - std_p(nnz_p) / std_random``; 0 for a
uniformly random mask, 1 when every PE holds the same number of nonzeros of every matrix, as ESE's pruning
makes it; :func:`balanced_density_of_counts` computes it from a real mask). A balanced mask keeps the
per-column spread (the FIFO coupling) but loses the end imbalance::

    T_spmv = M mu + (1 - beta) X + beta min(X_coupling, X)

with ``X`` EIE's excess over ``M mu`` and ``X_coupling`` its FIFO-coupling term alone,
``c M sigma**2 E_N**2 / (D mu)`` faded by ``1 - beta_ns`` (EIE item 6). ``min(., X)`` keeps the latency
non-increasing in ``beta``.

Weights from DRAM. The weights are streamed from two external DDR3 channels each frame (V-S: double
buffering overlaps transfer and compute); the stream is shared by the ``num_channels`` channels, which run the
same matrices on different utterances in lock step (their column work depends only on the weights, since
``y`` and ``h`` are dense), so each utterance reads ``1 / num_channels`` of it. A frame takes::

    T_frame = max(T_compute, B / dram_bits_per_cycle)

with ``B`` the stored bits of all five matrices: ``entries (weight_bits + index_bits)`` and one
``pointer_bits`` pointer per PE per column. The utterance takes ``frames T_frame`` cycles.

Throughput (:func:`throughput`). ``num_channels`` utterances advance one frame every ``T_frame`` cycles, so
``GOPS = num_channels 2 MACs_frame f / T_frame`` (sparse) and ``num_channels 2 C_dense f / T_frame``
(dense-equivalent). V-D: the abstract's 282 GOPS and 2.52 TOPS are 32 channels x one frame of a 3.25M-weight
LSTMP layer (153 inputs, 1024 cells, 512 projection) at 11.2 % density per 82.7 us (press latency):
``32 * 2 * 0.112 * 3.248e6 / 82.7e-6 = 282 GOPS`` and ``32 * 2 * 3.248e6 / 82.7e-6 = 2.51 TOPS``; and
``0.112 * 3.248e6 / 32 PEs / 200 MHz = 57 us`` is that frame's ideal time on one channel (every PE busy with
a nonzero every cycle), so the 57 us and 82.7 us figures are ideal and actual per-frame latencies of one
channel, and the 144 Mop of papers.md's caution row is 32 channels' frames, not one.

Energy. The paper gives board power only (41 W, V-P), so the default energy is ``board_power_w`` times time:
``board.cycle`` counts the utterance's share of board cycles (``latency / num_channels``) at ``P / f`` pJ
per cycle. The per-action counts (MACs, weight and pointer BRAM reads, FIFO pushes, DRAM bits, LUT reads,
element-wise operations) are priced at 0 pJ by default (inside the board figure); a user with a per-action
table sets them (the Accelergy split: counts here, prices in the hardware).

Counts (one utterance on one channel; an ``FcLayer`` is one product, ``frames = 1``): ``pe.mac`` (nonzero
weight x nonzero input), ``pe.filler`` (filler entries processed), ``weight_bram.read`` (one 16-bit entry per
read, ``mac + filler``), ``ptr_bram.read`` (two pointer-bank reads per PE per broadcast column, as EIE),
``fifo.push`` (one per PE per broadcast column), ``dram.bit`` (the utterance's share of the weight stream),
``lut.read`` (``5 C`` per frame: ``sigmoid(z_i, z_f, z_o)``, ``tanh(z_g)``, ``tanh(c_t)``),
``elementwise.op`` (``4 C`` per frame: three multiplies and one add) and ``board.cycle``.

Relaxations. Every relaxation is EIE's (row split over the PEs, skewness clip, p-norm extrema; temperature
``hw.smoothing.temperature``), plus the two ``max``/``min`` above as p-norms of relative temperature
``0.1 T`` (:func:`hwcost.smooth.smooth_maximum_relative`); ``smooth.harden(hw)`` evaluates them exactly.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from hwcost import checks, eie
from hwcost._order_stats import expected_max_normal
from hwcost.safe import clamp_non_negative, safe_divide
from hwcost.smooth import Smoothing, smooth_maximum_relative, smooth_minimum_relative
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

# --- ESE design point ------------------------------------------------------------------------------------
CLOCK_MHZ = 200.0  # ESE abstract (V-P): XCKU060 at 200 MHz
BOARD_POWER_W = 41.0  # ESE abstract (V-P): 41 W
PES_PER_CHANNEL = 32  # papers.md "ESE additions" (V-S): 32 PEs per channel
NUM_CHANNELS = 32  # papers.md sec. 3 [recalled, unverified]: 32 channels x 32 PEs; V-D check in the docstring
FIFO_DEPTH = 8  # papers.md "ESE additions" (V-S): highest utilisation at activation FIFO depth 8
WEIGHT_BITS = 12  # papers.md "ESE additions" (V-S): 12-bit fixed-point weights
INDEX_BITS = 4  # papers.md "ESE additions" (V-S): 4-bit relative index (12 + 4 bits = 2 bytes per entry)
POINTER_BITS = 16  # assumption (ASSUMPTIONS[0]): EIE's 16-bit column pointers (EIE Sec. IV, V-P)
DDR3_CHANNELS = 2  # papers.md "ESE additions" (V-S): two external DDR3 channels
DDR3_BITS_PER_CHANNEL_CYCLE = 512.0  # assumption (ASSUMPTIONS[1]): 64-bit DDR3-1600 = 12.8 GB/s = 512 bit / 5 ns
ELEMENTWISE_LATENCY_CYCLES = 16.0  # assumption (ASSUMPTIONS[2]): LUT + multiply + add pipeline depth
PTR_READS_PER_COLUMN = eie.PTR_READS_PER_COLUMN  # EIE Sec. IV: p_j and p_j+1 from two banks, per PE and column
LUT_READS_PER_CELL = 5  # sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o), tanh(c_t)
ELEMENTWISE_OPS_PER_CELL = 4  # f * c, i * g, their sum, o * tanh(c)
GATES = ("i", "f", "g", "o")
"""The gate matrices, in the order the channel runs them."""

ASSUMPTIONS: tuple[str, ...] = (
    "pointer_bits = 16: one 16-bit column pointer per PE and column is stored and streamed (EIE's format).",
    "dram_bits_per_cycle = 2 x 512: each DDR3 channel is 64-bit DDR3-1600 (12.8 GB/s) at the 200 MHz clock.",
    "elementwise_latency_cycles = 16: the pipeline latency of LUT, multiply and add, exposed twice per frame "
    "(h_t before the projection, y_t before the next frame); the rest of the element-wise work overlaps.",
    "Each of the five products runs to completion before the next (outputs leave the accumulators whole).",
    "The num_channels channels run the same weights on different utterances in lock step and share one "
    "weight stream from DRAM, re-read every frame (the model does not fit the channels' BRAM).",
    "y_{t-1} and h_t are dense; only x_t has zeros (activation_density); the initial state y_{-1} is dense too.",
    "The per-action energies are 0 pJ by default: the board power (41 W) covers them.",
)
"""What no source gives, stated once (the matching hardware fields are parameters)."""

EXTREMUM_TEMPERATURE = eie.EXTREMUM_TEMPERATURE
"""Relative temperature of the p-norm extrema, in units of ``hw.smoothing.temperature`` (as EIE)."""


@pytree_dataclass
class EseHardware:
    """One ESE configuration (data leaves are traceable; bit widths are static).

    Attributes:
        num_pes: PEs per channel ``N`` (continuous relaxation of an integer >= 1).
        num_channels: channels, each running one utterance (>= 1); sets throughput and the shares of the
            weight stream and of board energy.
        clock_mhz: clock frequency, MHz.
        fifo_depth: activation FIFO depth ``D`` per PE, entries.
        dram_bits_per_cycle: weight-stream bandwidth of both DDR3 channels together, bits per cycle.
        elementwise_latency_cycles: element-wise pipeline latency ``L_ew``, cycles.
        board_power_w: board power, W (energy is power x time).
        mac_pj, weight_read_pj, ptr_read_pj, fifo_push_pj, lut_read_pj, elementwise_op_pj: pJ per action.
        dram_pj_per_bit: DRAM energy, pJ per bit.
        smoothing: relaxation temperature and the hard switch.
        index_bits: relative index width, bits (fillers every ``2**index_bits`` zeros).
        weight_bits: weight width, bits.
        pointer_bits: column pointer width, bits.
    """

    num_pes: Scalar
    num_channels: Scalar
    clock_mhz: Scalar
    fifo_depth: Scalar
    dram_bits_per_cycle: Scalar
    elementwise_latency_cycles: Scalar
    board_power_w: Scalar
    mac_pj: Scalar
    weight_read_pj: Scalar
    ptr_read_pj: Scalar
    fifo_push_pj: Scalar
    lut_read_pj: Scalar
    elementwise_op_pj: Scalar
    dram_pj_per_bit: Scalar
    smoothing: Smoothing
    index_bits: int = static_field(default=INDEX_BITS)
    weight_bits: int = static_field(default=WEIGHT_BITS)
    pointer_bits: int = static_field(default=POINTER_BITS)


ESE_XCKU060 = EseHardware(
    num_pes=float(PES_PER_CHANNEL),  # V-S: 32 PEs per channel
    num_channels=float(NUM_CHANNELS),  # [recalled]: 32 channels; V-D consistent with 282 GOPS (docstring)
    clock_mhz=CLOCK_MHZ,  # V-P: 200 MHz
    fifo_depth=float(FIFO_DEPTH),  # V-S: depth 8
    dram_bits_per_cycle=DDR3_CHANNELS * DDR3_BITS_PER_CHANNEL_CYCLE,  # V-S two DDR3 channels; width assumed
    elementwise_latency_cycles=ELEMENTWISE_LATENCY_CYCLES,  # assumption
    board_power_w=BOARD_POWER_W,  # V-P: 41 W
    mac_pj=0.0,  # inside the board power (ASSUMPTIONS[6])
    weight_read_pj=0.0,
    ptr_read_pj=0.0,
    fifo_push_pj=0.0,
    lut_read_pj=0.0,
    elementwise_op_pj=0.0,
    dram_pj_per_bit=0.0,
    smoothing=Smoothing(temperature=0.1),  # EIE's row-step width, in units of 1/N rows
)
"""The paper's design point: XCKU060 at 200 MHz, 41 W board power (ESE abstract, V-P), 32 PEs per channel
and FIFO depth 8 (V-S), 32 channels ([recalled]; V-D: with them the model's frame time reproduces the
abstract's 282 GOPS from the press latency), 12-bit weights with 4-bit indices (V-S)."""


@pytree_dataclass
class LstmLayer:
    """One LSTMP layer run over an utterance (``frames`` time steps).

    Attributes:
        input_size: length of ``x_t``, dimensionless.
        cell_size: cells ``C`` (rows of each gate matrix).
        projection_size: length of ``y_t`` ``P`` (rows of ``W_ym``, recurrent columns of the gates).
        frames: time steps of the utterance.
        input_gate_density, forget_gate_density, cell_gate_density, output_gate_density: weight densities
            of ``W_i, W_f, W_g, W_o`` (each ``C x (input_size + P)``), in [0, 1].
        projection_density: weight density of ``W_ym`` (``P x C``), in [0, 1].
        activation_density: fraction of nonzero elements of ``x_t``, in [0, 1].
        balanced_density: fraction of the random-mask spread of per-PE nonzero totals removed by
            load-balance-aware pruning (module docstring), in [0, 1]: 0 random, 1 balanced.
        name: label used in reports.
    """

    input_size: Scalar
    cell_size: Scalar
    projection_size: Scalar
    frames: Scalar
    input_gate_density: Scalar
    forget_gate_density: Scalar
    cell_gate_density: Scalar
    output_gate_density: Scalar
    projection_density: Scalar
    activation_density: Scalar
    balanced_density: Scalar = 0.0
    name: str = static_field(default="lstm")


GATE_DENSITY_FIELDS = ("input_gate_density", "forget_gate_density", "cell_gate_density", "output_gate_density")
"""The :class:`LstmLayer` fields of the gate densities, in :data:`GATES` order."""


# --- input checks ---------------------------------------------------------------------------------------
MAX_COLUMN_FRAMES = 2**45
"""Largest ``frames`` times columns of a frame: with ``2**31`` PEs each storing a pointer per column, the
weight stream and its cycles stay far inside float32 after pricing (with a board energy of at most
``MAX_ENERGY_PJ`` per cycle)."""


def check_workload(layer: LstmLayer | FcLayer) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: sizes and frames in
    ``[1, 2**31]``, densities in [0, 1], the multiply-accumulates of an utterance at most ``2**62`` and its
    broadcast columns at most :data:`MAX_COLUMN_FRAMES`; an
    ``FcLayer`` as EIE checks it (:func:`hwcost.eie.check_workload`)."""
    if isinstance(layer, FcLayer):
        eie.check_workload(layer)
        return
    if not isinstance(layer, LstmLayer):
        raise ValueError(f"layer={type(layer).__name__} is unknown; allowed: LstmLayer, FcLayer")
    for name in ("input_size", "cell_size", "projection_size", "frames"):
        checks.check_size(name, getattr(layer, name))
    for name in (*GATE_DENSITY_FIELDS, "projection_density", "activation_density", "balanced_density"):
        checks.check_fraction(name, getattr(layer, name))
    columns = np.asarray(layer.input_size, np.float64) + np.asarray(layer.projection_size, np.float64)
    checks.check_product(
        ("frames", "cell_size", "input_size+projection_size"),
        (layer.frames, 4.0 * np.asarray(layer.cell_size, np.float64), columns),
        "multiply-accumulates",
    )
    checks.check_product(
        ("frames", "4*(input_size+projection_size)+cell_size"),
        (layer.frames, 4.0 * columns + np.asarray(layer.cell_size, np.float64)),
        "broadcast columns",
        high=MAX_COLUMN_FRAMES,
    )


def check_hardware(hw: EseHardware) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: PEs, channels and FIFO depth in
    ``[1, 2**31]``, clock in [1e-3, 1e6] MHz, bandwidth in [1e-3, 2**31] bits per cycle, element-wise latency
    in [0, 2**31] cycles, board power in [0, 1e4] W and at most 1 W per MHz (1e6 pJ per cycle), energies in
    [0, 1e6] pJ, bit widths in [1, 16] (index) and [1, 64], temperature in [1e-6, 10] (bounds: :mod:`hwcost.checks`)."""
    for name in ("num_pes", "num_channels", "fifo_depth"):
        checks.check_size(name, getattr(hw, name))
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    checks.check_bandwidth("dram_bits_per_cycle", hw.dram_bits_per_cycle)
    checks.check_range("elementwise_latency_cycles", hw.elementwise_latency_cycles, 0, checks.MAX_SIZE)
    checks.check_range("board_power_w", hw.board_power_w, 0, 1e4)
    checks.check_product(
        ("board_power_w", "1/clock_mhz"),
        (hw.board_power_w, 1.0 / np.asarray(hw.clock_mhz, np.float64)),
        "board energy per cycle, 1e6 pJ",
        high=checks.MAX_ENERGY_PJ / 1e6,
    )
    checks.check_energy_fields(hw)
    checks.check_int_range("index_bits", hw.index_bits, 1, 16)
    checks.check_int_range("weight_bits", hw.weight_bits, 1, 64)
    checks.check_int_range("pointer_bits", hw.pointer_bits, 1, 64)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


# --- the products -------------------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def eie_view(hw: EseHardware) -> eie.EieHardware:
    """The channel as an :class:`hwcost.eie.EieHardware` (its PEs, FIFOs, index width and smoothing; EIE's
    energies are not used), on which each product is priced."""
    return dataclasses.replace(
        eie.EIE_64PE_45NM,
        num_pes=hw.num_pes,
        fifo_depth=hw.fifo_depth,
        smoothing=hw.smoothing,
        index_bits=hw.index_bits,
    )


class Products(NamedTuple):
    """Statistics of the products of one frame, each a vector with one element per product (cycles, counts).

    Attributes:
        cycles: ``T_spmv`` of each product, cycles.
        macs: nonzero weight x nonzero input multiplies.
        fillers: filler entries processed.
        broadcasts: broadcast columns ``M``.
        stored_entries: entries of the whole encoded matrix (all columns).
        columns: columns of the matrix.
    """

    cycles: Array
    macs: Array
    fillers: Array
    broadcasts: Array
    stored_entries: Array
    columns: Array


def products(hw: EseHardware, matrices: FcLayer, balanced_density: Scalar) -> Products:
    """:class:`Products` of the matrix-vector products ``matrices`` (an ``FcLayer`` whose leaves are vectors,
    one element per product) on one channel, with load balance ``balanced_density`` (module docstring)."""
    view = eie_view(hw)
    slices = eie.column_slices(view, matrices)  # the busiest PE's rows and per-column work (EIE items 1-3)
    terms = eie.latency_terms(view, matrices, slices)
    m = eie.broadcast_columns(matrices)
    mu, var = slices.work.mean[0], slices.work.var[0]
    e_n = expected_max_normal(_float(hw.num_pes))
    coupling = eie.LATENCY_FIT.fifo_coupling * m * var * e_n**2 / (_float(hw.fifo_depth) * mu)
    coupling = (1.0 - eie.no_stall_weight(view, matrices)) * coupling  # mu >= 1: every column costs a cycle
    excess = terms["end_imbalance"] + terms["fifo_coupling"]
    t = EXTREMUM_TEMPERATURE * hw.smoothing.temperature
    balanced_excess = smooth_minimum_relative(clamp_non_negative(coupling), excess, t, hard=hw.smoothing.hard)
    beta = _float(balanced_density)
    per_column = eie.entries_per_broadcast(view, matrices, slices)
    nonzeros_per_column = _float(matrices.out_features) * _float(matrices.weight_density)
    cols = _float(matrices.in_features)
    return Products(
        cycles=terms["work"] + (1.0 - beta) * excess + beta * balanced_excess,
        macs=m * nonzeros_per_column,
        fillers=m * clamp_non_negative(per_column - nonzeros_per_column),
        broadcasts=m,
        stored_entries=cols * per_column,
        columns=cols,
    )


def _lstm_matrices(layer: LstmLayer) -> FcLayer:
    """The five products of a frame as one vectorised ``FcLayer``: gates ``i, f, g, o`` then ``W_ym``."""
    x, c, p = _float(layer.input_size), _float(layer.cell_size), _float(layer.projection_size)
    gate_columns = x + p
    gate_activation = safe_divide(x * _float(layer.activation_density) + p, gate_columns, where_zero=1.0)
    densities = [_float(getattr(layer, name)) for name in GATE_DENSITY_FIELDS] + [_float(layer.projection_density)]
    cols = jnp.stack(jnp.broadcast_arrays(*([gate_columns] * 4), c))
    rows = jnp.stack(jnp.broadcast_arrays(*([c] * 4), p))
    activation = jnp.stack(jnp.broadcast_arrays(*([gate_activation] * 4), jnp.ones_like(c)))
    return FcLayer(cols, rows, jnp.stack(jnp.broadcast_arrays(*densities)), activation)


def _as_single(layer: FcLayer) -> FcLayer:
    """An ``FcLayer`` with every leaf given a leading axis of one product."""
    return FcLayer(*(_float(getattr(layer, f))[None] for f in ("in_features", "out_features", "weight_density",
                                                               "activation_density")))  # fmt: skip


class FrameCost(NamedTuple):
    """One frame (or one ``FcLayer`` product) on one channel.

    Attributes:
        products: :class:`Products` of its matrix-vector products.
        compute_cycles: ``T_compute``, cycles.
        transfer_cycles: ``B / dram_bits_per_cycle``, cycles.
        cycles: ``T_frame``, cycles.
        stored_bits: ``B``, bits of the streamed weights, indices and pointers.
        cells: cells updated by the element-wise units (0 for an ``FcLayer``).
    """

    products: Products
    compute_cycles: Array
    transfer_cycles: Array
    cycles: Array
    stored_bits: Array
    cells: Array


def frame_cost(hw: EseHardware, layer: LstmLayer | FcLayer) -> FrameCost:
    """:class:`FrameCost` of one steady-state frame of ``layer`` (module docstring)."""
    if isinstance(layer, FcLayer):
        prods = products(hw, _as_single(layer), 0.0)
        exposed = jnp.zeros(())
        cells = jnp.zeros(())
    else:
        prods = products(hw, _lstm_matrices(layer), layer.balanced_density)
        exposed = 2.0 * _float(hw.elementwise_latency_cycles)
        cells = _float(layer.cell_size)
    entry_bits = float(hw.weight_bits + hw.index_bits)
    stored_bits = jnp.sum(prods.stored_entries * entry_bits + _float(hw.num_pes) * prods.columns * hw.pointer_bits)
    compute = jnp.sum(prods.cycles) + exposed
    transfer = stored_bits / _float(hw.dram_bits_per_cycle)
    t = EXTREMUM_TEMPERATURE * hw.smoothing.temperature
    cycles = smooth_maximum_relative(compute, transfer, t, hard=hw.smoothing.hard)
    return FrameCost(prods, compute, transfer, cycles, stored_bits, cells)


def _frames(layer: LstmLayer | FcLayer) -> Array:
    return jnp.ones(()) if isinstance(layer, FcLayer) else _float(layer.frames)


def counts_and_latency(hw: EseHardware, layer: LstmLayer | FcLayer) -> tuple[Counts, Array]:
    """Expected action counts of one utterance on one channel (module docstring), dimensionless, and its
    cycles, ``frames T_frame`` (one product for an ``FcLayer``), from one :func:`frame_cost`."""
    frame = frame_cost(hw, layer)
    p, n, frames = frame.products, _float(hw.num_pes), _frames(layer)
    macs, fillers, broadcasts = jnp.sum(p.macs), jnp.sum(p.fillers), jnp.sum(p.broadcasts)
    channels = _float(hw.num_channels)
    counts = {
        "pe.mac": frames * macs,
        "pe.filler": frames * fillers,
        "weight_bram.read": frames * (macs + fillers),
        "ptr_bram.read": frames * PTR_READS_PER_COLUMN * n * broadcasts,
        "fifo.push": frames * n * broadcasts,
        "dram.bit": frames * frame.stored_bits / channels,
        "lut.read": frames * LUT_READS_PER_CELL * frame.cells,
        "elementwise.op": frames * ELEMENTWISE_OPS_PER_CELL * frame.cells,
        "board.cycle": frames * frame.cycles / channels,
    }
    return counts, frames * frame.cycles


def latency_cycles(hw: EseHardware, layer: LstmLayer | FcLayer) -> Array:
    """Cycles of the utterance on one channel (:func:`counts_and_latency`)."""
    return counts_and_latency(hw, layer)[1]


def action_counts(hw: EseHardware, layer: LstmLayer | FcLayer) -> Counts:
    """Expected action counts of one utterance on one channel (:func:`counts_and_latency`)."""
    return counts_and_latency(hw, layer)[0]


def per_action_energy_pj(hw: EseHardware) -> dict[str, Scalar]:
    """Energy of one action of each kind, pJ (same keys as :func:`action_counts`); ``board.cycle`` is
    ``board_power_w / clock``: W / MHz = 1e6 pJ per cycle."""
    return {
        "pe.mac": hw.mac_pj,
        "pe.filler": hw.mac_pj,
        "weight_bram.read": hw.weight_read_pj,
        "ptr_bram.read": hw.ptr_read_pj,
        "fifo.push": hw.fifo_push_pj,
        "dram.bit": hw.dram_pj_per_bit,
        "lut.read": hw.lut_read_pj,
        "elementwise.op": hw.elementwise_op_pj,
        "board.cycle": 1e6 * _float(hw.board_power_w) / _float(hw.clock_mhz),
    }


def clock_mhz(hw: EseHardware) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


def dense_macs_per_frame(layer: LstmLayer | FcLayer) -> Array:
    """Multiply-accumulates of one frame of the dense layer (every weight times every input)."""
    if isinstance(layer, FcLayer):
        return _float(layer.in_features) * _float(layer.out_features)
    c = _float(layer.cell_size)
    return 4.0 * c * (_float(layer.input_size) + _float(layer.projection_size)) + _float(layer.projection_size) * c


class Throughput(NamedTuple):
    """Board throughput with ``num_channels`` utterances in flight (report edge: seconds, not cycles).

    Attributes:
        frame_us: one frame's latency on one channel, us.
        sparse_gops: ``num_channels * 2 * MACs per frame / frame time``, GOP/s.
        dense_equivalent_tops: the same with the dense layer's MACs, TOP/s.
        pe_utilisation: MACs per PE-cycle of one channel, ``MACs / (N T_frame)``, in [0, 1].
    """

    frame_us: Array
    sparse_gops: Array
    dense_equivalent_tops: Array
    pe_utilisation: Array


def throughput(hw: EseHardware, layer: LstmLayer | FcLayer) -> Throughput:
    """:class:`Throughput` of ``layer`` on ``hw`` (module docstring, "Throughput")."""
    frame = frame_cost(hw, layer)
    macs = jnp.sum(frame.products.macs)
    frame_us = frame.cycles / _float(hw.clock_mhz)
    ops_per_us = 2.0 * _float(hw.num_channels) / frame_us
    return Throughput(
        frame_us=frame_us,
        sparse_gops=ops_per_us * macs * 1e-3,
        dense_equivalent_tops=ops_per_us * dense_macs_per_frame(layer) * 1e-6,
        pe_utilisation=macs / (_float(hw.num_pes) * frame.cycles),
    )


def balanced_density_of_counts(nonzeros_per_pe: np.ndarray, slots_per_pe: np.ndarray) -> float:
    """``balanced_density`` of a real mask: ``1 - std_p(nnz_p) / std_random``, clipped to [0, 1].

    Args:
        nonzeros_per_pe: ``(N,)`` nonzero weights each PE holds of one matrix (or summed over matrices).
        slots_per_pe: ``(N,)`` weights each PE holds (rows times columns), dense.
    Returns:
        dimensionless in [0, 1]; ``std_random = sqrt(mean_p(s_p d (1 - d)))`` is the spread of a
        uniformly random mask of the same density ``d`` (binomial per-PE totals), so a random mask gives
        about 0 and equal totals give 1.
    """
    nnz = np.asarray(nonzeros_per_pe, np.float64)
    slots = np.asarray(slots_per_pe, np.float64)
    d = nnz.sum() / slots.sum()
    random_std = np.sqrt(np.mean(slots * d * (1.0 - d)))
    if random_std == 0.0:
        return 1.0
    excess = nnz - slots * d
    return float(np.clip(1.0 - np.sqrt(np.mean(excess**2)) / random_std, 0.0, 1.0))


# --- the bundle -----------------------------------------------------------------------------------------
def lower(layer: LayerStatistics) -> LayerRun[FcLayer]:
    """How one channel runs one layer of a masked network: as EIE runs it (:func:`hwcost.eie.lower`), an
    :class:`~hwcost.types.FcLayer` over the live columns, weight density of the broadcast columns, repeated
    once per position of ``layer.spec`` (``out_h * out_w``).

    A trained LSTM reaches the model through this same per-layer contract, with no network hook: each gate
    matrix (and the projection) is a layer of its own whose spec has ``out_hw = (T, 1)``
    (``models.lstm.layer_specs``), its statistics measured on the real ``[x_t; y_{t-1}]`` of every step, so
    it lowers to one sparse matrix-vector product on the channel repeated ``T`` times per inference, the
    products running one after another, each to completion (as in an :class:`LstmLayer` frame), and each
    taking at least the time to stream its own weights. What this leaves out of an :class:`LstmLayer`
    frame: the element-wise latency ``2 L_ew`` per frame, the weight stream bounding the whole frame
    rather than each product, and ``balanced_density`` (the statistics carry no per-PE loads: a
    load-balanced mask is priced as a random one). A whole :class:`LstmLayer` (the paper's LSTMP, its
    densities given) is priced directly."""
    return eie.lower(layer)


def dense_limit(hw: EseHardware, layer: LstmLayer | FcLayer) -> dict[str, Array]:
    """Counts at every density 1 in closed form: every weight multiplies every input, no filler, every column
    broadcast (one FIFO push and two pointer reads per PE and column), every entry streamed once a frame."""
    frames = _frames(layer)
    macs = dense_macs_per_frame(layer)
    if isinstance(layer, FcLayer):
        columns = _float(layer.in_features)
    else:
        columns = 4.0 * (_float(layer.input_size) + _float(layer.projection_size)) + _float(layer.cell_size)
    n = _float(hw.num_pes)
    bits = macs * float(hw.weight_bits + hw.index_bits) + n * columns * hw.pointer_bits
    return {
        "pe.mac": frames * macs,
        "pe.filler": jnp.zeros_like(macs),
        "weight_bram.read": frames * macs,
        "fifo.push": frames * n * columns,
        "ptr_bram.read": frames * PTR_READS_PER_COLUMN * n * columns,
        "dram.bit": frames * bits / _float(hw.num_channels),
    }


def sample_workloads() -> dict[str, LstmLayer | FcLayer]:
    """The paper's LSTMP layer (random and balanced masks, dense and sparse inputs), a small layer whose
    sizes do not divide by the PEs, a nearly dense one, and plain products (an FcLayer, many and few rows)."""
    paper = LstmLayer(153.0, 1024.0, 512.0, 8.0, 0.112, 0.112, 0.112, 0.112, 0.112, 1.0, name="ese-lstm")
    return {
        "paper_lstm": paper,
        "paper_lstm_balanced": dataclasses.replace(paper, balanced_density=1.0, name="ese-lstm-balanced"),
        "sparse_input": LstmLayer(80.0, 256.0, 128.0, 3.0, 0.2, 0.1, 0.15, 0.05, 0.3, 0.4, 0.5, name="sparse"),
        "odd_sizes": LstmLayer(13.0, 50.0, 21.0, 2.0, 0.3, 0.25, 0.2, 0.35, 0.4, 0.8, name="odd"),
        "nearly_dense": LstmLayer(40.0, 64.0, 40.0, 1.0, 0.97, 0.95, 0.99, 0.96, 0.98, 1.0, 0.2, name="dense"),
        "fc": FcLayer(1024.0, 512.0, 0.1, 1.0, name="fc"),
        "fc_few_rows": FcLayer(300.0, 10.0, 0.26, 0.8, name="fc-few-rows"),
    }


def sample_hardware() -> dict[str, EseHardware]:
    """Besides the paper's channel: a relaxed, non-integer PE count with short FIFOs and a narrow DRAM (the
    weight stream binding)."""
    return {
        "20.25_pes_fifo_2": dataclasses.replace(ESE_XCKU060, num_pes=20.25, fifo_depth=2.0),
        "narrow_dram": dataclasses.replace(ESE_XCKU060, dram_bits_per_cycle=16.0, num_channels=4.0),
    }


COST_MODEL = CostModel(
    card=ModelCard(
        name="ese",
        title="ESE sparse LSTM engine (32 PEs per channel, 200 MHz, XCKU060)",
        source="Han et al., ESE: Efficient Speech Recognition Engine with Sparse LSTM on FPGA, FPGA'17 "
        "(arXiv 1612.00694), abstract and shared/reference/papers.md sec. 3",
        workloads=(LstmLayer, FcLayer),
    ),
    per_action_energy_pj=per_action_energy_pj,
    action_counts=action_counts,
    latency_cycles=latency_cycles,
    default_hardware=ESE_XCKU060,
    sample_workloads=sample_workloads,
    lower=lower,
    check_hardware=check_hardware,
    check_workload=check_workload,
    clock_mhz=clock_mhz,
    sample_hardware=sample_hardware,
    monotone=(
        Monotone("energy", "workload.activation_density"),
        Monotone("latency", "workload.activation_density"),
        Monotone("latency", "hardware.fifo_depth", increasing=False, grid=(1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 64.0)),
        Monotone("latency", "hardware.dram_bits_per_cycle", increasing=False, grid=(1.0, 4.0, 16.0, 64.0, 1024.0)),
        Monotone("energy", "hardware.board_power_w", grid=(0.0, 1.0, 10.0, 41.0, 100.0)),
    ),
    dense_limit=dense_limit,
    counts_and_latency=counts_and_latency,
)

__all__ = [
    "ASSUMPTIONS",
    "COST_MODEL",
    "ESE_XCKU060",
    "GATES",
    "GATE_DENSITY_FIELDS",
    "EseHardware",
    "FrameCost",
    "LstmLayer",
    "Products",
    "Throughput",
    "action_counts",
    "balanced_density_of_counts",
    "check_hardware",
    "check_workload",
    "clock_mhz",
    "counts_and_latency",
    "dense_limit",
    "dense_macs_per_frame",
    "eie_view",
    "frame_cost",
    "latency_cycles",
    "lower",
    "per_action_energy_pj",
    "products",
    "sample_hardware",
    "sample_workloads",
    "throughput",
]
