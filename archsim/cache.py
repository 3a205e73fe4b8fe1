"""Trace-driven simulator of a set-associative L1 cache, with and without HoLiSwap, numpy and exact integers.

HoLiSwap (Turakhia, Das, Aamodt, Dally, "HoLiSwap: Reducing Wire Energy in L1 Caches", arXiv 1701.03878)
keeps each way of a 32 KB 4-way L1 in its own 8 KB subarray, at its own wire distance from the port, and
swaps the hot line of a set into the nearest way W0, so that most hits travel the shortest wires. This module
counts, exactly, what a trace of line accesses does to such a cache; the energies come from the caller
(``way_energy_pj``), so the simulator stays independent of the cost models.

Semantics:

* **Cache**: ``size_bytes / (ways * line_bytes)`` sets; the set of line address ``x`` is ``x mod sets``.
  LRU replacement, write-allocate (a store miss fills the line) and write-back (a store marks the line
  dirty; a dirty victim is written back when it is evicted). No invalidations: a set's lines fill its
  physical ways in the order 0, 1, 2, ... and stay resident until evicted.
* **Logical order and physical placement are separate.** Replacement follows the LRU order of the lines
  of a set whatever way they sit in; a fill goes into the physical way of the LRU victim (or the lowest
  free way). A swap exchanges two lines' physical ways and leaves their LRU order, dirty bits and counters
  as they were. Hence HoLiSwap cannot change hits, misses or write-backs, only which way serves them (the
  paper: "no miss-rate change").
* **HoLiSwap detection** (Sec. 2, V-P): a per-set epoch counter ``C_s`` counts the accesses to set ``s``;
  each line has a hit counter ``H_l``, incremented on each hit to it. After an access, when ``C_s``
  reaches ``E``, a new epoch begins: ``C_s`` and every ``H_l`` of the set are zeroed. A filled line
  starts at ``H_l = 0``. A line is hot when ``H_l >= T``. On a hit that leaves the line hot, not in W0
  and strictly hotter than the line in W0 (so that of two hot lines the hottest one holds W0, and two
  equally hot lines do not swap back and forth), the two lines are swapped; the hit itself was served
  by the way the line was in. The ports are blocked during a swap: each swap stalls the cache for
  ``swap_stall_cycles`` cycles.
* **Logarithmic counters** (Sec. 2, V-P): a counter stores only the base-2 exponent ``e``; after its first
  increment ``H_l = 2**e`` (``e = 0``, ``H_l = 1``), and each later hit increments ``e`` with probability
  ``2**-e``, drawn from a generator seeded with ``seed`` (so ``E[H_l]`` follows the hit count). A linear
  counter (``log_counters=False``) counts hits exactly.
* **Swap cost** (an assumption; the paper gives none): ``swap_stall_cycles = 4``, the port reading the two
  lines and writing them back, one line per cycle (the authors' cache model reads a whole line per
  access), with the cache blocked throughout.

Counts per physical way: ``hits_per_way`` (hits served by the way), ``fills_per_way`` (misses filled into
it), ``writebacks_per_way`` (dirty victims read out of it); ``accesses_per_way = hits + fills`` (every
access reads or writes the way that holds its line). Priced with ``way_energy_pj[w]``, the energy of one
line-wide transfer over way ``w``'s wires, each hit, fill and write-back of way ``w`` costs
``way_energy_pj[w]``, and each swap of W0 with way ``b`` costs ``swap_energy_pj[b]``.

The loop is per access in plain Python over lists (about a microsecond per access), in chunks, so that
the random draws of the logarithmic counters are made in bulk.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from archsim.traces.lackey import LineStream

DEFAULT_SIZE_BYTES = 32768  # HoLiSwap Sec. 2: 32 KB L1 (V-P)
DEFAULT_WAYS = 4  # HoLiSwap Sec. 2: 4-way, each way its own 8 KB subarray (V-P)
DEFAULT_LINE_BYTES = 64  # the CG-OoO simulator's L1: 64-byte lines (V-S(author))
DEFAULT_EPOCH = 128  # HoLiSwap Sec. 1: hot = at least 64 hits per 128 set accesses (V-P)
DEFAULT_THRESHOLD = 64  # the same definition of a hot line
DEFAULT_SWAP_STALL_CYCLES = 4  # assumption: two line reads and two line writes through one port
MAX_EPOCH = 2**31
"""Largest epoch length ``E``, set accesses."""
MAX_LINES = 2**24
"""Most lines a simulated cache holds (``size_bytes / line_bytes``): its state is a few Python lists of that
length (16 M lines, e.g. 1 GB of 64-byte lines)."""
CHUNK = 1 << 18
"""Accesses converted to Python lists at a time."""


@dataclasses.dataclass(frozen=True)
class CacheConfig:
    """An L1 cache and its HoLiSwap settings (:func:`check_config` checks them).

    Attributes:
        size_bytes: capacity, bytes, a power of two.
        ways: associativity, each way a physical subarray (way 0 the nearest).
        line_bytes: line size, bytes, a power of two.
        holiswap: swap hot lines into way 0.
        epoch: ``E``, set accesses per epoch, in ``[1, 2**31]``.
        threshold: ``T``, hits in an epoch that make a line hot, in ``[1, E]``.
        log_counters: logarithmic (the paper's) or linear hit counters.
        seed: seed of the logarithmic counters' random increments.
        swap_stall_cycles: cycles the ports are blocked per swap, >= 0.
    """

    size_bytes: int = DEFAULT_SIZE_BYTES
    ways: int = DEFAULT_WAYS
    line_bytes: int = DEFAULT_LINE_BYTES
    holiswap: bool = False
    epoch: int = DEFAULT_EPOCH
    threshold: int = DEFAULT_THRESHOLD
    log_counters: bool = True
    seed: int = 0
    swap_stall_cycles: int = DEFAULT_SWAP_STALL_CYCLES

    @property
    def sets(self) -> int:
        """Number of sets, ``size_bytes / (ways * line_bytes)``."""
        return self.size_bytes // (self.ways * self.line_bytes)


def _check_int(name: str, value: object, low: int, high: int | float, allowed: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} is not an integer; allowed: {allowed or f'an integer in [{low}, {high}]'}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value!r} is outside the allowed range; allowed: {allowed or f'[{low}, {high}]'}")
    return int(value)


def check_config(config: CacheConfig) -> None:
    """``ValueError`` naming the field, its value and what is allowed: a size that is not a power of two or
    not divisible by ``ways * line_bytes``, a line size that is not a power of two, ``E`` outside
    ``[1, 2**31]``, ``T`` outside ``[1, E]``, a negative seed or stall."""
    size = _check_int("size_bytes", config.size_bytes, 1, 2**40, "a power of two, e.g. 32768")
    ways = _check_int("ways", config.ways, 1, 2**20)
    line = _check_int("line_bytes", config.line_bytes, 1, 2**20, "a power of two, e.g. 64")
    if size & (size - 1):
        raise ValueError(f"size_bytes={size} is not a power of two; allowed: 1024, 2048, ..., 32768, ...")
    if line & (line - 1):
        raise ValueError(f"line_bytes={line} is not a power of two; allowed: 16, 32, 64, 128, ...")
    if size // line > MAX_LINES:
        raise ValueError(
            f"size_bytes / line_bytes = {size} / {line} = {size // line} lines is more than the simulator holds; "
            f"allowed: at most {MAX_LINES} lines"
        )
    if size % (ways * line):
        raise ValueError(
            f"size_bytes={size} is not divisible by ways x line_bytes = {ways} x {line} = {ways * line}; "
            f"allowed: a multiple of {ways * line}"
        )
    if not isinstance(config.holiswap, bool) or not isinstance(config.log_counters, bool):
        raise ValueError(f"holiswap={config.holiswap!r}, log_counters={config.log_counters!r}; allowed: True or False")
    epoch = _check_int("epoch", config.epoch, 1, MAX_EPOCH, f"E, set accesses per epoch, in [1, {MAX_EPOCH}]")
    _check_int("threshold", config.threshold, 1, epoch,
               f"T, hits per epoch that make a line hot, an integer in [1, epoch={epoch}]")  # fmt: skip
    _check_int("seed", config.seed, 0, 2**63 - 1)
    _check_int("swap_stall_cycles", config.swap_stall_cycles, 0, 2**20)


@dataclasses.dataclass(frozen=True)
class CacheResult:
    """Exact counts of one simulation; per-way arrays are int64 ``[ways]``, physical way 0 the nearest.

    Attributes:
        config: the cache simulated.
        accesses, hits, misses, reads, writes, writebacks: totals.
        hits_per_way, fills_per_way, writebacks_per_way: per physical way (module docstring).
        swaps: HoLiSwap swaps; ``swaps_per_way[b]`` those with way ``b`` (entry 0 is zero).
        swap_stall_cycles: cycles the ports were blocked by swaps.
        line_access_counts: accesses of each distinct line, sorted descending, int64 ``[distinct lines]``.
        wire_energy_pj_per_way: hits, fills and write-backs of each way priced with ``way_energy_pj``, pJ
            float64 ``[ways]`` (None without energies).
        swap_energy_pj: the swaps priced with ``swap_energy_pj``, pJ (None without them).
    """

    config: CacheConfig
    accesses: int
    hits: int
    misses: int
    reads: int
    writes: int
    writebacks: int
    hits_per_way: np.ndarray
    fills_per_way: np.ndarray
    writebacks_per_way: np.ndarray
    swaps: int
    swaps_per_way: np.ndarray
    swap_stall_cycles: int
    line_access_counts: np.ndarray
    wire_energy_pj_per_way: np.ndarray | None = None
    swap_energy_pj: float | None = None

    @property
    def accesses_per_way(self) -> np.ndarray:
        """Accesses served by each physical way: its hits plus its fills, int64 ``[ways]``."""
        return self.hits_per_way + self.fills_per_way

    @property
    def wire_energy_pj(self) -> float | None:
        """All wire energy, pJ: the per-way transfers plus the swaps (None without energies)."""
        if self.wire_energy_pj_per_way is None:
            return None
        return float(self.wire_energy_pj_per_way.sum()) + (self.swap_energy_pj or 0.0)

    @property
    def distinct_lines(self) -> int:
        """Distinct lines the stream touched."""
        return int(self.line_access_counts.shape[0])

    def lines_serving(self, share: float) -> tuple[int, float]:
        """The fewest distinct lines that together serve at least ``share`` of the accesses (the most
        accessed lines first), and that number as a fraction of the distinct lines touched.

        Raises:
            ValueError: ``share`` outside ``(0, 1]``.
        """
        if isinstance(share, bool) or not isinstance(share, int | float | np.floating) or not 0 < share <= 1:
            raise ValueError(f"share={share!r} is outside the allowed range; allowed: a fraction in (0, 1]")
        if self.accesses == 0:
            return 0, 0.0
        served = np.cumsum(self.line_access_counts)  # served[k - 1]: accesses of the k most accessed lines
        k = int(np.searchsorted(served, share * self.accesses, side="left")) + 1
        return k, k / self.distinct_lines


def _energies(values: object, name: str, ways: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (ways,):
        raise ValueError(f"{name} shape={array.shape} must be (ways,) = ({ways},): one energy per physical way")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name}={array.tolist()} must be finite and >= 0 pJ")
    return array


def simulate(
    stream: LineStream,
    config: CacheConfig = CacheConfig(),
    way_energy_pj: np.ndarray | None = None,
    swap_energy_pj: np.ndarray | None = None,
) -> CacheResult:
    """Run the line accesses of ``stream`` through the cache ``config`` (module docstring for the semantics).

    Args:
        stream: ``line``, the line address of each access (byte address // line bytes), int64 ``[n]``, >= 0,
            and ``is_write``, whether each access writes its line, bool ``[n]``
            (:func:`archsim.traces.lackey.line_accesses` makes them from a trace).
        config: the cache and its HoLiSwap settings.
        way_energy_pj: energy of one transfer over each physical way's wires, pJ ``[ways]`` (optional).
        swap_energy_pj: energy of one swap of W0 with each way, pJ ``[ways]``, entry 0 unused (optional).

    Raises:
        ValueError: a bad ``config`` (:func:`check_config`), arrays of different lengths, a negative line
            address, energies of the wrong shape or sign.
    """
    check_config(config)
    lines = np.asarray(stream.line, dtype=np.int64).reshape(-1)
    writes_np = np.asarray(stream.is_write, dtype=bool).reshape(-1)
    if lines.shape != writes_np.shape:
        raise ValueError(f"line length={lines.shape[0]} and is_write length={writes_np.shape[0]} must be equal")
    if lines.size and lines.min() < 0:
        raise ValueError(f"line={int(lines.min())} is negative; allowed: line addresses >= 0")
    ways, n_sets = config.ways, config.sets
    energy = None if way_energy_pj is None else _energies(way_energy_pj, "way_energy_pj", ways)
    swap_cost = None if swap_energy_pj is None else _energies(swap_energy_pj, "swap_energy_pj", ways)

    n = int(lines.shape[0])
    slots = n_sets * ways
    slot_line = [-1] * slots
    dirty = [False] * slots
    counter = [-1 if config.log_counters else 0] * slots  # log: the exponent e, -1 for H = 0; linear: H
    zero = -1 if config.log_counters else 0
    hot = math.ceil(math.log2(config.threshold)) if config.log_counters else config.threshold  # H >= T
    hits_slot = [0] * slots
    fills_slot = [0] * slots
    wb_slot = [0] * slots
    swaps_slot = [0] * slots
    epoch_count = [0] * n_sets
    order: list[list[int]] = [[] for _ in range(n_sets)]  # lines of each set, most recently used first
    resident: dict[int, int] = {}  # line -> slot (set * ways + physical way)
    step = [2.0**-e for e in range(128)]  # probability of incrementing exponent e
    rng = np.random.default_rng(config.seed)
    holiswap, log_counters, epoch_len = config.holiswap, config.log_counters, config.epoch
    mask = n_sets - 1
    hits = 0

    for start in range(0, n, CHUNK):
        chunk_lines = lines[start : start + CHUNK]
        line_list = chunk_lines.tolist()
        set_list = (chunk_lines & mask).tolist()
        write_list = writes_np[start : start + CHUNK].tolist()
        draws = rng.random(len(line_list)).tolist() if holiswap and log_counters else None
        for i, x in enumerate(line_list):
            s = set_list[i]
            g = resident.get(x)
            lru = order[s]
            if g is not None:
                hits += 1
                hits_slot[g] += 1
                if lru[0] != x:
                    lru.remove(x)
                    lru.insert(0, x)
                if write_list[i]:
                    dirty[g] = True
                if holiswap:
                    c = counter[g]
                    if log_counters:
                        if c < 0 or draws[i] < step[c]:  # type: ignore[index]
                            c += 1
                    else:
                        c += 1
                    counter[g] = c
                    base = s * ways
                    if c >= hot and g != base and c > counter[base]:
                        other = slot_line[base]
                        slot_line[base], slot_line[g] = x, other
                        dirty[base], dirty[g] = dirty[g], dirty[base]
                        counter[base], counter[g] = c, counter[base]
                        resident[x] = base
                        if other >= 0:
                            resident[other] = g
                        swaps_slot[g] += 1
            else:
                if len(lru) < ways:
                    g = s * ways + len(lru)
                else:
                    victim = lru.pop()
                    g = resident.pop(victim)
                    if dirty[g]:
                        wb_slot[g] += 1
                slot_line[g] = x
                dirty[g] = write_list[i]
                counter[g] = zero
                resident[x] = g
                lru.insert(0, x)
                fills_slot[g] += 1
            if holiswap:
                e = epoch_count[s] + 1
                if e >= epoch_len:
                    e = 0
                    base = s * ways
                    for w in range(base, base + ways):
                        counter[w] = zero
                epoch_count[s] = e

    def per_way(per_slot: list[int]) -> np.ndarray:
        return np.asarray(per_slot, dtype=np.int64).reshape(n_sets, ways).sum(axis=0)

    hits_per_way, fills_per_way, wb_per_way = per_way(hits_slot), per_way(fills_slot), per_way(wb_slot)
    swaps_per_way = per_way(swaps_slot)
    swaps = int(swaps_per_way.sum())
    writes = int(writes_np.sum())
    _, counts = np.unique(lines, return_counts=True)
    wire_per_way = None if energy is None else (hits_per_way + fills_per_way + wb_per_way) * energy
    swap_pj = None if swap_cost is None else float(swaps_per_way[1:] @ swap_cost[1:])
    return CacheResult(
        config=config,
        accesses=n,
        hits=hits,
        misses=n - hits,
        reads=n - writes,
        writes=writes,
        writebacks=int(wb_per_way.sum()),
        hits_per_way=hits_per_way,
        fills_per_way=fills_per_way,
        writebacks_per_way=wb_per_way,
        swaps=swaps,
        swaps_per_way=swaps_per_way,
        swap_stall_cycles=swaps * config.swap_stall_cycles,
        line_access_counts=np.sort(counts)[::-1].astype(np.int64),
        wire_energy_pj_per_way=wire_per_way,
        swap_energy_pj=swap_pj,
    )


__all__ = ["CacheConfig", "CacheResult", "LineStream", "check_config", "simulate"]
