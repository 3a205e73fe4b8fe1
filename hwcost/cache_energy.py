"""Wire and array energy of an L1 cache whose ways sit in separate subarrays at different wire distances.

HoLiSwap (Turakhia, Das, Aamodt, Dally, arXiv 1701.03878) builds a 32 KB 4-way L1 with each way in its own
8 KB subarray (Sec. 2, V-P) and observes that the wire energy of an access served by the nearest subarray
and by the farthest differs by more than 6x (abstract, V-P). This module computes that spread from a
floorplan instead of setting it: the size of one subarray follows from an SRAM cell and decoder model, the
position of each way from the placement, and the energy of one access from the wire energy per bit and
millimetre times the route length times the bits moved.

All assumptions, in one place (sources: ``shared/reference/papers.md``, sections 8, 9 and "Additions"):

1. **Wire energy**: ``0.08 pJ`` per bit per mm at activity factor 0.25 and 22 nm: the global-wire model of
   the co-author's HSPICE cache model (``subhasis256/cache_spice`` ``scripts/config.yaml``, used by
   ``miladm/CG-OoO`` ``src/energy/cache_spice``; V-S(author)), and the CG-OoO paper's p. 7 (V-S). The group's
   SLIP paper (ISCA'15) quotes 0.16 pJ/bit/mm per transition at 45 nm (V-S); it is not used here.
2. **Node**: 22 nm, i.e. ``lambda = 11 nm`` (cache_spice measures cells in lambda = half the node). The
   cross-check of assumption 7 supports 22 nm: at 45 nm the same floorplan would give twice the published
   wire energy.
3. **Subarray**: one way of ``size / ways`` bytes is one subarray at most 256 bits wide (cache_spice's
   widest array), so an 8 KB way is 256 x 256 cells. A cell is 16 lambda wide (along the word line) and 40
   lambda high (along the bit line); the row decoder adds ``2 * 2**Bp`` predecoded wires at an 8-lambda
   pitch beside the array, ``Bp = log2(rows) / 2``, i.e. ``16 * sqrt(rows)`` lambda; both dimensions are
   divided by a packing efficiency of 0.8 (64% of the area is cells and decoder). All these are
   cache_spice's defaults (``scripts/cache.py``, ``array.py``, ``decoder.py``; V-S(author)). An 8 KB
   subarray at 22 nm is thus ``W = 5,440 lambda = 0.0598 mm`` wide and ``H = 12,800 lambda = 0.1408 mm`` high.
4. **Placement**: the subarrays stand in a grid of ``columns`` subarrays side by side (along the word line)
   and ``ways / columns`` rows (along the bit line); the cache port sits at the middle of the bottom edge
   of the grid (where cache_spice's H-tree delivers its data). The wire route of a way runs from the port
   to the centre of its subarray, Manhattan: ``d = |x_c| * W + (r + 1/2) * H`` for the subarray in row
   ``r`` whose centre is ``x_c`` subarray widths off the middle. Ways are numbered row by row from the port,
   and within a row outward from the middle, so way 0 is the nearest. The default is one column (the
   ways stacked one above the other), the placement in which every way has its own distance: the routes are
   ``(i + 1/2) H`` and the nearest-to-farthest ratio is ``2 * ways - 1 = 7`` for four ways, the paper's
   "more than 6x". Two columns (a 2 x 2 block) would give a ratio of 2.4 and four (a 4 x 1 row, the
   conventional layout) 1.6, with pairs of ways at equal distance.
5. **Bits moved per access**: 512, one 64-byte line, for both the L1-I and the L1-D: cache_spice reads the
   whole line of one way (``datareadwidth = bsize * 8``, sequential tag-then-data access). Fills and
   write-backs move one line too. The fields are data leaves; a word-wide access is ``64.0``.
6. **The rest of the access energy** (cells, bit lines, sense amplifiers, decoders, tag array, periphery):
   the authors' simulator's HSPICE L1-D (32 KB, 8-way, 22 nm) costs 28.2 pJ per access of which 5.73 pJ is
   data-array wires (``miladm/CG-OoO`` ``src/config/base.yaml``, V-S(author)), so ``28.2 - 5.73 = 22.47`` pJ
   per 512-bit access, ``0.0439 pJ/bit``, independent of the way; the same figure is used for the L1-I
   (that file's L1-I entry, 42.96 pJ, has no wire/array split).
7. **Cross-check**: cache_spice's conventional 32 KB data array (four 8 KB arrays in a 4 x 1 row, the data
   brought over an H-tree to the middle of the bottom edge) has a route of ``W + H / 2 = 0.130`` mm, hence
   ``512 * 0.08 * 0.130 = 5.33`` pJ of data wires per access: 7% below the simulator's 5.73 pJ
   (:func:`htree_route_mm`, tested).
8. **A swap** of the lines in ways ``a`` and ``b`` reads both lines and writes each into the other way: each
   line crosses the route of ``a`` and the route of ``b`` once, so the wire energy is
   ``2 * line_bits * e * (d_a + d_b)``, and the arrays do two line reads and two line writes.

Everything here is a pure function of ``jnp`` values, differentiable in the continuous fields of
:class:`CacheGeometry` (the sizes and the placement are static: they fix the shapes).
"""

