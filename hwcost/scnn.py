"""Differentiable model of SCNN, the compressed-sparse CNN accelerator (Parashar et al., "SCNN: An
Accelerator for Compressed-sparse Convolutional Neural Networks", ISCA'17, arXiv 1708.04485).

The model prices the same mechanism as the cycle-level simulator :mod:`archsim.scnn` (whose docstring
states it rule by rule), as expected values over weights and activations whose nonzeros are independent
at the given densities:

1. **Stride** (Sec. 4.3): a stride-``u`` layer is rewritten exactly as a stride-1 layer with ``u^2`` input
   phases as channels (:func:`hwcost.conv.polyphase`).
2. **Planar tiling, input stationary** (Sec. 3, PT-IS-CP-sparse): the ``H' x W'`` input plane is cut into
   ``Ht x Wt`` tiles, ``Ht = ceil(H' / pe_rows)``, one per PE; ``floor(H' / Ht)`` PE rows hold full tiles,
   one row the remainder, the rest nothing. The model keeps the four tile classes (full/remainder rows x
   columns) and their PE counts.
3. **Output-channel groups** (Sec. 3): ``K_c = max(1, min(K, max_group_channels, floor(A E / ((Ht + R' - 1)
   (Wt + S' - 1)))))`` channels, whose partial sums (own tile plus halo) fit one accumulator buffer of ``A``
   banks of ``E`` entries; ``G = ceil(K / K_c)`` groups, the last one holding the remainder.
4. **Compressed vectors and the Cartesian product** (Sec. 4.1-4.2, Fig. 7): a weight block (``K_c R' S'``
   positions of one input channel) and an activation tile hold their nonzeros plus one placeholder per 16
   zeros (4-bit zero-run index; :func:`hwcost._csc.slice_entries`). A PE multiplies every F-vector with
   every I-vector: ``ceil(e_w / F) ceil(e_a / I)`` cycles per block (the partly filled vectors are the
   intra-PE fragmentation), ``E[ceil(X / V)]`` from :func:`hwcost._vectors.vectors`; weight and activation
   counts are independent, so the expected cycles are the product of the expected vector counts.
5. **Bank conflicts** (Sec. 4.2): a block's ``P = e_w e_a`` products over ``A`` banks load the busiest bank
   with ``P / A + sqrt(P / A) E_A`` products (Poisson loads, Blom's maximum ``E_A`` of ``A``); the block
   takes the larger of that and its multiply cycles (:data:`CONFLICT_TEMPERATURE`).
6. **Barrier per group** (Sec. 4.4, Fig. 10): all PEs wait for the busiest at the end of each group. A PE's
   busy time in a group is the sum over the ``C'`` input channels of its blocks; given the group's weights
   the PEs of the full-tile class differ only in their activations, so the busiest is
   ``mean + sd E_n`` (Blom, ``n`` full-tile PEs, ``sd^2 = C' E[N_w^2] Var[N_a]``), bounded by the cycles of
   a dense tile.
7. **Halos and drain** (Sec. 4.3): at the end of a group each PE sends the partial sums of the valid
   outputs of its extended region that it does not own (a deterministic count, summed over the PE rows
   and columns exactly); the double-buffered accumulators are drained by the PPU (ReLU, compression) while
   the next group computes: ``K Ho Wo`` drains, ``K Ho Wo d_out`` compressed writes.
8. **DRAM** (Sec. 4.4): the compressed weights are read once per layer; activations that do not fit the
   chip's IARAM (OARAM) are read (written) once. Latency is the larger of the compute cycles and the
   DRAM transfer at ``dram_bytes_per_cycle``.

Variants (Table 6): ``sparse_weights=False`` is SCNN-SparseA (weights stored and multiplied dense),
``sparse_activations=False`` SCNN-SparseW.

Energy is counts times per-access energies (:func:`per_action_energy_pj`). The paper publishes no
per-access energies (papers.md SCNN-4); the defaults follow the rule of :mod:`hwcost.scnn_energy`, shared
with the dense baselines: the 45 nm table scaled to 16 nm, wires over the PE floorplan, and one factor on
the arithmetic fitted to the per-layer energies of Fig. 11.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from hwcost import checks
from hwcost._csc import slice_entries
from hwcost._order_stats import expected_max_normal
from hwcost._vectors import Vectors, vectors
from hwcost.conv import Polyphase, ceil_of_ratio, check_conv_layer, phase_classes, polyphase
from hwcost.safe import safe_divide, safe_sqrt
from hwcost.scnn_energy import scnn_energies
from hwcost.smooth import (
    Smoothing,
    smooth_maximum_relative,
    smooth_minimum_relative,
    smooth_relu,
    soft_floor,
    soft_step,
)
from hwcost.types import (
    Array,
    ConvLayer,
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

# --- SCNN Table 3 design point and technology rules ------------------------------------------------------
CLOCK_MHZ = 1000.0  # SCNN Table 3: "slightly more than 1 GHz", TSMC 16 nm FinFET
DRAM_BYTES_PER_CYCLE = 50.0  # SCNN Sec. 4.4: 50 GB/s nominal at 1 GHz
MAX_PE_GRID = 64
"""Largest PE array side the model sums halos over (a static bound; ``pe_rows, pe_cols <= 64``)."""
MAX_PE_WIDTH = 4096
"""Largest vector width and bank count of one PE (the busiest-bank estimate takes the maximum over banks)."""
CONFLICT_TEMPERATURE = 0.05  # relative width of the busiest-bank / multiply-cycles maximum
BOUND_TEMPERATURE = 0.02  # relative width of the dense-tile bound of the busiest PE
MIN_TEMPERATURE = 0.02  # relative width of the K_c minimum


@pytree_dataclass
class ScnnHardware:
    """An SCNN configuration (data leaves are traceable and differentiable; the bit widths and the variant
    flags are static).

    Attributes:
        pe_rows, pe_cols: PE array (Table 3: 8 x 8), each at most :data:`MAX_PE_GRID`.
        weight_vector: F, weights per vector (Table 3: 4).
        activation_vector: I, activations per vector (Table 3: 4).
        banks: A, accumulator banks per PE (Table 3: 32 = 2 F I).
        bank_entries: partial sums per bank in one of the two buffers (Table 3: 32).
        max_group_channels: largest K_c (8: the paper's K_c of GoogLeNet's late 1x1 layers, Sec. 6.2).
        iaram_bytes, oaram_bytes: activation RAMs per PE, data and index (Table 3: 10 KB each).
        dram_bytes_per_cycle: DRAM bandwidth, bytes per cycle (50 GB/s at 1 GHz).
        clock_mhz: clock, MHz.
        multiply_pj: one 16-bit multiply, pJ.
        crossbar_pj: one product through the scatter crossbar, pJ.
        accumulator_update_pj: one read-add-write of a 24-bit partial sum, pJ.
        accumulator_read_pj: one 24-bit partial-sum read (halo send, drain), pJ.
        halo_pj: one partial sum sent to a neighbouring PE, pJ.
        weight_fifo_write_pj, weight_fifo_read_pj: one F-vector (F x 20 bit) into / out of the FIFO, pJ.
        iaram_read_pj: one I-vector (I x 20 bit) read, pJ.
        oaram_write_pj: one compressed output (20 bit) written, pJ.
        relu_pj: one ReLU of the PPU, pJ.
        dram_pj_per_bit: DRAM energy per bit, pJ.
        smoothing: relaxation temperature and the hard switch.
        value_bits, index_bits: stored value and zero-run index widths (Table 3: 16 and 4).
        sparse_weights, sparse_activations: which operands are compressed (both: SCNN).
    """

    pe_rows: Scalar
    pe_cols: Scalar
    weight_vector: Scalar
    activation_vector: Scalar
    banks: Scalar
    bank_entries: Scalar
    max_group_channels: Scalar
    iaram_bytes: Scalar
    oaram_bytes: Scalar
    dram_bytes_per_cycle: Scalar
    clock_mhz: Scalar
    multiply_pj: Scalar
    crossbar_pj: Scalar
    accumulator_update_pj: Scalar
    accumulator_read_pj: Scalar
    halo_pj: Scalar
    weight_fifo_write_pj: Scalar
    weight_fifo_read_pj: Scalar
    iaram_read_pj: Scalar
    oaram_write_pj: Scalar
    relu_pj: Scalar
    dram_pj_per_bit: Scalar
    smoothing: Smoothing
    value_bits: int = static_field(default=16)
    index_bits: int = static_field(default=4)
    sparse_weights: bool = static_field(default=True)
    sparse_activations: bool = static_field(default=True)


SCNN_16NM = ScnnHardware(
    pe_rows=8.0,  # SCNN Table 3 / Sec. 4.5: 8 x 8 PEs
    pe_cols=8.0,
    weight_vector=4.0,  # Table 3: F x I = 4 x 4 multiplier array
    activation_vector=4.0,
    banks=32.0,  # Table 3: A = 32 accumulator banks
    bank_entries=32.0,  # Table 3: 32 entries per bank
    max_group_channels=8.0,  # Sec. 6.2: K_c = 8 in GoogLeNet's late 1x1 layers
    iaram_bytes=10240.0,  # Table 3: 10 KB IARAM per PE
    oaram_bytes=10240.0,  # Table 3: 10 KB OARAM per PE
    dram_bytes_per_cycle=DRAM_BYTES_PER_CYCLE,
    clock_mhz=CLOCK_MHZ,
    **scnn_energies(),
    smoothing=Smoothing(temperature=0.05),
)
"""The paper's design point (SCNN Table 3) with the per-access energies of :mod:`hwcost.scnn_energy`: multiply
0.99 pJ, crossbar 0.31 pJ per product, accumulator update 0.35 pJ, IARAM vector read 3.9 pJ, FIFO vector
access 0.70 pJ, DRAM 20 pJ/bit."""

SCNN_SPARSE_W = dataclasses.replace(SCNN_16NM, sparse_activations=False)
"""SCNN-SparseW (Table 6): only the weights are compressed; every activation is an entry."""
SCNN_SPARSE_A = dataclasses.replace(SCNN_16NM, sparse_weights=False)
"""SCNN-SparseA (Table 6): only the activations are compressed; every weight is an entry."""


# --- input checks ------------------------------------------------------------------------------------------
def check_workload(layer: ConvLayer) -> None:
    """Raise ``ValueError`` naming the field for a bad convolution (:func:`hwcost.conv.check_conv_layer`)."""
    check_conv_layer(layer)


def check_hardware(hw: ScnnHardware) -> None:
    """Raise ``ValueError`` naming the field, its value and the allowed range: PE array sides in
    ``[1, 64]``, vectors and banks in ``[1, 4096]``, entries and ``K_c`` in ``[1, 2**31]``, RAM sizes in
    ``[1, 2**31]`` bytes, DRAM bandwidth, clock, energies in [0, 1e6] pJ, bit widths and the temperature
    (bounds: :mod:`hwcost.checks`)."""
    for name in ("pe_rows", "pe_cols"):
        checks.check_range(name, getattr(hw, name), 1, MAX_PE_GRID)
    for name in ("weight_vector", "activation_vector", "banks"):
        checks.check_range(name, getattr(hw, name), 1, MAX_PE_WIDTH)
    for name in ("bank_entries", "max_group_channels"):
        checks.check_size(name, getattr(hw, name))
    for name in ("iaram_bytes", "oaram_bytes"):
        checks.check_size(name, getattr(hw, name))
    low, high = checks.MIN_BANDWIDTH / 8, checks.MAX_BANDWIDTH / 8
    checks.check_range("dram_bytes_per_cycle", hw.dram_bytes_per_cycle, low, high)
    checks.check_clock_mhz("clock_mhz", hw.clock_mhz)
    checks.check_energy_fields(hw)
    checks.check_int_range("value_bits", hw.value_bits, 1, 64)
    checks.check_int_range("index_bits", hw.index_bits, 1, 16)
    checks.check_temperature("smoothing.temperature", hw.smoothing.temperature)


# --- geometry ------------------------------------------------------------------------------------------------
def _float(x: Scalar) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


class Tiles(NamedTuple):
    """The planar tiling of the rewritten input plane over the PE array.

    Attributes:
        rows: ``(2,)`` tile rows of the two PE-row classes, ``[Ht, H' - n_r Ht]``.
        row_counts: ``(2,)`` PE rows in each class, ``[n_r, 1]`` (the remainder row may hold 0 rows).
        cols, col_counts: the same for the columns.
    """

    rows: Array
    row_counts: Array
    cols: Array
    col_counts: Array

    def sizes(self) -> Array:
        """``(2, 2)`` activations per tile of each class (rows x columns)."""
        return self.rows[:, None] * self.cols[None, :]

    def counts(self) -> Array:
        """``(2, 2)`` PEs in each class."""
        return self.row_counts[:, None] * self.col_counts[None, :]


def _split(plane: Array, pes: Array, t: Smoothing) -> tuple[Array, Array, Array]:
    tile = ceil_of_ratio(plane, pes, t)
    full = soft_floor((plane + 0.5) / tile, t.temperature, hard=t.hard)
    # the relaxed floor may overshoot by a little; the remainder of the plane is never negative
    return tile, full, smooth_relu(plane - full * tile, t.temperature, hard=t.hard)


def tiles(hw: ScnnHardware, pp: Polyphase) -> Tiles:
    """:class:`Tiles` of the rewritten plane ``pp`` on ``hw``'s PE array (module docstring, item 2)."""
    t = hw.smoothing
    ht, nr, rem_r = _split(pp.plane_h, _float(hw.pe_rows), t)
    wt, nc, rem_c = _split(pp.plane_w, _float(hw.pe_cols), t)
    one = jnp.ones_like(nr)
    return Tiles(jnp.stack([ht, rem_r]), jnp.stack([nr, one]), jnp.stack([wt, rem_c]), jnp.stack([nc, one]))


class Groups(NamedTuple):
    """Output-channel groups: ``K_c`` channels, ``G`` groups, the last holding ``last`` channels."""

    channels: Array
    count: Array
    last: Array


def _min_positive(values: list[Array], t: Smoothing) -> Array:
    out = values[0]
    for v in values[1:]:
        out = smooth_minimum_relative(out, v, MIN_TEMPERATURE * t.temperature / 0.05, hard=t.hard)
    return out


def groups(hw: ScnnHardware, layer: ConvLayer, pp: Polyphase, tl: Tiles) -> Groups:
    """:class:`Groups` (module docstring, item 3)."""
    t = hw.smoothing
    k = _float(layer.out_channels)
    region = (tl.rows[0] + pp.kernel_h - 1.0) * (tl.cols[0] + pp.kernel_w - 1.0)
    fits = soft_floor((_float(hw.banks) * _float(hw.bank_entries) + 0.5) / region, t.temperature, hard=t.hard)
    fits = 1.0 + smooth_relu(fits - 1.0, t.temperature, hard=t.hard)
    kc = _min_positive([k, _float(hw.max_group_channels), fits], t)
    count = ceil_of_ratio(k, kc, t)
    return Groups(kc, count, k - (count - 1.0) * kc)


def halo_values(hw: ScnnHardware, layer: ConvLayer, pp: Polyphase, tl: Tiles) -> Array:
    """Partial sums sent to neighbouring PEs per layer (module docstring, item 7).

    A PE row starting at input row ``a`` reaches the valid output rows ``[max(0, a - R' + 1), min(Ho, a + h))``
    and owns ``[a, min(Ho, a + h))``: its halo rows are ``h_r(a) = min(Ho, a) - max(0, a - R' + 1)`` (none
    for the first row, none past the plane). With ``H_r = sum_a h_r(a)`` and ``H_c`` likewise, the PEs
    send ``K ((Ho + H_r)(Wo + H_c) - Ho Wo)`` partial sums.
    """
    t = hw.smoothing

    def halo_lines(tile: Array, kernel: Array, out: Array) -> Array:
        start = jnp.arange(1, MAX_PE_GRID, dtype=tile.dtype) * tile
        reach_top = smooth_relu(start - kernel + 1.0, t.temperature, hard=t.hard)
        own_top = smooth_minimum_relative(start, out, t.temperature, hard=t.hard)
        return jnp.sum(smooth_relu(own_top - reach_top, t.temperature, hard=t.hard))

    ho, wo = _float(layer.out_h), _float(layer.out_w)
    rows = halo_lines(tl.rows[0], pp.kernel_h, ho)
    cols = halo_lines(tl.cols[0], pp.kernel_w, wo)
    return _float(layer.out_channels) * (rows * wo + ho * cols + rows * cols)


# --- work per block ------------------------------------------------------------------------------------------
class _Blocks(NamedTuple):
    """Expected work of the blocks: weights per (group kind (2,), phase class (4,)), activations per tile class
    (2, 2), and a full tile inside the unpadded plane (the busiest PEs')."""

    weight_entries: Array  # (2, 4)
    weight_occupied: Array  # (2, 4): probability that the block holds an entry
    weight_vectors: Vectors  # (2, 4)
    activation_entries: Array  # (2, 2)
    activation_occupied: Array  # (2, 2)
    activation_vectors: Vectors  # (2, 2)
    dense_tile_vectors: Array  # I-vectors of a dense full tile
    interior_entries: Array
    interior_occupied: Array
    interior_vectors: Vectors


def _entries_of(blocks: list[tuple[Array, Array, bool]], index_bits: int) -> list[tuple[Array, Array]]:
    """``(mean, P(empty))`` of the entries of each ``(positions, density, sparse)`` block (all positions if
    dense), the compressed ones in one evaluation of :func:`~hwcost._csc.slice_entries`
    (:func:`_over_concatenation`)."""
    compressed = iter(
        _over_concatenation(
            lambda positions, density: slice_entries(positions, density, index_bits),
            [(positions, density) for positions, density, sparse in blocks if sparse],
        )
    )
    out = []
    for positions, density, sparse in blocks:
        if sparse:
            s = next(compressed)
            out.append((s.entries, s.p_empty))
        else:
            positions = jnp.broadcast_arrays(_float(positions), _float(density))[0]
            out.append((positions, (positions <= 0).astype(positions.dtype)))
    return out


def _blocks(hw: ScnnHardware, layer: ConvLayer, pp: Polyphase, gr: Groups, tl: Tiles) -> _Blocks:
    blur = 0.0 if hw.smoothing.hard else hw.smoothing.temperature
    phases = phase_classes(layer, hw.smoothing)
    # a compressed weight block holds the taps its phase meets; a dense one every position of the R' x S' kernel
    taps = phases.taps if hw.sparse_weights else jnp.broadcast_to(pp.kernel_h * pp.kernel_w, (4,))
    w_pos = jnp.stack([gr.channels, gr.last])[:, None] * taps[None, :]
    a_pos = tl.sizes()
    (ew, pw), (ea, pa), (ei, pi) = _entries_of(
        [(w_pos, layer.weight_density, hw.sparse_weights), (a_pos, pp.activation_density, hw.sparse_activations),
         (a_pos[0, 0], layer.activation_density, hw.sparse_activations)],
        hw.index_bits,
    )  # fmt: skip
    width = _float(hw.activation_vector)
    nw, na, dense_tile, ni = _vectors_of(
        [(ew, w_pos, _float(hw.weight_vector)), (ea, a_pos, width), (a_pos[0, 0], a_pos[0, 0], width),
         (ei, a_pos[0, 0], width)],
        blur,
    )  # fmt: skip
    return _Blocks(ew, 1.0 - pw, nw, ea, 1.0 - pa, na, dense_tile.mean, ei, 1.0 - pi, ni)


def _vectors_of(blocks: list[tuple[Array, Array, Array]], blur: Scalar) -> list[Vectors]:
    """:func:`~hwcost._vectors.vectors` of several ``(mean, positions, width)`` blocks of any shapes
    (:func:`_over_concatenation`)."""
    return _over_concatenation(lambda mean, positions, width: vectors(mean, positions, width, blur), blocks)


def _over_concatenation(fn: Callable[..., Any], blocks: list[tuple[Array, ...]]) -> list[Any]:
    """``[fn(*block) for block in blocks]`` for an elementwise ``fn`` returning a named tuple of arrays, in one
    evaluation of ``fn`` over the blocks' arguments (each block broadcast, raveled and concatenated): one copy
    of ``fn`` in the compiled graph, not one per block; the same values as one call per block."""
    if not blocks:
        return []
    blocks = [jnp.broadcast_arrays(*(_float(x) for x in block)) for block in blocks]
    shapes = [block[0].shape for block in blocks]
    flat = fn(*(jnp.concatenate([block[k].ravel() for block in blocks]) for k in range(len(blocks[0]))))
    ends = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]
    pieces = [jnp.split(leaf, ends) for leaf in flat]
    return [type(flat)(*(p[i].reshape(shape) for p in pieces)) for i, shape in enumerate(shapes)]


