"""The README's table of measured results, rendered from the committed files in ``benchmarks/results/``.

    python benchmarks/readme_figures.py           # print the table
    python benchmarks/readme_figures.py --write   # replace the table in README.md

The README holds the table between ``<!-- results:begin -->`` and ``<!-- results:end -->``;
``tests/test_readme.py`` checks that it equals this rendering, so every figure in it comes from a result file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _json(name: str) -> Any:
    return json.loads((RESULTS / name).read_text())


def _text_number(name: str, pattern: str) -> float:
    match = re.search(pattern, (RESULTS / name).read_text())
    if match is None:
        raise ValueError(f"{RESULTS / name} has no line matching {pattern!r}")
    return float(match.group(1))


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def eie_table_iv() -> tuple[str, str, str, str]:
    report = _json("eie_validation.json")
    ratios = [row["archsim_over_paper"] for row in report["table_iv"]["layers"]]
    summary = report["table_iv"]["summary"]
    return (
        "EIE, nine Table III layers: archsim / paper actual time",
        f"{min(ratios):.2f}-{max(ratios):.2f}, geometric mean {summary['geomean_archsim_over_paper']:.3f}",
        "Table IV",
        "`hwcost validate eie`",
    )


def eie_model_vs_archsim() -> tuple[str, str, str, str]:
    report = _json("eie_validation.json")
    nine = max(abs(row["model_over_archsim"] - 1.0) for row in report["table_iv"]["layers"])
    rand = report["random_layers"]
    return (
        f"EIE model / archsim, nine layers; {len(rand['layers'])} random layers",
        f"within {100 * nine:.1f}%; mean {rand['mean_abs_error_pct']:.1f}%, max {rand['max_abs_error_pct']:.1f}%",
        "",
        "`python benchmarks/eie_validation.py`",
    )


def sweep_row(model: str, how: str) -> Callable[[], tuple[str, str, str, str]]:
    """The README row of ``benchmarks/{model}_sweep.py``'s result: grid size, points per second, speedup."""
    result = f"{model}_sweep.txt"

    def row() -> tuple[str, str, str, str]:
        rate = _text_number(result, r"-> ([0-9.e+]+) points/s")
        speedup = _text_number(result, r"speedup of the model over archsim: ([0-9.e+]+)x")
        points = _text_number(result, r"points: (\d+)")
        return (
            f"{model.upper()} model sweep, {how} over {points:.1e} points (2 CPU cores)",
            f"{rate:.1e} points/s, {speedup:.1e}x archsim",
            "",
            f"`python benchmarks/{model}_sweep.py`",
        )

    return row


def scnn_vs_paper() -> tuple[str, str, str, str]:
    report = _json("scnn_validation.json")
    nets, summary = report["networks"], report["summary"]
    speedups = ", ".join(f"{n['name']} {n['archsim_speedup']:.2f}" for n in nets)
    paper = ", ".join(f"{n['paper_speedup']:.2f}" for n in nets)
    return (
        "SCNN over DCNN on archsim, AlexNet / GoogLeNet / VGG-16 conv layers at the paper's densities",
        f"speedup {speedups} (mean {summary['mean_speedup_archsim']:.2f}); energy gain mean "
        f"{summary['mean_energy_gain_archsim']:.2f}; DCNN-opt energy gain mean "
        f"{summary['mean_dcnn_opt_energy_gain_archsim']:.2f}",
        f"{paper} (mean {summary['mean_speedup_paper']:.1f}); 2.3; 2.0",
        "`hwcost validate scnn`",
    )


def scnn_energy_calibration() -> tuple[str, str, str, str]:
    report = _json("scnn_energy_calibration.json")
    checks = report["checks"]
    return (
        f"SCNN energy rule: one factor on the arithmetic fitted to Fig. 11 ({len(report['rows'])} rows, hard models)",
        f"factor {report['fitted_arithmetic_calibration']:.2f}, rms log error {report['rms_log_error_at_fit']:.3f}; "
        f"not fitted: SCNN / DCNN at density 1 {checks['dense_scnn_over_dcnn']['model']:.2f}, SparseW and SparseA "
        f"/ SCNN at 0.4 {checks['sparse_w_over_scnn_at_0.4']['model']:.2f} and "
        f"{checks['sparse_a_over_scnn_at_0.4']['model']:.2f}",
        f"{checks['dense_scnn_over_dcnn']['paper']:.2f}; {checks['sparse_w_over_scnn_at_0.4']['paper']:.1f} and "
        f"{checks['sparse_a_over_scnn_at_0.4']['paper']:.1f}",
        "`python benchmarks/scnn_energy_calibration.py`",
    )


