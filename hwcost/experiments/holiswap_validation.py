"""HoLiSwap on real program traces: the differentiable model (:mod:`hwcost.holiswap`) against the exact
trace-driven simulator (:mod:`archsim.cache`), with and without HoLiSwap, per trace and per cache (L1-I, L1-D),
and the paper's headline quantities as measured (Turakhia et al., arXiv 1701.03878; papers.md sec. 9).

Method:

* Traces: lackey traces of real programs (the committed ``tests/fixtures/traces/*.lackey.gz`` by default, or any
  given paths, e.g. the full-size traces of :mod:`archsim.traces.program_set`), split into the L1-I and L1-D line
  streams of 64-byte lines (:func:`archsim.traces.lackey.line_accesses`).
* Cache: :data:`hwcost.holiswap.HOLISWAP_L1D` (32 KB, 4 ways each in its own subarray, logarithmic counters,
  E = 128, T = 64 unless given), the same settings in :class:`archsim.cache.CacheConfig`; both priced with the
  same wire energies (:func:`hwcost.cache_energy.way_wire_energy_pj`, ``swap_with_nearest_energy_pj``).
* Model: the hard twin on the stream's :func:`hwcost.holiswap.trace_statistics`.
* Reported per stream: wire energy (conventional and HoLiSwap) and swaps, archsim and model, and the model's
  relative errors; the share of distinct lines that serve 60 % of the accesses (the paper: hot lines, under
  3 % of the lines, serve over 60 % of the accesses); the wire-energy saving (paper: up to 44 %); the swap
  stall as a fraction of the stream's port cycles (one access per cycle; the paper's 0.13 % is a whole-program
  performance drop, which an L1 trace cannot give, so this is an upper bound on it for a core that issues one
  L1 access per cycle); the whole L1 energy saving (wires, arrays, write-backs and the swaps' array work).
* What the model cannot see: its statistics are stationary (pooled over the stream and its sets). Pricing each
  half of the stream on the statistics of that half and adding the two measures how much the pooled statistics
  miss of a phase change: ``phase_effect`` is ``|halves - whole| / whole`` of the model's HoLiSwap wire energy
  and swaps, ``halves_*_error`` the halves' error against archsim. Nor does it see hot lines of one set that
  compete for way 0: ``hot_overlap`` (:func:`hot_overlap`) is the share of hot residencies' accesses that
  overlap another hot residency of the same set; the model's errors grow with it.

Run ``hwcost validate holiswap [--json]`` (the committed fixtures) or ``python benchmarks/holiswap_validation.py``
(the fixtures and the full-size program traces, with its committed result).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archsim import cache as archsim_cache
from archsim.traces import lackey
from hwcost import cache_energy, holiswap
from hwcost.experiments.validation import Validation, register_validation
from hwcost.formatting import format_table

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "traces"
"""The committed lackey traces of the small program set."""
HOT_SHARE = 0.6
"""The paper's share of accesses served by hot lines (Sec. 1, abstract; V-P)."""
PAPER = {"hot_line_fraction": 0.03, "wire_saving": 0.44, "performance_drop": 0.0013, "system_energy_saving": 0.0182}
"""The paper's headline figures (abstract, V-P): hot lines under 3 % of the lines; up to 44 % wire-energy saving;
0.13 % performance drop; 1.82 % system-energy saving (not comparable with an L1 alone)."""
TARGET_RTOL = 0.10
"""The model's target: within 10 % of archsim in wire energy and swaps on every trace."""


def _price_sim(result: archsim_cache.CacheResult, prices: dict[str, float]) -> float:
    """Whole L1 energy of an archsim run, pJ, with the model's per-action prices: wires (per-way transfers and
    swaps), arrays per access and write-back, and each swap's array work."""
    arrays = prices["array.access"] * (result.accesses + result.writebacks)
    return float(result.wire_energy_pj) + arrays + prices["swap.array"] * result.swaps


