"""Trace-driven cycle-level models of an in-order core, a conventional out-of-order core and CG-OoO
(Milad Mohammadi, Song Han, Tor Aamodt, William Dally, "CG-OoO: Energy-Efficient Coarse-Grain Out-of-Order
Execution", arXiv 1606.01607; TACO 14(4) 2017) over the same RV64IM trace, pure Python, exact integers.

All three share the front end and memory hierarchy of :mod:`archsim.cores` (tournament predictor and BTB on
the trace's real outcomes, fetch groups, per-access LRU L1-I / L1-D / L2 / L3, memory). Each model walks the
trace once in program order and gives every instruction its cycles: ``dispatch`` (enters the core),
``issue``, ``complete = issue + latency`` (its result usable by a consumer issuing in that cycle) and
``commit``. Resources are granted oldest first (an older instruction is placed before a younger one is
looked at), so the walk is a deterministic list schedule; the rules per core are below. Cycles are counted
from 0 (the first fetch) to the last commit, inclusive.

Common rules (all cores; V-S(author) = the authors' simulator ``miladm/CG-OoO``, ``src/config/base.yaml`` and
its 2014 draft, labelled in the project's ``papers.md``; A = an assumption of this module):

* Fetch: group ``g`` (:mod:`archsim.cores`) is fetched at ``max(fetch[g-1] + 1, dispatch of group g-1's
  first instruction)`` (a one-group fetch buffer), or at the redirect after a mispredicted instruction
  (its completion + 20 cycles, V-S(author)), whichever is later, plus its L1-I miss delay.
* Dispatch in order, ``width`` per cycle (V-S(author), 2014 draft: 4-wide), not before the group's fetch,
  and not before the structure the core needs is free (a freed entry is reusable the next cycle).
* Issue one cycle after dispatch at the earliest (A), and not before every register producer and, for a
  load, the latest older store to the same 8-byte word has completed (store-to-load forwarding; loads are
  otherwise not ordered against stores: perfect disambiguation, A).
* Commit in order (``width`` per cycle) not before completion; stores write the L1-D at commit.
* Pipeline depth (``stages``) prices latch traversals only; in the timing, the front end's depth is folded
  into the 20-cycle redirect and the one dispatch-to-issue cycle (A).

Cores:

* **InO** (:class:`InOConfig`): in-order issue (``issue[i] >= issue[i-1]``, ``width`` per cycle), a
  10-entry instruction window freed at issue, a 50-entry ROB freed at commit (V-S(author): InO ROB 50,
  instruction window 10, RF 90; 9 stages, 2014 draft).
* **OoO** (:class:`OoOConfig`): issue out of order from a 64-entry reservation station (freed at issue),
  ``width`` per cycle; ROB 180; load / store queues 64 / 32 freed at commit; physical registers 252 of which
  32 hold the architectural state (A: RV64's 32 integer registers in place of the authors' 90 x86 ones), so
  at most 220 register writers are in flight (V-S(author): ROB 180, RS 64, LSQ 64/32, PRF 252; 11 stages,
  2014 draft; the 2014 draft's RS was 128, the 2017 file's 64 is used).
* **CG-OoO** (:class:`CGOoOConfig`): the dynamic trace is cut into blocks after every branch or jump (its
  basic blocks), and after 60 instructions, 64 loads or 32 stores. A block takes a block window (12 of
  them, allocated round robin, V-S(author)) freed when its last instruction has issued, and a block ROB
  entry (30, V-S(author)) freed at its commit. Within a window, only the 4 oldest unissued instructions (the
  head buffer, V-S(author)) may issue, out of order among themselves. Across windows, Skipahead lets a
  block issue only while at most 4 older blocks still have unissued instructions (look-ahead 5 blocks,
  V-S(author), A: read as "the 5 oldest blocks with work issue"). Windows ``4c .. 4c+3`` form cluster ``c``,
  which issues at most 4 instructions per cycle (4 ALUs per cluster, V-S(author)). A block commits when
  all its instructions have completed, one block per cycle (A), after the block before it. Registers:
  a value whose every reader is in its own block is **local** (kept in the window's 20-entry local RF,
  V-S(author); the first 20 such values of a block, the rest global); every other value is **global**
  (global RF, renamed through the global RAT, 348 physical registers, V-S(author), at most 316 global
  writers in flight, A: 32 architectural). This is the compiler's register allocation read from the
  dynamic trace (A: exact liveness, the best a static allocator could do). A global operand produced in
  another cluster arrives one cycle later (``cross_cluster_cycles``, A) over a wire traversal. Loads and
  stores use the same load / store queues as the OoO core (A). The paper's compiler schedules each block
  statically; by default the head buffers see GCC's order of the trace, and ``static_schedule=True``
  reorders each block with a list scheduler of this module (:func:`schedule_blocks`), not the authors'.
  Not modelled, as in every trace-driven model here: wrong-path fetch and execution after a misprediction.

Access counts (``"structure.action"``, priced by :func:`archsim.cores.energy_pj`): every core counts the
shared front end and caches (``bpred.read/write``, ``btb.search/write``, ``l1i.read``, ``l1d.read/write``,
``l2.read``, ``l3.read``, ``memory.read``), ``alu.op`` (ALU, branch, jump, system and address generation)
or ``muldiv.op``, and ``latch.traversal`` (pipeline stages x instructions). Per core:

* InO: ``ino_window.write`` at dispatch and ``.read`` at issue; ``ino_rob.write`` at dispatch and ``.read``
  at commit; ``ino_rf.read`` per register operand, ``ino_rf.write`` per result.
* OoO: ``rat.read`` per register operand and ``rat.write`` per result (rename); ``rob.write`` / ``.read`` at
  dispatch / commit; ``rs.write`` / ``.read`` at dispatch / issue and one ``rs.cam_search`` (tag
  broadcast) per result; ``prf.read`` per operand, ``prf.write`` per result; loads ``lq.write`` /
  ``lq.read`` (dispatch / commit) and ``sq.cam_search`` (forwarding), stores ``sq.write`` / ``sq.read`` and
  ``lq.cam_search`` (ordering check).
* CG-OoO: ``block_rob.write`` / ``.read`` per block; ``block_window.write`` at dispatch and ``.read`` on the
  move to the head buffer; ``head_buffer.write`` / ``.read`` (enter / issue); ``head_buffer.cam_search``:
  one per local result (its own window), one per window for a global result (broadcast to the 12 head
  buffers); ``local_rf`` / ``global_rf`` reads per operand and writes per result by its class;
  ``global_rat.read`` per global operand, ``global_rat.write`` per global result;
  ``cluster_wire.traversal`` per global operand from another cluster; the same LSQ counts as OoO.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import deque

from archsim.cores import (
    AUTHOR_ENERGY,
    DISPATCH_STALL_CAUSES,
    STALL_CAUSES,
    CoreResult,
    EnergyTable,
    Prepared,
    SharedConfig,
    check_int,
    energy_pj,
    prepare,
    stall_breakdown,
)
from archsim.traces import rv64

__all__ = [
    "AUTHOR_ENERGY",
    "CGOoOConfig",
    "CoreResult",
    "EnergyTable",
    "InOConfig",
    "OoOConfig",
    "SharedConfig",
    "energy_pj",
    "prepare",
    "simulate_all",
    "simulate_cgooo",
    "simulate_ino",
    "simulate_ooo",
]

ARCH_REGISTERS = 32  # A: RV64I integer registers (the authors' x86 model has 90)
_CAUSE = {name: k for k, name in enumerate(STALL_CAUSES)}


@dataclasses.dataclass(frozen=True)
class InOConfig:
    """In-order core (V-S(author)): ``window_entries`` (instruction window, 10), ``rob_entries`` (50),
    ``stages`` (pipeline stages, 9, 2014 draft)."""

    window_entries: int = 10
    rob_entries: int = 50
    stages: int = 9


@dataclasses.dataclass(frozen=True)
class OoOConfig:
    """Out-of-order core (V-S(author)): ``rob_entries`` 180, ``rs_entries`` 64, ``lq_entries`` / ``sq_entries``
    64 / 32, ``prf_entries`` 252 physical registers, ``stages`` 11 (2014 draft)."""

    rob_entries: int = 180
    rs_entries: int = 64
    lq_entries: int = 64
    sq_entries: int = 32
    prf_entries: int = 252
    stages: int = 11


@dataclasses.dataclass(frozen=True)
class CGOoOConfig:
    """CG-OoO core (V-S(author) unless marked): ``windows`` 12 block windows of ``window_entries`` 60,
    ``head_buffer_entries`` 4, ``skipahead_blocks`` 5, ``windows_per_cluster`` 4 sharing ``cluster_alus`` 4,
    ``block_rob_entries`` 30, ``local_rf_entries`` 20 per window, ``global_rf_entries`` 348,
    ``global_rf_segments`` 6, ``lq_entries`` / ``sq_entries`` 64 / 32 (A: as OoO),
    ``cross_cluster_cycles`` 1 (A), ``stages`` 11 (A: as OoO); ``static_schedule`` reorders each block as the
    compiler's static scheduling would (:func:`schedule_blocks`; off by default: the trace's order)."""

    windows: int = 12
    window_entries: int = 60
    head_buffer_entries: int = 4
    skipahead_blocks: int = 5
    windows_per_cluster: int = 4
    cluster_alus: int = 4
    block_rob_entries: int = 30
    local_rf_entries: int = 20
    global_rf_entries: int = 348
    global_rf_segments: int = 6
    lq_entries: int = 64
    sq_entries: int = 32
    cross_cluster_cycles: int = 1
    static_schedule: bool = False
    stages: int = 11


def check_config(config: InOConfig | OoOConfig | CGOoOConfig) -> None:
    """``ValueError`` naming the field, its value and the allowed range for any bad field of a core config."""
    if not isinstance(config, InOConfig | OoOConfig | CGOoOConfig):
        raise ValueError(f"config={config!r}; allowed: an InOConfig, OoOConfig or CGOoOConfig")
    for field in dataclasses.fields(config):
        if field.name == "static_schedule":
            if not isinstance(config.static_schedule, bool):
                raise ValueError(f"static_schedule={config.static_schedule!r}; allowed: True or False")
            continue
        low = 0 if field.name == "cross_cluster_cycles" else 1
        check_int(field.name, getattr(config, field.name), low, 1 << 20)
    if isinstance(config, OoOConfig) and config.prf_entries <= ARCH_REGISTERS:
        raise ValueError(f"prf_entries={config.prf_entries}; allowed: more than the {ARCH_REGISTERS} architectural")
    if isinstance(config, CGOoOConfig):
        if config.global_rf_entries <= ARCH_REGISTERS:
            raise ValueError(
                f"global_rf_entries={config.global_rf_entries}; allowed: more than the {ARCH_REGISTERS} architectural"
            )
        if config.windows % config.windows_per_cluster:
            raise ValueError(
                f"windows={config.windows} is not a multiple of windows_per_cluster={config.windows_per_cluster}; "
                f"allowed: a multiple of {config.windows_per_cluster}"
            )
        if config.skipahead_blocks > config.windows:
            raise ValueError(f"skipahead_blocks={config.skipahead_blocks}; allowed: [1, windows={config.windows}]")


def _as_prepared(trace: rv64.Trace | Prepared, shared: SharedConfig | None) -> Prepared:
    if isinstance(trace, Prepared):
        if shared is not None and shared != trace.config:
            raise ValueError("shared config differs from the one the trace was prepared with; allowed: the same")
        return trace
    return prepare(trace, shared if shared is not None else SharedConfig())


class _FrontEnd:
    """Fetch-group timing and dispatch width/order, the part every core shares."""

    def __init__(self, p: Prepared) -> None:
        self.p = p
        self.width = p.config.width
        self.penalty = p.config.mispredict_penalty_cycles
        self.fetch = -1
        self.cause = _CAUSE["frontend"]
        self.redirect = 0
        self.last_group_dispatch = 0
        self.last_group_cause = self.cause

    def earliest(self, i: int, dispatch: list[int], causes: list[int]) -> tuple[int, int]:
        """Earliest dispatch cycle of instruction ``i`` from the front end alone, and its cause code. An
        instruction held back only by the one ahead of it (dispatch order, width, a full fetch buffer)
        inherits that one's cause."""
        p = self.p
        g = p.group[i]
        if p.group_start[g] == i:
            t, cause = (0 if g == 0 else self.fetch + 1), _CAUSE["frontend"]
            if self.last_group_dispatch > t:
                t, cause = self.last_group_dispatch, self.last_group_cause
            if self.redirect > t:
                t, cause = self.redirect, _CAUSE["branch_mispredict"]
            if p.group_delay[g]:
                t, cause = t + p.group_delay[g], _CAUSE["icache_miss"]
            self.fetch, self.cause = t, cause
        t, cause = self.fetch, self.cause
        order = dispatch[i - 1] if i else 0
        if i >= self.width:
            order = max(order, dispatch[i - self.width] + 1)
        if order > t:
            t, cause = order, causes[i - 1]
        return t, cause

    def dispatched(self, i: int, cycle: int, cause: int) -> None:
        if self.p.group_start[self.p.group[i]] == i:
            self.last_group_dispatch, self.last_group_cause = cycle, cause

    def completed(self, i: int, cycle: int) -> None:
        if self.p.mispredicted[i]:
            self.redirect = cycle + self.penalty