def scnn_model_vs_archsim() -> tuple[str, str, str, str]:
    errors = _json("scnn_validation.json")["model_vs_archsim"]
    n = len(_json("scnn_validation.json")["conv_layers"])
    return (
        f"SCNN model / archsim, {n} paper conv layers",
        f"cycles mean {errors['scnn_cycles_mean_abs_error_pct']:.1f}%, max "
        f"{errors['scnn_cycles_max_abs_error_pct']:.1f}%; energy mean {errors['scnn_energy_mean_abs_error_pct']:.2f}%,"
        f" max {errors['scnn_energy_max_abs_error_pct']:.1f}%",
        "",
        "`python benchmarks/scnn_validation.py`",
    )


def ese_throughput() -> tuple[str, str, str, str]:
    """ESE's throughput and per-frame latency on archsim (first layer, load-balanced), energy efficiency over the
    sparse CPU and GPU at archsim's latency, and the load-balance effect at the sweep's lowest density."""
    report = _json("ese_validation.json")
    paper = {row["quantity"]: row for row in report["paper_comparison"]}
    eff = {row["baseline"]: row for row in report["energy_efficiency"]}
    cpu, gpu = (eff[name] for name in ("Core i7-5930K, sparse (MKL SPARSE)", "Titan X, sparse (cuSPARSE)"))
    low = min(report["load_balance"], key=lambda p: p["density"])
    errors = report["model_vs_archsim"]
    return (
        f"ESE on archsim, LSTM layer 1 at density {report['density']:g} (32 channels x 32 PEs); load balance at "
        f"density {low['density']:g}",
        f"{paper['sparse_gops']['archsim']:.0f} GOPS, {paper['dense_equivalent_tops']['archsim']:.2f} TOPS, "
        f"{paper['latency_us_per_frame']['archsim']:.1f} us/frame (ideal {paper['ideal_us_per_frame']['archsim']:.1f});"
        f" efficiency {cpu['efficiency_at_archsim_latency']:.1f}x CPU, {gpu['efficiency_at_archsim_latency']:.1f}x "
        f"GPU (sparse); speedup {low['speedup_balanced']:.2f} balanced vs {low['speedup_unbalanced']:.2f}, PE "
        f"utilisation {low['pe_utilisation_balanced']:.3f} vs {low['pe_utilisation_unbalanced']:.3f}; model / "
        f"archsim cycles max {errors['cycles_max_abs_error_pct']:.1f}%",
        f"{paper['sparse_gops']['paper']:.0f} GOPS, {paper['dense_equivalent_tops']['paper']:.2f} TOPS, "
        f"{paper['latency_us_per_frame']['paper']:g} us (ideal {paper['ideal_us_per_frame']['paper']:g}); "
        f"{cpu['paper_efficiency']:g}x, {gpu['paper_efficiency']:g}x",
        "`hwcost validate ese`",
    )


def deep_compression(model: str, title: str, paper: str) -> Callable[[], tuple[str, str, str, str]]:
    def row() -> tuple[str, str, str, str]:
        report = _json(f"deep_compression_{model}.json")
        return (
            f"Deep Compression, {title}",
            f"{report['total']['compression_pqh']:.1f}x at {_pct(report['test_error_after'])} error",
            paper,
            f"`python benchmarks/deep_compression_{model}.py`",
        )

    return row


def ttq() -> tuple[str, str, str, str]:
    report = _json("ttq_lenet5.json")
    return (
        "TTQ, LeNet-5 (first and last layer full precision)",
        f"{_pct(report['test_error_after'])} vs {_pct(report['test_error_before'])} full precision",
        "",
        "`python benchmarks/ttq_lenet5.py`",
    )