from __future__ import annotations

import math
from typing import Literal

import jax.numpy as jnp
import numpy as np

from hwcost import checks
from hwcost.types import Array, Scalar, pytree_dataclass, static_field

Cache = Literal["l1i", "l1d"]
CACHES: tuple[Cache, ...] = ("l1i", "l1d")

WIRE_PJ_PER_BIT_MM_22NM = 0.08  # cache_spice config.yaml / CG-OoO p. 7, 22 nm, activity 0.25 (V-S(author))
WIRE_DELAY_NS_PER_MM = 0.3  # cache_spice config.yaml, 22 nm (V-S(author)); not used in energies
NODE_NM = 22.0  # technology node of the CG-OoO energy tables (V-S(author)); lambda = node / 2
CELL_WIDTH_LAMBDA = 16.0  # cache_spice SRAM cell, along the word line (V-S(author))
CELL_HEIGHT_LAMBDA = 40.0  # cache_spice SRAM cell, along the bit line (V-S(author))
DECODER_WIRE_PITCH_LAMBDA = 8.0  # cache_spice decoder: predecoded wires at an 8-lambda pitch (V-S(author))
PACKING_EFFICIENCY = 0.8  # cache_spice array.py: each dimension divided by 0.8, ~64% area (V-S(author))
MAX_SUBARRAY_BITS_WIDE = 256  # cache_spice cache.py: an array is at most 256 bits wide (V-S(author))
L1D_ACCESS_PJ_22NM = 28.2  # CG-OoO base.yaml HSPICE L1-D, 32 KB 8-way, 22 nm (V-S(author))
L1D_DATA_WIRE_PJ_22NM = 5.73  # CG-OoO base.yaml: the data-array wire part of the 28.2 pJ (V-S(author))
L1D_ACCESS_BITS = 512.0  # cache_spice reads one way's whole 64-byte line per access (V-S(author))
ARRAY_PJ_PER_BIT_22NM = (L1D_ACCESS_PJ_22NM - L1D_DATA_WIRE_PJ_22NM) / L1D_ACCESS_BITS  # V-D: 0.0439 pJ/bit