def _operands_ready(p: Prepared, i: int, complete: list[int]) -> int:
    t = 0
    for j in p.producers[i]:
        t = max(t, complete[j])
    m = p.mem_producer[i]
    if m >= 0:
        t = max(t, complete[m])
    return t


def _common_counts(p: Prepared, stages: int) -> dict[str, int]:
    counts = dict(p.counts)
    muldiv = sum(1 for k in p.cls if k == rv64.MUL or k == rv64.DIV)
    counts["muldiv.op"] = muldiv
    counts["alu.op"] = p.n - muldiv
    counts["latch.traversal"] = stages * p.n
    return counts


def _lsq_counts(p: Prepared, counts: dict[str, int]) -> None:
    loads = sum(1 for k in p.cls if k == rv64.LOAD)
    stores = sum(1 for k in p.cls if k == rv64.STORE)
    counts.update({"lq.write": loads, "lq.read": loads, "sq.cam_search": loads,
                   "sq.write": stores, "sq.read": stores, "lq.cam_search": stores})  # fmt: skip


def _first_free(used: dict[int, int], t: int, capacity: int) -> int:
    while used.get(t, 0) >= capacity:
        t += 1
    used[t] = used.get(t, 0) + 1
    return t


def simulate_ino(
    trace: rv64.Trace | Prepared, config: InOConfig = InOConfig(), shared: SharedConfig | None = None
) -> CoreResult:
    """Run the in-order core over a trace (or one from :func:`archsim.cores.prepare`); see the module docstring.

    Raises:
        ValueError: for a bad configuration or a malformed trace, naming the field, value and allowed range.
    """
    check_config(config)
    p = _as_prepared(trace, shared)
    n, width = p.n, p.config.width
    fe = _FrontEnd(p)
    held = dict.fromkeys(DISPATCH_STALL_CAUSES, 0)
    dispatch, issue, complete, commit, cause = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    for i in range(n):
        t, c = fe.earliest(i, dispatch, cause)
        if i >= config.window_entries and issue[i - config.window_entries] + 1 > t:
            held["window_full"] += issue[i - config.window_entries] + 1 - t
            t, c = issue[i - config.window_entries] + 1, _CAUSE["window_full"]
        if i >= config.rob_entries and commit[i - config.rob_entries] + 1 > t:
            held["rob_full"] += commit[i - config.rob_entries] + 1 - t
            t, c = commit[i - config.rob_entries] + 1, _CAUSE["rob_full"]
        dispatch[i], cause[i] = t, c
        fe.dispatched(i, t, c)
        s = max(t + 1, _operands_ready(p, i, complete), issue[i - 1] if i else 0)
        if i >= width:
            s = max(s, issue[i - width] + 1)
        issue[i] = s
        complete[i] = s + p.latency[i]
        fe.completed(i, complete[i])
        r = max(complete[i], commit[i - 1] if i else 0)
        if i >= width:
            r = max(r, commit[i - width] + 1)
        commit[i] = r
    stalls, commit_cycles = stall_breakdown(commit, dispatch, issue, list(range(n)), cause, p.data_level, p.cls)
    counts = _common_counts(p, config.stages)
    operands = sum(p.sources)
    results = sum(1 for r in p.rd if r > 0)
    counts.update({"ino_window.write": n, "ino_window.read": n, "ino_rob.write": n, "ino_rob.read": n,
                   "ino_rf.read": operands, "ino_rf.write": results})  # fmt: skip
    structures = {"ino_window": 1, "ino_rob": 1, "ino_rf": 1, "bpred": 1, "btb": 1, "l1i": 1, "latch": config.stages}
    return CoreResult("ino", commit[-1] + 1, n, stalls, commit_cycles, counts, structures, held)


