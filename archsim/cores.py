"""The front end, memory hierarchy, result type and energy table shared by the three core models of
:mod:`archsim.cgooo` (in-order, out-of-order and CG-OoO), pure Python and numpy, exact integers.

Everything here depends only on the dynamic RV64IM trace (:class:`archsim.traces.rv64.Trace`), never on a
core's timing, so the three cores see the same branch outcomes, the same mispredictions, the same fetch
groups and the same hit or miss of every access. :func:`prepare` computes it once per trace.

Sources of the constants (labels as in the project's ``papers.md``): **V-S(author)** is the CG-OoO authors'
simulator, GitHub ``miladm/CG-OoO``, ``src/config/base.yaml`` (2017 state); **A** marks an assumption of
this module, with its reason.

Semantics:

* **Branch prediction** (V-S(author): tournament, local 2048 x 2 b, global 8192 x 2 b, choice 8192; BTB
  4096). The local table is indexed by ``pc / 4 mod 2048``; the global table by ``(pc / 4) xor h mod 8192``
  with ``h`` the 13-bit global history of conditional-branch outcomes (gshare); the choice table by ``h``
  (a 2-bit counter, >= 2 selects the global prediction). Counters start weakly not-taken (1); both
  tables are trained with every outcome, the choice counter when the two disagree (A: the indexing and
  training of the Alpha 21264 tournament scheme, which the authors' table sizes follow). Tables are
  updated immediately, in trace order (A: a trace-driven model has no wrong path). The BTB is
  direct-mapped on ``pc / 4 mod 4096`` (A: associativity not given) and holds the last target of every
  taken branch or jump. A control instruction is **mispredicted** when the predicted direction is wrong,
  or when it is taken and the BTB does not hold its target (A: also for ``jal`` and returns; no return
  address stack is modelled). The next instruction after a mispredicted one enters the core
  :data:`MISPREDICT_PENALTY_CYCLES` after the mispredicted instruction completes.
* **Fetch groups**: consecutive instructions, at most ``width``, in one 64-byte line; a group ends after a
  taken or mispredicted control instruction. Each group reads the L1-I once.
* **Memory hierarchy** (V-S(author): L1 3, L2 12 (2 MB), L3 20 (8 MB), memory 100 cycles; L1 32 KB, 64 B
  lines, L1-D 8-way). Every level is an LRU set-associative cache with 64-byte lines, accessed in trace
  order, allocating on every miss (write-allocate, non-inclusive; no write-back traffic modelled). The L1-I
  and L1-D are separate, L2 and L3 unified. A load served by level ``k`` takes that level's latency
  (load-to-use, A: the authors' figures read as the total latency of a hit at that level); a store writes
  at commit and never stalls. An L1-I miss served by level ``k`` delays its fetch group by that level's
  latency minus the L1 latency. An access that straddles two lines is charged to the line of its first
  byte (A). Hits and misses follow trace order, not the cores' timing: a later access to a line whose miss
  is still outstanding counts as a hit (A: no miss-status registers are modelled). This is a per-access
  model of its own; :mod:`archsim.cache` returns only aggregate counts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from archsim.traces import rv64

# --- constants, V-S(author) = miladm/CG-OoO src/config/base.yaml -------------------------------------------------
MISPREDICT_PENALTY_CYCLES = 20  # V-S(author): branch mispredict penalty 20 cycles
LOCAL_PREDICTOR_ENTRIES = 2048  # V-S(author): tournament local table, 2048 x 2 b
GLOBAL_PREDICTOR_ENTRIES = 8192  # V-S(author): global table, 8192 x 2 b
CHOICE_PREDICTOR_ENTRIES = 8192  # V-S(author): choice table, 8192
BTB_ENTRIES = 4096  # V-S(author): BTB 4096 entries
LINE_BYTES = 64  # V-S(author): L1-I 32 KB, 64 B lines
L1_BYTES = 32 * 1024  # V-S(author): L1-I and L1-D 32 KB
L1_WAYS = 8  # V-S(author): L1-D 8-way (HSPICE row); the L1-I is assumed the same (A)
L2_BYTES = 2 * 1024 * 1024  # V-S(author): L2 2 MB
L3_BYTES = 8 * 1024 * 1024  # V-S(author): L3 8 MB
L2_WAYS = 8  # A: associativity not given
L3_WAYS = 16  # A: associativity not given
L1_LATENCY_CYCLES = 3  # V-S(author)
L2_LATENCY_CYCLES = 12  # V-S(author)
L3_LATENCY_CYCLES = 20  # V-S(author)
MEMORY_LATENCY_CYCLES = 100  # V-S(author)
DEFAULT_WIDTH = 4  # V-S(author), 2014 draft: all cores 4-wide
MUL_LATENCY_CYCLES = 3  # A: a pipelined 64-bit integer multiplier (the authors give ALU 1, FPU 5 only)
DIV_LATENCY_CYCLES = 20  # A: an iterative 64-bit divider, pipelined in this model (no figure given)

LEVELS = ("l1", "l2", "l3", "memory")
"""Where an access is served, by the codes stored in :class:`Prepared` (0 = L1 ... 3 = memory)."""

STALL_CAUSES = (
    "frontend",
    "branch_mispredict",
    "icache_miss",
    "rob_full",
    "rs_full",
    "lsq_full",
    "prf_full",
    "window_full",
    "block_rob_full",
    "dependency",
    "dcache_miss",
    "execution",
)
"""Causes of the cycles in which nothing commits (see :class:`CoreResult`)."""
DISPATCH_STALL_CAUSES = ("rob_full", "rs_full", "lsq_full", "prf_full", "window_full", "block_rob_full")
"""Structures that can hold dispatch back (see :attr:`CoreResult.dispatch_stalls`)."""


def check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r} is not an integer; allowed: an integer in [{low}, {high}]")
    if not low <= value <= high:
        raise ValueError(f"{name}={value!r} is outside the allowed range; allowed: [{low}, {high}]")
    return int(value)


def _check_power_of_two(name: str, value: int) -> None:
    if value & (value - 1):
        raise ValueError(f"{name}={value} is not a power of two; allowed: 1, 2, 4, 8, ...")


@dataclasses.dataclass(frozen=True)
class SharedConfig:
    """The front end and memory hierarchy every core shares (:func:`check_shared_config` checks it).

    Attributes:
        width: fetch, dispatch, issue and commit width, instructions per cycle.
        mispredict_penalty_cycles: cycles from a mispredicted instruction's completion to the next one's
            entry into the core.
        local_entries, global_entries, choice_entries: tournament predictor tables, 2-bit counters, powers of two.
        btb_entries: BTB entries, a power of two.
        line_bytes: line size of every cache level, bytes, a power of two.
        l1i_bytes, l1d_bytes, l2_bytes, l3_bytes: capacities, bytes.
        l1_ways, l2_ways, l3_ways: associativities.
        l1_latency_cycles, l2_latency_cycles, l3_latency_cycles, memory_latency_cycles: latency of an access
            served by that level, cycles.
        mul_latency_cycles, div_latency_cycles: integer multiply and divide latencies, cycles (ALU, branch,
            jump and store address: 1 cycle).
        perfect_icache, perfect_dcache: every fetch (load) hits the L1 (for hand-checked cases).
    """

    width: int = DEFAULT_WIDTH
    mispredict_penalty_cycles: int = MISPREDICT_PENALTY_CYCLES
    local_entries: int = LOCAL_PREDICTOR_ENTRIES
    global_entries: int = GLOBAL_PREDICTOR_ENTRIES
    choice_entries: int = CHOICE_PREDICTOR_ENTRIES
    btb_entries: int = BTB_ENTRIES
    line_bytes: int = LINE_BYTES
    l1i_bytes: int = L1_BYTES
    l1d_bytes: int = L1_BYTES
    l2_bytes: int = L2_BYTES
    l3_bytes: int = L3_BYTES
    l1_ways: int = L1_WAYS
    l2_ways: int = L2_WAYS
    l3_ways: int = L3_WAYS
    l1_latency_cycles: int = L1_LATENCY_CYCLES
    l2_latency_cycles: int = L2_LATENCY_CYCLES
    l3_latency_cycles: int = L3_LATENCY_CYCLES
    memory_latency_cycles: int = MEMORY_LATENCY_CYCLES
    mul_latency_cycles: int = MUL_LATENCY_CYCLES
    div_latency_cycles: int = DIV_LATENCY_CYCLES
    perfect_icache: bool = False
    perfect_dcache: bool = False


def check_shared_config(config: SharedConfig) -> None:
    """``ValueError`` naming the field, its value and the allowed range for any bad field of ``config``."""
    check_int("width", config.width, 1, 64)
    check_int("mispredict_penalty_cycles", config.mispredict_penalty_cycles, 0, 10_000)
    for name in ("local_entries", "global_entries", "choice_entries", "btb_entries", "line_bytes"):
        _check_power_of_two(name, check_int(name, getattr(config, name), 1, 1 << 24))
    for level, ways in (("l1i", "l1_ways"), ("l1d", "l1_ways"), ("l2", "l2_ways"), ("l3", "l3_ways")):
        size = check_int(f"{level}_bytes", getattr(config, f"{level}_bytes"), 1, 1 << 34)
        w = check_int(ways, getattr(config, ways), 1, 1024)
        if size % (w * config.line_bytes) or (size // (w * config.line_bytes)) & (size // (w * config.line_bytes) - 1):
            raise ValueError(
                f"{level}_bytes={size} with {ways}={w} and line_bytes={config.line_bytes}: allowed a size that is "
                f"{ways} x line_bytes = {w * config.line_bytes} times a power of two"
            )
    lat = [check_int(f"{lv}_latency_cycles", getattr(config, f"{lv}_latency_cycles"), 1, 100_000) for lv in LEVELS]
    if lat != sorted(lat):
        raise ValueError(f"latencies l1, l2, l3, memory = {lat}: allowed non-decreasing from L1 to memory")
    check_int("mul_latency_cycles", config.mul_latency_cycles, 1, 1000)
    check_int("div_latency_cycles", config.div_latency_cycles, 1, 1000)
    for name in ("perfect_icache", "perfect_dcache"):
        if not isinstance(getattr(config, name), bool):
            raise ValueError(f"{name}={getattr(config, name)!r}; allowed: True or False")


def check_trace(trace: rv64.Trace) -> int:
    """Check a trace's fields; return its length ``n``.

    Raises:
        ValueError: naming the field, the first bad index and value, and what is allowed: fields of unequal
            length, an empty trace, a class code outside ``0..7``, a register outside ``-1..31``, a load or
            store without an address or size, a control instruction without a target.
    """
    n = int(np.asarray(trace.pc).size)
    if n == 0:
        raise ValueError("trace has 0 instructions; allowed: at least 1")
    for name in rv64.Trace._fields:
        arr = np.asarray(getattr(trace, name))
        if arr.ndim != 1 or arr.size != n:
            raise ValueError(f"trace.{name} has shape {arr.shape}; allowed: ({n},), the shape of trace.pc")

    def first_bad(name: str, bad: np.ndarray, allowed: str) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"trace.{name}[{i}] = {np.asarray(getattr(trace, name))[i].item()}; allowed: {allowed}")

    cls = np.asarray(trace.cls).astype(np.int64)
    first_bad("cls", (cls < 0) | (cls >= len(rv64.CLASSES)), f"a class code in [0, {len(rv64.CLASSES) - 1}]")
    for name in ("rd", "rs1", "rs2"):
        r = np.asarray(getattr(trace, name)).astype(np.int64)
        first_bad(name, (r < -1) | (r > 31), "a register in [0, 31], or -1 for none")
    first_bad("rd", np.asarray(trace.rd).astype(np.int64) == 0, "1..31 or -1 (a write to x0 is no write)")
    mem = (cls == rv64.LOAD) | (cls == rv64.STORE)
    first_bad("mem_address", mem & (np.asarray(trace.mem_address) < 0), "an address >= 0 for a load or store")
    first_bad("mem_size", mem & ~np.isin(np.asarray(trace.mem_size), (1, 2, 4, 8)), "1, 2, 4 or 8 for a load or store")
    ctrl = (cls == rv64.BRANCH) | (cls == rv64.JUMP)
    first_bad("target", ctrl & (np.asarray(trace.target) < 0), "a target address >= 0 for a branch or jump")
    return n


# --- memory hierarchy --------------------------------------------------------------------------------------------
class _LruCache:
    """One LRU set-associative level over line addresses: ``access(line) -> hit``."""

    def __init__(self, size_bytes: int, ways: int, line_bytes: int) -> None:
        self.sets = size_bytes // (ways * line_bytes)
        self.ways = ways
        self._state: list[list[int]] = [[] for _ in range(self.sets)]

    def access(self, line: int) -> bool:
        s = self._state[line % self.sets]
        if line in s:
            if s[-1] != line:
                s.remove(line)
                s.append(line)
            return True
        if len(s) == self.ways:
            del s[0]
        s.append(line)
        return False


class _Hierarchy:
    """Split L1-I / L1-D over unified L2 and L3: ``access(line, instruction) -> level code`` (0..3)."""

    def __init__(self, c: SharedConfig) -> None:
        self.l1i = _LruCache(c.l1i_bytes, c.l1_ways, c.line_bytes)
        self.l1d = _LruCache(c.l1d_bytes, c.l1_ways, c.line_bytes)
        self.l2 = _LruCache(c.l2_bytes, c.l2_ways, c.line_bytes)
        self.l3 = _LruCache(c.l3_bytes, c.l3_ways, c.line_bytes)

    def access(self, line: int, instruction: bool) -> int:
        if (self.l1i if instruction else self.l1d).access(line):
            return 0
        if self.l2.access(line):
            return 1
        return 2 if self.l3.access(line) else 3


# --- branch prediction ---------------------------------------------------------------------------------------------
def _predict(trace: rv64.Trace, c: SharedConfig) -> tuple[np.ndarray, dict[str, int]]:
    """Mispredicted flag per instruction and the predictor's access counts (trace order, immediate update)."""
    cls = trace.cls.tolist()
    pcs = trace.pc.tolist()
    taken = trace.taken.tolist()
    targets = trace.target.tolist()
    n = len(cls)
    local = [1] * c.local_entries
    glob = [1] * c.global_entries
    choice = [1] * c.choice_entries
    btb_pc = [-1] * c.btb_entries
    btb_target = [-1] * c.btb_entries
    lmask, gmask, cmask, bmask = c.local_entries - 1, c.global_entries - 1, c.choice_entries - 1, c.btb_entries - 1
    hbits = max(int(math.log2(c.global_entries)), int(math.log2(c.choice_entries)))
    hmask = (1 << hbits) - 1
    history = 0
    wrong = np.zeros(n, dtype=bool)
    counts = {"bpred.read": 0, "bpred.write": 0, "btb.search": 0, "btb.write": 0}
    for i in range(n):
        k = cls[i]
        if k != rv64.BRANCH and k != rv64.JUMP:
            continue
        pc, t = pcs[i], taken[i]
        word = pc >> 2
        b = word & bmask
        counts["btb.search"] += 1
        target_ok = btb_pc[b] == pc and btb_target[b] == targets[i]
        if k == rv64.BRANCH:
            counts["bpred.read"] += 1
            counts["bpred.write"] += 1
            li, gi, ci = word & lmask, (word ^ history) & gmask, history & cmask
            lp, gp = local[li] >= 2, glob[gi] >= 2
            pred = gp if choice[ci] >= 2 else lp
            wrong[i] = pred != t or (t and not target_ok)
            if lp != gp:
                choice[ci] = min(3, choice[ci] + 1) if gp == t else max(0, choice[ci] - 1)
            local[li] = min(3, local[li] + 1) if t else max(0, local[li] - 1)
            glob[gi] = min(3, glob[gi] + 1) if t else max(0, glob[gi] - 1)
            history = ((history << 1) | int(t)) & hmask
        else:
            wrong[i] = not target_ok
        if t and not target_ok:
            counts["btb.write"] += 1
            btb_pc[b], btb_target[b] = pc, targets[i]
    return wrong, counts


