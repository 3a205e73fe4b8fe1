"""The in-order, out-of-order and CG-OoO cores of :mod:`archsim.cgooo` on the six program-set kernels.

For every kernel of :mod:`archsim.traces.program_set` (RV64IM traces from :mod:`archsim.traces.rv64_build`,
the ``-DSMALL`` inputs by default, ``--size full`` or ``both`` for the full ones), the three cores run over the
same trace with the same front end and memory hierarchy (:mod:`archsim.cores`). Printed and written to
``benchmarks/results/cgooo_cores.json``: cycles, IPC, energy (the CG-OoO authors' per-access and leakage
table, :data:`archsim.cores.AUTHOR_ENERGY`; L2, L3 and memory accesses are counted but not priced), stalls
by cause, the share of the in-order-to-OoO energy gap that CG-OoO closes,
``(E_OoO - E_CGOoO) / (E_OoO - E_InO)``, and ``EDP^-1`` of CG-OoO over OoO, per kernel, with their mean
(arithmetic for the closure, also the closure of the summed energies; geometric for the ratios), beside the
published figures: 64% and 1.9x (arXiv 1606.01607 v1 abstract), 62% and 1.8x (TACO 2017 abstract), measured
there on SPEC CPU2006 integer programs with the authors' x86 simulator, not on these kernels. Beside the default
CG-OoO (head buffers see GCC's order of the trace), two variants: each block reordered by the list scheduler
of :func:`archsim.cgooo.schedule_blocks` (the paper relies on its compiler's static scheduling to put issuable
instructions at the heads; this scheduler is not the authors'), and a head buffer as large as the window, which
bounds what any in-block order could give.

Run: ``.venv/bin/python benchmarks/cgooo_cores.py [--size small|full|both]`` (default both, as committed) (needs
``riscv64-unknown-elf-gcc``: ``make tools``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim import cgooo, cores  # noqa: E402
from archsim.traces import program_set, rv64, rv64_build  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cgooo_cores.json"
PAPER = {
    "arxiv_v1": {"energy_gap_closure": 0.64, "edp_inverse_over_ooo": 1.9, "source": "arXiv 1606.01607 v1 abstract"},
    "taco_2017": {"energy_gap_closure": 0.62, "edp_inverse_over_ooo": 1.8, "source": "TACO 14(4) 2017 abstract"},
}
CORES = ("ino", "ooo", "cgooo")
CGOOO_VARIANTS = {
    "static_schedule": cgooo.CGOoOConfig(static_schedule=True),
    "whole_window_head_buffer": cgooo.CGOoOConfig(head_buffer_entries=cgooo.CGOoOConfig().window_entries),
}


def geomean(values: list[float]) -> float:
    """Geometric mean of positive values."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run_kernel(name: str, small: bool) -> dict:
    """The three cores on one kernel: a JSON-ready row."""
    trace = rv64.load_trace(rv64_build.instruction_trace(name, small))
    t0 = time.perf_counter()
    prepared = cores.prepare(trace)
    results = cgooo.simulate_all(prepared)
    seconds = time.perf_counter() - t0
    row: dict = {"program": name, "variant": "small" if small else "full", "instructions": prepared.n,
                 "mispredicted": int(sum(prepared.mispredicted)), "simulation_s": round(seconds, 2)}  # fmt: skip
    energy = {}
    for core in CORES:
        r = results[core]
        e = cores.energy_pj(r)
        energy[core] = e["total"]
        top = sorted(((k, v) for k, v in e.items() if k != "total"), key=lambda kv: -kv[1])[:6]
        row[core] = {
            "cycles": r.cycles,
            "ipc": r.ipc,
            "energy_pj": e["total"],
            "energy_pj_per_instruction": e["total"] / r.instructions,
            "largest_energy_terms_pj": dict(top),
            "stalls": {k: v for k, v in r.stalls.items() if v},
            "dispatch_stalls": {k: v for k, v in r.dispatch_stalls.items() if v},
            "commit_cycles": r.commit_cycles,
            "counts": r.counts,
        }
    # CG-OoO variants: each block statically scheduled (archsim.cgooo.schedule_blocks), and the whole window as
    # head buffer (any instruction of a window may issue), an upper bound on what in-block scheduling can give.
    for label, config in CGOOO_VARIANTS.items():
        v = cgooo.simulate_cgooo(prepared, config)
        e_v = cores.energy_pj(v)["total"]
        row[f"cgooo_{label}"] = {
            "cycles": v.cycles,
            "ipc": v.ipc,
            "energy_pj": e_v,
            "energy_gap_closure": cgooo.energy_gap_closure(energy["ino"], energy["ooo"], e_v),
            "edp_inverse_over_ooo": cgooo.edp_inverse_ratio(v, results["ooo"]),
        }
    row["energy_gap_closure"] = cgooo.energy_gap_closure(energy["ino"], energy["ooo"], energy["cgooo"])
    row["edp_inverse_cgooo_over_ooo"] = cgooo.edp_inverse_ratio(results["cgooo"], results["ooo"])
    row["speedup_ooo_over_ino"] = results["ino"].cycles / results["ooo"].cycles
    row["speedup_cgooo_over_ino"] = results["ino"].cycles / results["cgooo"].cycles
    row["performance_cgooo_over_ooo"] = results["ooo"].cycles / results["cgooo"].cycles
    return row