class Work(NamedTuple):
    """Expected cycles and products of one layer (module docstring, items 4-6), cycles / counts.

    Attributes:
        multiply_cycles: sum over blocks and PEs of ``ceil(e_w / F) ceil(e_a / I)``.
        stall_cycles: bank-conflict cycles, summed over PEs.
        compute_cycles: sum over groups of the busiest PE's busy cycles.
        barrier_idle_cycles: PE-cycles spent waiting at the group barriers (empty PEs included).
        products: multiplier operations.
        iaram_reads: I-vector reads.
        weight_vectors: F-vectors per PE (FIFO writes of one PE).
        weight_entries: weight entries of the layer.
        activation_entries: activation entries of the layer (every tile of every channel).
    """

    multiply_cycles: Array
    stall_cycles: Array
    compute_cycles: Array
    barrier_idle_cycles: Array
    products: Array
    iaram_reads: Array
    weight_vectors: Array
    weight_entries: Array
    activation_entries: Array


def _stalls(hw: ScnnHardware, products: Array, cycles: Array, occupied: Array) -> Array:
    """Expected excess of the busiest bank's load over a block's multiply cycles (item 5), cycles.

    Evaluated on the blocks that hold work (probability ``occupied``: both operands have an entry), whose
    products and cycles are the expectations divided by ``occupied``; an empty block takes no cycle."""
    t = hw.smoothing
    banks = _float(hw.banks)
    load = safe_divide(products, occupied) / banks
    work_cycles = safe_divide(cycles, occupied)
    busiest = load + safe_sqrt(load) * expected_max_normal(banks)
    width = CONFLICT_TEMPERATURE * t.temperature / 0.05 * (work_cycles + 1.0)
    return occupied * smooth_relu(busiest - work_cycles, width, hard=t.hard)