@pytree_dataclass
class CacheGeometry:
    """A set-associative L1 whose ways are separate subarrays at their own wire distances (see the module
    docstring for every assumption and its source).

    Attributes:
        node_nm: technology node, nm; lambda = ``node_nm / 2``.
        wire_pj_per_bit_mm: global-wire energy, pJ per bit per mm of route.
        l1i_bits_per_access: bits moved over the wires per L1-I access.
        l1d_bits_per_access: bits moved over the wires per L1-D access.
        array_pj_per_bit: the rest of the access energy (cells, sense amplifiers, decoders, tags), pJ per bit
            accessed.
        cell_width_lambda: SRAM cell width along the word line, lambda.
        cell_height_lambda: SRAM cell height along the bit line, lambda.
        decoder_wire_pitch_lambda: pitch of the predecoded wires beside the array, lambda.
        packing_efficiency: linear packing efficiency in (0, 1]: each subarray dimension is divided by it.
        size_bytes: capacity, bytes (static).
        ways: associativity = number of subarrays (static).
        line_bytes: line size, bytes (static).
        columns: subarrays side by side in the placement; ``ways`` must be a multiple (static).
    """

    node_nm: Scalar
    wire_pj_per_bit_mm: Scalar
    l1i_bits_per_access: Scalar
    l1d_bits_per_access: Scalar
    array_pj_per_bit: Scalar
    cell_width_lambda: Scalar
    cell_height_lambda: Scalar
    decoder_wire_pitch_lambda: Scalar
    packing_efficiency: Scalar
    size_bytes: int = static_field(default=32768)
    ways: int = static_field(default=4)
    line_bytes: int = static_field(default=64)
    columns: int = static_field(default=1)


HOLISWAP_32KB_4WAY = CacheGeometry(
    node_nm=NODE_NM,
    wire_pj_per_bit_mm=WIRE_PJ_PER_BIT_MM_22NM,
    l1i_bits_per_access=L1D_ACCESS_BITS,
    l1d_bits_per_access=L1D_ACCESS_BITS,
    array_pj_per_bit=ARRAY_PJ_PER_BIT_22NM,
    cell_width_lambda=CELL_WIDTH_LAMBDA,
    cell_height_lambda=CELL_HEIGHT_LAMBDA,
    decoder_wire_pitch_lambda=DECODER_WIRE_PITCH_LAMBDA,
    packing_efficiency=PACKING_EFFICIENCY,
    size_bytes=32768,
    ways=4,
    line_bytes=64,
    columns=1,
)
"""HoLiSwap's L1: 32 KB, 4-way, 64-byte lines, each way its own 8 KB subarray (HoLiSwap Sec. 2, V-P), the
four subarrays stacked above the port; wires of 0.08 pJ/bit/mm at 22 nm and the SRAM cell, decoder and
packing of the co-author's cache_spice model, the rest of the access energy from the CG-OoO simulator's
HSPICE L1-D (28.2 - 5.73 pJ per 512-bit access); module docstring, assumptions 1-6. Measured: ways at 0.070,
0.211, 0.352 and 0.493 mm, 2.88 / 8.65 / 14.4 / 20.2 pJ of wire energy per 512-bit access, ratio 7."""


def check_geometry(geometry: CacheGeometry) -> None:
    """``ValueError`` naming the field, its value and what is allowed, for a geometry that cannot be built:
    a size that is not a power of two or not divisible by ``ways * line_bytes``, a line size that is not a
    power of two, ``ways`` not a multiple of ``columns``, non-positive lengths or energies."""
    g = geometry
    check_cache_shape(g.size_bytes, g.ways, g.line_bytes)
    checks.check_int_range("columns", g.columns, 1, g.ways)
    if g.ways % g.columns:
        raise ValueError(f"columns={g.columns} must divide ways={g.ways}; allowed: a divisor of {g.ways}")
    checks.check_range("node_nm", g.node_nm, 0, 1e4, open_low=True)
    checks.check_energy_pj("wire_pj_per_bit_mm", g.wire_pj_per_bit_mm)
    checks.check_energy_pj("array_pj_per_bit", g.array_pj_per_bit)
    checks.check_range("l1i_bits_per_access", g.l1i_bits_per_access, 1, 8 * g.line_bytes)
    checks.check_range("l1d_bits_per_access", g.l1d_bits_per_access, 1, 8 * g.line_bytes)
    for name in ("cell_width_lambda", "cell_height_lambda", "decoder_wire_pitch_lambda"):
        checks.check_range(name, getattr(g, name), 0, 1e4, open_low=True)
    checks.check_fraction("packing_efficiency", g.packing_efficiency, open_low=True)


