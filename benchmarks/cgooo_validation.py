"""The interval models of the in-order, OoO and CG-OoO cores (:mod:`hwcost.cgooo`) against archsim
(:mod:`archsim.cgooo`) on the small and full RV64IM builds of the program set, and CG-OoO's headline from both
(:mod:`hwcost.experiments.cgooo_validation`). Writes ``benchmarks/results/cgooo_validation.json`` and the text
report ``.txt`` beside it.

Run: ``.venv/bin/python benchmarks/cgooo_validation.py [--size small|full|both]`` (needs
``riscv64-unknown-elf-gcc``: ``make tools``); ``hwcost validate cgooo --size small|full`` prints the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwcost.cli.output import format_table  # noqa: E402
from hwcost.experiments import cgooo_validation  # noqa: E402
from hwcost.files import write_atomically  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cgooo_validation.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "full", "both"), default="both")
    args = parser.parse_args()
    sizes = ("small", "full") if args.size == "both" else (args.size,)
    reports, text = {}, []
    for size in sizes:
        report = cgooo_validation.cgooo_report(progress=True, size=size)
        reports[size] = report
        text += [f"{size} builds", format_table(report["layers"], cgooo_validation.TABLE_COLUMNS), ""]
        text += [*cgooo_validation.summary_lines(report), ""]
        print("\n".join(text[-len(cgooo_validation.summary_lines(report)) - 1 :]), flush=True)
    write_atomically(RESULTS, json.dumps(reports, indent=1, sort_keys=True) + "\n")
    write_atomically(RESULTS.with_suffix(".txt"), "\n".join(text))
    print(f"wrote {RESULTS.relative_to(ROOT)} and {RESULTS.with_suffix('.txt').name}")


if __name__ == "__main__":
    main()