def work(hw: ScnnHardware, layer: ConvLayer) -> Work:
    """:class:`Work` of ``layer`` on ``hw``.

    Arrays are indexed (group kind: the full groups and the last one; phase class; tile row class; tile
    column class); a PE's busy time sums its blocks over the rewritten input channels of every phase class.
    """
    t = hw.smoothing
    pp = polyphase(layer, t)
    tl = tiles(hw, pp)
    gr = groups(hw, layer, pp, tl)
    b = _blocks(hw, layer, pp, gr, tl)
    channels = phase_classes(layer, t).channels  # (4,)
    counts = tl.counts()  # (2, 2)
    group_weight = jnp.stack([gr.count - 1.0, jnp.ones_like(gr.count)])  # full groups, the last group
    nw, na, ni = b.weight_vectors, b.activation_vectors, b.interior_vectors

    def per_pe(x: Array) -> Array:
        """``(2, 4, 2, 2)`` per-block values -> ``(2, 2, 2)`` summed over the channels of each phase class."""
        return jnp.einsum("j,gjrc->grc", channels, x)

    block_cycles = nw.mean[:, :, None, None] * na.mean[None, None]
    block_products = b.weight_entries[:, :, None, None] * b.activation_entries[None, None]
    occupied = b.weight_occupied[:, :, None, None] * b.activation_occupied[None, None]
    stalls = _stalls(hw, block_products, block_cycles, occupied)
    busy = per_pe(block_cycles + stalls)  # (2, 2, 2): busy cycles of one PE of each tile class, per group
    # the busiest PEs hold full tiles inside the unpadded plane (padding thins only the border tiles)
    interior_cycles = nw.mean * ni.mean  # (2, 4)
    interior_stalls = _stalls(
        hw, b.weight_entries * b.interior_entries, interior_cycles, b.weight_occupied * b.interior_occupied
    )
    # sd E_n of the Gaussian maximum, as sqrt(S + 1) - 1 cycles: a sum of integer cycles whose sd is below one
    # cycle sits at its mode, and the slope stays finite where the spread vanishes (a dense operand)
    spread = jnp.sqrt(jnp.einsum("j,gj->g", channels, nw.second) * ni.var + 1.0) - 1.0
    mean_busiest = jnp.einsum("j,gj->g", channels, interior_cycles + interior_stalls)
    busiest = mean_busiest + spread * expected_max_normal(jnp.maximum(counts[0, 0], 1.0))
    bound = jnp.einsum("j,gj->g", channels, nw.mean * b.dense_tile_vectors + interior_stalls)
    busiest = smooth_minimum_relative(busiest, bound, BOUND_TEMPERATURE * t.temperature / 0.05, hard=t.hard)
    pes = _float(hw.pe_rows) * _float(hw.pe_cols)

    def over_pes_and_groups(x: Array) -> Array:
        return jnp.sum(group_weight * jnp.sum(x * counts[None], axis=(1, 2)))

    return Work(
        multiply_cycles=over_pes_and_groups(per_pe(block_cycles)),
        stall_cycles=over_pes_and_groups(per_pe(stalls)),
        compute_cycles=jnp.sum(group_weight * busiest),
        barrier_idle_cycles=jnp.sum(group_weight * (pes * busiest - jnp.sum(busy * counts[None], axis=(1, 2)))),
        products=over_pes_and_groups(per_pe(block_products)),
        iaram_reads=gr.count * pp.channels * jnp.sum(na.mean * counts),
        weight_vectors=jnp.sum(group_weight * (nw.mean @ channels)),
        weight_entries=jnp.sum(group_weight * (b.weight_entries @ channels)),
        activation_entries=pp.channels * jnp.sum(b.activation_entries * counts),
    )