def _model(hw: holiswap.HoliswapHardware, stats: holiswap.CacheTraceStats) -> dict[str, float]:
    model = holiswap.COST_MODEL
    counts = model.action_counts(hw, stats)
    energy = model.energy_pj(hw, stats)
    return {
        "wire_energy_pj": float(holiswap.wire_energy_pj(hw, stats)),
        "swaps": float(holiswap.swaps(counts)),
        "energy_pj": float(sum(float(v) for v in energy.values())),
        "way0_share": float(counts["way0.access"]) / float(counts["array.access"]),
    }


def _error(model: float, reference: float) -> float:
    return model / reference - 1.0 if reference else (0.0 if model == 0 else float("inf"))


def hot_overlap(stream: lackey.LineStream, hw: holiswap.HoliswapHardware) -> float:
    """Share of the accesses of hot residencies that overlap in time another hot residency of the same set, the
    competition for way 0 that the model does not see (:mod:`hwcost.holiswap`, "What the model cannot see").

    A residency (:func:`hwcost.holiswap.residencies`) with ``h`` hits is hot when the model detects it with
    probability at least 1/2 (:func:`hwcost.holiswap.detection_probability` at its own rate and span)."""
    res = holiswap.residencies(stream.line, holiswap.sets(hw), hw.geometry.ways)
    hits = res["hits"].astype(np.float64)
    reused = hits > 0
    span = np.where(reused, (res["last"] - res["fill"]) * (hits + 1.0) / np.maximum(hits, 1.0), 1.0)
    rate = np.where(reused, hits / np.maximum(span, 1.0), 1e-9)
    q = np.asarray(holiswap.detection_probability(holiswap.COST_MODEL.hard(hw), rate, np.maximum(span, 1.0)))
    hot = reused & (q >= 0.5)
    total = shared = 0.0
    for s in np.unique(res["set"][hot]):
        chosen = np.flatnonzero(hot & (res["set"] == s))
        fill, last = res["fill"][chosen], res["last"][chosen]
        for i, k in enumerate(chosen):
            overlapping = np.sum((fill < last[i]) & (last > fill[i])) > 1
            total += hits[k] + 1.0
            shared += (hits[k] + 1.0) * overlapping
    return shared / total if total else 0.0


