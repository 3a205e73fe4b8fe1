"""45 nm technology energy table (Horowitz, ISSCC 2014, as used by EIE Table I) and its smooth fits.

Every constant carries its source and a provenance label from ``shared/reference/papers.md`` sec. 11:
``V-P`` read from the paper's own text, ``V-S`` from a secondary source restating it, ``recalled``
for values not checked against a primary text (used only as fit points, never as test targets).

All functions are pure functions of ``jnp`` values, differentiable in their arguments, and accept
arrays of any shape (broadcasting). Energies are pJ per operation or per access.

Fits (documented here once, checked in ``tests/hwcost/test_tech.py``):

* **Arithmetic vs. bit width**: a power law ``E(b) = E32 * (b / 32) ** alpha`` through the two published
  points of each operation (one at 32 bit, one at 8 or 16 bit). The exponents come out ~0.87 for the
  integer adder (ripple/prefix adders are ~linear in bits) and ~1.98 for the integer multiplier
  (array multipliers are ~quadratic); floating point sits in between (1.17 add, 1.75 mult).
* **SRAM access vs. capacity and width**: ``E(C, w) = E_ref * (w / 64) * (C / 8 KiB) ** beta`` anchored at
  the V-S point (8 KiB, 64-bit access, 10 pJ); energy per bit is constant in the access width at a given
  capacity (the bit lines of a wider word are in parallel), and grows as a power of capacity (longer word
  and bit lines; ``beta = 1/2`` would be pure wire length ~ sqrt(area)). ``beta`` is the least-squares
  slope in log-log space through the anchor over the two recalled points (32 KiB: 20 pJ, 1 MiB: 100 pJ),
  giving ``beta = 0.476``. At (8 KiB, 32 bit) it returns exactly EIE Table I's 5 pJ "32 bit SRAM" entry,
  which papers.md notes is half an 8 KB 64-bit access rather than the slide's 32 KB figure.
* **DRAM**: a constant energy per bit, 640 pJ / 32 bit = 20 pJ/bit (EIE Table I, LPDDR2).
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from hwcost.types import Array, Scalar

# --- EIE Table I (Horowitz 45 nm, 0.9 V), V-P: "Energy table for 45nm CMOS process [9]" ------------------
INT_ADD_32_PJ = 0.1  # EIE Table I, 45 nm, V-P: 32 bit int ADD
FLOAT_ADD_32_PJ = 0.9  # EIE Table I, 45 nm, V-P: 32 bit float ADD
INT_MULT_32_PJ = 3.1  # EIE Table I, 45 nm, V-P: 32 bit int MULT
FLOAT_MULT_32_PJ = 3.7  # EIE Table I, 45 nm, V-P: 32 bit float MULT
SRAM_32BIT_ACCESS_PJ = 5.0  # EIE Table I, 45 nm, V-P: 32 bit SRAM ("32KB") access
DRAM_32BIT_ACCESS_PJ = 640.0  # EIE Table I, 45 nm, V-P: 32 bit DRAM (LPDDR2, off-chip) access

# --- Han et al. NIPS'15 Fig. 1 (same Horowitz table), V-S ------------------------------------------------
REGISTER_FILE_32BIT_ACCESS_PJ = 1.0  # Han et al. NIPS'15 Fig. 1, 45 nm, V-S: 32 bit register file

# --- Horowitz ISSCC'14 slide points at other widths, V-S (papers.md sec. 11) -----------------------------
INT_ADD_8_PJ = 0.03  # Horowitz 45 nm, V-S (stillwater-sc/universal generic_45nm.hpp): 8 bit int add
INT_MULT_8_PJ = 0.2  # Horowitz 45 nm, V-S: 8 bit int mult
FLOAT_ADD_16_PJ = 0.4  # Horowitz 45 nm, V-S: 16 bit fp add
FLOAT_MULT_16_PJ = 1.1  # Horowitz 45 nm, V-S: 16 bit fp mult
SRAM_8KIB_64BIT_ACCESS_PJ = 10.0  # Horowitz 45 nm, V-S (PMC table): 8 KB cache, 64-bit access
SRAM_32KIB_64BIT_ACCESS_PJ = 20.0  # Horowitz 45 nm, recalled, unverified: 32 KB cache, 64-bit (fit point)
SRAM_1MIB_64BIT_ACCESS_PJ = 100.0  # Horowitz 45 nm, recalled, unverified: 1 MB cache, 64-bit (fit point)

# --- Derived (V-D) -------------------------------------------------------------------------------------
DRAM_PJ_PER_BIT = DRAM_32BIT_ACCESS_PJ / 32.0  # V-D from EIE Table I: 20 pJ/bit
SRAM_PJ_PER_BIT = SRAM_32BIT_ACCESS_PJ / 32.0  # V-D from EIE Table I: 0.15625 pJ/bit
REGISTER_FILE_PJ_PER_BIT = REGISTER_FILE_32BIT_ACCESS_PJ / 32.0  # V-D from Han NIPS'15 Fig. 1
DRAM_TO_SRAM_RATIO = DRAM_32BIT_ACCESS_PJ / SRAM_32BIT_ACCESS_PJ  # EIE Sec. I: "128x more than SRAM"

SRAM_REF_CAPACITY_BYTES = 8192.0  # anchor of the SRAM fit (the V-S 8 KB point)
SRAM_REF_WIDTH_BITS = 64.0  # anchor of the SRAM fit (the V-S 64-bit access)


def _power_law_exponent(e_low: float, bits_low: float, e_high: float, bits_high: float) -> float:
    return math.log(e_high / e_low) / math.log(bits_high / bits_low)


def _sram_capacity_exponent() -> float:
    """Least-squares log-log slope through the 8 KiB anchor over the 32 KiB and 1 MiB points."""
    points = ((32768.0, SRAM_32KIB_64BIT_ACCESS_PJ), (1048576.0, SRAM_1MIB_64BIT_ACCESS_PJ))
    xs = [math.log(c / SRAM_REF_CAPACITY_BYTES) for c, _ in points]
    ys = [math.log(e / SRAM_8KIB_64BIT_ACCESS_PJ) for _, e in points]
    return sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)


INT_ADD_BITS_EXPONENT = _power_law_exponent(INT_ADD_8_PJ, 8, INT_ADD_32_PJ, 32)  # ~0.87, ~linear
INT_MULT_BITS_EXPONENT = _power_law_exponent(INT_MULT_8_PJ, 8, INT_MULT_32_PJ, 32)  # ~1.98, ~quadratic
FLOAT_ADD_BITS_EXPONENT = _power_law_exponent(FLOAT_ADD_16_PJ, 16, FLOAT_ADD_32_PJ, 32)  # ~1.17
FLOAT_MULT_BITS_EXPONENT = _power_law_exponent(FLOAT_MULT_16_PJ, 16, FLOAT_MULT_32_PJ, 32)  # ~1.75
SRAM_CAPACITY_EXPONENT = _sram_capacity_exponent()  # ~0.476

_ARITH = {
    ("int", "add"): (INT_ADD_32_PJ, INT_ADD_BITS_EXPONENT),
    ("int", "mult"): (INT_MULT_32_PJ, INT_MULT_BITS_EXPONENT),
    ("float", "add"): (FLOAT_ADD_32_PJ, FLOAT_ADD_BITS_EXPONENT),
    ("float", "mult"): (FLOAT_MULT_32_PJ, FLOAT_MULT_BITS_EXPONENT),
}


def arithmetic_energy_pj(kind: str, op: str, bits: Scalar) -> Array:
    """Energy of one arithmetic operation at ``bits`` width, pJ (45 nm power-law fit, see module doc).

    Args:
        kind: ``"int"`` (also used for fixed point) or ``"float"``.
        op: ``"add"`` or ``"mult"``.
        bits: operand width in bits, any shape, > 0.
    """
    if (kind, op) not in _ARITH:
        raise ValueError(f"(kind, op)={(kind, op)!r} is unknown; allowed: {sorted(_ARITH)}")
    e32, alpha = _ARITH[(kind, op)]
    return e32 * (jnp.asarray(bits, dtype=jnp.result_type(float)) / 32.0) ** alpha


def int_add_pj(bits: Scalar) -> Array:
    """Integer/fixed-point add, pJ (0.1 pJ at 32 bit, EIE Table I; 0.03 pJ at 8 bit, Horowitz V-S)."""
    return arithmetic_energy_pj("int", "add", bits)


def int_mult_pj(bits: Scalar) -> Array:
    """Integer/fixed-point multiply, pJ (3.1 pJ at 32 bit, EIE Table I; 0.2 pJ at 8 bit, Horowitz V-S)."""
    return arithmetic_energy_pj("int", "mult", bits)


def float_add_pj(bits: Scalar) -> Array:
    """Floating-point add, pJ (0.9 pJ at 32 bit, EIE Table I; 0.4 pJ at 16 bit, Horowitz V-S)."""
    return arithmetic_energy_pj("float", "add", bits)


def float_mult_pj(bits: Scalar) -> Array:
    """Floating-point multiply, pJ (3.7 pJ at 32 bit, EIE Table I; 1.1 pJ at 16 bit, Horowitz V-S)."""
    return arithmetic_energy_pj("float", "mult", bits)


def int_mac_pj(bits: Scalar) -> Array:
    """Integer/fixed-point multiply-accumulate (one mult + one add at ``bits``), pJ."""
    return int_mult_pj(bits) + int_add_pj(bits)


def sram_access_pj(capacity_bytes: Scalar, width_bits: Scalar) -> Array:
    """Energy of one SRAM access of ``width_bits`` to an array of ``capacity_bytes``, pJ.

    ``10 pJ * (width_bits / 64) * (capacity_bytes / 8 KiB) ** 0.476`` (fit documented in the module
    docstring); smooth and differentiable in both arguments. ``sram_access_pj(8192, 32) == 5`` pJ, EIE
    Table I's SRAM entry.
    """
    cap = jnp.asarray(capacity_bytes, dtype=jnp.result_type(float))
    width = jnp.asarray(width_bits, dtype=jnp.result_type(float))
    return (
        SRAM_8KIB_64BIT_ACCESS_PJ
        * (width / SRAM_REF_WIDTH_BITS)
        * (cap / SRAM_REF_CAPACITY_BYTES) ** SRAM_CAPACITY_EXPONENT
    )


def sram_pj_per_bit(capacity_bytes: Scalar) -> Array:
    """SRAM access energy per bit at ``capacity_bytes``, pJ/bit (same fit as :func:`sram_access_pj`)."""
    return sram_access_pj(capacity_bytes, 1.0)


def dram_access_pj(width_bits: Scalar) -> Array:
    """Energy of one off-chip DRAM access of ``width_bits``, pJ: 20 pJ/bit (EIE Table I, 640 pJ / 32 bit)."""
    return DRAM_PJ_PER_BIT * jnp.asarray(width_bits, dtype=jnp.result_type(float))


def register_file_access_pj(width_bits: Scalar) -> Array:
    """Energy of one register-file access of ``width_bits``, pJ: 1 pJ per 32 bit (Han et al. NIPS'15 Fig. 1)."""
    return REGISTER_FILE_PJ_PER_BIT * jnp.asarray(width_bits, dtype=jnp.result_type(float))