def dsd() -> tuple[str, str, str, str]:
    s = _json("dsd_lenet300.json")["summary"]
    d, dense = s["dsd_error_pct"], s["dense_same_epochs_error_pct"]
    gain = abs(s["difference_in_test_images"]) < 100 * s["binomial_se_points"]
    verdict = "no measurable gain" if gain else "a measurable difference"
    return (
        f"DSD vs dense at equal epochs, LeNet-300-100, {len(d['values'])} seeds",
        f"{d['mean']:.2f} ± {d['std']:.2f}% vs {dense['mean']:.2f} ± {dense['std']:.2f}%: {verdict}",
        "",
        "`python benchmarks/dsd_lenet300.py`",
    )


def ladder() -> tuple[str, str, str, str]:
    report = _json("granularity_ladder_lenet5.json")
    errors = ", ".join(f"{r['granularity']} {_pct(r['test_error_pct'])}" for r in report["rungs"])
    bits = []
    for rung in (report["rungs"][0], report["rungs"][-1]):
        conv = [layer for layer in rung["storage"]["layers"] if layer["layer"].startswith("conv")]
        kept = sum(layer["kept_groups"] * layer["group_size"] for layer in conv)
        bits.append(sum(layer["index_storage_bits"] for layer in conv) / kept)
    return (
        f"granularity ladder, LeNet-5 at {100 * (1 - report['density']):.0f}% sparsity",
        f"{errors} error; conv index bits {bits[0]:.2f} -> {bits[1]:.2f} per kept weight",
        "",
        "`python benchmarks/granularity_ladder.py`",
    )


def _model_over_exact(report: dict, kinds: tuple[str, ...]) -> tuple[float, float]:
    values = [r["hard_over_exact"] for r in report["rows"] if r["kind"] in kinds]
    return min(values), max(values)


def hwaware(name: str, title: str, objective: str) -> Callable[[], tuple[str, str, str, str]]:
    def row() -> tuple[str, str, str, str]:
        report = _json(f"{name}.json")
        first = report["dominance_vs_magnitude"][0]
        best = report["best_ratio_vs_magnitude"]
        lo, hi = _model_over_exact(report, ("joint", "magnitude", "deep_compression"))
        dc = [r for r in report["rows"] if r["kind"] == "deep_compression"]
        parts = []
        if first["ratio"] is not None:
            parts.append(f"{first['ratio']:.2f}x lower {objective} at {_pct(first['joint_error_pct'])} vs "
                         f"{_pct(first['baseline_error_pct'])} error")  # fmt: skip
        if best is not None:
            parts.append(f"{best['ratio']:.2f}x best")
        if dc:
            parts.append(f"Deep Compression {_pct(dc[0]['test_error_pct'])} at {dc[0]['exact_rel_dense']:.2f} of dense")
        parts.append(f"differentiable model / archsim {lo:.2f}-{hi:.2f} on the trained points")
        return (title, "; ".join(parts), "", f"`python benchmarks/{name}.py`")

    return row


def budget() -> tuple[str, str, str, str]:
    report = _json("hwaware_budget_lenet300.json")
    parts = [
        f"budget {r['point'].split('-')[1]}: {r['exact_rel_dense']:.3f} of dense at {_pct(r['test_error_pct'])} error"
        for r in report["rows"]
        if r["kind"] == "joint"
    ]
    return (
        "hardware-aware training under an EIE energy budget, LeNet-300-100 (archsim)",
        "; ".join(parts),
        "",
        "`python benchmarks/hwaware_budget.py`",
    )


def overhead() -> tuple[str, str, str, str]:
    share = _text_number("train_overhead.txt", r"cost term share of the step: ([0-9.]+) %")
    return (
        "cost term's share of the jit training step (LeNet-300-100, EIE)",
        f"{share:.1f}% (target < 15%)",
        "",
        "`python benchmarks/train_overhead.py`",
    )


def regularity() -> tuple[str, str, str, str]:
    """Coarse / element memory references on SCNN at equal density, as built and with same-cycle merging."""
    report = _json("regularity_scnn.json")
    parts, best = [], 1.0
    for name, workload in report["workloads"].items():
        coarse = [g for g in workload["granularities"] if g["granularity"] != "element"]
        ratios = "/".join(f"{g['ratio_to_element']['memory_refs']:.2f}" for g in coarse)
        merged = "/".join(f"{g['ratio_to_element']['memory_refs_merged']:.2f}" for g in coarse)
        parts.append(f"{name} {ratios} as built, {merged} merged")
        best = min(best, *(g["ratio_to_element"]["memory_refs_merged"] for g in coarse))
    above = [f"{ratio:.2f}" for ratio in report["paper_ratios"].values() if best > ratio]
    verdict = f"above the published {' and '.join(above)}" if above else "at or below the published figures"
    return (
        "regularity on SCNN: vector/kernel/filter over element memory references at equal density",
        "; ".join(parts) + f"; best {best:.2f}, {verdict}",
        "0.5 (arXiv), 0.65-0.70 (CVPRW)",
        "`python benchmarks/regularity_scnn.py`",
    )