# --- the contract --------------------------------------------------------------------------------------------
def _dram_bits(hw: ScnnHardware, layer: ConvLayer, w: Work) -> tuple[Array, Array]:
    """``(read, write)`` DRAM bits: compressed weights, and activations that do not fit on chip (item 8)."""
    t = hw.smoothing
    entry_bits = float(hw.value_bits + hw.index_bits)
    pes = _float(hw.pe_rows) * _float(hw.pe_cols)
    inputs = w.activation_entries * entry_bits
    outputs = _float(layer.out_channels) * _float(layer.out_h) * _float(layer.out_w) * layer.output_density * entry_bits
    in_capacity = pes * _float(hw.iaram_bytes) * 8.0
    out_capacity = pes * _float(hw.oaram_bytes) * 8.0
    spill_in = soft_step((inputs - in_capacity) / in_capacity, t.temperature, hard=t.hard)
    spill_out = soft_step((outputs - out_capacity) / out_capacity, t.temperature, hard=t.hard)
    return w.weight_entries * entry_bits + spill_in * inputs, spill_out * outputs


def counts_and_latency(hw: ScnnHardware, layer: ConvLayer) -> tuple[Counts, Array]:
    """Expected actions of one layer (keys of :func:`per_action_energy_pj`; dimensionless, DRAM in bits) and its
    cycles, the larger of the compute cycles and the DRAM transfer (item 8), from one :func:`work`."""
    t = hw.smoothing
    w = work(hw, layer)
    pp = polyphase(layer, t)
    tl = tiles(hw, pp)
    halo = halo_values(hw, layer, pp, tl)
    outputs = _float(layer.out_channels) * _float(layer.out_h) * _float(layer.out_w)
    read_bits, write_bits = _dram_bits(hw, layer, w)
    pes = _float(hw.pe_rows) * _float(hw.pe_cols)
    counts = {
        "multiplier.multiply": w.products,
        "crossbar.transfer": w.products,
        "accumulator.update": w.products + halo,
        "accumulator.read": halo + outputs,
        "halo.transfer": halo,
        "weight_fifo.write": pes * w.weight_vectors,
        "weight_fifo.read": w.multiply_cycles,
        "iaram.read": w.iaram_reads,
        "oaram.write": outputs * layer.output_density,
        "ppu.relu": outputs,
        "dram.read_bit": read_bits,
        "dram.write_bit": write_bits,
    }
    transfer = (read_bits + write_bits) / (8.0 * _float(hw.dram_bytes_per_cycle))
    return counts, smooth_maximum_relative(w.compute_cycles, transfer, t.temperature, hard=t.hard)


