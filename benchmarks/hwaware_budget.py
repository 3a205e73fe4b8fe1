"""The constrained form of hardware-aware training: LeNet-300-100 / MNIST under EIE energy budgets.

Trains at budgets of 0.25 and 0.40 of the dense network's energy (the multiplier follows projected dual
ascent, :mod:`compress.hwtrain`) and checks where archsim puts the result: the budget is met when the
exact energy (real pruned weights, real test activations, batch 1) is within 5 % of it. Commits
``benchmarks/results/hwaware_budget_lenet300.json`` and ``.png``. Resumable like the other sweeps.

    python benchmarks/hwaware_budget.py [--work .cache/hwaware_budget_lenet300] [--eval-images 100]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hwaware_lenet300 import ARGS, run_sweep, sweep_arguments

NAME = "hwaware_budget_lenet300"
BUDGETS = (0.25, 0.40)
TOLERANCE = 0.05


def main() -> int:
    train_args = [*ARGS, "--budget", *map(str, BUDGETS), "--magnitude-densities", "--no-deep-compression"]
    report = run_sweep(sweep_arguments(__doc__, NAME, 100).parse_args(), NAME, train_args)
    if report is None:
        return 1
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