# --- the shared, timing-independent view of a trace --------------------------------------------------------------
class Prepared(NamedTuple):
    """What every core takes from a trace (:func:`prepare`); lists are of Python ints, ``n`` long unless said.

    Attributes:
        n: instructions.
        config: the shared configuration it was prepared for.
        cls: class codes (:data:`archsim.traces.rv64.CLASSES`).
        rd: destination register or -1.
        sources: per instruction, how many register operands it reads (x0 and absent ones not counted).
        producers: per instruction, the indices of the latest older writers of its source registers
            (x0 and absent sources have none), deduplicated.
        mem_producer: for a load, the index of the latest older store to the same 8-byte word, else -1.
        latency: execution latency, cycles (loads: the latency of the level that serves them).
        data_level: for loads and stores the level code that served them (0..3), else -1.
        mispredicted: per instruction, whether it is a mispredicted control instruction.
        group: fetch group index per instruction (non-decreasing from 0).
        group_start: first instruction of each group (``groups`` long).
        group_delay: extra fetch cycles of each group for its L1-I miss (0 on a hit).
        group_level: level code that served each group's fetch.
        counts: accesses of the shared structures (predictor, BTB, caches).
    """

    n: int
    config: SharedConfig
    cls: list[int]
    rd: list[int]
    sources: list[int]
    producers: list[tuple[int, ...]]
    mem_producer: list[int]
    latency: list[int]
    data_level: list[int]
    mispredicted: list[bool]
    group: list[int]
    group_start: list[int]
    group_delay: list[int]
    group_level: list[int]
    counts: dict[str, int]


