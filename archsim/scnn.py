"""Cycle-level reference simulator of SCNN (Parashar et al., "SCNN: An Accelerator for Compressed-sparse
Convolutional Neural Networks", ISCA'17, arXiv 1708.04485), numpy only, exact integers.

It runs one convolution layer on SCNN's planar-tiled, input-stationary Cartesian-product dataflow (PT-IS-CP-sparse,
Sec. 3-4) and counts cycles, bank conflicts, barrier idling, halo exchanges and memory accesses exactly. It imports
nothing from ``hwcost``, ``compress`` or ``models``: it is the independent check the differentiable model is
validated against. The dense baselines DCNN / DCNN-opt are in :mod:`archsim.dcnn`.

Semantics (every count follows these rules literally):

* Inputs (Sec. 2): weights ``W`` ``(K, C, R, S)``, activations ``A`` ``(C, H, W)`` before padding, stride
  ``u >= 1``, padding ``p >= 0`` (zeros on every side). Output plane ``Ho = (H + 2p - R) // u + 1``, ``Wo``
  likewise; both must be at least 1. Only whether a value is zero matters to the counts.
* Design point (Table 3, :class:`ScnnConfig`): ``8 x 8`` PEs, ``F x I = 4 x 4`` multipliers per PE, ``A = 32``
  accumulator banks of 32 entries (1024 partial sums per buffer, double-buffered), ``K_c`` at most 8 (Sec. 6),
  16-bit values with a 4-bit zero-run index (at most 15 zeros before an entry), 24-bit accumulators, 10 KB IARAM
  and OARAM per PE, 1 GHz, 50 GB/s DRAM (50 bytes per cycle). ``P = pe_rows * pe_cols`` PEs in all.
  Variants (Table 6): SCNN (both operands compressed), SCNN-SparseW (``sparse_activations=False``: every
  activation of a tile is an entry, no activation zero skipping), SCNN-SparseA (``sparse_weights=False``:
  every weight is an entry).
* Step 1, stride by polyphase decomposition: ``A`` is padded to ``A_p`` ``(C, Hp, Wp)``, ``Hp = H + 2p``. For
  ``u > 1`` the layer is the stride-1 layer with ``C' = C u^2`` channels, channel ``c' = c u^2 + a u + b`` for
  phase ``(a, b)``: ``A'[c', y, x] = A_p[c, a + u y, b + u x]`` (0 past the edge) on the plane
  ``H' = ceil(Hp / u)``, ``W' = ceil(Wp / u)``, and ``W'[k, c', r', s'] = W[k, c, a + u r', b + u s']`` (0 past the
  kernel), ``R' = ceil(R / u)``, ``S' = ceil(S / u)``. Then ``out[k, y, x] = sum W'[k, c', r', s'] A'[c', y + r',
  x + s']`` for ``y < Ho``, ``x < Wo`` (:func:`polyphase`). Everything below runs on ``(W', A')``, stride 1.
* Step 2, planar tiling (Sec. 4.1, input stationary): ``Ht = ceil(H' / pe_rows)``, ``Wt = ceil(W' / pe_cols)``; PE
  ``(i, j)`` holds input rows ``[i Ht, min((i+1) Ht, H'))`` and columns ``[j Wt, min((j+1) Wt, W'))`` of every
  channel (an empty range holds nothing and does no work) and owns the valid outputs (``y < Ho``, ``x < Wo``) in
  that range. The product ``A'[c', y, x] W'[k, c', r', s']`` belongs to output ``(k, y - r', x - s')``; each PE
  accumulates all products of its own activations in its buffer, whose extended region per output channel is
  ``(Ht + R' - 1) x (Wt + S' - 1)``, local row ``yl = (y - i Ht) - r' + R' - 1`` (``xl`` likewise). Products for
  invalid outputs are computed and accumulated and dropped at the drain.
* Step 3, output-channel groups (Sec. 4.1): ``K_c = max(1, min(K, max_group_channels,
  floor(A bank_entries / ((Ht + R' - 1)(Wt + S' - 1)))))``; ``G = ceil(K / K_c)`` groups, group ``g`` holds output
  channels ``[g K_c, min((g+1) K_c, K))`` (``K_g`` of them).
* Step 4, compressed format (Sec. 4.2, Fig. 7): the weight block ``(g, c')`` is ``W'[group g, c', :, :]`` flattened
  in order ``(k, r', s')``; the activation tile ``(c', PE)`` is the PE's tile of channel ``c'`` flattened row-major
  ``(y, x)`` over the tile's own width (a partial tile is not padded). Both are run-length encoded as in
  :mod:`archsim.eie`: one entry per nonzero, and a run of ``z`` zeros before a nonzero costs
  ``floor(z / 2**index_bits)`` placeholder entries (a zero value with the largest index), the ``m``-th placed
  ``m 2**index_bits`` positions after the previous entry (index 15 = 15 zeros before it); zeros after the last
  nonzero cost nothing. ``ew`` / ``ea`` = entries of the weight block / activation tile, placeholders included
  (they occupy vector slots, multiply and are accumulated at their own positions). SparseW: ``ea`` = tile size;
  SparseA: ``ew = K_g R' S'`` (every position, the polyphase zeros too).
* Step 5, Cartesian product (Sec. 3.2, 4.2): per group ``g``, per input channel ``c'`` in order, each PE multiplies
  every F-vector of the weight block with every I-vector of its tile: ``mult_cycles = ceil(ew / F) ceil(ea / I)``,
  ``products = ew ea``. Bank conflicts: a product for local channel ``kl`` at ``(yl, xl)`` goes to accumulator
  bank ``(kl E + yl (Wt + S' - 1) + xl) mod A`` with ``E = ((Ht + R' - 1)(Wt + S' - 1)) | 1``: each channel's
  extended region in turn, its size made odd so that one activation's products for different output channels
  never share a bank when ``A`` is a power of two (an even region would alias them), through the F*I x A
  crossbar whose
  queues drain before the next input channel; a bank takes one product per cycle, so
  ``block_cycles = max(mult_cycles, max over banks of the block's products in that bank)`` and
  ``stall_cycles = block_cycles - mult_cycles``; a block with ``ew = 0`` or ``ea = 0`` takes 0 cycles. The index
  is a weight part ``kl E + (R' - 1 - r')(Wt + S' - 1) + S' - 1 - s'`` plus an activation part
  ``(y - i Ht)(Wt + S' - 1) + (x - j Wt)``, so the bank loads are the circular convolution mod ``A`` of the two
  parts' histograms; the simulator evaluates it as one matrix product with a circulant (exact).
* Step 6, barrier per group (Sec. 4.3, 6.2): ``busy(g, PE) = sum_c' block_cycles``; all PEs wait for the slowest
  at the end of each group: ``group_cycles(g) = max_PE busy``, ``compute_cycles = sum_g group_cycles``,
  ``barrier_idle_cycles = sum_g sum_PE (group_cycles - busy)`` (empty PEs included), ``multiplier_utilisation =
  products / (F I sum busy)`` (busy cycles only; 0.0 when nothing is busy), ``pe_idle_fraction =
  barrier_idle_cycles / (P compute_cycles)`` (0.0 when ``compute_cycles = 0``).
* Step 7, halos and drain (Sec. 4.1, 4.3): at the end of each group a PE sends the partial sums of every valid
  output of its extended region that it does not own (zeros too): ``halo_values = K x sum_PE (valid outputs in the
  extended region - owned outputs)``. The receiver adds each (``accumulator.update``), the sender reads it
  (``accumulator.read``), each is one ``halo.transfer``. The PPU reads every valid output once
  (``accumulator.read``), applies ReLU (``ppu.relu``) and writes the nonzero ones compressed to the OARAM:
  ``oaram.write = round(K Ho Wo output_density)``, ``output_density`` (the next layer's input density, default 1)
  an input of the simulation. Halo exchange and drain overlap the next group: no cycles.
* Step 8, memory traffic: ``weight_fifo.write = P sum_{g,c'} ceil(ew / F)`` (every PE receives every F-vector, an
  80-bit FIFO entry), ``weight_fifo.read = sum of mult_cycles``, ``iaram.read = sum_{g,c',PE} ceil(ea / I)`` (every
  tile's I-vectors are read once per group and channel, also when the weight block is empty),
  ``multiplier.multiply = crossbar.transfer = products``, ``accumulator.update = products + halo_values``,
  ``accumulator.read = halo_values + K Ho Wo``, ``ppu.relu = K Ho Wo``. DRAM (Sec. 4.4): the compressed weights
  are read once, ``dram.read_bit = (sum_{g,c'} ew)(value_bits + index_bits)``; the input activations are read once
  more, ``(sum_{c',PE} ea)(value_bits + index_bits)`` bits, only if that exceeds the IARAMs
  (``P iaram_bytes 8`` bits); the outputs are written once, ``dram.write_bit = oaram.write (value_bits +
  index_bits)``, only if that exceeds the OARAMs (``P oaram_bytes 8`` bits; the rounded nonzero count is used in
  the comparison too). ``cycles = max(compute_cycles, ceil(DRAM bits / (8 dram_bytes_per_cycle)))``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from archsim.eie import _NONZERO_WEIGHT_VALUES, _uniform_subset

SCNN_SEED = 1708  # fixed seed of the random benchmark layers (arXiv 1708.04485)
COUNT_KEYS = (
    "multiplier.multiply",
    "crossbar.transfer",
    "accumulator.update",
    "accumulator.read",
    "halo.transfer",
    "weight_fifo.write",
    "weight_fifo.read",
    "iaram.read",
    "oaram.write",
    "ppu.relu",
    "dram.read_bit",
    "dram.write_bit",
)
"""Keys of :attr:`ScnnResult.counts`, ``"component.action"``."""


class ScnnConfig(NamedTuple):
    """SCNN design point; the defaults are Table 3 of Parashar et al. (ISCA'17).

    Attributes:
        pe_rows, pe_cols: PE array (8 x 8 = 64 PEs, Sec. 4.5).
        F: weights per vector = multiplier-array rows (4).
        I: activations per vector = multiplier-array columns (4).
        banks: accumulator banks ``A`` (32 = 2 F I, Sec. 4.2).
        bank_entries: entries per bank (32; 1024 partial sums per accumulator buffer).
        max_group_channels: cap on the output-channel group size ``K_c`` (8, Sec. 6).
        value_bits: bits per stored value (16).
        index_bits: bits of the zero-run index (4: at most 15 zeros before an entry).
        accumulator_bits: partial-sum width (24; documentation only, no count depends on it).
        iaram_bytes, oaram_bytes: input / output activation RAM per PE in bytes (10 KB each).
        clock_mhz: clock in MHz (1000).
        dram_bytes_per_cycle: DRAM bandwidth in bytes per cycle (50 = 50 GB/s at 1 GHz, Sec. 4.4).
        sparse_weights: weights compressed (False: SCNN-SparseA, every weight an entry).
        sparse_activations: activations compressed (False: SCNN-SparseW, every activation an entry).
    """

    pe_rows: int = 8
    pe_cols: int = 8
    F: int = 4
    I: int = 4  # noqa: E741 - the paper's name
    banks: int = 32
    bank_entries: int = 32
    max_group_channels: int = 8
    value_bits: int = 16
    index_bits: int = 4
    accumulator_bits: int = 24
    iaram_bytes: int = 10240
    oaram_bytes: int = 10240
    clock_mhz: float = 1000.0
    dram_bytes_per_cycle: float = 50.0
    sparse_weights: bool = True
    sparse_activations: bool = True

    @property
    def pes(self) -> int:
        """Number of PEs ``P = pe_rows * pe_cols``."""
        return self.pe_rows * self.pe_cols


SCNN = ScnnConfig()
"""SCNN: weights and activations compressed (Table 6)."""
SCNN_SPARSE_W = ScnnConfig(sparse_activations=False)
"""SCNN-SparseW: only the weights compressed, activations dense (Table 6)."""
SCNN_SPARSE_A = ScnnConfig(sparse_weights=False)
"""SCNN-SparseA: only the activations compressed, weights dense (Table 6)."""


class ScnnGeometry(NamedTuple):
    """Shapes of one layer after the polyphase decomposition, tiling and grouping (Steps 1-3).

    Attributes:
        K, C: output / input channels of the layer.
        stride, padding: ``u`` and ``p``.
        out_h, out_w: output plane ``Ho x Wo``.
        channels: ``C' = C u^2`` (polyphase input channels).
        plane_h, plane_w: polyphase input plane ``H' x W'``.
        kernel_h, kernel_w: polyphase kernel ``R' x S'``.
        tile_h, tile_w: PE tile ``Ht x Wt``.
        ext_h, ext_w: extended accumulator region ``(Ht + R' - 1) x (Wt + S' - 1)``.
        group_channels: ``K_c``.
        groups: ``G = ceil(K / K_c)``.
        row_sizes: ``(pe_rows,)`` input rows each PE row holds (0 for an empty PE row).
        col_sizes: ``(pe_cols,)`` input columns each PE column holds.
    """

    K: int
    C: int
    stride: int
    padding: int
    out_h: int
    out_w: int
    channels: int
    plane_h: int
    plane_w: int
    kernel_h: int
    kernel_w: int
    tile_h: int
    tile_w: int
    ext_h: int
    ext_w: int
    group_channels: int
    groups: int
    row_sizes: tuple[int, ...]
    col_sizes: tuple[int, ...]


class ScnnResult(NamedTuple):
    """Exact counts of one SCNN layer (module docstring for every rule).

    Attributes:
        cycles: latency in cycles, ``max(compute_cycles, dram_cycles)``.
        compute_cycles: ``sum_g group_cycles``.
        dram_cycles: ``ceil(DRAM bits / (8 dram_bytes_per_cycle))``.
        stall_cycles: bank-conflict cycles, ``sum (block_cycles - mult_cycles)`` over all blocks and PEs.
        barrier_idle_cycles: PE-cycles waiting at the group barriers, ``sum_g sum_PE (group_cycles - busy)``.
        multiplier_utilisation: ``products / (F I sum busy)``, in [0, 1].
        pe_idle_fraction: ``barrier_idle_cycles / (P compute_cycles)``, in [0, 1].
        halo_values: partial sums exchanged between neighbouring PEs.
        products: multiplier operations, ``sum ew ea`` (placeholders included).
        group_channels: ``K_c``.
        groups: ``G``.
        counts: action counts keyed ``"component.action"`` (:data:`COUNT_KEYS`), dimensionless integers.
        group_cycles: ``(G,)`` int64 cycles of each group.
        busy_cycles: ``(G, P)`` int64 busy cycles of PE ``p = i pe_cols + j`` in group ``g``.
        geometry: the layer's :class:`ScnnGeometry`.
        config: the simulated :class:`ScnnConfig`.
    """

    cycles: int
    compute_cycles: int
    dram_cycles: int
    stall_cycles: int
    barrier_idle_cycles: int
    multiplier_utilisation: float
    pe_idle_fraction: float
    halo_values: int
    products: int
    group_channels: int
    groups: int
    counts: dict[str, int]
    group_cycles: np.ndarray
    busy_cycles: np.ndarray
    geometry: ScnnGeometry
    config: ScnnConfig

    def time_us(self) -> float:
        """Latency in microseconds at the configured clock."""
        return self.cycles / self.config.clock_mhz


# --- input checks -----------------------------------------------------------------------------------
def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} must be an integer in [{low}, inf)")
    if value < low:
        raise ValueError(f"{name}={value!r} is outside [{low}, inf)")
    return int(value)


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    return float(value)


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}={value!r} must be a number in [0, 1]")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}={value!r} is outside [0, 1]")
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name}={value!r} must be True or False")
    return bool(value)


def _as_real(name: str, value: Any, ndim: int, layout: str) -> np.ndarray:
    """A real (bool, integer or floating) finite array of ``ndim`` dimensions, each at least 1 long."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} dtype={array.dtype} must be real (bool, integer or floating point)")
    if array.ndim != ndim:
        raise ValueError(f"{name} ndim={array.ndim} (shape {array.shape}) must be {ndim}: {layout}")
    if min(array.shape) < 1:
        raise ValueError(f"{name} shape={array.shape} must be at least 1 in every dimension {layout}")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(f"{name} contains {array[~finite].reshape(-1)[0]}; allowed: finite numbers")
    return array