def check_cache_shape(size_bytes: int, ways: int, line_bytes: int) -> None:
    """A cache shape: ``size_bytes`` a power of two, ``line_bytes`` a power of two, ``ways >= 1`` and
    ``size_bytes`` divisible by ``ways * line_bytes`` (at least one set); ``ValueError`` naming the field."""
    for name, value in (("size_bytes", size_bytes), ("ways", ways), ("line_bytes", line_bytes)):
        checks.check_int_range(name, value, 1, 2**40)
    if size_bytes & (size_bytes - 1):
        raise ValueError(f"size_bytes={size_bytes} is not a power of two; allowed: 1024, 2048, ..., 32768, ...")
    if line_bytes & (line_bytes - 1):
        raise ValueError(f"line_bytes={line_bytes} is not a power of two; allowed: 16, 32, 64, 128, ...")
    if size_bytes % (ways * line_bytes):
        raise ValueError(
            f"size_bytes={size_bytes} is not divisible by ways x line_bytes = {ways} x {line_bytes} = "
            f"{ways * line_bytes}; allowed: a multiple of {ways * line_bytes}"
        )


def _subarray_cells(geometry: CacheGeometry) -> tuple[int, int]:
    """(bits wide, rows) of one way's subarray: at most 256 bits wide (assumption 3)."""
    bits = 8 * geometry.size_bytes // geometry.ways
    wide = min(MAX_SUBARRAY_BITS_WIDE, bits)
    return wide, bits // wide


def subarray_size_mm(geometry: CacheGeometry) -> tuple[Array, Array]:
    """(width, height) of one way's subarray, mm (assumption 3)::

        W = (bits_wide * cell_w + 2 * sqrt(rows) * decoder_pitch) * lambda / packing
        H = rows * cell_h * lambda / packing,   lambda = node / 2

    (``2 * 2**Bp`` predecoded wires with ``Bp = log2(rows) / 2`` is ``2 * sqrt(rows)``.)
    """
    g = geometry
    wide, rows = _subarray_cells(g)
    lam_mm = jnp.asarray(g.node_nm, dtype=jnp.result_type(float)) / 2.0 * 1e-6
    width = (wide * g.cell_width_lambda + 2.0 * math.sqrt(rows) * g.decoder_wire_pitch_lambda) * lam_mm
    height = rows * g.cell_height_lambda * lam_mm
    return width / g.packing_efficiency, height / g.packing_efficiency


