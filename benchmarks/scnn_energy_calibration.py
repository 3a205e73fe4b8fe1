"""Fit of the one calibrated energy of SCNN and its dense baselines (``hwcost.scnn_energy``) to Fig. 11, with
the checks it is not fitted to (``hwcost.experiments.scnn_calibration``, module docstring for the method).

Writes ``benchmarks/results/scnn_energy_calibration.json`` (about a minute on 2 cores).
Usage: ``python benchmarks/scnn_energy_calibration.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwcost.experiments.scnn_calibration import calibration_report
from hwcost.files import write_atomically
from hwcost.formatting import to_jsonable

RESULT = Path(__file__).resolve().parent / "results" / "scnn_energy_calibration.json"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    report = calibration_report()
    write_atomically(RESULT, json.dumps(to_jsonable(report), indent=1) + "\n")
    print(
        f"fitted arithmetic calibration {report['fitted_arithmetic_calibration']:.3f} "
        f"(rms log error {report['rms_log_error_at_fit']:.3f} over {len(report['rows'])} Fig. 11 rows; "
        f"default {report['default_arithmetic_calibration']})"
    )
    for name, n in report["networks"].items():
        print(
            f"{name}: DCNN-opt gain paper {n['paper_dcnn_opt_energy_gain']:.2f} model "
            f"{n['model_dcnn_opt_energy_gain']:.2f}; SCNN gain paper {n['paper_energy_gain']:.2f} model "
            f"{n['model_energy_gain']:.2f}"
        )
    m = report["mean"]
    print(
        f"mean: DCNN-opt gain paper {m['paper_dcnn_opt_energy_gain']:.2f} model {m['model_dcnn_opt_energy_gain']:.2f};"
        f" SCNN gain paper {m['paper_energy_gain']:.2f} model {m['model_energy_gain']:.2f}"
    )
    for name, c in report["checks"].items():
        print(f"{name}: paper {c['paper']:.2f} model {c['model']:.2f}")
    print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