def _check_layer(weights: Any, activations: Any, stride: Any, padding: Any) -> tuple[np.ndarray, np.ndarray, int, int]:
    w = _as_real("weights", weights, 4, "(K, C, R, S)")
    a = _as_real("activations", activations, 3, "(C, H, W)")
    if w.shape[1] != a.shape[0]:
        raise ValueError(
            f"weights input channels C={w.shape[1]} (shape {w.shape}) must equal the activations channels "
            f"{a.shape[0]} (shape {a.shape})"
        )
    stride = _check_int("stride", stride, 1)
    padding = _check_int("padding", padding, 0)
    return w, a, stride, padding


def output_shape(
    weight_shape: tuple[int, ...], activation_shape: tuple[int, ...], stride: int, padding: int
) -> tuple[int, int]:
    """``(Ho, Wo) = ((H + 2p - R) // u + 1, (W + 2p - S) // u + 1)``; raises ValueError if either is below 1."""
    _, _, r, s = weight_shape
    _, h, w = activation_shape
    out_h = (h + 2 * padding - r) // stride + 1
    out_w = (w + 2 * padding - s) // stride + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"output plane Ho x Wo={out_h} x {out_w} must be at least 1 x 1: kernel R x S={r} x {s} does not fit "
            f"the padded input {h + 2 * padding} x {w + 2 * padding} (H x W={h} x {w}, padding={padding}, "
            f"stride={stride})"
        )
    return out_h, out_w