def _placement(ways: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Route coefficients ``(a, b)`` of each way, ``d_i = a_i W + b_i H`` (assumption 4): rows from the
    port, and within a row the subarrays outward from the middle (ties: left first)."""
    offsets = sorted(range(columns), key=lambda j: (abs(j + 0.5 - columns / 2), j))
    a = [abs(j + 0.5 - columns / 2) for _ in range(ways // columns) for j in offsets]
    b = [r + 0.5 for r in range(ways // columns) for _ in offsets]
    return np.asarray(a), np.asarray(b)


def way_distance_mm(geometry: CacheGeometry) -> Array:
    """Wire route from the port to the centre of each way's subarray, mm, shape ``[ways]``, way 0 the
    nearest (assumption 4)."""
    width, height = subarray_size_mm(geometry)
    a, b = _placement(geometry.ways, geometry.columns)
    return a * width + b * height


def bits_per_access(geometry: CacheGeometry, cache: Cache = "l1d") -> Array:
    """Bits moved over the wires by one access of ``cache`` (``"l1i"`` or ``"l1d"``)."""
    if cache not in CACHES:
        raise ValueError(f"cache={cache!r} is unknown; allowed: {', '.join(CACHES)}")
    bits = geometry.l1i_bits_per_access if cache == "l1i" else geometry.l1d_bits_per_access
    return jnp.asarray(bits, dtype=jnp.result_type(float))


def way_wire_energy_pj(geometry: CacheGeometry, cache: Cache = "l1d") -> Array:
    """Wire energy of one access of ``cache`` served by each physical way, pJ, shape ``[ways]``, way 0 the
    nearest: ``bits_per_access * wire_pj_per_bit_mm * way_distance_mm``."""
    return bits_per_access(geometry, cache) * geometry.wire_pj_per_bit_mm * way_distance_mm(geometry)


def array_energy_pj(geometry: CacheGeometry, cache: Cache = "l1d") -> Array:
    """The rest of the energy of one access of ``cache`` (cells, sense amplifiers, decoders, tags), pJ, the
    same for every way: ``array_pj_per_bit * bits_per_access`` (assumption 6)."""
    return geometry.array_pj_per_bit * bits_per_access(geometry, cache)


def way_access_energy_pj(geometry: CacheGeometry, cache: Cache = "l1d") -> Array:
    """Whole energy of one access served by each way, pJ, shape ``[ways]``: wire plus array."""
    return way_wire_energy_pj(geometry, cache) + array_energy_pj(geometry, cache)


def line_swap_wire_energy_pj(geometry: CacheGeometry, a: Array | int, b: Array | int) -> Array:
    """Wire energy of swapping the lines of physical ways ``a`` and ``b`` (integer indices, any shape), pJ:
    ``2 * line_bits * wire_pj_per_bit_mm * (d_a + d_b)`` (assumption 8); zero when ``a == b`` (no swap)."""
    d = way_distance_mm(geometry)
    a, b = jnp.asarray(a), jnp.asarray(b)
    line_bits = 8.0 * geometry.line_bytes
    energy = 2.0 * line_bits * geometry.wire_pj_per_bit_mm * (d[a] + d[b])
    return jnp.where(a == b, 0.0, energy)


def line_swap_energy_pj(geometry: CacheGeometry, a: Array | int, b: Array | int) -> Array:
    """Whole energy of swapping the lines of ways ``a`` and ``b``, pJ: the wires
    (:func:`line_swap_wire_energy_pj`) plus two line reads and two line writes of the arrays at
    ``array_pj_per_bit``; zero when ``a == b``."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    arrays = 4.0 * 8.0 * geometry.line_bytes * geometry.array_pj_per_bit
    return line_swap_wire_energy_pj(geometry, a, b) + jnp.where(a == b, 0.0, arrays)


def swap_with_nearest_energy_pj(geometry: CacheGeometry, wire_only: bool = True) -> Array:
    """Energy of one HoLiSwap swap of the line in way ``b`` with the line in way 0, pJ, shape ``[ways]``
    (entry 0 is zero: no swap); wires only by default, or wires and arrays."""
    b = jnp.arange(geometry.ways)
    swap = line_swap_wire_energy_pj if wire_only else line_swap_energy_pj
    return swap(geometry, jnp.zeros_like(b), b)


def htree_route_mm(width_mm: Scalar, height_mm: Scalar, arrays_wide: int, arrays_high: int) -> Array:
    """Mean route of cache_spice's conventional H-tree over ``arrays_wide x arrays_high`` arrays of
    ``width_mm x height_mm`` with the port at the middle of the bottom edge, mm (assumption 7).

    The tree halves the block alternately across its width and its height until each branch serves at most
    two arrays, adding half the current extent at each level; on average the data travel half of those
    branches, plus the final vertical run of half the block height.
    """
    w = jnp.asarray(width_mm, dtype=jnp.result_type(float)) * arrays_wide
    h = jnp.asarray(height_mm, dtype=jnp.result_type(float)) * arrays_high
    full_height = h
    length = jnp.zeros_like(w)
    served, across = arrays_wide * arrays_high, True
    while served > 2:
        if across:
            length, w = length + w / 2, w / 2
        else:
            length, h = length + h / 2, h / 2
        across, served = not across, served // 2
    return length / 2 + full_height / 2


__all__ = [
    "CACHES",
    "HOLISWAP_32KB_4WAY",
    "Cache",
    "CacheGeometry",
    "array_energy_pj",
    "bits_per_access",
    "check_cache_shape",
    "check_geometry",
    "htree_route_mm",
    "line_swap_energy_pj",
    "line_swap_wire_energy_pj",
    "subarray_size_mm",
    "swap_with_nearest_energy_pj",
    "way_access_energy_pj",
    "way_distance_mm",
    "way_wire_energy_pj",
]