def summary(rows: list[dict]) -> dict:
    """Means over the kernels of one variant."""
    sums = {c: sum(r[c]["energy_pj"] for r in rows) for c in CORES}
    return {
        "mean_energy_gap_closure": sum(r["energy_gap_closure"] for r in rows) / len(rows),
        "energy_gap_closure_of_summed_energy": cgooo.energy_gap_closure(sums["ino"], sums["ooo"], sums["cgooo"]),
        "geomean_edp_inverse_cgooo_over_ooo": geomean([r["edp_inverse_cgooo_over_ooo"] for r in rows]),
        "geomean_speedup_ooo_over_ino": geomean([r["speedup_ooo_over_ino"] for r in rows]),
        "geomean_speedup_cgooo_over_ino": geomean([r["speedup_cgooo_over_ino"] for r in rows]),
        "geomean_performance_cgooo_over_ooo": geomean([r["performance_cgooo_over_ooo"] for r in rows]),
        **{
            f"geomean_{key}_cgooo_{label}_over_ooo": geomean([f(r, label) for r in rows])
            for label in CGOOO_VARIANTS
            for key, f in (
                ("edp_inverse", lambda r, lb: r[f"cgooo_{lb}"]["edp_inverse_over_ooo"]),
                ("performance", lambda r, lb: r["ooo"]["cycles"] / r[f"cgooo_{lb}"]["cycles"]),
            )
        },
        **{
            f"mean_energy_gap_closure_cgooo_{label}": sum(r[f"cgooo_{label}"]["energy_gap_closure"] for r in rows)
            / len(rows)
            for label in CGOOO_VARIANTS
        },
        "geomean_energy_cgooo_over_ooo": geomean([r["cgooo"]["energy_pj"] / r["ooo"]["energy_pj"] for r in rows]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "full", "both"), default="both")
    args = parser.parse_args()
    variants = {"small": (True,), "full": (False,), "both": (True, False)}[args.size]
    out: dict = {"paper": PAPER, "shared": vars(cores.SharedConfig()), "python": platform.python_version(),
                 "variants": {}}  # fmt: skip
    for small in variants:
        rows = []
        for name in program_set.names():
            row = run_kernel(name, small)
            rows.append(row)
            cells = "  ".join(
                f"{c}: {row[c]['cycles']:>8} cyc IPC {row[c]['ipc']:.2f} {row[c]['energy_pj'] / 1e6:7.3f} uJ"
                for c in CORES
            )
            print(
                f"{name:>14} {row['variant']:>5} {row['instructions']:>8} instr  {cells}  "
                f"gap closed {row['energy_gap_closure']:6.1%}  EDP^-1 CG/OoO {row['edp_inverse_cgooo_over_ooo']:.2f}x"
            )
        s = summary(rows)
        print(
            f"{'mean':>14} {rows[0]['variant']:>5}: gap closed {s['mean_energy_gap_closure']:.1%} "
            f"(of summed energy {s['energy_gap_closure_of_summed_energy']:.1%}), EDP^-1 CG-OoO/OoO "
            f"{s['geomean_edp_inverse_cgooo_over_ooo']:.2f}x, CG-OoO performance / OoO "
            f"{s['geomean_performance_cgooo_over_ooo']:.2f}; paper 64% / 1.9x (TACO 62% / 1.8x)"
        )
        for label in CGOOO_VARIANTS:
            print(
                f"{'':>14} {rows[0]['variant']:>5}: CG-OoO {label}: gap closed "
                f"{s[f'mean_energy_gap_closure_cgooo_{label}']:.1%}, EDP^-1 / OoO "
                f"{s[f'geomean_edp_inverse_cgooo_{label}_over_ooo']:.2f}x, performance / OoO "
                f"{s[f'geomean_performance_cgooo_{label}_over_ooo']:.2f}"
            )
        out["variants"][rows[0]["variant"]] = {"programs": rows, "summary": s}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