def prepare(trace: rv64.Trace, config: SharedConfig = SharedConfig()) -> Prepared:
    """Branch outcomes, fetch groups, cache levels and register producers of ``trace`` (checked first).

    Raises:
        ValueError: for a malformed trace (:func:`check_trace`) or configuration (:func:`check_shared_config`).
    """
    check_shared_config(config)
    n = check_trace(trace)
    wrong, counts = _predict(trace, config)
    cls = trace.cls.astype(np.int64).tolist()
    rd = trace.rd.astype(np.int64).tolist()
    rs1 = trace.rs1.astype(np.int64).tolist()
    rs2 = trace.rs2.astype(np.int64).tolist()
    pcs = trace.pc.tolist()
    taken = trace.taken.tolist()
    addr = trace.mem_address.tolist()
    wrong_l = wrong.tolist()
    line_shift = int(math.log2(config.line_bytes))
    level_latency = [config.l1_latency_cycles, config.l2_latency_cycles, config.l3_latency_cycles,
                     config.memory_latency_cycles]  # fmt: skip
    fixed_latency = {rv64.MUL: config.mul_latency_cycles, rv64.DIV: config.div_latency_cycles}
    memory = _Hierarchy(config)
    last_writer = [-1] * 32
    last_store: dict[int, int] = {}
    producers: list[tuple[int, ...]] = []
    sources = [0] * n
    mem_producer = [-1] * n
    latency = [1] * n
    data_level = [-1] * n
    group, group_start, group_delay, group_level = [0] * n, [], [], []
    level_counts = {"l1i.read": 0, "l1d.read": 0, "l1d.write": 0, "l2.read": 0, "l3.read": 0, "memory.read": 0}
    in_group, group_line, g = 0, -1, -1
    for i in range(n):
        line = pcs[i] >> line_shift
        if in_group == 0 or in_group == config.width or line != group_line:
            g += 1
            group_start.append(i)
            group_line, in_group = line, 0
            level = 0 if config.perfect_icache else memory.access(line, True)
            group_level.append(level)
            group_delay.append(level_latency[level] - level_latency[0])
            level_counts["l1i.read"] += 1
            level_counts["l2.read"] += level >= 1
            level_counts["l3.read"] += level >= 2
            level_counts["memory.read"] += level >= 3
        group[i] = g
        in_group += 1
        k = cls[i]
        if (k == rv64.BRANCH and (taken[i] or wrong_l[i])) or k == rv64.JUMP:
            in_group = 0  # the group ends after a taken or mispredicted control instruction
        src = []
        for r in (rs1[i], rs2[i]):
            sources[i] += r > 0
            if r > 0 and last_writer[r] >= 0 and last_writer[r] not in src:
                src.append(last_writer[r])
        producers.append(tuple(src))
        if k == rv64.LOAD or k == rv64.STORE:
            level = 0 if config.perfect_dcache else memory.access(addr[i] >> line_shift, False)
            data_level[i] = level
            level_counts["l1d.read" if k == rv64.LOAD else "l1d.write"] += 1
            level_counts["l2.read"] += level >= 1
            level_counts["l3.read"] += level >= 2
            level_counts["memory.read"] += level >= 3
            word = addr[i] >> 3
            if k == rv64.LOAD:
                latency[i] = level_latency[level]
                mem_producer[i] = last_store.get(word, -1)
            else:
                last_store[word] = i
        elif k in fixed_latency:
            latency[i] = fixed_latency[k]
        if rd[i] > 0:
            last_writer[rd[i]] = i
    counts.update(level_counts)
    return Prepared(
        n, config, cls, rd, sources, producers, mem_producer, latency, data_level, wrong_l, group, group_start,
        group_delay, group_level, counts,
    )  # fmt: skip