def simulate_ooo(
    trace: rv64.Trace | Prepared, config: OoOConfig = OoOConfig(), shared: SharedConfig | None = None
) -> CoreResult:
    """Run the out-of-order core over a trace (or a prepared one); see the module docstring.

    Raises:
        ValueError: for a bad configuration or a malformed trace, naming the field, value and allowed range.
    """
    check_config(config)
    p = _as_prepared(trace, shared)
    n, width = p.n, p.config.width
    fe = _FrontEnd(p)
    held = dict.fromkeys(DISPATCH_STALL_CAUSES, 0)
    dispatch, issue, complete, commit, cause = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    rs: list[int] = []  # issue cycles of the instructions holding a reservation-station entry (min-heap)
    loads: deque[int] = deque()  # commit cycles of in-flight loads, stores, register writers (in order)
    stores: deque[int] = deque()
    writers: deque[int] = deque()
    rename = config.prf_entries - ARCH_REGISTERS
    used: dict[int, int] = {}
    for i in range(n):
        k = p.cls[i]
        t, c = fe.earliest(i, dispatch, cause)
        if i >= config.rob_entries and commit[i - config.rob_entries] + 1 > t:
            held["rob_full"] += commit[i - config.rob_entries] + 1 - t
            t, c = commit[i - config.rob_entries] + 1, _CAUSE["rob_full"]
        queue, size = (loads, config.lq_entries) if k == rv64.LOAD else (stores, config.sq_entries)
        if k == rv64.LOAD or k == rv64.STORE:
            while len(queue) >= size:
                free = queue.popleft() + 1
                if free > t:
                    held["lsq_full"] += free - t
                    t, c = free, _CAUSE["lsq_full"]
        if p.rd[i] > 0:
            while len(writers) >= rename:
                free = writers.popleft() + 1
                if free > t:
                    held["prf_full"] += free - t
                    t, c = free, _CAUSE["prf_full"]
        while rs and rs[0] + 1 <= t:
            heapq.heappop(rs)
        while len(rs) >= config.rs_entries:
            free = heapq.heappop(rs) + 1
            if free > t:
                held["rs_full"] += free - t
                t, c = free, _CAUSE["rs_full"]
        dispatch[i], cause[i] = t, c
        fe.dispatched(i, t, c)
        s = _first_free(used, max(t + 1, _operands_ready(p, i, complete)), width)
        heapq.heappush(rs, s)
        issue[i] = s
        complete[i] = s + p.latency[i]
        fe.completed(i, complete[i])
        r = max(complete[i], commit[i - 1] if i else 0)
        if i >= width:
            r = max(r, commit[i - width] + 1)
        commit[i] = r
        if k == rv64.LOAD or k == rv64.STORE:
            queue.append(r)
        if p.rd[i] > 0:
            writers.append(r)
    stalls, commit_cycles = stall_breakdown(commit, dispatch, issue, list(range(n)), cause, p.data_level, p.cls)
    counts = _common_counts(p, config.stages)
    operands = sum(p.sources)
    results = sum(1 for r in p.rd if r > 0)
    counts.update({"rat.read": operands, "rat.write": results, "rob.write": n, "rob.read": n, "rs.write": n,
                   "rs.read": n, "rs.cam_search": results, "prf.read": operands, "prf.write": results})  # fmt: skip
    _lsq_counts(p, counts)
    structures = {"rob": 1, "rs": 1, "lq": 1, "sq": 1, "prf": 1, "rat": 1, "bpred": 1, "btb": 1, "l1i": 1,
                  "latch": config.stages}  # fmt: skip
    return CoreResult("ooo", commit[-1] + 1, n, stalls, commit_cycles, counts, structures, held)