def action_counts(hw: ScnnHardware, layer: ConvLayer) -> Counts:
    """Expected actions of one layer (:func:`counts_and_latency`)."""
    return counts_and_latency(hw, layer)[0]


def latency_cycles(hw: ScnnHardware, layer: ConvLayer) -> Array:
    """Cycles of one layer (:func:`counts_and_latency`)."""
    return counts_and_latency(hw, layer)[1]


def per_action_energy_pj(hw: ScnnHardware) -> dict[str, Scalar]:
    """Energy per action, pJ (DRAM per bit)."""
    return {
        "multiplier.multiply": hw.multiply_pj,
        "crossbar.transfer": hw.crossbar_pj,
        "accumulator.update": hw.accumulator_update_pj,
        "accumulator.read": hw.accumulator_read_pj,
        "halo.transfer": hw.halo_pj,
        "weight_fifo.write": hw.weight_fifo_write_pj,
        "weight_fifo.read": hw.weight_fifo_read_pj,
        "iaram.read": hw.iaram_read_pj,
        "oaram.write": hw.oaram_write_pj,
        "ppu.relu": hw.relu_pj,
        "dram.read_bit": hw.dram_pj_per_bit,
        "dram.write_bit": hw.dram_pj_per_bit,
    }


def clock_mhz(hw: ScnnHardware) -> Scalar:
    """Clock frequency, MHz."""
    return hw.clock_mhz