# --- results ---------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CoreResult:
    """One core's run over one trace.

    Attributes:
        core: ``"ino"``, ``"ooo"`` or ``"cgooo"``.
        cycles: cycles from the first fetch to the last commit, inclusive.
        instructions: instructions committed (the trace's length).
        stalls: cycles in which nothing commits, by cause (:data:`STALL_CAUSES`): the cause of the oldest
            uncommitted instruction (CG-OoO: the latest-completing instruction of the oldest uncommitted
            block) at that cycle: not yet in the core (its front-end cause), waiting to issue
            (``dependency``: for operands, and also for an issue slot and, in CG-OoO, for a head-buffer
            slot or its Skipahead turn), or executing (``dcache_miss`` for a load served beyond the L1, else
            ``execution``). ``cycles == commit_cycles + sum(stalls.values())``. A full structure is almost
            never the cause at the commit head (its entries are held by older instructions, which have
            committed by then; the root cause is the head's latency): see ``dispatch_stalls``.
        commit_cycles: cycles in which at least one instruction commits.
        counts: accesses per structure, ``"structure.action"`` (reads, writes, CAM searches, wire traversals).
        structures: instances of each structure that leaks, ``{"rob": 1, "block_window": 12, ...}``.
        dispatch_stalls: per structure of :data:`DISPATCH_STALL_CAUSES`, the cycles by which it held
            instructions back at dispatch beyond the front end and the instruction ahead (summed over
            instructions; these overlap the commit-head ``stalls``, they do not add to ``cycles``).
    """

    core: str
    cycles: int
    instructions: int
    stalls: dict[str, int]
    commit_cycles: int
    counts: dict[str, int]
    structures: dict[str, int]
    dispatch_stalls: dict[str, int]

    @property
    def ipc(self) -> float:
        """Instructions per cycle."""
        return self.instructions / self.cycles