def stream_row(
    trace: str, cache: str, stream: lackey.LineStream, hw: holiswap.HoliswapHardware, *, seed: int = 0
) -> dict[str, Any]:
    """One stream through archsim and the model, conventional and with HoLiSwap (module docstring)."""
    hw = holiswap.COST_MODEL.hard(dataclasses.replace(hw, cache=cache))
    g = hw.geometry
    sets, ways = holiswap.sets(hw), g.ways
    way_pj = np.asarray(cache_energy.way_wire_energy_pj(g, cache), np.float64)
    swap_pj = np.asarray(cache_energy.swap_with_nearest_energy_pj(g), np.float64)
    prices = {k: float(v) for k, v in holiswap.per_action_energy_pj(hw).items()}
    config = archsim_cache.CacheConfig(
        size_bytes=g.size_bytes, ways=ways, line_bytes=g.line_bytes, epoch=int(hw.epoch_set_accesses),
        threshold=int(hw.hot_threshold), log_counters=hw.logarithmic_counters, seed=seed,
        swap_stall_cycles=int(hw.swap_stall_cycles),
    )  # fmt: skip
    sim_off = archsim_cache.simulate(stream, dataclasses.replace(config, holiswap=False), way_pj, swap_pj)
    sim_on = archsim_cache.simulate(stream, dataclasses.replace(config, holiswap=True), way_pj, swap_pj)
    stats = holiswap.trace_statistics(stream.line, sets, ways, stream.is_write, name=f"{trace}.{cache}")
    off = _model(dataclasses.replace(hw, holiswap=False), stats)
    on = _model(hw, stats)
    half = len(stream.line) // 2
    halves = [
        _model(hw, holiswap.trace_statistics(stream.line[a:b], sets, ways, stream.is_write[a:b]))
        for a, b in ((0, half), (half, len(stream.line)))
        if b > a
    ]
    halves_wire = sum(h["wire_energy_pj"] for h in halves)
    halves_swaps = sum(h["swaps"] for h in halves)
    lines_60, fraction_60 = sim_on.lines_serving(HOT_SHARE)
    sim_total_off, sim_total_on = _price_sim(sim_off, prices), _price_sim(sim_on, prices)
    return {
        "trace": trace,
        "cache": cache,
        "accesses": int(sim_on.accesses),
        "distinct_lines": sim_on.distinct_lines,
        "lines_serving_60pct": lines_60,
        "hot_line_fraction": fraction_60,
        "archsim_wire_pj_conventional": float(sim_off.wire_energy_pj),
        "model_wire_pj_conventional": off["wire_energy_pj"],
        "archsim_wire_pj": float(sim_on.wire_energy_pj),
        "model_wire_pj": on["wire_energy_pj"],
        "archsim_swaps": int(sim_on.swaps),
        "model_swaps": on["swaps"],
        "conventional_wire_error": _error(off["wire_energy_pj"], float(sim_off.wire_energy_pj)),
        "wire_error": _error(on["wire_energy_pj"], float(sim_on.wire_energy_pj)),
        "swap_error": _error(on["swaps"], float(sim_on.swaps)),
        "archsim_way0_share": float(sim_on.accesses_per_way[0]) / sim_on.accesses,
        "model_way0_share": on["way0_share"],
        "archsim_wire_saving": 1.0 - float(sim_on.wire_energy_pj) / float(sim_off.wire_energy_pj),
        "model_wire_saving": 1.0 - on["wire_energy_pj"] / off["wire_energy_pj"],
        "archsim_swap_stall_fraction": sim_on.swap_stall_cycles / (sim_on.accesses * float(hw.access_cycles)),
        "archsim_l1_energy_saving": 1.0 - sim_total_on / sim_total_off,
        "model_l1_energy_saving": 1.0 - on["energy_pj"] / off["energy_pj"],
        "halves_wire_error": _error(halves_wire, float(sim_on.wire_energy_pj)),
        "halves_swap_error": _error(halves_swaps, float(sim_on.swaps)),
        "phase_effect_wire": abs(halves_wire - on["wire_energy_pj"]) / on["wire_energy_pj"],
        "phase_effect_swaps": abs(halves_swaps - on["swaps"]) / max(on["swaps"], 1e-30),
        "hot_overlap": hot_overlap(stream, hw),
    }


def validate(
    paths: Iterable[str | Path] | None = None,
    hw: holiswap.HoliswapHardware = holiswap.HOLISWAP_L1D,
    caches: Sequence[str] = cache_energy.CACHES,
) -> dict[str, Any]:
    """Every stream of every trace (default: the committed fixtures), with a summary of the errors and of the
    paper's headline quantities."""
    paths = sorted(FIXTURES.glob("*.lackey.gz")) if paths is None else [Path(p) for p in paths]
    if not paths:
        raise ValueError(f"paths is empty; allowed: lackey traces (none found in {FIXTURES})")
    rows = []
    for path in paths:
        streams = lackey.line_accesses(lackey.read(path), hw.geometry.line_bytes)
        for cache in caches:
            rows.append(stream_row(path.name.split(".")[0], cache, getattr(streams, cache), hw))
    worst = {key: max(abs(r[key]) for r in rows) for key in ("wire_error", "swap_error", "conventional_wire_error")}
    within = [r for r in rows if abs(r["wire_error"]) <= TARGET_RTOL and abs(r["swap_error"]) <= TARGET_RTOL]
    summary = {
        "streams": len(rows),
        "within_target": len(within),
        "target_rtol": TARGET_RTOL,
        "worst": worst,
        "mean_abs_wire_error": float(np.mean([abs(r["wire_error"]) for r in rows])),
        "mean_abs_swap_error": float(np.mean([abs(r["swap_error"]) for r in rows])),
        "max_phase_effect_wire": max(r["phase_effect_wire"] for r in rows),
        "max_phase_effect_swaps": max(r["phase_effect_swaps"] for r in rows),
        "max_hot_line_fraction": max(r["hot_line_fraction"] for r in rows),
        "max_archsim_wire_saving": max(r["archsim_wire_saving"] for r in rows),
        "max_archsim_swap_stall_fraction": max(r["archsim_swap_stall_fraction"] for r in rows),
        "paper": PAPER,
    }
    settings = {"epoch_set_accesses": float(hw.epoch_set_accesses), "hot_threshold": float(hw.hot_threshold),
                "logarithmic_counters": hw.logarithmic_counters, "traces": [str(p) for p in paths]}  # fmt: skip
    return {"settings": settings, "layers": rows, "summary": summary}