def blocks(p: Prepared, config: CGOoOConfig = CGOoOConfig()) -> list[int]:
    """Block index per instruction: a block ends after a branch or jump, or when it holds ``window_entries``
    instructions, ``lq_entries`` loads or ``sq_entries`` stores."""
    out = [0] * p.n
    b, size, nl, ns = 0, 0, 0, 0
    for i, k in enumerate(p.cls):
        if (
            size == config.window_entries
            or (k == rv64.LOAD and nl == config.lq_entries)
            or (k == rv64.STORE and ns == config.sq_entries)
        ):
            b, size, nl, ns = b + 1, 0, 0, 0
        out[i] = b
        size += 1
        nl += k == rv64.LOAD
        ns += k == rv64.STORE
        if k == rv64.BRANCH or k == rv64.JUMP:
            b, size, nl, ns = b + 1, 0, 0, 0
    return out


def schedule_blocks(p: Prepared, block: list[int]) -> Prepared:
    """``p`` with each block's instructions reordered as a compiler's static list scheduler would emit them:
    by their earliest start cycle under the block's dependences (operands from older blocks ready at once),
    ties by the longest latency path to the block's end, then trace order; the closing branch or jump kept
    last. Latencies are the executed ones, except that every load is taken as an L1 hit (A: the compiler
    cannot know the misses). Zero-latency edges (below) tie on the start cycle and are ordered by the path
    length, so the order is topological.

    Dependences kept within a block: register read-after-write, write-after-read and write-after-write (on
    architectural registers, A: no register renaming by the compiler), and program order between a store and
    any other load or store (A: no alias analysis). Fetch groups, mispredictions and block boundaries stay
    at their positions (the scheduled code occupies the same addresses); every other per-instruction field
    moves with its instruction, and producer indices are remapped.
    """
    n = p.n
    order: list[int] = []
    start = 0
    while start < n:
        end = start
        while end + 1 < n and block[end + 1] == block[start]:
            end += 1
        members = range(start, end + 1)
        preds: dict[int, set[int]] = {i: set() for i in members}
        last_writer: dict[int, int] = {}
        readers: dict[int, list[int]] = {}
        last_store, last_memory = -1, -1
        for i in members:
            for j in p.producers[i]:
                if j >= start:
                    preds[i].add(j)
            r = p.rd[i]
            if r > 0:
                preds[i].update(readers.get(r, ()))
                if r in last_writer:
                    preds[i].add(last_writer[r])
            k = p.cls[i]
            if k == rv64.STORE and last_memory >= 0:
                preds[i].add(last_memory)
            if k == rv64.LOAD and last_store >= 0:
                preds[i].add(last_store)
            if k == rv64.LOAD or k == rv64.STORE:
                last_memory = i
                last_store = i if k == rv64.STORE else last_store
            for j in p.producers[i]:
                readers.setdefault(p.rd[j], []).append(i)
            if r > 0:
                last_writer[r] = i
                readers[r] = []
        # producers record the writer, not the register read; a read of a register whose writer is older
        # than the block needs no in-block edge
        succs: dict[int, list[int]] = {i: [] for i in members}
        for i in members:
            for j in preds[i]:
                succs[j].append(i)
        # the compiler's latencies: a load as an L1 hit (it cannot know the misses), the rest as executed
        lat = {i: p.config.l1_latency_cycles if p.cls[i] == rv64.LOAD else p.latency[i] for i in members}
        height = {}
        for i in reversed(members):
            height[i] = lat[i] + max((height[j] for j in succs[i]), default=0)
        closing = end if p.cls[end] in (rv64.BRANCH, rv64.JUMP) else -1
        asap = {}
        for i in members:
            raw = set(p.producers[i])
            asap[i] = max((asap[j] + (lat[j] if j in raw else 0) for j in preds[i]), default=0)
        body = sorted((i for i in members if i != closing), key=lambda i: (asap[i], -height[i], i))
        order.extend(body)
        if closing >= 0:
            order.append(closing)
        start = end + 1
    if len(order) != n:
        raise RuntimeError(f"block scheduling placed {len(order)} of {n} instructions")
    position = [0] * n
    for new, old in enumerate(order):
        position[old] = new

    def moved(values: list) -> list:
        return [values[old] for old in order]

    return p._replace(
        cls=moved(p.cls),
        rd=moved(p.rd),
        sources=moved(p.sources),
        producers=[tuple(position[j] for j in p.producers[old]) for old in order],
        mem_producer=[position[m] if m >= 0 else -1 for m in moved(p.mem_producer)],
        latency=moved(p.latency),
        data_level=moved(p.data_level),
        mispredicted=moved(p.mispredicted),
    )


