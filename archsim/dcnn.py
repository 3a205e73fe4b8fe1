"""Reference model of the dense baselines DCNN and DCNN-opt of SCNN (Parashar et al., ISCA'17, arXiv 1708.04485,
Table 5 and Sec. 5-6), numpy only, exact integers.

DCNN is a planar-tiled, input-stationary, dot-product dense accelerator (PT-IS-DP-dense) with the multipliers of
SCNN (Table 5); DCNN-opt adds multiplier gating on zero operands and compressed DRAM transfers and runs exactly as
fast as DCNN (Sec. 5, footnote 1). It imports nothing from ``hwcost``, ``compress`` or ``models``. The sparse
accelerator itself is :mod:`archsim.scnn`, whose input rules (shapes, stride, padding, output plane) this module
shares.

Semantics (every count follows these rules literally):

* Inputs: weights ``W`` ``(K, C, R, S)``, activations ``A`` ``(C, H, W)`` before padding, stride ``u >= 1``,
  padding ``p >= 0``; ``Ho = (H + 2p - R) // u + 1``, ``Wo`` likewise, both at least 1; ``A_p`` is ``A`` padded
  with ``p`` zeros on every side.
* Hardware (Table 5, :class:`DcnnConfig`): ``8 x 8`` PEs, each a dot-product unit of ``F = 4`` output channels x
  ``I = 4`` input channels (16 multipliers, 1024 in all), 2 MB activation SRAM, 1 GHz, 50 bytes per cycle DRAM.
* Output tiling: PE ``(i, j)`` owns output rows ``[i Hto, min((i+1) Hto, Ho))`` and columns
  ``[j Wto, min((j+1) Wto, Wo))``, ``Hto = ceil(Ho / pe_rows)``, ``Wto = ceil(Wo / pe_cols)``; no halos (a PE reads
  the input window it needs). Per cycle a PE computes, for one output position and one kernel tap ``(r, s)``,
  ``F`` output channels x ``I`` input channels. PE cycles = owned outputs x ``ceil(K/F) ceil(C/I) R S``;
  ``compute_cycles`` = the largest = ``Hto Wto ceil(K/F) ceil(C/I) R S`` (a PE with a partial tile idles at the
  end).
* Counts: DCNN ``multiplier.multiply = K C R S Ho Wo`` (every multiply, zeros included) and
  ``multiplier.gated = 0``; DCNN-opt gates a multiplier when either operand is zero: ``multiplier.multiply`` =
  the nonzero pairs, ``sum_{k,c,r,s} [W[k,c,r,s] != 0] x #{(y, x) : A_p[c, u y + r, u x + s] != 0}``, and
  ``multiplier.gated = K C R S Ho Wo -`` that. ``adder.add = K C R S Ho Wo`` for both (the adder tree is not
  gated). With ``T`` the sum of PE cycles over PEs: ``weight_buffer.read = T`` (one 256-bit ``F x I`` weight block
  per cycle), ``accumulator.update = F T``, ``sram.write = K Ho Wo`` (16-bit outputs). The channel padding of a
  partial ``F``/``I`` vector is counted in ``T`` but not in the multiplies, which count real channels only.
* Input stationary: a PE reads each 64-bit ``I``-vector of its input window once per input-channel group and holds
  it while it steps through the ``ceil(K/F)`` output-channel groups and the taps that vector meets; the window is
  the bounding box in the zero-bordered plane ``A_p`` (a dense design stores and streams the border), rows
  ``[u y0, u (y1 - 1) + R)`` for owned output rows ``[y0, y1)``. Summed over the PE rows that own outputs,
  ``ceil(Ho / Hto)`` of them, the window rows are ``u Ho + ceil(Ho / Hto) (R - u)``; so
  ``activation_sram.read = ceil(C/I) (u Ho + n_h (R - u)) (u Wo + n_w (S - u))``, ``n_h``, ``n_w`` the PE rows
  and columns that own outputs.
* DRAM: DCNN reads the weights dense, ``dram.read_bit = K C R S value_bits``; DCNN-opt reads them compressed,
  ``(sum_c entries of W[:, c, :, :] flattened in order (k, r, s)) (value_bits + index_bits)``, entries = nonzeros
  plus placeholders of the run-length format of :mod:`archsim.scnn` (a run of ``z`` zeros before a nonzero costs
  ``floor(z / 2**index_bits)``). The activations spill when ``(C H W + K Ho Wo) value_bits > 8 sram_bytes``: the
  input is then read once and the output written once, DCNN dense (``C H W value_bits`` and
  ``K Ho Wo value_bits`` bits), DCNN-opt compressed (the input's entries, each channel's unpadded ``H x W`` plane
  flattened row-major and run-length encoded, times ``value_bits + index_bits``; the output
  ``round(K Ho Wo output_density) (value_bits + index_bits)``). ``cycles = max(compute_cycles,
  ceil(DRAM bits / (8 dram_bytes_per_cycle)))``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from archsim.scnn import (
    _check_bool,
    _check_config_ints,
    _check_fraction,
    _check_layer,
    _check_positive,
    dram_cycles,
    output_shape,
    run_length_entries,
)

COUNT_KEYS = (
    "multiplier.multiply",
    "multiplier.gated",
    "adder.add",
    "weight_buffer.read",
    "activation_sram.read",
    "accumulator.update",
    "sram.write",
    "dram.read_bit",
    "dram.write_bit",
)
"""Keys of :attr:`DcnnResult.counts`, ``"component.action"``."""


class DcnnConfig(NamedTuple):
    """DCNN / DCNN-opt design point (Parashar et al., ISCA'17, Table 5).

    Attributes:
        pe_rows, pe_cols: PE array (8 x 8 = 64 PEs).
        F: output channels per dot-product cycle (4).
        I: input channels per dot-product cycle (4).
        sram_bytes: activation SRAM of the chip in bytes (2 MB).
        value_bits: bits per value (16).
        index_bits: zero-run index width of DCNN-opt's compressed DRAM transfers (4).
        clock_mhz: clock in MHz (1000).
        dram_bytes_per_cycle: DRAM bandwidth in bytes per cycle (50).
        optimized: False for DCNN, True for DCNN-opt (zero gating, compressed DRAM transfers).
    """

    pe_rows: int = 8
    pe_cols: int = 8
    F: int = 4
    I: int = 4  # noqa: E741 - the paper's name
    sram_bytes: int = 2 * 1024 * 1024
    value_bits: int = 16
    index_bits: int = 4
    clock_mhz: float = 1000.0
    dram_bytes_per_cycle: float = 50.0
    optimized: bool = False

    @property
    def pes(self) -> int:
        """Number of PEs ``pe_rows * pe_cols``."""
        return self.pe_rows * self.pe_cols


DCNN = DcnnConfig()
"""DCNN: dense, no gating (Table 5)."""
DCNN_OPT = DcnnConfig(optimized=True)
"""DCNN-opt: multiplier gating on zero operands, compressed DRAM transfers (Table 5)."""


class DcnnResult(NamedTuple):
    """Exact counts of one layer on DCNN / DCNN-opt (module docstring for every rule).

    Attributes:
        cycles: latency, ``max(compute_cycles, dram_cycles)``.
        compute_cycles: cycles of the busiest PE, ``Hto Wto ceil(K/F) ceil(C/I) R S``.
        dram_cycles: ``ceil(DRAM bits / (8 dram_bytes_per_cycle))``.
        pe_cycles: ``T``, PE cycles summed over PEs.
        spills: whether the layer's activations exceed the SRAM (input read from and output written to DRAM).
        out_h, out_w: output plane ``Ho x Wo``.
        counts: action counts keyed ``"component.action"`` (:data:`COUNT_KEYS`), dimensionless integers.
        config: the simulated :class:`DcnnConfig`.
    """

    cycles: int
    compute_cycles: int
    dram_cycles: int
    pe_cycles: int
    spills: bool
    out_h: int
    out_w: int
    counts: dict[str, int]
    config: DcnnConfig

    def time_us(self) -> float:
        """Latency in microseconds at the configured clock."""
        return self.cycles / self.config.clock_mhz


def _check_config(config: Any) -> DcnnConfig:
    if not isinstance(config, DcnnConfig):
        raise ValueError(f"config={config!r} must be a DcnnConfig")
    for name in ("clock_mhz", "dram_bytes_per_cycle"):
        _check_positive(f"config.{name}", getattr(config, name))
    _check_bool("config.optimized", config.optimized)
    _check_config_ints(config, ("pe_rows", "pe_cols", "F", "I", "sram_bytes", "value_bits", "index_bits"))
    return config


def nonzero_pairs(weights: np.ndarray, activations: np.ndarray, stride: int = 1, padding: int = 0) -> int:
    """Multiplies with both operands nonzero in the direct strided convolution (DCNN-opt's ungated multiplies).

    ``sum_{k,c,r,s} [W[k,c,r,s] != 0] x #{(y, x) in Ho x Wo : A_p[c, u y + r, u x + s] != 0}``.
    """
    w, a, u, p = _check_layer(weights, activations, stride, padding)
    _, c, r, s = w.shape
    out_h, out_w = output_shape(w.shape, a.shape, u, p)
    a_pad = np.zeros((c, a.shape[1] + 2 * p, a.shape[2] + 2 * p), dtype=bool)
    a_pad[:, p : p + a.shape[1], p : p + a.shape[2]] = a != 0
    live = np.zeros((c, r, s), dtype=np.int64)  # nonzero inputs under tap (r, s), per channel
    for dr in range(r):
        for ds in range(s):
            window = a_pad[:, dr : dr + u * (out_h - 1) + 1 : u, ds : ds + u * (out_w - 1) + 1 : u]
            live[:, dr, ds] = np.count_nonzero(window, axis=(1, 2))
    return int((np.count_nonzero(w, axis=0).astype(np.int64) * live).sum())


def _entries(mask: np.ndarray, index_bits: int) -> int:
    """Run-length entries (nonzeros + placeholders) of each row of a 2-D boolean array, summed."""
    blk, pos = np.nonzero(mask)
    return int(run_length_entries(blk, pos, mask.shape[0], index_bits)[0].sum())


def simulate(
    weights: np.ndarray,
    activations: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    config: DcnnConfig = DCNN,
    output_density: float = 1.0,
) -> DcnnResult:
    """Count one convolution layer on DCNN (``config.optimized=False``) or DCNN-opt (``True``), exact integers.

    Args:
        weights: ``(K, C, R, S)`` real array.
        activations: ``(C, H, W)`` real array before padding.
        stride: ``u >= 1``.
        padding: ``p >= 0`` zeros on every side.
        config: :data:`DCNN` (default) or :data:`DCNN_OPT`, or any :class:`DcnnConfig`.
        output_density: fraction of nonzero outputs in [0, 1] (DCNN-opt's compressed output spill).

    Raises:
        ValueError: naming the field, its value and what is allowed, for bad input.
    """
    cfg = _check_config(config)
    w, a, u, p = _check_layer(weights, activations, stride, padding)
    density = _check_fraction("output_density", output_density)
    k, c, r, s = w.shape
    _, h, wd = a.shape
    out_h, out_w = output_shape(w.shape, a.shape, u, p)
    tile_h, tile_w = -(-out_h // cfg.pe_rows), -(-out_w // cfg.pe_cols)
    per_output = -(-k // cfg.F) * -(-c // cfg.I) * r * s  # cycles per owned output position
    compute = tile_h * tile_w * per_output
    pe_cycles = out_h * out_w * per_output  # the PEs' owned outputs partition the plane
    window_rows = u * out_h + -(-out_h // tile_h) * (r - u)  # summed over the PE rows that own outputs
    window_cols = u * out_w + -(-out_w // tile_w) * (s - u)
    dense_macs = k * c * r * s * out_h * out_w
    multiplies = nonzero_pairs(w, a, u, p) if cfg.optimized else dense_macs
    outputs = k * out_h * out_w
    spills = (c * h * wd + outputs) * cfg.value_bits > 8 * cfg.sram_bytes
    entry_bits = cfg.value_bits + cfg.index_bits
    if cfg.optimized:
        read_bits = _entries(np.moveaxis(w != 0, 1, 0).reshape(c, -1), cfg.index_bits) * entry_bits
        if spills:
            read_bits += _entries((a != 0).reshape(c, -1), cfg.index_bits) * entry_bits
        write_bits = round(outputs * density) * entry_bits if spills else 0
    else:
        read_bits = k * c * r * s * cfg.value_bits + (c * h * wd * cfg.value_bits if spills else 0)
        write_bits = outputs * cfg.value_bits if spills else 0
    dram = dram_cycles(read_bits + write_bits, cfg.dram_bytes_per_cycle)
    counts = {
        "multiplier.multiply": multiplies,
        "multiplier.gated": dense_macs - multiplies,
        "adder.add": dense_macs,
        "weight_buffer.read": pe_cycles,
        "activation_sram.read": -(-c // cfg.I) * window_rows * window_cols,
        "accumulator.update": cfg.F * pe_cycles,
        "sram.write": outputs,
        "dram.read_bit": read_bits,
        "dram.write_bit": write_bits,
    }
    return DcnnResult(
        cycles=max(compute, dram),
        compute_cycles=compute,
        dram_cycles=dram,
        pe_cycles=pe_cycles,
        spills=bool(spills),
        out_h=out_h,
        out_w=out_w,
        counts=counts,
        config=cfg,
    )