TABLE_COLUMNS = (
    ("trace", "trace", "{}"),
    ("cache", "cache", "{}"),
    ("accesses", "accesses", "{:d}"),
    ("hot lines (60%)", "hot_line_fraction", "{:.1%}"),
    ("wire saving sim", "archsim_wire_saving", "{:.1%}"),
    ("wire saving model", "model_wire_saving", "{:.1%}"),
    ("wire err", "wire_error", "{:+.1%}"),
    ("swaps sim", "archsim_swaps", "{:d}"),
    ("swaps model", "model_swaps", "{:.1f}"),
    ("swap err", "swap_error", "{:+.1%}"),
    ("base err", "conventional_wire_error", "{:+.1%}"),
    ("stall", "archsim_swap_stall_fraction", "{:.3%}"),
    ("L1 saving", "archsim_l1_energy_saving", "{:.1%}"),
    ("phase wire", "phase_effect_wire", "{:.1%}"),
    ("phase swaps", "phase_effect_swaps", "{:.1%}"),
    ("hot overlap", "hot_overlap", "{:.1%}"),
)
"""Columns of :func:`format_report`: header, row key, format."""


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The summary of :func:`validate`'s report in words: the model's errors, the phase-change effect and the
    paper's headline quantities as measured."""
    s = report["summary"]
    return [
        f"within {s['target_rtol']:.0%} in wire energy and swaps: {s['within_target']} of {s['streams']} streams; "
        f"worst wire error {s['worst']['wire_error']:.1%}, worst swap error {s['worst']['swap_error']:.1%}, "
        f"worst conventional wire error {s['worst']['conventional_wire_error']:.1%}",
        f"phase changes (halves priced apart): up to {s['max_phase_effect_wire']:.1%} of the wire energy and "
        f"{s['max_phase_effect_swaps']:.1%} of the swaps",
        f"hot lines: at most {s['max_hot_line_fraction']:.1%} of the lines serve 60% of the accesses (paper: < 3%); "
        f"wire saving up to {s['max_archsim_wire_saving']:.1%} (paper: up to 44%); swap stall up to "
        f"{s['max_archsim_swap_stall_fraction']:.3%} of the port cycles (paper: 0.13% performance)",
    ]


def format_report(report: dict[str, Any]) -> str:
    """The streams as a table (:data:`TABLE_COLUMNS`) and the summary as lines of text."""
    headers = [c[0] for c in TABLE_COLUMNS]
    body = [{head: fmt.format(row[key]) for head, key, fmt in TABLE_COLUMNS} for row in report["layers"]]
    return "\n".join([format_table(body, headers), *summary_lines(report)])


def _validation_report(progress: bool) -> dict[str, Any]:
    return validate()


register_validation(
    "holiswap",
    Validation(
        "HoLiSwap (arXiv 1701.03878) on the program-set traces, E = 128, T = 64: archsim vs model, per trace and cache",
        _validation_report,
        ("trace", "cache", "accesses", "hot_line_fraction", "archsim_wire_saving", "model_wire_saving", "wire_error",
         "archsim_swaps", "model_swaps", "swap_error", "archsim_swap_stall_fraction", "archsim_l1_energy_saving"),
        summary_lines,
    ),
)  # fmt: skip

__all__ = [
    "FIXTURES",
    "PAPER",
    "TABLE_COLUMNS",
    "format_report",
    "hot_overlap",
    "stream_row",
    "summary_lines",
    "validate",
]
