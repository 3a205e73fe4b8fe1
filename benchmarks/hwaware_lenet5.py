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
from hwaware_lenet300 import short_sweep_main

NAME = "hwaware_lenet5"
ARGS = ["--model", "lenet5", "--hardware", "eie", "--objective", "latency"]


if __name__ == "__main__":
    sys.exit(short_sweep_main(__doc__, NAME, ARGS, "latency", None))