def stall_breakdown(
    commit: list[int], dispatch: list[int], issue: list[int], responsible: list[int], front_cause: list[int],
    data_level: list[int], cls: list[int], leader: list[int] | None = None,
) -> tuple[dict[str, int], int]:  # fmt: skip
    """Stalls by cause and commit cycles from per-instruction cycles (see :class:`CoreResult`).

    ``responsible[i]`` is the instruction whose progress decides instruction ``i``'s commit (``i`` itself, or
    the latest-completing instruction of its block); ``front_cause[i]`` indexes :data:`STALL_CAUSES`.
    ``leader[i]`` (default ``i``) is the first instruction of ``i``'s commit group (its block): cycles before
    the leader enters the core count to the leader's front-end cause, later ones before the responsible
    instruction enters to the responsible one's."""
    stalls = dict.fromkeys(STALL_CAUSES, 0)
    previous = -1
    commit_cycles = 0
    for i in range(len(commit)):
        c = commit[i]
        if c == previous:
            continue
        commit_cycles += 1
        j = responsible[i]
        lo, hi = previous + 1, c  # cycles lo .. c - 1 commit nothing
        d, s = dispatch[j], issue[j]
        f = i if leader is None else leader[i]
        lead = max(0, min(hi, dispatch[f], d) - lo)
        stalls[STALL_CAUSES[front_cause[f]]] += lead
        front = max(0, min(hi, d) - max(lo, min(dispatch[f], d)))
        waiting = max(0, min(hi, s) - max(lo, d))
        executing = max(0, hi - max(lo, s))
        stalls[STALL_CAUSES[front_cause[j]]] += front
        stalls["dependency"] += waiting
        stalls["dcache_miss" if cls[j] == rv64.LOAD and data_level[j] > 0 else "execution"] += executing
        previous = c
    return stalls, commit_cycles


