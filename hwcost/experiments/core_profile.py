"""The :class:`hwcost.cgooo.CoreProfile` of a dynamic RV64IM trace: what the interval models of
:mod:`hwcost.cgooo` take, measured once per trace (numpy, vectorised across intervals).

Everything here is a property of the trace, of the shared front end and memory hierarchy
(:func:`archsim.cores.prepare`: branch outcomes, mispredictions, fetch groups, the level serving every access)
and of CG-OoO's block formation and register allocation (:func:`archsim.cgooo.blocks`,
:func:`archsim.cgooo.local_values`); the interval times are dataflow quantities of the trace under each core's
window (:mod:`hwcost.cgooo`, "Performance"), one per grid point.

The interval times are computed by one max-plus recurrence, position by position within every interval at
once: ``enter[i] = max(fetch[i], enter[i-1], window constraint)``, ``issue[i] = max(enter[i] + 1, producers'
completions, order constraint)``, ``complete[i] = issue[i] + latency[i]``, where ``fetch[i]`` counts the fetch
groups and L1-I miss cycles since the interval's start. Producers and constraints from an older interval are
met (the redirect waited for the mispredicted instruction, and the penalty covers the rest).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from archsim import cgooo as sim
from archsim.cores import Prepared
from archsim.traces import rv64
from hwcost import cgooo


@dataclasses.dataclass(frozen=True)
class _Intervals:
    """The trace cut at its redirects, with what every recurrence needs (arrays of ``n`` unless said)."""

    starts: np.ndarray  # first instruction of each interval
    lengths: np.ndarray
    start_of: np.ndarray  # first instruction of the interval of each instruction
    producers: np.ndarray  # [n, 3]: register producers (at most two) and the forwarding store, -1 if none
    latency: np.ndarray
    block: np.ndarray
    block_first: np.ndarray  # first instruction of each block
    block_end: np.ndarray  # last instruction of each block
    queues: dict[str, _Members]  # loads, stores, register writers, CG-OoO's global writers
    local: np.ndarray  # CG-OoO's local values at the authors' 20-entry local RFs


@dataclasses.dataclass(frozen=True)
class _Members:
    """The instructions that hold an entry of a queue, in order: ``ordinal[i]`` (-1 for others) and ``index``
    (the ``m``-th member's instruction)."""

    ordinal: np.ndarray
    index: np.ndarray

    @staticmethod
    def of(mask: np.ndarray) -> _Members:
        return _Members(np.where(mask, np.cumsum(mask) - 1, -1), np.flatnonzero(mask))

    def earlier(self, idx: np.ndarray, size: np.ndarray) -> np.ndarray:
        """``[configs, len(idx)]``: the member ``size`` places before each instruction of ``idx`` (itself a member),
        -1 where there is none (or the instruction holds no entry)."""
        m = self.ordinal[idx][None, :] - size
        ok = (self.ordinal[idx][None, :] >= 0) & (m >= 0)
        if not self.index.size:
            return np.full(m.shape, -1)
        return np.where(ok, self.index[np.maximum(m, 0)], -1)


def _intervals(p: Prepared) -> _Intervals:
    n = p.n
    mispredicted = np.flatnonzero(np.asarray(p.mispredicted))
    starts = np.unique(np.concatenate([[0], mispredicted[mispredicted + 1 < n] + 1]))
    lengths = np.diff(np.append(starts, n))
    producers = np.full((n, 3), -1, np.int64)
    for i, prods in enumerate(p.producers):
        producers[i, : len(prods)] = prods
    producers[:, 2] = p.mem_producer
    block = np.asarray(sim.blocks(p), np.int64)
    block_first = np.flatnonzero(np.diff(np.concatenate([[-1], block])))
    block_end = np.append(block_first[1:], n) - 1
    cls, rd = np.asarray(p.cls), np.asarray(p.rd)
    local = np.asarray(sim.local_values(p, block.tolist(), sim.CGOoOConfig().local_rf_entries), bool)
    queues = {"lq": _Members.of(cls == rv64.LOAD), "sq": _Members.of(cls == rv64.STORE),
              "writers": _Members.of(rd > 0), "global_writers": _Members.of((rd > 0) & ~local)}  # fmt: skip
    return _Intervals(starts, lengths, np.repeat(starts, lengths), producers, np.asarray(p.latency, np.float64),
                      block, block_first, block_end, queues, local)  # fmt: skip


def fetch_times(p: Prepared, trace: rv64.Trace, width: int, iv: _Intervals) -> np.ndarray:
    """Per instruction, the cycle its fetch group arrives counted from its interval's start (one group per
    cycle, plus the L1-I miss delays of the groups since the start, its own included). Groups: at most
    ``width`` instructions of one fetch run (:func:`run_ends`)."""
    ends = run_ends(p, trace)
    run_start = np.concatenate([[True], ends[:-1]])
    first_of_run = np.flatnonzero(run_start)
    position = np.arange(p.n) - first_of_run[np.cumsum(run_start) - 1]
    group = np.cumsum(position % width == 0) - 1
    delay = np.zeros(p.n)
    delay[np.asarray(p.group_start)] = np.asarray(p.group_delay)  # a line's miss delays its first group
    t = group + np.cumsum(delay)
    at_start = t[iv.start_of] - delay[iv.start_of]
    return t - at_start


def run_ends(p: Prepared, trace: rv64.Trace) -> np.ndarray:
    """Whether each instruction ends a fetch run: a line change follows, or it is a taken or mispredicted
    branch or a jump (:mod:`archsim.cores`, "Fetch groups")."""
    cls = np.asarray(p.cls)
    line = np.asarray(trace.pc, np.int64) >> int(np.log2(p.config.line_bytes))
    ends = np.ones(p.n, bool)
    ends[:-1] = line[1:] != line[:-1]
    control = (cls == rv64.BRANCH) & (np.asarray(trace.taken, bool) | np.asarray(p.mispredicted))
    return ends | control | (cls == rv64.JUMP)


class Setting(NamedTuple):
    """One grid point of a core's parameters (the others at the authors' values)."""

    width: int = 4
    rob: int = 180
    head_buffer: int = 4
    skipahead: int = 5
    windows: int = 12
    rs: int = 64
    lq: int = 64
    sq: int = 32
    rename: int = 0  # registers for in-flight writers; 0: the core's default (OoO 252 - 32, CG-OoO 348 - 32)
    block_rob: int = 30


def interval_times(iv: _Intervals, fetch: dict[int, np.ndarray], core: str, settings: list[Setting]) -> np.ndarray:
    """``sum T_interval`` (cycles) of ``core`` at each setting (:mod:`hwcost.cgooo`, "Performance"), all
    settings in one pass over the positions of the intervals; ``fetch[width]`` from :func:`fetch_times`."""
    n, c = iv.latency.size, len(settings)
    rows = np.arange(c)[:, None]
    rob = np.asarray([s.rob for s in settings])[:, None]
    width = np.asarray([s.width for s in settings])[:, None]
    head = np.asarray([s.head_buffer for s in settings])
    skip = np.asarray([s.skipahead for s in settings])
    windows = np.asarray([s.windows for s in settings])[:, None]
    rs = np.asarray([s.rs for s in settings])
    default_rename = 252 - sim.ARCH_REGISTERS if core == "ooo" else 348 - sim.ARCH_REGISTERS
    sizes = {"lq": np.asarray([s.lq for s in settings])[:, None], "sq": np.asarray([s.sq for s in settings])[:, None],
             "writers": np.asarray([s.rename or default_rename for s in settings])[:, None]}  # fmt: skip
    block_rob = np.asarray([s.block_rob for s in settings])[:, None]
    arrive = np.stack([fetch[s.width] for s in settings])
    writers = "writers" if core == "ooo" else "global_writers"
    held_by_rs = np.full((c, iv.starts.size, int(rs.max()) if core == "ooo" else 1), -np.inf)
    enter, issue, complete, retired = (np.zeros((c, n)) for _ in range(4))
    block_last = np.full((c, iv.block[-1] + 1), -1.0)
    top = np.full((c, iv.starts.size, int(head.max())), -np.inf)  # latest issues in each interval's block
    floor = np.zeros((c, iv.starts.size))
    older = np.arange(1, int(windows.max()))
    for k in range(int(iv.lengths.max())):
        live = np.flatnonzero(iv.lengths > k)
        idx = iv.starts[live] + k
        start = iv.starts[live]
        e = arrive[:, idx]
        if k:
            e = np.maximum(e, enter[:, idx - 1])
        if core in ("ooo", "cgooo"):
            for queue, members in (("lq", "lq"), ("sq", "sq"), ("writers", writers)):
                j = iv.queues[members].earlier(idx, sizes[queue])  # frees at its commit
                j = j if core == "ooo" else np.where(j >= 0, iv.block_end[iv.block[np.maximum(j, 0)]], -1)
                e = np.maximum(e, np.where(j >= start, retired[rows, np.maximum(j, 0)] + 1.0, 0.0))
        if core == "ooo":
            back = k >= rob
            e = np.where(back, np.maximum(e, retired[rows, np.maximum(idx - rob, 0)] + 1.0), e)
            full = held_by_rs[np.arange(c), :, rs - 1][:, live]  # the rs-th latest issue among the older ones
            e = np.maximum(e, np.where(np.isfinite(full), full + 1.0, 0.0))
        if core == "cgooo":
            b = iv.block[idx]
            first = np.flatnonzero(iv.block_first[b] == idx)
            if first.size:
                top[:, live[first]] = -np.inf
                ob = b[first][:, None] - older[None, :]
                ok = (ob >= 0) & (iv.block_first[np.maximum(ob, 0)] >= start[first][:, None])
                ok = ok[None] & (older[None, None, :] < windows[:, :, None])
                last = -np.sort(-np.where(ok, block_last[:, np.maximum(ob, 0)], -np.inf), axis=2)
                pick = last[np.arange(c), :, skip - 1]
                floor[:, live[first]] = np.where(np.isfinite(pick), pick + 1.0, 0.0)
            wb = b[None, :] - windows
            held = (wb >= 0) & (iv.block_first[np.maximum(wb, 0)] >= start[None, :])
            e = np.maximum(e, np.where(held, block_last[rows, np.maximum(wb, 0)] + 1.0, 0.0))
            ob = b[None, :] - block_rob  # a block-ROB entry frees at its block's commit
            last = iv.block_end[np.maximum(ob, 0)]
            committed = (ob >= 0) & (iv.block_first[np.maximum(ob, 0)] >= start[None, :]) & (iv.block_first[b] == idx)
            e = np.maximum(e, np.where(committed, retired[rows, last] + 1.0, 0.0))
        enter[:, idx] = e
        ready = e + 1.0
        for column in range(iv.producers.shape[1]):
            j = iv.producers[idx, column]
            ready = np.maximum(ready, np.where(j >= start, complete[:, np.maximum(j, 0)], 0.0))
        if core == "ino" and k:
            ready = np.maximum(ready, issue[:, idx - 1])
            wide = k >= width  # at most ``width`` issue per cycle, in order
            ready = np.where(wide, np.maximum(ready, issue[rows, np.maximum(idx - width, 0)] + 1.0), ready)
        if core == "cgooo":
            ready = np.maximum(ready, floor[:, live])
            hb = top[np.arange(c), :, head - 1][:, live]
            ready = np.maximum(ready, np.where(np.isfinite(hb), hb + 1.0, 0.0))
            merged = np.concatenate([top[:, live], ready[:, :, None]], axis=2)
            top[:, live] = -np.sort(-merged, axis=2)[:, :, : top.shape[2]]
            np.maximum.at(block_last, (np.broadcast_to(rows, ready.shape), np.broadcast_to(b, ready.shape)), ready)
        if core == "ooo":
            merged = np.concatenate([held_by_rs[:, live], ready[:, :, None]], axis=2)
            held_by_rs[:, live] = -np.sort(-merged, axis=2)[:, :, : held_by_rs.shape[2]]
        issue[:, idx] = ready
        complete[:, idx] = ready + iv.latency[idx]
        retired[:, idx] = np.maximum(complete[:, idx], retired[:, idx - 1]) if k else complete[:, idx]
    return np.sum(complete[:, iv.starts + iv.lengths - 1], axis=1)


def _local_candidates(p: Prepared, iv: _Intervals) -> tuple[np.ndarray, np.ndarray]:
    """CG-OoO's local-value candidates by rank within their block: ``(results, reads)``, ``[BLOCK_RANKS]``
    each (:func:`archsim.cgooo.local_values` with room for every candidate)."""
    candidate = np.asarray(sim.local_values(p, iv.block.tolist(), cgooo.BLOCK_RANKS), bool)
    counted = np.cumsum(candidate)
    before_block = np.concatenate([[0], counted])[iv.block_first][iv.block]
    rank = counted - before_block - 1
    results = np.bincount(rank[candidate], minlength=cgooo.BLOCK_RANKS)
    reads = np.zeros(cgooo.BLOCK_RANKS)
    for column in range(2):
        j = iv.producers[:, column]
        read = j >= 0
        read[read] = candidate[j[read]]
        reads += np.bincount(rank[j[read]], minlength=cgooo.BLOCK_RANKS)
    return results.astype(np.float64), reads


def _cross_cluster_share(p: Prepared, iv: _Intervals) -> float:
    """Share of the reads of global values (at the authors' 20-entry local RFs) whose producer's block sits
    in another cluster (blocks take windows round robin, four windows per cluster: ``archsim.cgooo``)."""
    config, local = sim.CGOoOConfig(), iv.local
    cluster = (iv.block % config.windows) // config.windows_per_cluster
    reads = other = 0
    for column in range(2):
        j = iv.producers[:, column]
        read = j >= 0
        read[read] = ~local[j[read]]
        reads += int(read.sum())
        other += int(np.sum(cluster[j[read]] != cluster[read]))
    return other / reads if reads else 0.0


_SETTING_OF = {"width": "width", "rob_entries": "rob", "rs_entries": "rs", "lq_entries": "lq", "sq_entries": "sq",
               "head_buffer_entries": "head_buffer", "skipahead_blocks": "skipahead", "windows": "windows",
               "block_rob_entries": "block_rob"}  # fmt: skip
"""Timing parameters of :mod:`hwcost.cgooo` -> :class:`Setting` fields (register files: ``rename``)."""


def _setting(field: str, value: float) -> Setting:
    """The :class:`Setting` with ``field`` (a timing parameter of :data:`hwcost.cgooo.TIMING_GRIDS`) at ``value``."""
    if field in ("prf_entries", "global_rf_entries"):
        return Setting(rename=int(value) - sim.ARCH_REGISTERS)
    return Setting(**{_SETTING_OF[field]: int(value)})


def profile(trace: rv64.Trace, p: Prepared, name: str = "program") -> cgooo.CoreProfile:
    """The :class:`hwcost.cgooo.CoreProfile` of ``trace``, prepared as ``p`` (:func:`archsim.cores.prepare`
    at the authors' front end and memory hierarchy)."""
    iv = _intervals(p)
    cls = np.asarray(p.cls)
    ends = np.flatnonzero(run_ends(p, trace))
    runs = np.diff(np.concatenate([[-1], ends]))
    if runs.max() > cgooo.LINE_INSTRUCTIONS:
        raise ValueError(f"a fetch run of {runs.max()} instructions; allowed: at most {cgooo.LINE_INSTRUCTIONS}")
    fetch = {int(w): fetch_times(p, trace, int(w), iv) for w in cgooo.WIDTH_GRID}
    timing: dict[str, np.ndarray] = {}
    for core, grids in cgooo.TIMING_GRIDS.items():
        settings = [_setting(field, value) for field, grid, _ in grids for value in grid]
        values = interval_times(iv, fetch, core, settings)
        splits = np.cumsum([len(grid) for _, grid, _ in grids])[:-1]
        timing.update({name: part for (_, _, name), part in zip(grids, np.split(values, splits), strict=True)})
    local_results, local_reads = _local_candidates(p, iv)
    return cgooo.CoreProfile(
        instructions=float(p.n),
        loads=float(np.sum(cls == rv64.LOAD)),
        stores=float(np.sum(cls == rv64.STORE)),
        muldiv=float(np.sum((cls == rv64.MUL) | (cls == rv64.DIV))),
        operands=float(sum(p.sources)),
        producer_reads=float(sum(len(j) for j in p.producers)),
        results=float(sum(1 for r in p.rd if r > 0)),
        mispredicts=float(iv.starts.size - 1),
        shared_counts=np.asarray([float(p.counts[k]) for k in cgooo.SHARED_KEYS]),
        fetch_runs=np.bincount(runs, minlength=cgooo.LINE_INSTRUCTIONS + 1)[1:].astype(np.float64),
        blocks=float(iv.block[-1] + 1),
        local_results=local_results,
        local_reads=local_reads,
        cross_cluster_share=_cross_cluster_share(p, iv),
        **timing,
        name=name,
    )
