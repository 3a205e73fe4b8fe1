"""SCNN validation figures: SCNN against DCNN and DCNN-opt on AlexNet, GoogLeNet and VGG-16 at the paper's
densities, by archsim and by the models, against the paper's Figs. 9-11, and the GoogLeNet density sweep of
Fig. 8 (``hwcost.experiments.scnn_validation``, module docstring for the method and its assumptions).

Writes ``benchmarks/results/scnn_validation.json`` (the report of ``hwcost validate scnn --json``; several
minutes on 2 cores). Usage: ``python benchmarks/scnn_validation.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcost.experiments import scnn_validation
from hwcost.files import write_atomically
from hwcost.formatting import to_jsonable

RESULT = Path(__file__).resolve().parent / "results" / "scnn_validation.json"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    start = time.perf_counter()
    report = scnn_validation.scnn_validation_report(progress=True)
    report["seconds"] = time.perf_counter() - start
    write_atomically(RESULT, json.dumps(to_jsonable(report), indent=1) + "\n")
    for row in report["networks"]:
        print(
            f"{row['name']}: speedup paper {row['paper_speedup']:.2f}x, archsim {row['archsim_speedup']:.2f}x "
            f"({row['archsim_speedup_over_paper']:.3f}), model {row['model_speedup']:.2f}x; energy vs DCNN paper "
            f"{row['paper_energy_vs_dcnn']:.3f}, archsim {row['archsim_energy_vs_dcnn']:.3f}, model "
            f"{row['model_energy_vs_dcnn']:.3f}; DCNN-opt energy vs DCNN paper "
            f"{row['paper_dcnn_opt_energy_vs_dcnn']:.3f}, archsim {row['archsim_dcnn_opt_energy_vs_dcnn']:.3f}"
        )
    for line in scnn_validation.summary_lines(report)[3:]:
        print(line)
    print(f"wrote {RESULT} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