def local_values(p: Prepared, block: list[int], local_rf_entries: int) -> list[bool]:
    """Per instruction, whether its result lives in its block window's local RF: it writes a register, every
    reader of the value is in its own block, and it is among the block's first ``local_rf_entries`` such."""
    local = [p.rd[i] > 0 for i in range(p.n)]
    for i in range(p.n):
        for j in p.producers[i]:
            if block[j] != block[i]:
                local[j] = False
    used: dict[int, int] = {}
    for i in range(p.n):
        if local[i]:
            k = used.get(block[i], 0)
            if k >= local_rf_entries:
                local[i] = False
            else:
                used[block[i]] = k + 1
    return local


def simulate_cgooo(
    trace: rv64.Trace | Prepared, config: CGOoOConfig = CGOoOConfig(), shared: SharedConfig | None = None
) -> CoreResult:
    """Run the CG-OoO core over a trace (or a prepared one); see the module docstring.

    Raises:
        ValueError: for a bad configuration or a malformed trace, naming the field, value and allowed range.
    """
    check_config(config)
    p = _as_prepared(trace, shared)
    n = p.n
    block = blocks(p, config)
    if config.static_schedule:
        p = schedule_blocks(p, block)
    local = local_values(p, block, config.local_rf_entries)
    nblocks = block[-1] + 1
    fe = _FrontEnd(p)
    held = dict.fromkeys(DISPATCH_STALL_CAUSES, 0)
    dispatch, issue, complete, commit, cause = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    last_issue = [0] * nblocks  # cycle by which every instruction of the block has issued
    block_commit = [0] * nblocks
    block_first = [0] * nblocks
    block_critical = [0] * nblocks  # latest-completing instruction of the block
    loads: deque[int] = deque()
    stores: deque[int] = deque()
    writers: deque[int] = deque()  # global register writers in flight (block commit cycles)
    rename = config.global_rf_entries - ARCH_REGISTERS
    clusters = config.windows // config.windows_per_cluster
    used: list[dict[int, int]] = [{} for _ in range(clusters)]
    cluster_of = [0] * nblocks
    counts = _common_counts(p, config.stages)
    for key in ("local_rf.read", "local_rf.write", "global_rf.read", "global_rf.write", "global_rat.read",
                "global_rat.write", "head_buffer.cam_search", "cluster_wire.traversal"):  # fmt: skip
        counts[key] = 0
    pending: list[int] = []  # instructions of the current block (committed together)
    top: list[int] = []  # the head_buffer_entries latest issue cycles within the current block
    skip_floor = 0

    def close_block(b: int) -> None:
        crit = max(pending, key=lambda j: (complete[j], j))
        r = max(complete[crit], block_commit[b - 1] + 1 if b else 0)
        block_commit[b], block_critical[b] = r, crit
        for j in pending:
            commit[j] = r
            if p.cls[j] == rv64.LOAD:
                loads.append(r)
            elif p.cls[j] == rv64.STORE:
                stores.append(r)
            if p.rd[j] > 0 and not local[j]:
                writers.append(r)
        pending.clear()

    for i in range(n):
        b, k = block[i], p.cls[i]
        if i and block[i - 1] != b:
            close_block(b - 1)
        t, c = fe.earliest(i, dispatch, cause)
        first = not i or block[i - 1] != b
        if first:
            block_first[b] = i
            cluster_of[b] = (b % config.windows) // config.windows_per_cluster
            top = []
            if b >= config.windows and last_issue[b - config.windows] + 1 > t:
                held["window_full"] += last_issue[b - config.windows] + 1 - t
                t, c = last_issue[b - config.windows] + 1, _CAUSE["window_full"]
            if b >= config.block_rob_entries and block_commit[b - config.block_rob_entries] + 1 > t:
                held["block_rob_full"] += block_commit[b - config.block_rob_entries] + 1 - t
                t, c = block_commit[b - config.block_rob_entries] + 1, _CAUSE["block_rob_full"]
            older = sorted(last_issue[max(0, b - config.windows + 1) : b], reverse=True)
            s = config.skipahead_blocks
            skip_floor = older[s - 1] + 1 if len(older) >= s else 0
        if k == rv64.LOAD or k == rv64.STORE:
            queue, size = (loads, config.lq_entries) if k == rv64.LOAD else (stores, config.sq_entries)
            in_block = sum(1 for j in pending if p.cls[j] == k)  # below size: blocks are cut there
            while len(queue) + in_block >= size:
                free = queue.popleft() + 1
                if free > t:
                    held["lsq_full"] += free - t
                    t, c = free, _CAUSE["lsq_full"]
        if p.rd[i] > 0 and not local[i]:
            in_block = sum(1 for j in pending if p.rd[j] > 0 and not local[j])
            while len(writers) + in_block >= rename and writers:
                free = writers.popleft() + 1
                if free > t:
                    held["prf_full"] += free - t
                    t, c = free, _CAUSE["prf_full"]
        dispatch[i], cause[i] = t, c
        fe.dispatched(i, t, c)
        cl = cluster_of[b]
        ready = max(t + 1, skip_floor)
        if len(top) >= config.head_buffer_entries:
            ready = max(ready, top[-1] + 1)  # a head-buffer slot frees when an older instruction issues
        for j in p.producers[i]:
            if local[j]:
                counts["local_rf.read"] += 1
                ready = max(ready, complete[j])
            else:
                counts["global_rf.read"] += 1
                counts["global_rat.read"] += 1
                if cluster_of[block[j]] != cl:
                    counts["cluster_wire.traversal"] += 1
                    ready = max(ready, complete[j] + config.cross_cluster_cycles)
                else:
                    ready = max(ready, complete[j])
        # operands with no producer in the trace (initial register values) are global reads
        extra = p.sources[i] - len(p.producers[i])
        counts["global_rf.read"] += extra
        counts["global_rat.read"] += extra
        m = p.mem_producer[i]
        if m >= 0:
            ready = max(ready, complete[m])
        s_cycle = _first_free(used[cl], ready, config.cluster_alus)
        issue[i] = s_cycle
        complete[i] = s_cycle + p.latency[i]
        fe.completed(i, complete[i])
        last_issue[b] = max(last_issue[b], s_cycle)
        top.append(s_cycle)
        top.sort(reverse=True)
        del top[config.head_buffer_entries :]
        if p.rd[i] > 0:
            if local[i]:
                counts["local_rf.write"] += 1
                counts["head_buffer.cam_search"] += 1
            else:
                counts["global_rf.write"] += 1
                counts["global_rat.write"] += 1
                counts["head_buffer.cam_search"] += config.windows
        pending.append(i)
    close_block(nblocks - 1)
    responsible = [block_critical[block[i]] for i in range(n)]
    leader = [block_first[block[i]] for i in range(n)]
    stalls, commit_cycles = stall_breakdown(commit, dispatch, issue, responsible, cause, p.data_level, p.cls, leader)
    counts.update({"block_rob.write": nblocks, "block_rob.read": nblocks, "block_window.write": n,
                   "block_window.read": n, "head_buffer.write": n, "head_buffer.read": n})  # fmt: skip
    _lsq_counts(p, counts)
    structures = {"block_rob": 1, "block_window": config.windows, "head_buffer": config.windows,
                  "local_rf": config.windows, "global_rf": 1, "global_rat": 1, "lq": 1, "sq": 1, "bpred": 1,
                  "btb": 1, "l1i": 1, "latch": config.stages}  # fmt: skip
    return CoreResult("cgooo", commit[-1] + 1, n, stalls, commit_cycles, counts, structures, held)


