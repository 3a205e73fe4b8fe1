"""ESE validation figures: the paper's LSTM at density 0.112 on archsim and the model (per layer and network:
cycles, us per frame, sparse GOPS, dense-equivalent TOPS, PE utilisation) against the paper's 282 GOPS,
2.52 TOPS, 57 us and 82.7 us; ESE's energy efficiency over the CPU and GPU from latency x power; and the
load-balance sweep, load-balance-aware against magnitude pruning at densities 1.0 ... 0.1
(``hwcost.experiments.ese_validation``, module docstring for the method and its assumptions).

Writes ``benchmarks/results/ese_validation.json`` (the report of ``hwcost validate ese --json``; a few minutes
on 2 cores). Usage: ``python benchmarks/ese_validation.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcost.experiments import ese_validation
from hwcost.files import write_atomically
from hwcost.formatting import to_jsonable

RESULT = Path(__file__).resolve().parent / "results" / "ese_validation.json"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    start = time.perf_counter()
    report = ese_validation.ese_validation_report(progress=True)
    report["seconds"] = time.perf_counter() - start
    write_atomically(RESULT, json.dumps(to_jsonable(report), indent=1) + "\n")
    for line in ese_validation.summary_lines(report):
        print(line)
    print(f"wrote {RESULT} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
