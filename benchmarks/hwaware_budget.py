"""The constrained form of hardware-aware training: LeNet-300-100 / MNIST under EIE energy budgets.

Trains at budgets of 0.25 and 0.40 of the dense network's energy (the multiplier follows projected dual
ascent, :mod:`compress.hwtrain`) and checks where archsim puts the result: the budget is met when the
exact energy (real pruned weights, real test activations, batch 1) is within 5 % of it. Commits
``benchmarks/results/hwaware_budget_lenet300.json`` and ``.png``. Resumable like the other sweeps.

    python benchmarks/hwaware_budget.py [--work .cache/hwaware_budget_lenet300] [--eval-images 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hwcost.cli import main as hwcost_main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hwaware_lenet300 import ARGS, ROOT, publish

NAME = "hwaware_budget_lenet300"
BUDGETS = (0.25, 0.40)
TOLERANCE = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(ROOT / ".cache" / NAME))
    parser.add_argument("--eval-images", default="100")
    args = parser.parse_args()
    work = Path(args.work)
    work.parent.mkdir(parents=True, exist_ok=True)
    budgets = [str(b) for b in BUDGETS]
    argv = ["train", *ARGS, "--budget", *budgets, "--magnitude-densities", "--no-deep-compression"]
    rc = hwcost_main([*argv, "--out", str(work), "--eval-images", args.eval_images])
    if rc:
        return rc
    report = publish(work, NAME)
    rows = {row["point"]: row for row in report["rows"]}
    ok = True
    for budget in BUDGETS:
        row = rows[f"budget-{budget:g}"]
        met = abs(row["exact_rel_dense"] / budget - 1.0) <= TOLERANCE
        ok &= met
        print(
            f"budget {budget:g}: archsim energy {row['exact_rel_dense']:.3f} of dense at "
            f"{row['test_error_pct']:.2f}% error ({'met' if met else 'MISSED'} within {TOLERANCE:.0%})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
