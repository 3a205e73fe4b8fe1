"""Hardware-aware training vs hardware-agnostic pruning, LeNet-5 / MNIST / SCNN energy.

The LeNet-300-100 experiment (``benchmarks/hwaware_lenet300.py``) on LeNet-5 against SCNN's energy: both
convolutions lower to SCNN's workload (``hwcost.scnn.lower``: weight density from the masks, activation
density from the real activations), the fully connected layers run on SCNN as 1x1 convolutions; the cost of
every point is measured on the reference simulator (``archsim.scnn``) on ``--eval-images`` test images.
Commits ``benchmarks/results/hwaware_lenet5_scnn.json`` and ``.png``. Resumable: the work folder keeps
finished points.

Run size: the default ``hwcost train`` λ values and magnitude-pruning densities with 1 joint + 1 finetune
epoch per point (magnitude points retrain for the same 2 epochs); ``--full`` runs 3 + 3 epochs per point.
The claim checked: the joint method reaches at least 1.3x lower archsim energy than magnitude pruning at
equal or better test error (best ratio reported).

    python benchmarks/hwaware_lenet5_scnn.py [--work .cache/hwaware_lenet5_scnn] [--eval-images 10] [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hwaware_lenet300 import CLAIM_RATIO, short_sweep_main

NAME = "hwaware_lenet5_scnn"
ARGS = ["--model", "lenet5", "--hardware", "scnn", "--objective", "energy"]


if __name__ == "__main__":
    sys.exit(short_sweep_main(__doc__, NAME, ARGS, "energy", CLAIM_RATIO))