def simulate_all(
    trace: rv64.Trace | Prepared,
    shared: SharedConfig | None = None,
    ino: InOConfig = InOConfig(),
    ooo: OoOConfig = OoOConfig(),
    cgooo: CGOoOConfig = CGOoOConfig(),
) -> dict[str, CoreResult]:
    """The three cores over one trace, prepared once: ``{"ino": ..., "ooo": ..., "cgooo": ...}``."""
    p = _as_prepared(trace, shared)
    return {"ino": simulate_ino(p, ino), "ooo": simulate_ooo(p, ooo), "cgooo": simulate_cgooo(p, cgooo)}


def energy_gap_closure(energy_ino_pj: float, energy_ooo_pj: float, energy_cgooo_pj: float) -> float:
    """Share of the in-order-to-OoO energy gap that CG-OoO closes, ``(E_OoO - E_CGOoO) / (E_OoO - E_InO)``
    (the paper's headline: 64%, arXiv v1; 62%, TACO)."""
    return (energy_ooo_pj - energy_cgooo_pj) / (energy_ooo_pj - energy_ino_pj)


def edp_inverse_ratio(a: CoreResult, b: CoreResult, table: EnergyTable = AUTHOR_ENERGY) -> float:
    """``EDP^-1`` of ``a`` over ``b``: ``(E_b * cycles_b) / (E_a * cycles_a)`` (the paper: 1.9x CG-OoO over OoO)."""
    return energy_pj(b, table)["total"] * b.cycles / (energy_pj(a, table)["total"] * a.cycles)