def lower(layer: LayerStatistics) -> LayerRun[ConvLayer]:
    """How SCNN runs one layer of a masked network: a convolution as itself (stored weight density
    ``kept / (K C R S)``, the measured input density), a fully connected layer as a 1 x 1 convolution on a
    1 x 1 plane (SCNN Sec. 4.3 runs FC layers this way, at low multiplier utilisation)."""
    spec = layer.spec
    if spec.kind == "conv":
        kh, kw, c, k = (float(d) for d in spec.kernel_shape)
        (h, w), (ho, wo) = spec.in_hw, spec.out_hw
    else:
        c, k = (float(d) for d in spec.kernel_shape)
        kh = kw = 1.0
        h = w = ho = wo = 1
    return LayerRun(
        ConvLayer(
            c, k, kh, kw, float(h), float(w), float(ho), float(wo),
            layer.stored_density(), jnp.asarray(layer.input_density), name=spec.name,
        )
    )  # fmt: skip


def dense_limit(hw: ScnnHardware, layer: ConvLayer) -> dict[str, Array]:
    """At every density 1: ``e_w e_a / C'`` products, with ``e_w = K C R S`` weight entries (``K C' R' S'``
    for dense weights, which keep the rewritten kernel's empty taps) and ``e_a = C H W`` activation entries
    (``C' H' W'`` for dense activations, padding included); one drain and ReLU per output."""
    pp = polyphase(layer, hw.smoothing)
    k = _float(layer.out_channels)
    if hw.sparse_weights:
        weights = k * _float(layer.in_channels) * _float(layer.kernel_h) * _float(layer.kernel_w)
    else:
        weights = k * pp.channels * pp.kernel_h * pp.kernel_w
    if hw.sparse_activations:
        activations = _float(layer.in_channels) * _float(layer.in_h) * _float(layer.in_w)
    else:
        activations = pp.channels * pp.plane_h * pp.plane_w
    products = weights * activations / pp.channels
    outputs = k * _float(layer.out_h) * _float(layer.out_w)
    return {"multiplier.multiply": products, "crossbar.transfer": products, "ppu.relu": outputs}