_INT_FIELDS = tuple(f for f in ScnnConfig._fields if type(ScnnConfig._field_defaults[f]) is int)


def _check_config_ints(config: Any, names: tuple[str, ...]) -> None:
    for name in names:
        _check_int(f"config.{name}", getattr(config, name), 1)


def _check_config(config: Any) -> ScnnConfig:
    if not isinstance(config, ScnnConfig):
        raise ValueError(f"config={config!r} must be an ScnnConfig")
    for name in ("clock_mhz", "dram_bytes_per_cycle"):
        _check_positive(f"config.{name}", getattr(config, name))
    for name in ("sparse_weights", "sparse_activations"):
        _check_bool(f"config.{name}", getattr(config, name))
    _check_config_ints(config, _INT_FIELDS)
    return config


# --- Steps 1-3: polyphase decomposition, tiling, groups ---------------------------------------------
def polyphase(weights: np.ndarray, activations: np.ndarray, stride: int, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact stride-1 rewrite of a strided, padded layer (Step 1 of the module docstring).

    Args:
        weights: ``(K, C, R, S)``.
        activations: ``(C, H, W)`` before padding.
        stride: ``u >= 1``.
        padding: ``p >= 0`` zeros on every side.

    Returns:
        ``(W', A')``: ``(K, C u^2, ceil(R/u), ceil(S/u))`` and ``(C u^2, ceil(Hp/u), ceil(Wp/u))``, same dtypes as
        the inputs, with channel ``c' = c u^2 + a u + b`` for phase ``(a, b)``. ``out[k, y, x] =
        sum W'[k, c', r', s'] A'[c', y + r', x + s']`` equals the strided convolution for ``y < Ho``, ``x < Wo``.
    """
    w, a, u, p = _check_layer(weights, activations, stride, padding)
    k, c, r, s = w.shape
    _, h, wd = a.shape
    hp, wp = h + 2 * p, wd + 2 * p
    ph, pw, pr, ps = -(-hp // u), -(-wp // u), -(-r // u), -(-s // u)
    a_pad = np.zeros((c, ph * u, pw * u), dtype=a.dtype)
    a_pad[:, p : p + h, p : p + wd] = a
    a2 = a_pad.reshape(c, ph, u, pw, u).transpose(0, 2, 4, 1, 3).reshape(c * u * u, ph, pw)
    w_pad = np.zeros((k, c, pr * u, ps * u), dtype=w.dtype)
    w_pad[:, :, :r, :s] = w
    w2 = w_pad.reshape(k, c, pr, u, ps, u).transpose(0, 1, 3, 5, 2, 4).reshape(k, c * u * u, pr, ps)
    return w2, a2


def _geometry(weight_shape: tuple[int, ...], activation_shape: tuple[int, ...], u: int, p: int, cfg: ScnnConfig):
    k, c, r, s = (int(v) for v in weight_shape)
    _, h, w = (int(v) for v in activation_shape)
    out_h, out_w = output_shape((k, c, r, s), (c, h, w), u, p)
    plane_h, plane_w = -(-(h + 2 * p) // u), -(-(w + 2 * p) // u)
    kernel_h, kernel_w = -(-r // u), -(-s // u)
    tile_h, tile_w = -(-plane_h // cfg.pe_rows), -(-plane_w // cfg.pe_cols)
    ext_h, ext_w = tile_h + kernel_h - 1, tile_w + kernel_w - 1
    kc = max(1, min(k, cfg.max_group_channels, (cfg.banks * cfg.bank_entries) // (ext_h * ext_w)))
    rows = tuple(max(0, min((i + 1) * tile_h, plane_h) - i * tile_h) for i in range(cfg.pe_rows))
    cols = tuple(max(0, min((j + 1) * tile_w, plane_w) - j * tile_w) for j in range(cfg.pe_cols))
    return ScnnGeometry(
        k, c, u, p, out_h, out_w, c * u * u, plane_h, plane_w, kernel_h, kernel_w, tile_h, tile_w,
        ext_h, ext_w, kc, -(-k // kc), rows, cols,
    )  # fmt: skip


def geometry(
    weight_shape: tuple[int, ...],
    activation_shape: tuple[int, ...],
    stride: int = 1,
    padding: int = 0,
    config: ScnnConfig = SCNN,
) -> ScnnGeometry:
    """The polyphase shapes, PE tiles and output-channel groups of a layer (Steps 1-3, no simulation).

    Args:
        weight_shape: ``(K, C, R, S)``.
        activation_shape: ``(C, H, W)``.
    """
    cfg = _check_config(config)
    stride = _check_int("stride", stride, 1)
    padding = _check_int("padding", padding, 0)
    weight_shape, activation_shape = tuple(weight_shape), tuple(activation_shape)
    if len(weight_shape) != 4 or len(activation_shape) != 3:
        raise ValueError(
            f"weight_shape={weight_shape} must be (K, C, R, S), activation_shape={activation_shape} (C, H, W)"
        )
    for name, shape in (("weight_shape", weight_shape), ("activation_shape", activation_shape)):
        for v in shape:
            _check_int(name, v, 1)
    if weight_shape[1] != activation_shape[0]:
        raise ValueError(f"weight_shape C={weight_shape[1]} must equal activation_shape C={activation_shape[0]}")
    return _geometry(weight_shape, activation_shape, stride, padding, cfg)


# --- Step 4: run-length entries ---------------------------------------------------------------------
def run_length_entries(
    block: np.ndarray, pos: np.ndarray, n_blocks: int, index_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of run-length encoded blocks (nonzeros plus placeholders), vectorised over all nonzeros.

    A run of ``z`` zeros before a nonzero costs ``floor(z / 2**index_bits)`` placeholders, the ``m``-th at
    ``m 2**index_bits`` positions after the previous entry (position ``-1`` before the first), as
    :func:`archsim.eie.encode_column` places its fillers; zeros after the last nonzero cost nothing.

    Args:
        block: ``(n,)`` int64 block of each nonzero.
        pos: ``(n,)`` int64 position of each nonzero in its flattened block; ``(block, pos)`` sorted.
        n_blocks: number of blocks.
        index_bits: zero-run index width ``b``.

    Returns:
        ``(entries, placeholder_block, placeholder_pos)``: ``(n_blocks,)`` int64 entries per block and the block
        and position of every placeholder.
    """
    block = np.asarray(block, dtype=np.int64)
    pos = np.asarray(pos, dtype=np.int64)
    prev = np.full(pos.size, -1, dtype=np.int64)
    if pos.size > 1:
        same = block[1:] == block[:-1]
        prev[1:] = np.where(same, pos[:-1], -1)
    n_ph = (pos - prev - 1) >> index_bits
    ph_block = np.repeat(block, n_ph)
    start = np.cumsum(n_ph) - n_ph
    m = np.arange(ph_block.size, dtype=np.int64) - np.repeat(start, n_ph) + 1
    ph_pos = np.repeat(prev, n_ph) + (m << index_bits)
    entries = np.bincount(block, minlength=n_blocks) + np.bincount(ph_block, minlength=n_blocks)
    return entries.astype(np.int64), ph_block, ph_pos


