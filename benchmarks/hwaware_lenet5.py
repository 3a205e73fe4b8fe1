"""Hardware-aware training vs hardware-agnostic pruning, LeNet-5 / MNIST / EIE latency.

The LeNet-300-100 experiment (``benchmarks/hwaware_lenet300.py``) on LeNet-5 with the latency objective:
convolutions run on EIE as one matrix-vector product per output position (``compress.bridge``). Commits
``benchmarks/results/hwaware_lenet5.json`` and ``.png``. archsim is run on fewer test images (each image is
640 convolution mat-vecs). Resumable: the work folder keeps finished points.

Run size: a LeNet-5 training epoch takes about a minute on 2 cores, so the default here is the full sweep's
shape at a shorter schedule: the default λ values (0.5, 1, 2, 4) and magnitude-pruning densities (0.1, 0.06,
0.04, 0.025) and the Deep Compression point, with 1 joint + 1 finetune epoch per point (magnitude points
retrain for the same 2 epochs). ``--full`` runs the default ``hwcost train`` sweep (3 + 3 epochs per point).

    python benchmarks/hwaware_lenet5.py [--work .cache/hwaware_lenet5] [--eval-images 10] [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hwaware_lenet300 import run_sweep, sweep_arguments

NAME = "hwaware_lenet5"
ARGS = ["--model", "lenet5", "--hardware", "eie", "--objective", "latency"]
SHORT_SCHEDULE = ["--epochs", "1", "--finetune-epochs", "1"]


def main() -> int:
    parser = sweep_arguments(__doc__, NAME, 10)
    parser.add_argument("--full", action="store_true", help="3 + 3 epochs per point (about an hour on 2 cores)")
    args = parser.parse_args()
    report = run_sweep(args, NAME, [*ARGS, *([] if args.full else SHORT_SCHEDULE)])
    if report is None:
        return 1
    best = report["best_ratio_vs_magnitude"]
    print("best latency ratio vs magnitude pruning at equal or better error:", best and round(best["ratio"], 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