def sample_workloads() -> dict[str, ConvLayer]:
    """Regimes: a large-plane 3x3 layer, a strided large kernel (a nearly dense image input), a late 1x1 layer
    on a 7x7 plane (one activation per PE, K_c-limited), a padded 5x5 layer with partial tiles, and a very
    sparse layer."""
    return {
        "vgg_like_3x3": ConvLayer(64.0, 64.0, 3.0, 3.0, 56.0, 56.0, 56.0, 56.0, 0.35, 0.5, padding=1.0, name="3x3"),
        "alexnet_conv1": ConvLayer(3.0, 96.0, 11.0, 11.0, 227.0, 227.0, 55.0, 55.0, 0.84, 0.97, stride=4.0,
                                   output_density=0.94, name="conv1"),
        "late_1x1": ConvLayer(832.0, 128.0, 1.0, 1.0, 7.0, 7.0, 7.0, 7.0, 0.32, 0.31, name="5b/1x1"),
        "padded_5x5": ConvLayer(48.0, 64.0, 5.0, 5.0, 27.0, 27.0, 27.0, 27.0, 0.38, 0.9, padding=2.0,
                                output_density=0.5, name="5x5"),
        "very_sparse": ConvLayer(32.0, 32.0, 3.0, 3.0, 13.0, 13.0, 11.0, 11.0, 0.03, 0.05, name="sparse"),
    }  # fmt: skip