def _weight_part(q: np.ndarray, geo: ScnnGeometry) -> np.ndarray:
    """Weight part of the bank index of block position ``q = (kl R' + r') S' + s'``."""
    kl, rest = np.divmod(q, geo.kernel_h * geo.kernel_w)
    r, s = np.divmod(rest, geo.kernel_w)
    return kl * channel_stride(geo) + (geo.kernel_h - 1 - r) * geo.ext_w + (geo.kernel_w - 1 - s)


def channel_stride(geo: ScnnGeometry) -> int:
    """Bank offset between consecutive output channels: the extended region's size, made odd (``| 1``)."""
    return (geo.ext_h * geo.ext_w) | 1


def _weight_blocks(w2: np.ndarray, geo: ScnnGeometry, cfg: ScnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(ew, hw)``: ``(G, C')`` entries and ``(G, C', A)`` bank histogram of the weight part of the address."""
    k, c2, pr, ps = w2.shape
    kc, g, banks = geo.group_channels, geo.groups, cfg.banks
    if cfg.sparse_weights:
        padded = np.zeros((g * kc, c2, pr, ps), dtype=bool)
        padded[:k] = w2 != 0
        blocks = padded.reshape(g, kc, c2, pr * ps).transpose(0, 2, 1, 3).reshape(g * c2, kc * pr * ps)
        blk, q = np.nonzero(blocks)
        entries, ph_blk, ph_q = run_length_entries(blk, q, g * c2, cfg.index_bits)
        blk, part = np.concatenate([blk, ph_blk]), _weight_part(np.concatenate([q, ph_q]), geo)
        hist = np.bincount(blk * banks + part % banks, minlength=g * c2 * banks)
        return entries.reshape(g, c2), hist.reshape(g, c2, banks)
    # Dense weights: every position is an entry, one histogram per group, the same for every channel.
    part = _weight_part(np.arange(kc * pr * ps, dtype=np.int64), geo) % banks
    sizes = np.minimum(kc, k - kc * np.arange(g)) * pr * ps  # K_g R' S'
    hist = np.stack([np.bincount(part[:n], minlength=banks) for n in sizes])
    return np.repeat(sizes[:, None], c2, axis=1), np.repeat(hist[:, None, :], c2, axis=1)


def _activation_tiles(a2: np.ndarray, geo: ScnnGeometry, cfg: ScnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(ea, ha)``: ``(C', P)`` entries and ``(C', P, A)`` bank histogram of the activation part."""
    c2 = a2.shape[0]
    rows, cols = cfg.pe_rows, cfg.pe_cols
    th, tw, banks, pes = geo.tile_h, geo.tile_w, cfg.banks, cfg.pes
    col_sizes = np.asarray(geo.col_sizes, dtype=np.int64)
    row_sizes = np.asarray(geo.row_sizes, dtype=np.int64)
    if cfg.sparse_activations:
        padded = np.zeros((c2, rows * th, cols * tw), dtype=bool)
        padded[:, : geo.plane_h, : geo.plane_w] = a2 != 0
        tiles = padded.reshape(c2, rows, th, cols, tw).transpose(0, 1, 3, 2, 4)
        c, i, j, yl, xl = (v.astype(np.int64) for v in np.nonzero(tiles))
        blk = (c * rows + i) * cols + j
        entries, ph_blk, ph_q = run_length_entries(blk, yl * col_sizes[j] + xl, c2 * pes, cfg.index_bits)
        ph_yl, ph_xl = np.divmod(ph_q, col_sizes[ph_blk % cols])
        blk = np.concatenate([blk, ph_blk])
        part = np.concatenate([yl, ph_yl]) * geo.ext_w + np.concatenate([xl, ph_xl])
        hist = np.bincount(blk * banks + part % banks, minlength=c2 * pes * banks).reshape(c2, pes, banks)
        return entries.reshape(c2, pes), hist
    yl, xl = np.meshgrid(np.arange(th), np.arange(tw), indexing="ij")
    part = (yl * geo.ext_w + xl) % banks
    hist_pe = np.zeros((pes, banks), dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            hist_pe[i * cols + j] = np.bincount(part[: row_sizes[i], : col_sizes[j]].reshape(-1), minlength=banks)
    sizes = (row_sizes[:, None] * col_sizes[None, :]).reshape(-1)
    return np.broadcast_to(sizes, (c2, pes)).copy(), np.broadcast_to(hist_pe, (c2, pes, banks)).copy()


# --- Steps 5-6: Cartesian product, bank conflicts, barriers -----------------------------------------
def _block_cycles(
    ew: np.ndarray, hw: np.ndarray, ea: np.ndarray, ha: np.ndarray, cfg: ScnnConfig
) -> tuple[np.ndarray, int, int]:
    """``(busy, stall_cycles, mult_cycles)``: ``(G, P)`` busy cycles, summed stalls and multiplier cycles.

    Bank loads ``load[g, c', p, b] = sum_m hw[g, c', m] ha[c', p, (b - m) mod A]``: per input channel and PE, a
    product of the ``(G, A)`` weight histograms with the ``(A, A)`` circulant of the PE's activation histogram
    (float32 or float64, exact: every partial sum is an integer below ``2**24`` or ``2**53``). The products are
    kept small (at most 64 rows) so that BLAS runs each on one thread, which stays fast on a busy machine.
    """
    g, c2, banks = hw.shape
    pes = ea.shape[1]
    wv = -(-ew // cfg.F)  # (G, C') F-vectors
    av = -(-ea // cfg.I)  # (C', P) I-vectors
    bound = int(ew.max(initial=0)) * int(ea.max(initial=0))
    if bound >= 2**53:
        raise ValueError(f"a block has up to {bound} products; allowed: below 2**53 (exact float64 bank loads)")
    dtype = np.float32 if bound < 2**24 else np.float64
    m = np.arange(banks)
    shift = (m[None, :] - m[:, None]) % banks  # [m, b] = (b - m) mod A
    hw_c = np.ascontiguousarray(hw.transpose(1, 0, 2)).astype(dtype)  # (C', G, A)
    ha = ha.astype(dtype)
    rows = 64
    busy = np.zeros((g, pes), dtype=np.int64)
    stall = 0
    mult_total = 0
    chunk = max(1, 2**22 // (pes * banks * max(banks, min(g, rows))))
    for c0 in range(0, c2, chunk):
        c1 = min(c2, c0 + chunk)
        circ = ha[c0:c1][:, :, shift]  # (ch, P, A_m, A_b) = ha[c', p, (b - m) mod A]
        peak = np.empty((c1 - c0, g, pes), dtype=np.int64)
        for g0 in range(0, g, rows):
            g1 = min(g, g0 + rows)
            loads = np.matmul(hw_c[c0:c1, None, g0:g1], circ)  # (ch, P, g1 - g0, A_b)
            peak[:, g0:g1] = loads.max(axis=3).transpose(0, 2, 1)
        mult = wv[:, c0:c1].T[:, :, None] * av[c0:c1][:, None, :]  # (ch, G, P)
        block = np.maximum(mult, peak)
        busy += block.sum(axis=0)
        stall += int((block - mult).sum())
        mult_total += int(mult.sum())
    return busy, stall, mult_total


def _halo_per_channel(geo: ScnnGeometry, cfg: ScnnConfig) -> int:
    """Valid outputs in every PE's extended region that the PE does not own, summed over PEs (one channel)."""

    def extents(n_pe: int, tile: int, kernel: int, out: int) -> tuple[np.ndarray, np.ndarray]:
        lo = np.arange(n_pe) * tile
        ext = np.maximum(0, np.minimum(lo + tile, out) - np.maximum(lo - (kernel - 1), 0))
        own = np.maximum(0, np.minimum(lo + tile, out) - lo)
        return ext, own

    ext_y, own_y = extents(cfg.pe_rows, geo.tile_h, geo.kernel_h, geo.out_h)
    ext_x, own_x = extents(cfg.pe_cols, geo.tile_w, geo.kernel_w, geo.out_w)
    return int((np.outer(ext_y, ext_x) - np.outer(own_y, own_x)).sum())


def dram_cycles(bits: int, bytes_per_cycle: float) -> int:
    """``ceil(bits / (8 bytes_per_cycle))`` computed exactly (the float bandwidth taken at its exact value)."""
    return math.ceil(Fraction(int(bits)) / (8 * Fraction(bytes_per_cycle)))


def simulate(
    weights: np.ndarray,
    activations: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    config: ScnnConfig = SCNN,
    output_density: float = 1.0,
) -> ScnnResult:
    """Simulate one convolution layer on SCNN (module docstring for the rules), exact integers.

    Vectorised: run-length entries by one sort-free pass over the nonzeros, bank loads as circulant matrix
    products; loops only over chunks of input channels.

    Args:
        weights: ``(K, C, R, S)`` real array (zeros are pruned weights).
        activations: ``(C, H, W)`` real array before padding (zeros are skipped).
        stride: ``u >= 1``.
        padding: ``p >= 0`` zeros on every side.
        config: the design point (default Table 3, :data:`SCNN`; :data:`SCNN_SPARSE_W`, :data:`SCNN_SPARSE_A`).
        output_density: fraction of the ``K Ho Wo`` outputs that are nonzero after ReLU, in [0, 1] (sets
            ``oaram.write`` and the output DRAM traffic).

    Raises:
        ValueError: naming the field, its value and what is allowed, for bad input.
    """
    cfg = _check_config(config)
    w, a, u, p = _check_layer(weights, activations, stride, padding)
    density = _check_fraction("output_density", output_density)
    geo = _geometry(w.shape, a.shape, u, p, cfg)
    w2, a2 = polyphase(w != 0, a != 0, u, p)
    ew, hw = _weight_blocks(w2, geo, cfg)
    ea, ha = _activation_tiles(a2, geo, cfg)
    busy, stall, mult_total = _block_cycles(ew, hw, ea, ha, cfg)

    pes = cfg.pes
    group_cycles = busy.max(axis=1)
    compute = int(group_cycles.sum())
    busy_total = int(busy.sum())
    barrier_idle = int(group_cycles.sum() * pes - busy_total)
    products = int((ew.sum(axis=0) * ea.sum(axis=1)).sum())
    halo = geo.K * _halo_per_channel(geo, cfg)
    outputs = geo.K * geo.out_h * geo.out_w
    nonzero_outputs = round(outputs * density)
    entry_bits = cfg.value_bits + cfg.index_bits
    read_bits = int(ew.sum()) * entry_bits
    input_bits = int(ea.sum()) * entry_bits
    if input_bits > pes * cfg.iaram_bytes * 8:
        read_bits += input_bits
    output_bits = nonzero_outputs * entry_bits
    write_bits = output_bits if output_bits > pes * cfg.oaram_bytes * 8 else 0
    dram = dram_cycles(read_bits + write_bits, cfg.dram_bytes_per_cycle)
    counts = {
        "multiplier.multiply": products,
        "crossbar.transfer": products,
        "accumulator.update": products + halo,
        "accumulator.read": halo + outputs,
        "halo.transfer": halo,
        "weight_fifo.write": int((-(-ew // cfg.F)).sum()) * pes,
        "weight_fifo.read": mult_total,
        "iaram.read": geo.groups * int((-(-ea // cfg.I)).sum()),
        "oaram.write": nonzero_outputs,
        "ppu.relu": outputs,
        "dram.read_bit": read_bits,
        "dram.write_bit": write_bits,
    }
    return ScnnResult(
        cycles=max(compute, dram),
        compute_cycles=compute,
        dram_cycles=dram,
        stall_cycles=stall,
        barrier_idle_cycles=barrier_idle,
        multiplier_utilisation=products / (cfg.F * cfg.I * busy_total) if busy_total else 0.0,
        pe_idle_fraction=barrier_idle / (pes * compute) if compute else 0.0,
        halo_values=halo,
        products=products,
        group_channels=geo.group_channels,
        groups=geo.groups,
        counts=counts,
        group_cycles=group_cycles,
        busy_cycles=busy,
        geometry=geo,
        config=cfg,
    )


# --- random benchmark layers ------------------------------------------------------------------------
def random_layer(
    weight_shape: tuple[int, int, int, int],
    activation_shape: tuple[int, int, int],
    weight_density: float,
    activation_density: float,
    seed: int = SCNN_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """A random layer with exactly ``round(density * size)`` nonzeros in each tensor.

    The nonzero positions are a uniform random subset (without replacement) of each tensor; weights take
    nonzero integer values in -7..8, activations positive integers in 1..15 (post-ReLU). The numpy Generator is
    seeded with ``seed``, the shapes and the densities, so a layer does not depend on which others are built.

    Args:
        weight_shape: ``(K, C, R, S)``.
        activation_shape: ``(C, H, W)``.
        weight_density, activation_density: fractions of nonzeros in [0, 1].
        seed: base seed (default :data:`SCNN_SEED`).

    Returns:
        ``(weights, activations)``, float64 arrays of the given shapes.
    """
    weight_shape = tuple(_check_int("weight_shape", v, 1) for v in weight_shape)
    activation_shape = tuple(_check_int("activation_shape", v, 1) for v in activation_shape)
    if len(weight_shape) != 4 or len(activation_shape) != 3:
        raise ValueError(
            f"weight_shape={weight_shape} must be (K, C, R, S), activation_shape={activation_shape} (C, H, W)"
        )
    wd = _check_fraction("weight_density", weight_density)
    ad = _check_fraction("activation_density", activation_density)
    key = [_check_int("seed", seed, 0), *weight_shape, *activation_shape, round(wd * 1e6), round(ad * 1e6)]
    rng = np.random.default_rng(key)
    weights = np.zeros(math.prod(weight_shape), dtype=np.float64)
    idx = _uniform_subset(weights.size, round(wd * weights.size), rng)
    weights[idx] = rng.choice(_NONZERO_WEIGHT_VALUES, size=idx.size)
    acts = np.zeros(math.prod(activation_shape), dtype=np.float64)
    idx = _uniform_subset(acts.size, round(ad * acts.size), rng)
    acts[idx] = rng.integers(1, 16, size=idx.size)
    return weights.reshape(weight_shape), acts.reshape(activation_shape)
