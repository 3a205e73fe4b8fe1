"""HoLiSwap validation figures: the differentiable model (``hwcost.holiswap``) against the trace-driven L1
(``archsim.cache``) with and without HoLiSwap, and the paper's headline quantities as measured, on the committed
small traces and on the full-size traces of the program set (``hwcost.experiments.holiswap_validation``, module
docstring for the method; ``make tools`` installs valgrind and gcc, which the full-size traces need).

Writes ``benchmarks/results/holiswap_validation.json`` and ``.txt`` (a few minutes on 2 cores). Usage:
``python benchmarks/holiswap_validation.py [--small-only]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim.traces import program_set
from hwcost.experiments import holiswap_validation
from hwcost.files import write_atomically
from hwcost.formatting import to_jsonable

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-only", action="store_true", help="only the committed small traces (no valgrind)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sets = {"small": sorted(holiswap_validation.FIXTURES.glob("*.lackey.gz"))}
    if not args.small_only:
        sets["full"] = [program_set.trace(name, "full").trace for name in program_set.names()]
    report = {name: holiswap_validation.validate(paths) for name, paths in sets.items()}
    report["seconds"] = time.perf_counter() - start
    text = "\n\n".join(f"{name} traces\n{holiswap_validation.format_report(report[name])}" for name in sets)
    write_atomically(RESULTS / "holiswap_validation.json", json.dumps(to_jsonable(report), indent=1) + "\n")
    write_atomically(RESULTS / "holiswap_validation.txt", text + "\n")
    print(text)
    print(f"{report['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