def holiswap_vs_paper() -> tuple[str, str, str, str]:
    """HoLiSwap's headline quantities on archsim over the full-size program traces (L1-I and L1-D apart)."""
    rows = _json("holiswap_validation.json")["full"]["layers"]

    def span(cache: str, key: str, scale: float = 100.0) -> str:
        values = [scale * r[key] for r in rows if r["cache"] == cache]
        return f"{min(values):.1f}-{max(values):.1f}%"

    return (
        "HoLiSwap on archsim, six program traces (32 KB 4-way, E = 128, T = 64): lines serving 60% of accesses; "
        "wire-energy saving; swap stall per port cycle",
        f"L1-I {span('l1i', 'hot_line_fraction')}, L1-D {span('l1d', 'hot_line_fraction')}; L1-I "
        f"{span('l1i', 'archsim_wire_saving')}, L1-D {span('l1d', 'archsim_wire_saving')}; up to "
        f"{max(100 * r['archsim_swap_stall_fraction'] for r in rows):.2f}%",
        "< 3%; up to 44%; 0.13% performance",
        "`python benchmarks/holiswap_validation.py`",
    )


def holiswap_model_vs_archsim() -> tuple[str, str, str, str]:
    """The HoLiSwap model against archsim on the committed small and the full-size traces."""
    report = _json("holiswap_validation.json")
    cells = []
    for name in ("small", "full"):
        s = report[name]["summary"]
        cells.append(
            f"{name}: {s['within_target']} of {s['streams']} streams within {100 * s['target_rtol']:.0f}%, worst "
            f"wire {100 * s['worst']['wire_error']:.0f}%, swaps {100 * s['worst']['swap_error']:.0f}%"
        )
    return (
        "HoLiSwap model / archsim, wire energy and swaps per stream (L1-I and L1-D of each trace)",
        "; ".join(cells),
        "",
        "`hwcost validate holiswap`",
    )


def rv64_crosscheck() -> tuple[str, str, str, str]:
    """The RV64IM emulator against rvsim on the program set's bare-metal ELFs."""
    report = _json("rv64_crosscheck.json")
    checks = ("pc_sequence_equal", "rd_sequence_equal", "registers_at_exit_equal", "writable_memory_at_exit_equal",
              "classes_equal_except_ecall")  # fmt: skip
    agree = sum(
        all(r[c] for c in checks)
        and r["checksum_emulator"] == r["checksum_rvsim"]
        and r["checksum_reference"] in (None, r["checksum_emulator"])  # the fixture has no Python re-computation
        and r["instructions_emulator"] == r["commit_log_lines_rvsim"]
        for r in report["rows"]
    )
    return (
        "RV64IM emulator vs rvsim 2.1.0: exit value, retired instructions, pc and destination-register sequences, "
        "registers and memory at exit",
        f"{agree} of {len(report['rows'])} ELFs agree in every respect",
        "",
        "`python benchmarks/rv64_crosscheck.py`",
    )


def _share(fraction: float) -> str:
    return f"{100.0 * fraction:.1f}%"


def cgooo_vs_paper() -> tuple[str, str, str, str]:
    """CG-OoO's headline on archsim: energy-gap closure and EDP^-1 over OoO on the full RV64IM builds."""
    s = _json("cgooo_validation.json")["full"]["summary"]["archsim"]
    return (
        "CG-OoO on archsim, six RV64IM programs (full builds): share of the in-order-to-OoO energy gap closed; "
        "EDP^-1 over OoO; performance over OoO",
        f"{_share(s['energy_gap_closed'])}; {s['edp_inverse_over_ooo']:.2f}x; {s['performance_over_ooo']:.2f}",
        "64%, 1.9x at OoO performance (TACO: 62%, 1.8x; SPEC CPU2006 integer)",
        "`python benchmarks/cgooo_validation.py`",
    )


