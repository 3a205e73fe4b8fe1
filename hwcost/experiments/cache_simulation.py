"""A lackey memory trace through the L1-I and L1-D, with and without HoLiSwap, priced with the wire-energy
geometry (``hwcost simulate cache``).

The trace (:mod:`archsim.traces.lackey`) is split into line accesses of the instruction and the data cache;
each runs through :func:`archsim.cache.simulate` as a plain LRU cache and, with HoLiSwap, again with hot-line
swapping; the exact counts are priced with :mod:`hwcost.cache_energy` (the ways' wire energies, the swap
energies and the rest of the access energy). HoLiSwap never changes the misses (checked on every run).

Energy rules: each hit, fill and write-back of way ``w`` moves one line over way ``w``'s wires
(``way_wire_energy_pj``, with the bits per access set to the line size) and costs one array access
(``array_energy_pj``); a swap of W0 with way ``b`` costs ``line_swap_wire_energy_pj(0, b)`` in wires and two line
reads and two line writes in the arrays. ``wire_energy_saving`` is ``1 - holiswap / baseline`` of the wire
energy (the paper's "up to 44% wire-energy improvement", abstract, V-P), swaps included;
``access_energy_saving`` the same of wires plus arrays.

Default epoch and threshold: HoLiSwap's motivation calls a line hot when it has at least 64 hits in 128
accesses to its set (Sec. 1, Fig. 1, V-P); the paper's own ``E`` and ``T`` are not reachable (papers.md sec. 9,
TODO), so the defaults are that definition, ``E = 128`` and ``T = 64``: a line takes W0 once it has served
half of an epoch's accesses to its set, a share no other line of the set can then reach in the same epoch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from archsim import cache as sim
from archsim.traces import lackey
from hwcost import cache_energy

DEFAULT_EPOCH = sim.DEFAULT_EPOCH
"""``E``: 128 set accesses per epoch (HoLiSwap Sec. 1's window of 128 set accesses)."""
DEFAULT_THRESHOLD = sim.DEFAULT_THRESHOLD
"""``T``: 64 hits in an epoch make a line hot (HoLiSwap Sec. 1's hot line, 64 hits per 128 set accesses)."""
DEFAULT_SIZE_KB = 32
"""HoLiSwap Sec. 2: a 32 KB L1 (V-P)."""
HOT_SHARE = 0.6
"""The share of accesses whose serving lines are counted (HoLiSwap abstract: < 3% of lines serve > 60%)."""
MAX_SIZE_KB = 2**20
"""Largest cache accepted, KB (1 GB; the simulator also holds at most :data:`archsim.cache.MAX_LINES` lines)."""


def _check_int(name: str, value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise ValueError(f"{name}={value!r} is outside the allowed range; allowed: {what}")
    return int(value)


def cache_config(
    size_kb: int = DEFAULT_SIZE_KB,
    ways: int = sim.DEFAULT_WAYS,
    line_bytes: int = sim.DEFAULT_LINE_BYTES,
    holiswap: bool = False,
    epoch: int = DEFAULT_EPOCH,
    threshold: int = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> sim.CacheConfig:
    """The simulated cache, checked with the names of the command line (``size_kb``, ``ways``, ``line``,
    ``epoch``, ``threshold``); ``ValueError`` naming the field, its value and what is allowed."""
    size_kb = _check_int("size_kb", size_kb, 1, MAX_SIZE_KB, f"a power of two in [1, {MAX_SIZE_KB}] KB, e.g. 32")
    if size_kb & (size_kb - 1):
        raise ValueError(f"size_kb={size_kb} is not a power of two; allowed: 1, 2, 4, ..., 32, 64, ... KB")
    ways = _check_int("ways", ways, 1, 2**20, "an integer >= 1, e.g. 4")
    line_bytes = _check_int("line", line_bytes, 1, 2**20, "a power of two >= 1 bytes, e.g. 64")
    if line_bytes & (line_bytes - 1):
        raise ValueError(f"line={line_bytes} is not a power of two; allowed: 16, 32, 64, 128, ... bytes")
    size = size_kb * 1024
    if size // line_bytes > sim.MAX_LINES:
        raise ValueError(
            f"size_kb={size_kb} with line={line_bytes} is {size // line_bytes} lines; allowed: at most "
            f"{sim.MAX_LINES} lines (a smaller cache or longer lines)"
        )
    if size % (ways * line_bytes):
        raise ValueError(
            f"size_kb={size_kb} ({size} bytes) is not divisible by ways x line = {ways} x {line_bytes} = "
            f"{ways * line_bytes} bytes; allowed: fewer ways or shorter lines, so that ways x line divides the size"
        )
    epoch = _check_int(
        "epoch", epoch, 1, sim.MAX_EPOCH, f"E, set accesses per epoch, an integer in [1, {sim.MAX_EPOCH}]"
    )
    threshold = _check_int("threshold", threshold, 1, epoch,
                           f"T, hits per epoch that make a line hot, an integer in [1, epoch={epoch}]")  # fmt: skip
    config = sim.CacheConfig(size_bytes=size, ways=ways, line_bytes=line_bytes, holiswap=holiswap, epoch=epoch,
                             threshold=threshold, seed=seed)  # fmt: skip
    sim.check_config(config)
    return config


def cache_geometry(config: sim.CacheConfig) -> cache_energy.CacheGeometry:
    """HoLiSwap's geometry (:data:`hwcost.cache_energy.HOLISWAP_32KB_4WAY`) at the simulated size, ways and line
    size; every access moves one line."""
    line_bits = 8.0 * config.line_bytes
    geometry = dataclasses.replace(
        cache_energy.HOLISWAP_32KB_4WAY, size_bytes=config.size_bytes, ways=config.ways,
        line_bytes=config.line_bytes, l1i_bits_per_access=line_bits, l1d_bits_per_access=line_bits,
    )  # fmt: skip
    cache_energy.check_geometry(geometry)
    return geometry


def _run_summary(result: sim.CacheResult, array_pj: float, swap_array_pj: float) -> dict[str, Any]:
    transfers = int((result.hits_per_way + result.fills_per_way + result.writebacks_per_way).sum())
    wire = float(result.wire_energy_pj)  # type: ignore[arg-type]
    arrays = transfers * array_pj + result.swaps * swap_array_pj
    return {
        "hits_per_way": result.hits_per_way.tolist(),
        "accesses_per_way": result.accesses_per_way.tolist(),
        "fills_per_way": result.fills_per_way.tolist(),
        "writebacks_per_way": result.writebacks_per_way.tolist(),
        "way0_hit_share": result.hits_per_way[0] / result.hits if result.hits else 0.0,
        "swaps": result.swaps,
        "swaps_per_way": result.swaps_per_way.tolist(),
        "swap_stall_cycles": result.swap_stall_cycles,
        "wire_energy_pj_per_way": result.wire_energy_pj_per_way.tolist(),  # type: ignore[union-attr]
        "swap_wire_energy_pj": result.swap_energy_pj,
        "wire_energy_pj": wire,
        "array_energy_pj": arrays,
        "access_energy_pj": wire + arrays,
    }


def _saving(new: float, old: float) -> float:
    return 1.0 - new / old if old > 0 else 0.0


def simulate_cache(
    stream: lackey.LineStream, config: sim.CacheConfig, geometry: cache_energy.CacheGeometry, cache: str
) -> dict[str, Any]:
    """One cache's report: the baseline LRU run and, with ``config.holiswap``, the HoLiSwap run beside it.

    Keys (at least): ``accesses``, ``hits``, ``misses``, ``swaps``, ``wire_energy_pj`` (of the cache as
    configured), and with HoLiSwap ``baseline_wire_energy_pj`` and ``wire_energy_saving`` (a fraction).
    """
    way_pj = np.asarray(cache_energy.way_wire_energy_pj(geometry, cache), dtype=np.float64)  # type: ignore[arg-type]
    swap_pj = np.asarray(cache_energy.swap_with_nearest_energy_pj(geometry), dtype=np.float64)
    array_pj = float(cache_energy.array_energy_pj(geometry, cache))  # type: ignore[arg-type]
    swap_array_pj = 4.0 * 8.0 * geometry.line_bytes * float(geometry.array_pj_per_bit)
    baseline = sim.simulate(stream, dataclasses.replace(config, holiswap=False), way_pj, swap_pj)
    share_lines, share_fraction = baseline.lines_serving(HOT_SHARE)
    report: dict[str, Any] = {
        "accesses": baseline.accesses,
        "hits": baseline.hits,
        "misses": baseline.misses,
        "miss_rate": baseline.misses / baseline.accesses if baseline.accesses else 0.0,
        "reads": baseline.reads,
        "writes": baseline.writes,
        "writebacks": baseline.writebacks,
        "distinct_lines": baseline.distinct_lines,
        "lines_serving_60pct": share_lines,
        "lines_serving_60pct_fraction": share_fraction,
        "way_wire_energy_pj": way_pj.tolist(),
        "array_energy_pj_per_access": array_pj,
    }
    plain = _run_summary(baseline, array_pj, swap_array_pj)
    if not config.holiswap:
        report.update(plain)
        return report
    swapped = sim.simulate(stream, config, way_pj, swap_pj)
    if (swapped.misses, swapped.writebacks) != (baseline.misses, baseline.writebacks):
        raise AssertionError(
            f"{cache}: HoLiSwap changed the misses ({baseline.misses} -> {swapped.misses}) or write-backs "
            f"({baseline.writebacks} -> {swapped.writebacks}); swaps must leave the LRU order alone"
        )
    report.update(_run_summary(swapped, array_pj, swap_array_pj))
    report.update({
        "baseline_hits_per_way": plain["hits_per_way"],
        "baseline_way0_hit_share": plain["way0_hit_share"],
        "baseline_wire_energy_pj_per_way": plain["wire_energy_pj_per_way"],
        "baseline_wire_energy_pj": plain["wire_energy_pj"],
        "baseline_access_energy_pj": plain["access_energy_pj"],
        "wire_energy_saving": _saving(report["wire_energy_pj"], plain["wire_energy_pj"]),
        "access_energy_saving": _saving(report["access_energy_pj"], plain["access_energy_pj"]),
        "swap_stall_cycles_per_access": swapped.swap_stall_cycles / swapped.accesses if swapped.accesses else 0.0,
    })  # fmt: skip
    return report


def cache_report(trace_path: str | Path, config: sim.CacheConfig) -> dict[str, Any]:
    """The report of ``hwcost simulate cache``: the trace read, the cache and its geometry, and one object per
    cache (keys ``l1i`` and ``l1d``, :func:`simulate_cache`).

    Raises:
        ValueError: a malformed trace line (:func:`archsim.traces.lackey.read`), a bad configuration.
        OSError: the trace cannot be read.
    """
    geometry = cache_geometry(config)
    trace = lackey.read(trace_path)
    streams = lackey.line_accesses(trace, config.line_bytes)
    distance = np.asarray(cache_energy.way_distance_mm(geometry), dtype=np.float64)
    report: dict[str, Any] = {
        "trace": {
            "path": str(trace_path),
            "records": len(trace),
            "records_by_kind": trace.counts(),
            "valgrind_messages": trace.valgrind_messages,
            "skipped_lines": trace.skipped_lines,
            "truncated": trace.truncated,
        },
        "cache": {
            "size_bytes": config.size_bytes,
            "ways": config.ways,
            "line_bytes": config.line_bytes,
            "sets": config.sets,
            "holiswap": config.holiswap,
            "epoch": config.epoch,
            "threshold": config.threshold,
            "log_counters": config.log_counters,
            "seed": config.seed,
            "swap_stall_cycles_per_swap": config.swap_stall_cycles,
        },
        "geometry": {
            "node_nm": float(geometry.node_nm),
            "wire_pj_per_bit_mm": float(geometry.wire_pj_per_bit_mm),
            "bits_per_access": 8 * config.line_bytes,
            "way_distance_mm": distance.tolist(),
            "nearest_to_farthest_ratio": float(distance.max() / distance[0]),
        },
    }
    for cache in cache_energy.CACHES:
        report[cache] = simulate_cache(getattr(streams, cache), config, geometry, cache)
    return report


def summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows ``quantity, l1i, l1d`` of the human table of :func:`cache_report`."""
    keys = ["accesses", "hits", "misses", "miss_rate", "writebacks", "distinct_lines", "lines_serving_60pct",
            "lines_serving_60pct_fraction", "way0_hit_share", "swaps", "swap_stall_cycles", "wire_energy_pj",
            "access_energy_pj"]  # fmt: skip
    if report["cache"]["holiswap"]:
        keys += ["baseline_way0_hit_share", "baseline_wire_energy_pj", "wire_energy_saving",
                 "baseline_access_energy_pj", "access_energy_saving"]  # fmt: skip
    return [{"quantity": k, "l1i": report["l1i"][k], "l1d": report["l1d"][k]} for k in keys]


def way_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows per physical way: route, wire energy per access and hits of each cache (with HoLiSwap, the
    baseline's hits beside)."""
    rows = []
    holiswap = report["cache"]["holiswap"]
    for w, distance in enumerate(report["geometry"]["way_distance_mm"]):
        row: dict[str, Any] = {"way": w, "distance_mm": distance}
        for cache in cache_energy.CACHES:
            part = report[cache]
            row[f"{cache}_wire_pj"] = part["way_wire_energy_pj"][w]
            if holiswap:
                row[f"{cache}_hits_baseline"] = part["baseline_hits_per_way"][w]
            row[f"{cache}_hits"] = part["hits_per_way"][w]
        rows.append(row)
    return rows


__all__ = [
    "DEFAULT_EPOCH",
    "DEFAULT_SIZE_KB",
    "DEFAULT_THRESHOLD",
    "cache_config",
    "cache_geometry",
    "cache_report",
    "simulate_cache",
    "summary_rows",
    "way_rows",
]
