"""Run every long reproduction in turn (``make reproduce``); each script writes its own results file
under ``benchmarks/results/``. Usage: ``python benchmarks/reproduce.py [NAME ...]`` to run a subset."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

REPRODUCTIONS: dict[str, str] = {
    # name: script (relative to benchmarks/), in the order they run.
    "make_traces": "make_traces.py",
    "rv64_crosscheck": "rv64_crosscheck.py",
    "holiswap_validation": "holiswap_validation.py",
    "cgooo_cores": "cgooo_cores.py",
    "core_profiles": "core_profiles.py",
    "cgooo_validation": "cgooo_validation.py",
    "cgooo_design_search": "cgooo_design_search.py",
    "fit_eie": "fit_eie.py",
    "eie_validation": "eie_validation.py",
    "eie_gradients": "eie_gradients.py",
    "eie_sweep": "eie_sweep.py",
    "scnn_energy_calibration": "scnn_energy_calibration.py",
    "scnn_validation": "scnn_validation.py",
    "scnn_sweep": "scnn_sweep.py",
    "ese_validation": "ese_validation.py",
    "train_overhead": "train_overhead.py",
    "deep_compression_lenet300": "deep_compression_lenet300.py",
    "deep_compression_lenet5": "deep_compression_lenet5.py",
    "ttq_lenet5": "ttq_lenet5.py",
    "dsd_lenet300": "dsd_lenet300.py",
    "granularity_ladder": "granularity_ladder.py",
    "regularity_scnn": "regularity_scnn.py",
    "hwaware_lenet300": "hwaware_lenet300.py",
    "hwaware_lenet5": "hwaware_lenet5.py",
    "hwaware_lenet5_scnn": "hwaware_lenet5_scnn.py",
    "hwaware_budget": "hwaware_budget.py",
    "lba_lstm_mnist": "lba_lstm_mnist.py",
    "hwaware_lstm_ese": "hwaware_lstm_ese.py",
}


def main(argv: list[str] | None = None) -> int:
    """Run the named reproductions (all by default); returns non-zero if any failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"subset to run (default: all): {', '.join(REPRODUCTIONS)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in REPRODUCTIONS]
    if unknown:
        parser.error(f"reproduction={unknown[0]!r} is unknown; allowed: {', '.join(REPRODUCTIONS)}")
    failed = []
    for name in args.names or list(REPRODUCTIONS):
        script = HERE / REPRODUCTIONS[name]
        print(f"== {name}: {script.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
