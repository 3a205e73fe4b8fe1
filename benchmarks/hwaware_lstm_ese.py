"""Hardware-aware training vs hardware-agnostic pruning, the row-sequential MNIST LSTM / ESE latency.

The LeNet experiments' sweep (``benchmarks/hwaware_lenet300.py``) on the 128-cell LSTM of ``models.lstm``
against ESE: each gate matrix is a fully connected layer applied at every one of the 28 steps
(``models.lstm.layer_specs``), lowered by ``hwcost.ese.lower`` to one sparse matrix-vector product on a
32-PE channel repeated 28 times per image, its statistics measured on the real ``[x_t; y_{t-1}]``; the
classifier runs once. Every point's cost is measured on the reference simulator (the ``ese`` layer
simulator of ``hwcost.experiments.simulators``: ``archsim``'s PE schedule on the real pruned gate matrices
and the real inputs of every step of ``--eval-images`` test images). ESE's energy is board power times
time, so the latency ratio is the energy ratio too.

Run size: the model's default λ values and the magnitude-pruning densities 0.3, 0.2, 0.1, 0.06, 0.04, 0.025 with 1 joint
+ 1 finetune epoch per point (magnitude points retrain for the same 2 epochs); ``--full`` runs 3 + 3. Commits
``benchmarks/results/hwaware_lstm_ese.json`` and ``.png``; resumable (the work folder keeps finished points).
The claim checked: the joint method reaches at least 1.3x lower archsim latency than magnitude pruning at
equal or better test error (best ratio reported).

    python benchmarks/hwaware_lstm_ese.py [--work .cache/hwaware_lstm_ese] [--eval-images 10] [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hwaware_lenet300 import CLAIM_RATIO, short_sweep_main

NAME = "hwaware_lstm_ese"
ARGS = [
    "--model",
    "lstm",
    "--hardware",
    "ese",
    "--objective",
    "latency",
    "--magnitude-densities",
    "0.3",
    "0.2",
    "0.1",
    "0.06",
    "0.04",
    "0.025",
]
"""The magnitude baseline adds two denser points to the LeNet densities: at the short schedule one-shot
magnitude pruning of the LSTM to 0.1 already costs about 6 points of accuracy."""


if __name__ == "__main__":
    sys.exit(short_sweep_main(__doc__, NAME, ARGS, "latency", CLAIM_RATIO))