def cgooo_model_vs_archsim() -> tuple[str, str, str, str]:
    """The interval models against archsim: cycles and energy per core, and at other configurations."""
    report = _json("cgooo_validation.json")
    cells = []
    for name in ("small", "full"):
        s = report[name]["summary"]
        worst = max(s[f"{c}_cycles_error_max"] for c in ("ino", "ooo", "cgooo"))
        energy = max(s[f"{c}_energy_error_max"] for c in ("ino", "ooo", "cgooo"))
        cells.append(
            f"{name}: cycles geometric-mean error in-order {_share(s['ino_cycles_error_geomean'])}, OoO "
            f"{_share(s['ooo_cycles_error_geomean'])}, CG-OoO {_share(s['cgooo_cycles_error_geomean'])}, "
            f"max {_share(worst)}; energy max {_share(energy)}"
        )
        if "design_points" in s:
            d = s["design_points"]
            cells.append(f"{d['within_10_percent']} of {d['evaluated']} other configurations within 10% "
                         f"(max {_share(d['max_cycles_error'])})")  # fmt: skip
    return (
        "interval models (in-order, OoO, CG-OoO) / archsim, six RV64IM programs",
        "; ".join(cells),
        "7% mean (OoO), 3.2% (in-order) in the literature",
        "`hwcost validate cgooo --size small\\|full`",
    )


def cgooo_design_search() -> tuple[str, str, str, str]:
    """Gradient-descent design search on CG-OoO, checked on archsim."""
    report = _json("cgooo_design_search.json")
    cells = []
    for search in report["searches"]:
        s, r = search["summary"], search["rounded"]
        design = ", ".join(f"{k} {v}" for k, v in sorted(r.items()))
        cells.append(
            f"power bound {search['power_bound']:g}: {design}; EDP / authors' archsim "
            f"{s['geomean_archsim_edp_found_over_authors']:.3f} (model "
            f"{s['geomean_model_edp_found_over_authors']:.3f}), power "
            f"{s['geomean_archsim_power_found_over_authors']:.3f}"
        )
    return (
        "CG-OoO design search (gradient descent on the interval model, least EDP under a power bound, six small "
        "programs), checked on archsim",
        "; ".join(cells),
        "",
        "`python benchmarks/cgooo_design_search.py`",
    )


ROWS: tuple[Callable[[], tuple[str, str, str, str]], ...] = (
    eie_table_iv,
    eie_model_vs_archsim,
    sweep_row("eie", "one `jit(vmap)`"),
    scnn_vs_paper,
    scnn_energy_calibration,
    scnn_model_vs_archsim,
    sweep_row("scnn", "one jit call (vmap over chunks)"),
    ese_throughput,
    holiswap_vs_paper,
    holiswap_model_vs_archsim,
    rv64_crosscheck,
    cgooo_vs_paper,
    cgooo_model_vs_archsim,
    cgooo_design_search,
    deep_compression("lenet300", "LeNet-300-100", "40x at 1.58%"),
    deep_compression("lenet5", "LeNet-5", "39x at 0.74%"),
    ttq,
    dsd,
    ladder,
    regularity,
    hwaware("hwaware_lenet300", "hardware-aware vs magnitude pruning, LeNet-300-100, EIE energy on archsim", "energy"),
    hwaware(
        "hwaware_lenet5",
        "hardware-aware vs magnitude pruning, LeNet-5, EIE latency on archsim (default sweep, 1+1 epochs per point)",
        "latency",
    ),
    hwaware(
        "hwaware_lenet5_scnn",
        "hardware-aware vs magnitude pruning, LeNet-5, SCNN energy on archsim (default sweep, 1+1 epochs per point)",
        "energy",
    ),
    budget,
    overhead,
)
"""One function per README row: ``() -> (what, measured, paper, reproduce)``."""


def render() -> str:
    """The Markdown table (header and one line per row)."""
    lines = ["| what | measured | paper | reproduce |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row()) + " |" for row in ROWS]
    return "\n".join(lines)


def readme_table(text: str) -> str:
    """The table between the markers of ``text``."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the table in README.md")
    args = parser.parse_args(argv)
    table = render()
    if not args.write:
        print(table)
        return 0
    text = README.read_text()
    README.write_text(text.replace(readme_table(text), table, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