# --- energy ----------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EnergyTable:
    """Per-access energies and per-cycle leakage.

    Attributes:
        access_pj: ``"structure.action"`` -> pJ per access.
        leakage_pj_per_cycle: ``"structure"`` -> pJ per cycle per instance.
        unpriced: count keys deliberately left out of the energy (no figure for them), so that a count key
            that is neither priced nor listed here raises.
    """

    access_pj: Mapping[str, float]
    leakage_pj_per_cycle: Mapping[str, float]
    unpriced: tuple[str, ...] = ()


_GLOBAL_RF_SEGMENTS = 6  # V-S(author): CG-OoO global register file, 6 segments
_WIRE_MM = 1.0  # A: 1 mm between clusters (no floorplan given)
_WIRE_BITS = 64  # A: one 64-bit operand per traversal
_WIRE_PJ = 0.08 * 0.5 * _WIRE_BITS * _WIRE_MM  # V-S: 0.08 pJ/bit/mm, activity 0.5 (paper p. 7, quoted)

_ACCESS_PJ: dict[str, float] = {
    # All V-S(author), miladm/CG-OoO src/config/base.yaml (2017 state), pJ per access.
    "rob.read": 4.066, "rob.write": 4.066,  # OoO ROB, 180 entries, 4R/4W
    "ino_rob.read": 0.0873, "ino_rob.write": 0.0873,  # InO ROB, 50 entries
    "block_rob.read": 3.334, "block_rob.write": 3.334,  # CG-OoO block ROB, 30 entries
    "rs.read": 4.844, "rs.write": 4.844, "rs.cam_search": 3.210,  # OoO reservation station, 64
    "lq.read": 1.236, "lq.write": 1.236, "lq.cam_search": 2.204,  # load queue, 64
    "sq.read": 1.621, "sq.write": 1.621, "sq.cam_search": 1.315,  # store queue, 32
    "block_window.read": 0.4397, "block_window.write": 0.4397,  # 12 windows x 60
    "head_buffer.read": 0.605, "head_buffer.write": 0.605, "head_buffer.cam_search": 0.0471,  # 4 x 12
    "ino_window.read": 0.4389, "ino_window.write": 0.4389,  # InO instruction window, 10
    "prf.read": 7.649, "prf.write": 7.649,  # OoO register file, 252
    # CG-OoO global RF: 7.649 divided by 2 x segments in the authors' code
    "global_rf.read": 7.649 / (2 * _GLOBAL_RF_SEGMENTS), "global_rf.write": 7.649 / (2 * _GLOBAL_RF_SEGMENTS),
    "local_rf.read": 0.3103, "local_rf.write": 0.3103,  # 20 entries per block window
    "ino_rf.read": 2.535, "ino_rf.write": 2.535,  # InO register file, 90
    "rat.read": 1.171, "rat.write": 1.171,  # OoO RAT
    "global_rat.read": 1.070, "global_rat.write": 1.070,  # CG-OoO global RAT
    "bpred.read": 0.406, "bpred.write": 0.406,  # tournament predictor
    "btb.search": 87.13, "btb.write": 87.13,  # BTB 4096 (CAM search figure; writes priced the same, A)
    "l1i.read": 42.96,  # L1-I 32 KB
    "l1d.read": 28.2, "l1d.write": 28.2,  # L1-D 32 KB 8-way (HSPICE output); writes priced as reads (A)
    "alu.op": 1.040,  # ALU
    "muldiv.op": 8.800,  # A: priced as the authors' FPU operation (no integer multiplier figure)
    "latch.traversal": 0.5864,  # pipeline latch, per stage traversed
    "cluster_wire.traversal": _WIRE_PJ,  # A: 64 bits over 1 mm at 0.08 pJ/bit/mm, activity 0.5
}  # fmt: skip
_LEAKAGE_PJ_PER_CYCLE: dict[str, float] = {
    # V-S(author), same file, pJ per cycle per instance.
    "rob": 7.356e-3, "ino_rob": 4.718e-5, "block_rob": 7.356e-3, "rs": 1.979e-2, "lq": 1.086e-2,
    "sq": 7.786e-3, "block_window": 6.983e-4, "head_buffer": 1.479e-3, "ino_window": 1.397e-3,
    "prf": 1.476e-2, "global_rf": 1.476e-2, "local_rf": 1.098e-3, "ino_rf": 4.939e-3, "rat": 5.703e-4,
    "global_rat": 5.703e-4, "bpred": 1.476e-2, "btb": 4.514e-2, "l1i": 0.2135, "latch": 5.864e-2,
}  # fmt: skip
AUTHOR_ENERGY = EnergyTable(
    access_pj=_ACCESS_PJ,
    leakage_pj_per_cycle=_LEAKAGE_PJ_PER_CYCLE,
    unpriced=("l2.read", "l3.read", "memory.read"),  # the authors' table gives no L2, L3 or memory energy
)
"""The CG-OoO authors' per-structure energies (V-S(author), ``miladm/CG-OoO`` ``src/config/base.yaml``), with
the assumptions marked A. Leakage of the L1-D and of the ALUs is not given and not counted."""


def energy_pj(result: CoreResult, table: EnergyTable = AUTHOR_ENERGY) -> dict[str, float]:
    """Energy of a run, pJ: one entry per priced count key (count x pJ per access), one ``"<structure>.leakage"``
    per leaking structure (cycles x instances x pJ per cycle), and ``"total"``.

    Raises:
        KeyError: a count key that the table neither prices nor lists as unpriced.
    """
    out: dict[str, float] = {}
    for key, count in sorted(result.counts.items()):
        if key in table.access_pj:
            out[key] = count * table.access_pj[key]
        elif key not in table.unpriced:
            raise KeyError(f"count key {key!r} has no energy in the table; allowed: {sorted(table.access_pj)}")
    for name, instances in sorted(result.structures.items()):
        if name in table.leakage_pj_per_cycle:
            out[f"{name}.leakage"] = result.cycles * instances * table.leakage_pj_per_cycle[name]
    out["total"] = sum(out.values())
    return out
