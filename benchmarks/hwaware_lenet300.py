"""Hardware-aware training vs hardware-agnostic pruning, LeNet-300-100 / MNIST / EIE energy.

Runs the default ``hwcost train`` sweep (joint method at several λ, magnitude pruning at several densities,
Deep Compression) and commits its report to ``benchmarks/results/hwaware_lenet300.json`` and the Pareto plot
to ``benchmarks/results/hwaware_lenet300.png``. The claim checked: at equal or better test error the joint
method needs at least 1.3x less EIE energy than magnitude pruning, measured on archsim (real pruned
weights, real test activations, batch 1). Resumable: the work folder keeps finished points.

    python benchmarks/hwaware_lenet300.py [--work .cache/hwaware_lenet300] [--eval-images 100]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from hwcost.cli import main as hwcost_main

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NAME = "hwaware_lenet300"
ARGS = ["--model", "lenet300", "--hardware", "eie", "--objective", "energy"]
CLAIM_RATIO = 1.3


def publish(work: Path, name: str) -> dict:
    """Copy the report (per-epoch histories dropped) and the plot of ``work`` into benchmarks/results."""
    report = json.loads((work / "report.json").read_text())
    for point in report["points"].values():
        point.pop("history", None)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    shutil.copyfile(work / "pareto.png", RESULTS / f"{name}.png")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(ROOT / ".cache" / NAME))
    parser.add_argument("--eval-images", default="100")
    args = parser.parse_args()
    work = Path(args.work)
    work.parent.mkdir(parents=True, exist_ok=True)
    rc = hwcost_main(["train", *ARGS, "--out", str(work), "--eval-images", args.eval_images])
    if rc:
        return rc
    report = publish(work, NAME)
    best = report["best_ratio_vs_magnitude"]
    ok = best is not None and best["ratio"] >= CLAIM_RATIO
    print(f"claim (>= {CLAIM_RATIO}x lower archsim energy at equal or better error): {'holds' if ok else 'FAILS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
