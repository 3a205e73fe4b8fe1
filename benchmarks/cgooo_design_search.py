"""Design search on CG-OoO with the interval model (:mod:`hwcost.experiments.cgooo_design`): gradient descent for
the least geometric-mean energy-delay product over the program set's small RV64IM builds, under an average
power no higher than the authors' configuration's (bound 1.0) and 25% above it (1.25), then archsim at the
rounded point found beside the authors' configuration. Writes ``benchmarks/results/cgooo_design_search.json``.

Run: ``.venv/bin/python benchmarks/cgooo_design_search.py`` (needs ``riscv64-unknown-elf-gcc``: ``make tools``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archsim import cores  # noqa: E402
from archsim.traces import program_set, rv64, rv64_build  # noqa: E402
from hwcost.experiments import cgooo_design, cgooo_validation, core_profile  # noqa: E402
from hwcost.files import write_atomically  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cgooo_design_search.json"
BOUNDS = (1.0, 1.25)
STEPS = 300


def main() -> None:
    traces = {name: rv64.load_trace(rv64_build.instruction_trace(name, small=True)) for name in program_set.names()}
    profiles = {name: core_profile.profile(t, cores.prepare(t), name=name) for name, t in traces.items()}
    out: dict = {"programs": sorted(traces), "steps": STEPS, "searches": []}
    for bound in BOUNDS:
        t0 = time.perf_counter()
        found = cgooo_design.search(profiles, power_bound=bound, steps=STEPS)
        t1 = time.perf_counter()
        rows = cgooo_design.check_on_archsim(traces, profiles, found["rounded"])
        summary = {
            f"geomean_{source}_{q}_found_over_authors": cgooo_validation.geomean([r[f"{source}_{q}_found_over_authors"]
                                                                              for r in rows])
            for source in ("archsim", "model") for q in ("edp", "power")
        }  # fmt: skip
        summary["max_archsim_power_found_over_authors"] = max(r["archsim_power_found_over_authors"] for r in rows)
        out["searches"].append({**found, "search_s": t1 - t0, "programs": rows, "summary": summary})
        print(
            f"power bound {bound:g}: found {found['rounded']} (relaxed {found['relaxed']}); EDP found / authors "
            f"archsim {summary['geomean_archsim_edp_found_over_authors']:.3f}, model "
            f"{summary['geomean_model_edp_found_over_authors']:.3f}; power archsim "
            f"{summary['geomean_archsim_power_found_over_authors']:.3f} (max "
            f"{summary['max_archsim_power_found_over_authors']:.3f}); search {t1 - t0:.0f} s",
            flush=True,
        )
    write_atomically(RESULTS, json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
