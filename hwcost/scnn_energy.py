"""Per-access energies of SCNN and its dense baselines DCNN / DCNN-opt at 16 nm (Parashar et al., ISCA'17).

The paper publishes no per-access energies (papers.md SCNN-4: its energies come from an energy model applied
to synthesis-derived events). This module states the one rule both :mod:`hwcost.scnn` and :mod:`hwcost.dcnn`
price with, so that their ratios (Fig. 11) compare like with like:

* **Storage** (SRAMs, register files, FIFOs, accumulator banks): the 45 nm table of :mod:`hwcost.tech` at the
  structure's capacity and access width, scaled to 16 nm by :data:`TECH_SCALE_16NM` (C V^2: capacitance with
  the feature size, 0.9 V -> 0.8 V).
* **Wires** (scatter crossbar, halo links): 0.08 pJ/bit/mm (papers.md CG-OoO additions, 22 nm, unscaled) at
  activity factor :data:`WIRE_ACTIVITY` 0.5 (the same source: "all wires at activity factor 0.5"), over
  distances from SCNN Table 4's areas: a product crosses the 0.026 mm^2 crossbar (twice its side), a halo
  value the 0.123 mm^2 PE (one side).
* **DRAM**: 20 pJ/bit (EIE Table I, LPDDR2), unscaled.
* **Arithmetic** (multiplies, adds, ReLU): the 45 nm power-law fits of :mod:`hwcost.tech` scaled to 16 nm and
  multiplied by :data:`ARITHMETIC_CALIBRATION`. That factor is the one number fitted to the paper: the least
  squares value, in log space, over the 27 per-layer (per-module for GoogLeNet) energies of DCNN-opt and SCNN
  relative to DCNN in Fig. 11 (papers.md SCNN-10), with counts from the hard models at the Fig. 1 densities
  (``benchmarks/scnn_energy_calibration.py``, result ``benchmarks/results/scnn_energy_calibration.json``).
  Bare arithmetic units are what the 45 nm table prices; a synthesised 16-bit multiply-accumulate datapath
  also clocks its operand and pipeline registers, which the fit folds into the arithmetic. The network
  means, the dense-density point (Sec. 6.1: SCNN 33% above the dense designs) and Table 6's SparseW /
  SparseA ratios are not fitted; the calibration report gives them as checks.
"""

from __future__ import annotations

from hwcost import tech

TECH_SCALE_16NM = (16.0 / 45.0) * (0.8 / 0.9) ** 2
"""45 nm -> 16 nm rule for on-chip energies, C V^2: capacitance with the feature size, 0.9 V -> 0.8 V (0.281)."""
WIRE_PJ_PER_BIT_MM = 0.08  # papers.md CG-OoO additions: 0.08 pJ/bit/mm (22 nm), used unscaled
WIRE_ACTIVITY = 0.5  # papers.md CG-OoO additions: "all wires at activity factor 0.5"
PE_SIDE_MM = 0.123**0.5  # SCNN Table 4: 0.123 mm^2 per PE -> 0.35 mm between neighbouring PEs
CROSSBAR_SIDE_MM = 0.026**0.5  # SCNN Table 4: 16 x 32 scatter crossbar, 0.026 mm^2
ARITHMETIC_CALIBRATION = 4.46
"""Arithmetic energy relative to the scaled 45 nm fits, fitted to SCNN Fig. 11 (module docstring)."""

ENTRY_BITS = 16 + 4  # SCNN Table 3: a stored 16-bit value and its 4-bit zero-run index
ACCUMULATOR_BITS = 24  # SCNN Table 3
_BANK_BYTES = 32 * ACCUMULATOR_BITS / 8  # SCNN Table 3: one accumulator bank, 32 entries of 24 bit
_SCNN_ARAM_BYTES = 10240.0  # SCNN Table 3: 10 KB IARAM, 10 KB OARAM per PE
_DCNN_SRAM_PER_PE_BYTES = 2.0 * 1024 * 1024 / 64.0  # SCNN Table 5: 2 MB over 64 PEs


def _storage(pj_45nm: object) -> float:
    return float(pj_45nm) * TECH_SCALE_16NM  # type: ignore[arg-type]


def _sram(capacity_bytes: float, width_bits: float) -> float:
    return _storage(tech.sram_access_pj(capacity_bytes, width_bits))


def _wire(bits: float, mm: float) -> float:
    return bits * mm * WIRE_PJ_PER_BIT_MM * WIRE_ACTIVITY


def _arithmetic(pj_45nm: object, calibration: float) -> float:
    return _storage(pj_45nm) * calibration


def scnn_energies(arithmetic_calibration: float = ARITHMETIC_CALIBRATION) -> dict[str, float]:
    """Energy fields of :class:`hwcost.scnn.ScnnHardware`, pJ per access (DRAM per bit).

    Args:
        arithmetic_calibration: factor on the scaled 45 nm arithmetic energies (default: the fitted value).
    """
    a = arithmetic_calibration
    fifo_vector = _storage(tech.register_file_access_pj(4 * ENTRY_BITS))
    return {
        "multiply_pj": _arithmetic(tech.int_mult_pj(16), a),
        "crossbar_pj": _wire(ACCUMULATOR_BITS, 2.0 * CROSSBAR_SIDE_MM),
        "accumulator_update_pj": _arithmetic(tech.int_add_pj(ACCUMULATOR_BITS), a)
        + 2.0 * _sram(_BANK_BYTES, ACCUMULATOR_BITS),
        "accumulator_read_pj": _sram(_BANK_BYTES, ACCUMULATOR_BITS),
        "halo_pj": _wire(ACCUMULATOR_BITS, PE_SIDE_MM),
        "weight_fifo_write_pj": fifo_vector,
        "weight_fifo_read_pj": fifo_vector,
        "iaram_read_pj": _sram(_SCNN_ARAM_BYTES, 4 * ENTRY_BITS),
        "oaram_write_pj": _sram(_SCNN_ARAM_BYTES, ENTRY_BITS),
        "relu_pj": _arithmetic(tech.int_add_pj(16), a),
        "dram_pj_per_bit": tech.DRAM_PJ_PER_BIT,
    }


def dcnn_energies(arithmetic_calibration: float = ARITHMETIC_CALIBRATION) -> dict[str, float]:
    """Energy fields of :class:`hwcost.dcnn.DcnnHardware`, pJ per access (DRAM per bit): the 4 x 4 x 16-bit
    weight block from a register file, 64-bit activation reads and 16-bit writes in a PE's 32 KB share of
    the 2 MB SRAM, a 24-bit register-file accumulator.

    Args:
        arithmetic_calibration: factor on the scaled 45 nm arithmetic energies (default: the fitted value).
    """
    a = arithmetic_calibration
    return {
        "multiply_pj": _arithmetic(tech.int_mult_pj(16), a),
        "add_pj": _arithmetic(tech.int_add_pj(ACCUMULATOR_BITS), a),
        "weight_read_pj": _storage(tech.register_file_access_pj(256)),
        "activation_read_pj": _sram(_DCNN_SRAM_PER_PE_BYTES, 64),
        "accumulator_update_pj": _arithmetic(tech.int_add_pj(ACCUMULATOR_BITS), a)
        + 2.0 * _storage(tech.register_file_access_pj(ACCUMULATOR_BITS)),
        "sram_write_pj": _sram(_DCNN_SRAM_PER_PE_BYTES, 16),
        "dram_pj_per_bit": tech.DRAM_PJ_PER_BIT,
    }
