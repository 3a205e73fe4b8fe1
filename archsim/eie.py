"""Cycle-level reference simulator of EIE (Han et al., "EIE: Efficient Inference Engine on Compressed
Deep Neural Network", ISCA'16, arXiv 1602.01528), numpy only, exact integers.

It runs one sparse matrix-vector product ``y = W a`` on ``N`` processing elements (PEs) and counts
cycles and memory accesses exactly. It imports nothing from ``hwcost``, ``compress`` or ``models``: it
is the independent check the differentiable model is validated against.

Semantics (EIE Sec. III-IV):

* ``W`` has shape ``(rows, cols) = (out_features, in_features)``. Output row ``i`` belongs to PE
  ``i mod N`` (Sec. III-C); PE ``p`` owns local rows ``p, p + N, p + 2N, ...``.
* Each PE stores its slice of every column in CSC (Sec. III-B): an 8-bit entry holds a 4-bit index
  ``v`` into a 16-entry codebook (index 0 is the zero weight) and a ``b``-bit (default 4) relative row
  index ``z`` (zeros before the entry). A run of ``z`` zeros before a nonzero, counted in the PE's
  own local rows, costs ``floor(z / 2**b)`` filler entries (a zero weight with ``z = 2**b - 1``);
  zeros after the last nonzero of a slice cost nothing. Paper example, ``b = 4``: column
  ``[0, 0, 1, 2, eighteen 0s, 3]`` -> ``v = [1, 2, 0, 3]``, ``z = [2, 0, 15, 2]``.
  :func:`encode_csc` builds the real encoding (small matrices); :func:`column_counts` counts the
  same entries vectorised (any size).
* The leading-nonzero detector (LNZD) broadcasts the nonzero input activations in index order, at most
  one per cycle, into per-PE activation FIFOs of depth ``D`` (default 8, Sec. VI-C). Broadcast ``k``
  waits until every FIFO has a free slot; a slot frees when its PE starts that column. A PE spends one
  cycle per stored entry (nonzero or filler) of its slice of the broadcast column, and at least one
  cycle per broadcast column (an empty slice still costs one cycle, for the pointer read). Cycle by
  cycle this is the recurrence, with ``c[p, k]`` the cycles PE ``p`` spends on broadcast ``k``::

      b[k]    = max(b[k-1] + 1, max_p s[p, k-D])      (broadcast cycle; b[0] = 0)
      s[p, k] = max(f[p, k-1], b[k])                  (PE p starts column k)
      f[p, k] = s[p, k] + c[p, k]                     (PE p finishes column k)

  and the layer takes ``max_p f[p, K-1]`` cycles. A PE may start a column in the cycle it is
  broadcast; pipeline fill (4 stages, Table II caption) is not counted.

Memory-access counting rules (documented choices, EIE Sec. IV and VI):

* Spmat SRAM (64 bit wide, 8 entries of 8 bit per read; "pointer high 13 bits select row, low 3 bits
  select entry"): each PE stores its entries of all columns contiguously, column after column, so
  column ``j`` occupies entry addresses ``ptr[j] .. ptr[j+1] - 1``. Processing a slice reads every
  64-bit word it touches once: ``(ptr[j+1] - 1) // 8 - ptr[j] // 8 + 1`` reads, 0 for an empty slice.
* Ptr SRAM: two pointer reads (``p_j`` from one bank, ``p_j+1`` from the other, even/odd banks, read in
  one cycle) per PE per broadcast column; each bank access counts as one read.
* Act: the LNZD reads every source activation once to find the nonzeros (``cols`` reads in all, each
  from the PE that holds it); every processed entry (nonzero or filler) reads and writes its
  destination accumulator once (read-add-write pipeline stages; the bypass for back-to-back updates
  of the same row is not counted as a saving).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import numpy as np

# --- EIE design point (Han et al., ISCA'16) ---------------------------------------------------------
DEFAULT_PES = 64  # Sec. I, Table V: 64 PEs
DEFAULT_FIFO_DEPTH = 8  # Sec. VI-C, Fig. 8: activation queue depth chosen from a 1..256 sweep
DEFAULT_INDEX_BITS = 4  # Sec. III-B: 4-bit relative row index
WEIGHT_INDEX_BITS = 4  # Sec. III-B: 4-bit index into the shared-weight codebook
CODEBOOK_SIZE = 2**WEIGHT_INDEX_BITS  # Sec. III-B: 16 shared weights per layer, index 0 = zero
SPMAT_WORD_BITS = 64  # Sec. VI: 64-bit Spmat SRAM interface
ENTRY_BITS = WEIGHT_INDEX_BITS + DEFAULT_INDEX_BITS  # Sec. VI: 8-bit entry (4-bit v + 4-bit z)
ENTRIES_PER_SPMAT_READ = SPMAT_WORD_BITS // ENTRY_BITS  # Sec. VI: 8 entries per 64-bit read
PTR_READS_PER_COLUMN = 2  # Sec. IV: p_j and p_j+1 from the even and odd pointer banks
CLOCK_MHZ = 800.0  # Sec. V-VI, Table V: 800 MHz at 45 nm
BENCHMARK_SEED = 1602  # fixed seed of the random benchmark inputs (arXiv 1602.01528)


# --- inputs -----------------------------------------------------------------------------------------
class CooMatrix(NamedTuple):
    """A sparse matrix in coordinate form, for layers too large to hold dense.

    Attributes:
        shape: ``(rows, cols)`` = ``(out_features, in_features)``.
        row: ``(nnz,)`` int64 row indices.
        col: ``(nnz,)`` int64 column indices.
        value: ``(nnz,)`` float64 values (explicit zeros are treated as absent).
    """

    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray

    @property
    def nnz(self) -> int:
        """Number of stored (nonzero) values."""
        return int(np.count_nonzero(self.value))

    def to_dense(self) -> np.ndarray:
        """The dense ``(rows, cols)`` float64 matrix."""
        dense = np.zeros(self.shape, dtype=np.float64)
        dense[self.row, self.col] = self.value
        return dense

    @classmethod
    def from_dense(cls, weights: np.ndarray) -> CooMatrix:
        """The nonzeros of a dense 2-D array, in column-major order."""
        weights = np.asarray(weights)
        col, row = np.nonzero(weights.T)
        return cls(
            (int(weights.shape[0]), int(weights.shape[1])),
            row.astype(np.int64),
            col.astype(np.int64),
            weights[row, col].astype(np.float64),
        )


Weights = np.ndarray | CooMatrix
"""A weight matrix: a dense 2-D array or a :class:`CooMatrix`."""


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} must be an integer in [{low}, inf)")
    if value < low:
        raise ValueError(f"{name}={value!r} is outside [{low}, inf)")
    return int(value)


def _check_fraction(name: str, value: float) -> float:
    if not (isinstance(value, int | float | np.floating | np.integer) and 0.0 <= float(value) <= 1.0):
        raise ValueError(f"{name}={value!r} is outside [0, 1]")
    return float(value)


def _check_finite(name: str, values: np.ndarray) -> None:
    finite = np.isfinite(values)
    if not np.all(finite):
        bad = values[~finite].reshape(-1)[0]
        raise ValueError(f"{name} contains {bad}; allowed: finite numbers")


def _as_coo(weights: Weights) -> CooMatrix:
    """Validate a weight matrix and return its nonzeros (no duplicates, no explicit zeros)."""
    if isinstance(weights, CooMatrix):
        shape = tuple(int(s) for s in weights.shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"weights shape={shape} must be 2-D with at least one row and one column")
        row = np.asarray(weights.row, dtype=np.int64).reshape(-1)
        col = np.asarray(weights.col, dtype=np.int64).reshape(-1)
        value = np.asarray(weights.value, dtype=np.float64).reshape(-1)
        if not row.shape == col.shape == value.shape:
            raise ValueError(f"weights row/col/value lengths={row.size}/{col.size}/{value.size} must be equal")
        _check_finite("weights", value)
        if row.size and (row.min() < 0 or row.max() >= shape[0]):
            raise ValueError(f"weights row index outside [0, {shape[0] - 1}]")
        if col.size and (col.min() < 0 or col.max() >= shape[1]):
            raise ValueError(f"weights column index outside [0, {shape[1] - 1}]")
        keep = value != 0
        row, col, value = row[keep], col[keep], value[keep]
        key = col * shape[0] + row
        if np.all(key[1:] > key[:-1]):  # already in column-major order without duplicates
            return CooMatrix((shape[0], shape[1]), row, col, value)
        order = np.argsort(key, kind="stable")
        if np.any(np.diff(key[order]) == 0):
            raise ValueError("weights has duplicate (row, col) entries; allowed: each position once")
        return CooMatrix((shape[0], shape[1]), row[order], col[order], value[order])
    dense = np.asarray(weights)
    if dense.ndim != 2:
        raise ValueError(f"weights ndim={dense.ndim} (shape {dense.shape}) must be 2 (rows=out, cols=in)")
    if min(dense.shape) < 1:
        raise ValueError(f"weights shape={dense.shape} must have at least one row and one column")
    if not np.issubdtype(dense.dtype, np.number) and dense.dtype != np.bool_:
        raise ValueError(f"weights dtype={dense.dtype} must be numeric")
    _check_finite("weights", dense)
    return CooMatrix.from_dense(dense)


def _as_activations(activations: Any, cols: int) -> np.ndarray:
    a = np.asarray(activations)
    if a.ndim != 1:
        raise ValueError(f"activations ndim={a.ndim} (shape {a.shape}) must be 1")
    if a.shape[0] != cols:
        raise ValueError(f"activations length={a.shape[0]} must equal the weights column count {cols}")
    if not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise ValueError(f"activations dtype={a.dtype} must be numeric")
    _check_finite("activations", a)
    return a


# --- storage format ---------------------------------------------------------------------------------
class ColumnCounts(NamedTuple):
    """Entries each PE stores for each column (vectorised count of the CSC encoding).

    Attributes:
        nonzeros: ``(pes, cols)`` int64, nonzero weights of PE ``p``'s slice of column ``j``.
        fillers: ``(pes, cols)`` int64, filler (padding) zeros of that slice.
    """

    nonzeros: np.ndarray
    fillers: np.ndarray

    @property
    def entries(self) -> np.ndarray:
        """``(pes, cols)`` int64 stored entries (nonzeros + fillers)."""
        return self.nonzeros + self.fillers


def column_counts(weights: Weights, pes: int = DEFAULT_PES, index_bits: int = DEFAULT_INDEX_BITS) -> ColumnCounts:
    """Count, per PE and column, the nonzeros and filler zeros of EIE's interleaved CSC (Sec. III-B).

    A run of ``z`` zeros (in the PE's local rows) before a nonzero costs ``z >> index_bits`` fillers.
    Vectorised over the nonzeros (one sort), so it handles the full Table III layers.

    Args:
        weights: ``(rows, cols)`` dense array or :class:`CooMatrix`.
        pes: number of PEs ``N``; row ``i`` belongs to PE ``i mod N``.
        index_bits: relative-row-index width ``b`` in bits.
    """
    pes = _check_int("pes", pes, 1)
    index_bits = _check_int("index_bits", index_bits, 1)
    coo = _as_coo(weights)
    return _column_counts(coo, pes, index_bits)


def _column_counts(coo: CooMatrix, pes: int, index_bits: int) -> ColumnCounts:
    rows, cols = coo.shape
    local_rows = -(-rows // pes)
    pe = coo.row % pes
    local = coo.row // pes
    key = (coo.col * pes + pe) * local_rows + local
    key.sort()
    group = key // local_rows
    local = key - group * local_rows
    first = np.ones(key.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    previous = np.empty_like(local)
    previous[0:1] = -1
    previous[1:] = local[:-1]
    previous[first] = -1
    gap = local - previous - 1
    fillers = np.bincount(group, weights=gap >> index_bits, minlength=cols * pes)
    nonzeros = np.bincount(group, minlength=cols * pes)
    return ColumnCounts(
        nonzeros.astype(np.int64).reshape(cols, pes).T.copy(),
        np.rint(fillers).astype(np.int64).reshape(cols, pes).T.copy(),
    )


def encode_column(column: np.ndarray, index_bits: int = DEFAULT_INDEX_BITS) -> tuple[np.ndarray, np.ndarray]:
    """EIE's relative-index encoding of one column slice (Sec. III-B).

    Args:
        column: ``(n,)`` values of the slice (the rows one PE owns, in order); zeros are absent weights.
        index_bits: relative-row-index width ``b``; at most ``2**b - 1`` zeros fit before an entry.

    Returns:
        ``(v, z)``: ``v`` the values of the stored entries (0.0 for a filler) and ``z`` (int64) the
        zeros before each entry. Paper example (``b = 4``): ``[0, 0, 1, 2, 0 x 18, 3]`` ->
        ``v = [1, 2, 0, 3]``, ``z = [2, 0, 15, 2]``.
    """
    index_bits = _check_int("index_bits", index_bits, 1)
    column = np.asarray(column, dtype=np.float64).reshape(-1)
    _check_finite("column", column)
    max_run = 2**index_bits - 1
    v: list[float] = []
    z: list[int] = []
    previous = -1
    for r in np.flatnonzero(column):
        gap = int(r) - previous - 1
        while gap > max_run:
            v.append(0.0)
            z.append(max_run)
            gap -= max_run + 1
        v.append(float(column[r]))
        z.append(gap)
        previous = int(r)
    return np.asarray(v, dtype=np.float64), np.asarray(z, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class EieCsc:
    """EIE's interleaved CSC storage of one matrix (Sec. III-B, Fig. 2-3).

    Attributes:
        shape: ``(rows, cols)`` of the encoded matrix.
        pes: number of PEs ``N``.
        index_bits: relative-row-index width ``b``.
        codebook: ``(16,)`` float64 shared weights; index 0 is the zero weight (fillers).
        v: per PE, ``(entries_p,)`` uint8 codebook indices of the stored entries.
        z: per PE, ``(entries_p,)`` uint8 relative row indices (zeros before each entry).
        ptr: ``(pes, cols + 1)`` int64 column pointers: PE ``p``'s column ``j`` is
            ``v[p][ptr[p, j]:ptr[p, j + 1]]``.
    """

    shape: tuple[int, int]
    pes: int
    index_bits: int
    codebook: np.ndarray
    v: tuple[np.ndarray, ...]
    z: tuple[np.ndarray, ...]
    ptr: np.ndarray

    def counts(self) -> ColumnCounts:
        """Nonzeros and fillers per PE and column, read off the encoding."""
        cols = self.shape[1]
        nonzeros = np.zeros((self.pes, cols), dtype=np.int64)
        fillers = np.zeros((self.pes, cols), dtype=np.int64)
        for p in range(self.pes):
            column = np.repeat(np.arange(cols), np.diff(self.ptr[p]))
            nz = self.v[p] != 0
            nonzeros[p] = np.bincount(column[nz], minlength=cols)
            fillers[p] = np.bincount(column[~nz], minlength=cols)
        return ColumnCounts(nonzeros, fillers)

    def to_dense(self) -> np.ndarray:
        """Decode back to the dense ``(rows, cols)`` float64 matrix."""
        cols = self.shape[1]
        dense = np.zeros(self.shape, dtype=np.float64)
        for p in range(self.pes):
            for j in range(cols):
                local = -1
                for k in range(self.ptr[p, j], self.ptr[p, j + 1]):
                    local += int(self.z[p][k]) + 1
                    dense[p + local * self.pes, j] = self.codebook[self.v[p][k]]
        return dense


def encode_csc(
    weights: np.ndarray,
    pes: int = DEFAULT_PES,
    index_bits: int = DEFAULT_INDEX_BITS,
    codebook: np.ndarray | None = None,
) -> EieCsc:
    """Encode a weight-shared matrix in EIE's interleaved CSC (Sec. III-B). Loops in Python: small
    matrices only (tests, examples); :func:`column_counts` counts the same entries at any size.

    Args:
        weights: dense ``(rows, cols)`` matrix with at most 15 distinct nonzero values (4-bit weight
            sharing, 16-entry codebook with index 0 = zero).
        pes: number of PEs ``N``.
        index_bits: relative-row-index width ``b`` (at most 8 to fit the uint8 storage).
        codebook: optional ``(16,)`` codebook with ``codebook[0] == 0`` containing every nonzero value;
            by default the sorted distinct nonzero values, padded with zeros.
    """
    pes = _check_int("pes", pes, 1)
    index_bits = _check_int("index_bits", index_bits, 1)
    if index_bits > 8:
        raise ValueError(f"index_bits={index_bits} is outside [1, 8] for encode_csc (uint8 storage)")
    dense = _as_coo(weights).to_dense()
    rows, cols = dense.shape
    distinct = np.unique(dense[dense != 0])
    if codebook is None:
        if distinct.size > CODEBOOK_SIZE - 1:
            raise ValueError(
                f"weights has {distinct.size} distinct nonzero values; allowed: at most {CODEBOOK_SIZE - 1} "
                "(4-bit weight sharing) or pass a codebook"
            )
        codebook = np.zeros(CODEBOOK_SIZE, dtype=np.float64)
        codebook[1 : 1 + distinct.size] = distinct
    codebook = np.asarray(codebook, dtype=np.float64).reshape(-1)
    if codebook.shape != (CODEBOOK_SIZE,) or codebook[0] != 0:
        raise ValueError(f"codebook shape={codebook.shape} must be ({CODEBOOK_SIZE},) with codebook[0] == 0")
    missing = np.setdiff1d(distinct, codebook)
    if missing.size:
        raise ValueError(f"weights value {missing[0]} is not in the codebook")
    lookup = {float(codebook[i]): i for i in range(CODEBOOK_SIZE - 1, 0, -1) if codebook[i] != 0}
    vs, zs = [], []
    ptr = np.zeros((pes, cols + 1), dtype=np.int64)
    for p in range(pes):
        v_p: list[np.ndarray] = []
        z_p: list[np.ndarray] = []
        for j in range(cols):
            v, z = encode_column(dense[p::pes, j], index_bits)
            v_p.append(np.array([lookup[float(x)] if x != 0 else 0 for x in v], dtype=np.uint8))
            z_p.append(z.astype(np.uint8))
            ptr[p, j + 1] = ptr[p, j] + v.size
        vs.append(np.concatenate(v_p) if v_p else np.zeros(0, np.uint8))
        zs.append(np.concatenate(z_p) if z_p else np.zeros(0, np.uint8))
    return EieCsc((rows, cols), pes, index_bits, codebook, tuple(vs), tuple(zs), ptr)


# --- simulation -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EieSimResult:
    """Exact counts of one EIE matrix-vector product (all integers; arrays are per PE, shape ``(pes,)``).

    Attributes:
        cycles: cycles from the first broadcast until the last PE finishes.
        entries: stored entries processed (nonzeros + fillers) over the broadcast columns.
        fillers: filler (padding) zeros processed.
        nonzero_weights: nonzero weights processed (each meets a nonzero activation).
        macs: useful multiply-accumulates, nonzero weight x nonzero activation (= ``nonzero_weights``);
            the arithmetic unit also spends a slot on each filler (``entries - macs``).
        broadcasts: nonzero input activations broadcast by the LNZD.
        stored_entries: entries of the whole encoded matrix (all columns), the Spmat storage in entries.
        spmat_reads: 64-bit Spmat SRAM words read (module docstring for the rule).
        ptr_reads: pointer SRAM bank reads, ``2 * pes * broadcasts``.
        act_src_reads: source activations read by the LNZD scan (= input length).
        act_dst_reads: destination accumulator reads (= ``entries``).
        act_dst_writes: destination accumulator writes (= ``entries``).
        broadcast_stall_cycles: cycles the LNZD waited for a full FIFO.
        busy_cycles: ``(pes,)`` cycles each PE spent on its column slices (at least 1 per broadcast).
        idle_cycles: ``(pes,)`` ``cycles - busy_cycles``.
        pes, fifo_depth, index_bits: the simulated configuration.
    """

    cycles: int
    entries: int
    fillers: int
    nonzero_weights: int
    macs: int
    broadcasts: int
    stored_entries: int
    spmat_reads: int
    ptr_reads: int
    act_src_reads: int
    act_dst_reads: int
    act_dst_writes: int
    broadcast_stall_cycles: int
    busy_cycles: np.ndarray
    idle_cycles: np.ndarray
    pes: int
    fifo_depth: int
    index_bits: int

    def time_us(self, clock_mhz: float = CLOCK_MHZ) -> float:
        """Wall-clock time in microseconds at ``clock_mhz`` (default 800 MHz, EIE Sec. VI)."""
        return self.cycles / clock_mhz

    def action_counts(self) -> dict[str, int]:
        """Chip-wide action counts keyed ``"component.action"`` (the keys of the hwcost EIE model).

        ``spmat_sram.read`` (64-bit words), ``ptr_sram.read`` (bank reads), ``act_sram.read`` (source
        scan + destination reads), ``act_sram.write`` (destination writes), ``pe.mac`` (useful MACs),
        ``pe.filler`` (filler entries), ``fifo.push`` (one per PE per broadcast) and ``pe.cycle``
        (``pes * cycles``, PE-cycles busy or idle). All dimensionless integers.
        """
        return {
            "spmat_sram.read": self.spmat_reads,
            "ptr_sram.read": self.ptr_reads,
            "act_sram.read": self.act_src_reads + self.act_dst_reads,
            "act_sram.write": self.act_dst_writes,
            "pe.mac": self.macs,
            "pe.filler": self.fillers,
            "fifo.push": self.pes * self.broadcasts,
            "pe.cycle": self.pes * self.cycles,
        }

    @property
    def load_balance(self) -> float:
        """Mean over max PE busy cycles, in (0, 1] (1 = perfectly balanced); 1.0 with no work."""
        peak = int(self.busy_cycles.max()) if self.busy_cycles.size else 0
        return float(self.busy_cycles.mean() / peak) if peak else 1.0


def simulate(
    weights: Weights,
    activations: np.ndarray,
    *,
    pes: int = DEFAULT_PES,
    fifo_depth: int = DEFAULT_FIFO_DEPTH,
    index_bits: int = DEFAULT_INDEX_BITS,
) -> EieSimResult:
    """Simulate one EIE matrix-vector product ``y = W a`` cycle-exactly (module docstring).

    Vectorised over PEs; loops only over the broadcast (nonzero) activations.

    Args:
        weights: ``(rows, cols)`` = ``(out_features, in_features)`` dense array or :class:`CooMatrix`.
        activations: ``(cols,)`` input activation vector.
        pes: number of PEs ``N`` (>= 1, default 64, EIE Table V).
        fifo_depth: activation FIFO depth ``D`` per PE (>= 1, default 8, EIE Sec. VI-C).
        index_bits: relative-row-index width ``b`` (>= 1, default 4, EIE Sec. III-B).

    Raises:
        ValueError: naming the field, its value and the allowed range, for bad input.
    """
    pes = _check_int("pes", pes, 1)
    fifo_depth = _check_int("fifo_depth", fifo_depth, 1)
    index_bits = _check_int("index_bits", index_bits, 1)
    coo = _as_coo(weights)
    cols = coo.shape[1]
    a = _as_activations(activations, cols)
    counts = _column_counts(coo, pes, index_bits)
    entries_all = counts.entries  # (pes, cols)

    active = np.flatnonzero(a)  # LNZD broadcast order
    n_bcast = int(active.size)
    entries = entries_all[:, active]  # (pes, K)
    work = np.maximum(entries, 1)  # one cycle minimum per broadcast column
    cycles, stall = fifo_schedule(np.ascontiguousarray(work.T), fifo_depth)

    # Spmat words touched per processed slice: entries ptr[j] .. ptr[j+1]-1, 8 per 64-bit word.
    ptr_start = np.cumsum(entries_all, axis=1) - entries_all
    start = ptr_start[:, active]
    last = start + entries - 1
    words = np.where(entries > 0, last // ENTRIES_PER_SPMAT_READ - start // ENTRIES_PER_SPMAT_READ + 1, 0)

    busy = work.sum(axis=1).astype(np.int64)
    n_entries = int(entries.sum())
    nonzeros = int(counts.nonzeros[:, active].sum())
    return EieSimResult(
        cycles=cycles,
        entries=n_entries,
        fillers=int(counts.fillers[:, active].sum()),
        nonzero_weights=nonzeros,
        macs=nonzeros,
        broadcasts=n_bcast,
        stored_entries=int(entries_all.sum()),
        spmat_reads=int(words.sum()),
        ptr_reads=PTR_READS_PER_COLUMN * pes * n_bcast,
        act_src_reads=cols,
        act_dst_reads=n_entries,
        act_dst_writes=n_entries,
        broadcast_stall_cycles=stall,
        busy_cycles=busy,
        idle_cycles=cycles - busy,
        pes=pes,
        fifo_depth=fifo_depth,
        index_bits=index_bits,
    )


def fifo_schedule(work: np.ndarray, fifo_depth: int) -> tuple[int, int]:
    """Run the FIFO recurrence. ``work``: ``(K, pes)`` cycles per broadcast and PE.

    Returns ``(total cycles, LNZD stall cycles)``.
    """
    n_bcast = work.shape[0]
    if n_bcast == 0:
        return 0, 0
    started_all = np.zeros(n_bcast, dtype=np.int64)  # max_p s[p, k]: every PE has started column k
    finish = np.zeros(work.shape[1], dtype=np.int64)
    bcast = -1
    stall = 0
    for k in range(n_bcast):
        ready = bcast + 1
        bcast = max(ready, int(started_all[k - fifo_depth])) if k >= fifo_depth else ready
        stall += bcast - ready
        start = np.maximum(finish, bcast)
        started_all[k] = start.max()
        finish = start + work[k]
    return int(finish.max()), stall


# --- random benchmark inputs ------------------------------------------------------------------------
_NONZERO_WEIGHT_VALUES = np.array([v for v in range(-7, 9) if v != 0], dtype=np.float64)
"""15 nonzero integer weights: with 0 they fill the 16-entry codebook (EIE Sec. III-B, 4-bit index)."""


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a comparison; faster than ``np.unique`` on millions of ints)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _uniform_subset(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random ``k``-subset of ``range(n)``, sorted int64.

    Sparse case: distinct values of i.i.d. uniform draws (topped up until there are at least ``k``)
    form a uniform random subset given their number, and a uniform random ``k``-subset of that is a
    uniform ``k``-subset of ``range(n)``. Much faster than ``Generator.choice(replace=False)`` for
    millions of positions.
    """
    if 4 * k > n:
        return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
    subset = _sorted_distinct(rng.integers(0, n, size=k + k * k // n + 64, dtype=np.int64))
    while subset.size < k:
        more = rng.integers(0, n, size=2 * (k - subset.size) + 64, dtype=np.int64)
        subset = _sorted_distinct(np.concatenate([subset, more]))
    excess = subset.size - k
    if excess:
        subset = np.delete(subset, rng.choice(subset.size, size=excess, replace=False))
    return subset


def random_sparse_matrix(rows: int, cols: int, density: float, rng: np.random.Generator) -> CooMatrix:
    """A random ``(rows, cols)`` sparse matrix with exactly ``round(density * rows * cols)`` nonzeros.

    Positions are a uniform random subset; values are drawn uniformly from 15 nonzero integers
    (-7..8 without 0), so the matrix is exactly representable with EIE's 4-bit weight sharing.
    Returned in coordinate form (column-major order); use ``.to_dense()`` for small sizes.
    """
    rows = _check_int("rows", rows, 1)
    cols = _check_int("cols", cols, 1)
    density = _check_fraction("density", density)
    nnz = round(density * rows * cols)
    flat = _uniform_subset(rows * cols, nnz, rng)
    col, row = np.divmod(flat, rows)
    value = rng.choice(_NONZERO_WEIGHT_VALUES, size=nnz)
    return CooMatrix((rows, cols), row, col, value)


def random_activations(n: int, density: float, rng: np.random.Generator) -> np.ndarray:
    """A ``(n,)`` float64 activation vector with exactly ``round(density * n)`` nonzeros, uniformly
    placed, with positive integer values in [1, 15] (post-ReLU activations)."""
    n = _check_int("n", n, 1)
    density = _check_fraction("density", density)
    a = np.zeros(n, dtype=np.float64)
    idx = rng.choice(n, size=round(density * n), replace=False)
    a[idx] = rng.integers(1, 16, size=idx.size)
    return a


def benchmark_inputs(
    in_features: int,
    out_features: int,
    weight_density: float,
    activation_density: float,
    seed: int = BENCHMARK_SEED,
) -> tuple[CooMatrix, np.ndarray]:
    """The fixed-seed random inputs of one benchmark layer (e.g. an EIE Table III row).

    The generator is seeded with ``seed`` and the layer's shape and densities, so a layer's inputs do
    not depend on which other layers are built or in which order.

    Returns:
        ``(W, a)``: ``W`` a :class:`CooMatrix` of shape ``(out_features, in_features)``,
        ``a`` of shape ``(in_features,)``.
    """
    key = [
        _check_int("seed", seed, 0),
        _check_int("in_features", in_features, 1),
        _check_int("out_features", out_features, 1),
        round(_check_fraction("weight_density", weight_density) * 1e6),
        round(_check_fraction("activation_density", activation_density) * 1e6),
    ]
    rng = np.random.default_rng(key)
    weights = random_sparse_matrix(out_features, in_features, weight_density, rng)
    return weights, random_activations(in_features, activation_density, rng)


def simulate_benchmark(
    layer: Any,
    *,
    pes: int = DEFAULT_PES,
    fifo_depth: int = DEFAULT_FIFO_DEPTH,
    index_bits: int = DEFAULT_INDEX_BITS,
    seed: int = BENCHMARK_SEED,
) -> EieSimResult:
    """Simulate one benchmark layer on its fixed-seed random inputs (:func:`benchmark_inputs`).

    Args:
        layer: any object with ``in_features``, ``out_features``, ``weight_density`` and
            ``activation_density`` attributes, e.g. a row of ``models.specs.EIE_TABLE_III``.

    Results are cached per (layer, configuration), so repeated calls in one process are free; their
    arrays are read-only.
    """
    return _simulate_benchmark_cached(
        int(layer.in_features),
        int(layer.out_features),
        float(layer.weight_density),
        float(layer.activation_density),
        pes,
        fifo_depth,
        index_bits,
        seed,
    )


@functools.lru_cache(maxsize=64)
def _simulate_benchmark_cached(
    in_features: int,
    out_features: int,
    weight_density: float,
    activation_density: float,
    pes: int,
    fifo_depth: int,
    index_bits: int,
    seed: int,
) -> EieSimResult:
    weights, activations = benchmark_inputs(in_features, out_features, weight_density, activation_density, seed)
    result = simulate(weights, activations, pes=pes, fifo_depth=fifo_depth, index_bits=index_bits)
    result.busy_cycles.flags.writeable = False
    result.idle_cycles.flags.writeable = False
    return result


def geometric_mean(values: Any) -> float:
    """Geometric mean of positive numbers (dimensionless)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0 or np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ValueError(f"values={v.tolist()} must be a non-empty list of finite positive numbers")
    return float(math.exp(np.log(v).mean()))
