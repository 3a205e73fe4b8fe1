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
import sys
from pathlib import Path

from compress.checkpoint import write_atomically
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
    write_atomically(RESULTS / f"{name}.json", json.dumps(report, indent=1) + "\n")
    write_atomically(RESULTS / f"{name}.png", (work / "pareto.png").read_bytes())
    return report


def sweep_arguments(doc: str, name: str, eval_images: int) -> argparse.ArgumentParser:
    """The command line every hardware-aware sweep benchmark shares: ``--work`` and ``--eval-images``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--work", default=str(ROOT / ".cache" / name), help="resumable work folder")
    parser.add_argument("--eval-images", default=str(eval_images), help="test images run through archsim")
    return parser


def run_sweep(args: argparse.Namespace, name: str, train_args: list[str]) -> dict | None:
    """``hwcost train`` with ``train_args`` into ``args.work``, then :func:`publish`; ``None`` if it failed."""
    work = Path(args.work)
    work.parent.mkdir(parents=True, exist_ok=True)
    if hwcost_main(["train", *train_args, "--out", str(work), "--eval-images", args.eval_images]):
        return None
    return publish(work, name)


SHORT_SCHEDULE = ["--epochs", "1", "--finetune-epochs", "1"]
"""1 joint + 1 finetune epoch per point: the default sweep's shape at a shorter schedule."""


def short_sweep_main(doc: str, name: str, train_args: list[str], objective: str, claim_ratio: float | None) -> int:
    """The command line of a sweep benchmark run at :data:`SHORT_SCHEDULE` unless ``--full`` (3 + 3 epochs per
    point); prints the best ``objective`` ratio against magnitude pruning and, with ``claim_ratio``, whether it
    holds (exit 1 if not)."""
    parser = sweep_arguments(doc, name, 10)
    parser.add_argument("--full", action="store_true", help="3 + 3 epochs per point")
    args = parser.parse_args()
    report = run_sweep(args, name, [*train_args, *([] if args.full else SHORT_SCHEDULE)])
    if report is None:
        return 1
    best = report["best_ratio_vs_magnitude"]
    print(f"best {objective} ratio vs magnitude pruning at equal or better error:", best and round(best["ratio"], 3))
    if claim_ratio is None:
        return 0
    ok = best is not None and best["ratio"] >= claim_ratio
    print(f"claim (>= {claim_ratio}x lower archsim {objective} at equal or better error): {'holds' if ok else 'FAILS'}")
    return 0 if ok else 1


def main() -> int:
    report = run_sweep(sweep_arguments(__doc__, NAME, 100).parse_args(), NAME, ARGS)
    if report is None:
        return 1
    best = report["best_ratio_vs_magnitude"]
    ok = best is not None and best["ratio"] >= CLAIM_RATIO
    print(f"claim (>= {CLAIM_RATIO}x lower archsim energy at equal or better error): {'holds' if ok else 'FAILS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