def sample_hardware() -> dict[str, ScnnHardware]:
    """Besides the paper's design point: a relaxed 6.3 x 5 array with 2 x 8 vectors, and SCNN-SparseW."""
    return {
        "relaxed_array": dataclasses.replace(
            SCNN_16NM, pe_rows=6.3, pe_cols=5.0, weight_vector=2.0, activation_vector=8.0, banks=16.0
        ),
        "sparse_w": SCNN_SPARSE_W,
    }


def _model(name: str, title: str, hardware: ScnnHardware) -> CostModel[ScnnHardware, ConvLayer]:
    return CostModel(
        card=ModelCard(
            name=name,
            title=title,
            source="Parashar et al., SCNN: An Accelerator for Compressed-sparse Convolutional Neural Networks, "
            "ISCA'17, Sec. 3-4, Tables 3-6",
            workloads=(ConvLayer,),
        ),
        per_action_energy_pj=per_action_energy_pj,
        action_counts=action_counts,
        latency_cycles=latency_cycles,
        default_hardware=hardware,
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
        ),
        dense_limit=dense_limit,
        counts_and_latency=counts_and_latency,
    )


COST_MODEL = _model("scnn", "SCNN sparse CNN accelerator (8x8 PEs, 4x4 Cartesian product, 1 GHz, 16 nm)", SCNN_16NM)

__all__ = [
    "COST_MODEL",
    "SCNN_16NM",
    "SCNN_SPARSE_A",
    "SCNN_SPARSE_W",
    "Groups",
    "ScnnHardware",
    "Tiles",
    "Work",
    "action_counts",
    "check_hardware",
    "check_workload",
    "clock_mhz",
    "counts_and_latency",
    "dense_limit",
    "groups",
    "halo_values",
    "latency_cycles",
    "lower",
    "per_action_energy_pj",
    "tiles",
    "work",
]
